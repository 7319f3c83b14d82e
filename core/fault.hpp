#pragma once
// Fault injection for crash tests (CRYPTO.md test 11): named points inside long or multi-step
// operations (rotate, reencrypt, rewrap) where a test can make the process die by SIGKILL, exactly
// as a kill -9 or a power cut of the process would, with nothing flushed or cleaned up.
//
// LOCKBOX_FAULT=NAME kills at the first time the point NAME is reached; LOCKBOX_FAULT=NAME:N at
// the N-th time. Unset (the normal case), a point costs one branch on a cached value.
// Only test builds (-DLOCKBOX_TEST_SEAMS=ON, the default with LOCKBOX_TESTS) compile it in.
// Thread-safety: points may be hit from any thread; the hit counter is atomic.

#include <string_view>

namespace lockbox::fault {

// Dies by SIGKILL here when LOCKBOX_FAULT selects `name` (and this is the selected hit).
void point(std::string_view name);

}  // namespace lockbox::fault
