#pragma once
// Phase timing for bench/launch (opt-in): when LOCKBOX_TIMING is set, mark() records how long
// each phase took and report() prints one line on stderr at the end:
//   lockbox timing: exec+load=1.20ms/80pf policy=0.05ms/3pf store-open=0.40ms/40pf ...
// (milliseconds and minor page faults per phase)
// If LOCKBOX_TIMING holds a CLOCK_MONOTONIC timestamp in nanoseconds taken by the caller just
// before it spawned lockbox, the first phase ("exec+load") is measured from it: process creation,
// exec and dynamic loading. Disabled, mark() is one branch. Never logs names or values.
// Thread-safety: single-threaded use (the launch path).

namespace lockbox::timing {

bool enabled();
// Ends the current phase, naming it.
void mark(const char* phase);
// Prints the phases (once); no-op when disabled.
void report();

}  // namespace lockbox::timing
