// lockbox: the command-line entry point. Process hygiene comes first, before anything can hold
// plaintext (SPEC §3): not dumpable (no ptrace by same-uid processes, no /proc/PID/mem), no core
// files, the secure heap for keys, and the log level from LOCKBOX_LOG. The state a launched child
// gets back (signal mask and dispositions, umask, core limit) was captured before main ran
// (launcher/process_state.hpp).

#include "cli/app.hpp"
#include "core/log.hpp"
#include "core/secure_key.hpp"
#include "launcher/process_state.hpp"

int main(int argc, char** argv) {
  lockbox::launcher::harden_self();
  lockbox::init_secure_heap();
  lockbox::log::init_from_env();
  return lockbox::cli::run(argc, argv);
}
