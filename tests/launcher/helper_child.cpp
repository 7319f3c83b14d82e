// lockbox_test_child: the launcher's test child. Runs the steps given on its command line, in
// order, so tests need no shell. Exits 0 after the last step; exits 2 on an unknown step, a
// missing argument or a failed step (the reason on stderr). Output goes straight to write(2),
// unbuffered, so it is complete whatever signal or exit ends the process.
//
// Steps and their output formats:
//   exit N                 exit with status N
//   print-env NAME         "NAME=value\n", or "NAME unset\n"
//   require-env NAME=VALUE carries on if NAME has exactly VALUE, else exits 2 (prints nothing)
//   print-env-names        every environment variable name, sorted, one per line
//   print-argv             this process's whole argv (argv[0] included) joined by \x1f, then "\n"
//   print-file PATH        the file's bytes, verbatim
//   print-dir-files DIR    the directory's entry names (without . and ..), sorted, one per line
//   print TEXT             TEXT "\n"
//   print-raw TEXT         TEXT
//   cat-stdin              copies stdin to stdout until EOF
//   sleep MS               sleeps MS milliseconds; a signal handler returning does not shorten it
//   trap-term              on SIGTERM: prints "got SIGTERM\n" and exits 0
//   ignore-term            SIGTERM set to SIG_IGN
//   record-signals FILE    on INT TERM HUP QUIT USR1 USR2 WINCH: appends "SIGNAME\n" to FILE
//                          (e.g. "SIGTERM\n") and carries on; also SIGRTMIN+3, the tests'
//                          sentinel ("SIGRTMIN+3\n": real-time, so delivered after every
//                          standard signal pending with it)
//   record-more-signals FILE  record-signals, plus ALRM VTALRM PROF XCPU XFSZ PWR STKFLT IO TSTP
//                          TTIN TTOU CONT and SIGRTMIN+2 ("SIGRTMIN+2\n")
//   kill-self SIG          raise(SIG); SIG is a name (TERM, SIGTERM) or a number
//   print-sigmask          blocked signals as 16 hex digits, bit N-1 for signal N (like SigBlk in
//                          /proc/self/status), then "\n"
//   print-sigdisp SIG      "default\n", "ignore\n" or "handler\n"
//   print-umask            the umask as 4 octal digits, "0022\n"
//   print-core-limit       RLIMIT_CORE as "<soft> <hard>\n", each a number or "unlimited"
//   print-pgrp             "pgrp=<getpgrp()> ppid=<getppid()>\n"
//   write-pid FILE         writes "<pid>\n" to FILE atomically (a temporary file, then rename)
//   print-uid              "uid=<uid> euid=<euid> gid=<gid> egid=<egid> groups=<g1,g2,...>\n"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
}

void out(std::string_view s) {
  write_all(1, s);
}

[[noreturn]] void fail(const std::string& why) {
  write_all(2, "lockbox_test_child: " + why + "\n");
  std::_Exit(2);
}

struct SignalName {
  const char* name;
  int number;
};
constexpr SignalName kSignals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT}, {"ILL", SIGILL},   {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT}, {"BUS", SIGBUS},     {"FPE", SIGFPE},   {"KILL", SIGKILL}, {"USR1", SIGUSR1},
    {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},   {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"CHLD", SIGCHLD}, {"CONT", SIGCONT},   {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU}, {"WINCH", SIGWINCH}, {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

int parse_signal(std::string_view s) {
  if (s.substr(0, 3) == "SIG") s.remove_prefix(3);
  for (const auto& sig : kSignals) {
    if (s == sig.name) return sig.number;
  }
  char* end = nullptr;
  const std::string copy(s);
  const long n = std::strtol(copy.c_str(), &end, 10);
  if (copy.empty() || *end != '\0' || n <= 0 || n >= NSIG) fail("bad signal: " + copy);
  return static_cast<int>(n);
}

const char* signal_name(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT\n";
    case SIGTERM: return "SIGTERM\n";
    case SIGHUP: return "SIGHUP\n";
    case SIGQUIT: return "SIGQUIT\n";
    case SIGUSR1: return "SIGUSR1\n";
    case SIGUSR2: return "SIGUSR2\n";
    case SIGWINCH: return "SIGWINCH\n";
    case SIGALRM: return "SIGALRM\n";
    case SIGVTALRM: return "SIGVTALRM\n";
    case SIGPROF: return "SIGPROF\n";
    case SIGXCPU: return "SIGXCPU\n";
    case SIGXFSZ: return "SIGXFSZ\n";
    case SIGPWR: return "SIGPWR\n";
    case SIGSTKFLT: return "SIGSTKFLT\n";
    case SIGIO: return "SIGIO\n";
    case SIGTSTP: return "SIGTSTP\n";
    case SIGTTIN: return "SIGTTIN\n";
    case SIGTTOU: return "SIGTTOU\n";
    case SIGCONT: return "SIGCONT\n";
    default:
      if (sig == SIGRTMIN + 2) return "SIGRTMIN+2\n";
      return sig == SIGRTMIN + 3 ? "SIGRTMIN+3\n" : "SIG?\n";
  }
}

