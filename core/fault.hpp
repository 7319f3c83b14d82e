#pragma once
// Fault injection for crash tests (CRYPTO.md test 11): named points inside long or multi-step
// operations (rotate, reencrypt, rewrap) where a test can make the process die by SIGKILL, exactly
// as a kill -9 or a power cut of the process would, with nothing flushed or cleaned up.
//
// LOCKBOX_FAULT=NAME kills at the first time the point NAME is reached; LOCKBOX_FAULT=NAME:N at
// the N-th time. Unset (the normal case), a point costs one branch on a cached value.
// Only builds configured with -DLOCKBOX_TEST_SEAMS=ON (off by default, even with LOCKBOX_TESTS;
// scripts/test.sh asks for it) honour LOCKBOX_FAULT; elsewhere a point does nothing.
// Thread-safety: points may be hit from any thread; the hit counter is atomic.

#include <string_view>

namespace lockbox::fault {

// Dies by SIGKILL here when LOCKBOX_FAULT selects `name` (and this is the selected hit).
void point(std::string_view name);

}  // namespace lockbox::fault
