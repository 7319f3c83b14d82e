// lockbox: the command-line entry point. Process hygiene comes first, before anything can hold
// plaintext (SPEC §3): not dumpable (no ptrace by same-uid processes, no /proc/PID/mem), no core
// files, the secure heap for keys, and the log level from LOCKBOX_LOG. The state a launched child
// gets back (signal mask and dispositions, umask, core limit) was captured before main ran
// (launcher/process_state.hpp).

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "cli/agent_choice.hpp"
#include "cli/app.hpp"
#include "core/log.hpp"
#include "core/prefault.hpp"
#include "core/secure_key.hpp"
#include "core/timing.hpp"
#include "launcher/process_state.hpp"
#include "store/crypto.hpp"
#include "store/master_key.hpp"

int main(int argc, char** argv) {
  (void)lockbox::timing::enabled();  // starts the clock of bench/launch's phase breakdown
  // Hygiene before anything can hold plaintext, and before any second thread exists: not
  // dumpable, no core file, the secure heap, and the master key variables copied into wiping
  // buffers and scrubbed from the environment (changing environ races with getenv in a thread).
  lockbox::launcher::harden_self();
  lockbox::init_secure_heap();
  lockbox::store::capture_master_key_env();
  lockbox::log::init_from_env();
  // A launch through the agent (SPEC §12) opens no store and decrypts nothing: no OpenSSL
  // warm-up thread (it would compete with the agent for the other core), a smaller heap, and no
  // populating of the whole executable (it runs a small part of it: 0.88 -> 0.54 ms, bench/README).
  const bool through_agent = lockbox::cli::agent_launch_hint(argc, argv);
  if (!through_agent) lockbox::prefault_executable();
  lockbox::prefault_heap(through_agent ? (512 << 10) : (2 << 20));
  // OpenSSL 3.0's first fetch builds its method store (~1.5 ms of CPU). Start it now on the other
  // core, overlapping CLI parsing and the store open; the first crypto call waits for it (the
  // fetched algorithms are a function-local static: initialisation is thread-safe). Nothing
  // secret is touched by this thread.
  if (!through_agent) std::thread(lockbox::store::init_crypto).detach();
  const int code = lockbox::cli::run(argc, argv);
  lockbox::timing::report();
  // Every key, value and database handle was released (and wiped) when run() returned; what is
  // left is library teardown (OpenSSL's method store, iostreams) that only frees memory the
  // kernel reclaims anyway, at the cost of page faults. Flush, then leave without it.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(code);
}