char g_record_file[4096];

extern "C" void on_term_trap(int /*sig*/) {
  static const char kMsg[] = "got SIGTERM\n";
  [[maybe_unused]] const ssize_t n = ::write(1, kMsg, sizeof(kMsg) - 1);
  ::_exit(0);
}

// Async-signal-safe: open, write, close only.
extern "C" void on_record(int sig) {
  const int saved = errno;
  const int fd = ::open(g_record_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    const char* name = signal_name(sig);
    [[maybe_unused]] const ssize_t n = ::write(fd, name, std::strlen(name));
    ::close(fd);
  }
  errno = saved;
}

void install(int sig, void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (::sigaction(sig, &sa, nullptr) != 0) fail("sigaction failed");
}

void sleep_ms(long ms) {
  timespec left{ms / 1000, (ms % 1000) * 1000000L};
  // nanosleep returns early with the remaining time when a handler runs: keep sleeping.
  while (::nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
}

std::string read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open " + path + ": " + std::strerror(errno));
  std::string data;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot read " + path + ": " + std::strerror(errno));
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return data;
}

void print_dir_files(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) fail("cannot open directory " + path + ": " + std::strerror(errno));
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) out(n + "\n");
}

void print_env_names() {
  std::vector<std::string> names;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    names.emplace_back(entry.substr(0, entry.find('=')));
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) out(n + "\n");
}

void print_argv(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) {
    if (i > 0) line += '\x1f';
    line += argv[i];
  }
  out(line + "\n");
}

void print_sigmask() {
  sigset_t set;
  sigemptyset(&set);
  if (::sigprocmask(SIG_BLOCK, nullptr, &set) != 0) fail("sigprocmask failed");
  std::uint64_t mask = 0;
  for (int sig = 1; sig < NSIG && sig <= 64; ++sig) {
    if (sigismember(&set, sig) == 1) mask |= std::uint64_t{1} << (sig - 1);
  }
  char buf[32];
  (void)std::snprintf(buf, sizeof buf, "%016" PRIx64 "\n", mask);
  out(buf);
}

void print_sigdisp(int sig) {
  struct sigaction sa {};
  if (::sigaction(sig, nullptr, &sa) != 0) fail("sigaction failed");
  if (sa.sa_handler == SIG_DFL) {
    out("default\n");
  } else if (sa.sa_handler == SIG_IGN) {
    out("ignore\n");
  } else {
    out("handler\n");
  }
}

std::string limit_text(rlim_t v) {
  return v == RLIM_INFINITY ? "unlimited" : std::to_string(v);
}

void print_uid() {
  std::string line = "uid=" + std::to_string(::getuid()) + " euid=" + std::to_string(::geteuid()) +
                     " gid=" + std::to_string(::getgid()) + " egid=" + std::to_string(::getegid()) +
                     " groups=";
  std::vector<gid_t> groups(static_cast<std::size_t>(std::max(::getgroups(0, nullptr), 0)));
  const int n = ::getgroups(static_cast<int>(groups.size()), groups.data());
  for (int i = 0; i < n; ++i)
    line += (i > 0 ? "," : "") + std::to_string(groups[static_cast<std::size_t>(i)]);
  out(line + "\n");
}

void write_pid(const std::string& path) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot create " + tmp + ": " + std::strerror(errno));
  write_all(fd, std::to_string(::getpid()) + "\n");
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot rename to " + path);
}

void cat_stdin() {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(0, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    out(std::string_view(buf, static_cast<std::size_t>(n)));
  }
}

void record_signals(const std::string& path) {
  if (path.size() >= sizeof g_record_file) fail("record-signals path too long");
  std::memcpy(g_record_file, path.c_str(), path.size() + 1);
  for (const int sig :
       {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGRTMIN + 3}) {
    install(sig, on_record);
  }
}

// The signals lockbox forwards beyond SPEC §4's first seven (issue 13), job control included.
void record_more_signals(const std::string& path) {
  record_signals(path);
  for (const int sig : {SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGPWR, SIGSTKFLT, SIGIO,
                        SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT, SIGRTMIN + 2}) {
    install(sig, on_record);
  }
}

void print_umask() {
  const mode_t m = ::umask(0);
  ::umask(m);
  char buf[16];
  (void)std::snprintf(buf, sizeof buf, "%04o\n", static_cast<unsigned>(m));
  out(buf);
}

void print_core_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_CORE, &rl) != 0) fail("getrlimit failed");
  out(limit_text(rl.rlim_cur) + " " + limit_text(rl.rlim_max) + "\n");
}

void print_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  out(v != nullptr ? name + "=" + v + "\n" : name + " unset\n");
}

struct Args {
  int argc;
  char** argv;
  std::string arg;  // the step's argument, when it takes one
};

struct Step {
  const char* name;
  bool takes_arg;
  void (*run)(const Args& a);
};

const Step kSteps[] = {
    {"exit", true, [](const Args& a) { std::_Exit(std::atoi(a.arg.c_str())); }},
    {"print-env", true, [](const Args& a) { print_env(a.arg); }},
    {"require-env", true,
     [](const Args& a) {
       const auto eq = a.arg.find('=');
       const char* v = ::getenv(a.arg.substr(0, eq).c_str());
       if (eq == std::string::npos || v == nullptr ||
           a.arg.compare(eq + 1, std::string::npos, v) != 0)
         std::_Exit(2);
     }},
    {"print-env-names", false, [](const Args&) { print_env_names(); }},
    {"print-argv", false, [](const Args& a) { print_argv(a.argc, a.argv); }},
    {"print-file", true, [](const Args& a) { out(read_file(a.arg)); }},
    {"print-dir-files", true, [](const Args& a) { print_dir_files(a.arg); }},
    {"print", true, [](const Args& a) { out(a.arg + "\n"); }},
    {"print-raw", true, [](const Args& a) { out(a.arg); }},
    {"cat-stdin", false, [](const Args&) { cat_stdin(); }},
    {"sleep", true, [](const Args& a) { sleep_ms(std::atol(a.arg.c_str())); }},
    {"trap-term", false, [](const Args&) { install(SIGTERM, on_term_trap); }},
    {"ignore-term", false, [](const Args&) { (void)::signal(SIGTERM, SIG_IGN); }},
    {"record-signals", true, [](const Args& a) { record_signals(a.arg); }},
    {"record-more-signals", true, [](const Args& a) { record_more_signals(a.arg); }},
    {"kill-self", true, [](const Args& a) { (void)::raise(parse_signal(a.arg)); }},
    {"print-sigmask", false, [](const Args&) { print_sigmask(); }},
    {"print-sigdisp", true, [](const Args& a) { print_sigdisp(parse_signal(a.arg)); }},
    {"print-umask", false, [](const Args&) { print_umask(); }},
    {"print-core-limit", false, [](const Args&) { print_core_limit(); }},
    {"print-pgrp", false,
     [](const Args&) {
       out("pgrp=" + std::to_string(::getpgrp()) + " ppid=" + std::to_string(::getppid()) + "\n");
     }},
    {"write-pid", true, [](const Args& a) { write_pid(a.arg); }},
    {"print-uid", false, [](const Args&) { print_uid(); }},
};

// Runs the step at argv[i]; returns the index of the next step.
int run_step(int argc, char** argv, int i) {
  const std::string_view name = argv[i];
  for (const Step& step : kSteps) {
    if (name != step.name) continue;
    Args args{argc, argv, {}};
    if (step.takes_arg) {
      if (i + 1 >= argc) fail("step " + std::string(name) + " needs an argument");
      args.arg = argv[i + 1];
    }
    step.run(args);
    return i + (step.takes_arg ? 2 : 1);
  }
  fail("unknown step: " + std::string(name));
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc;) i = run_step(argc, argv, i);
  return 0;
}
