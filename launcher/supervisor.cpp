// Spawning with Boost.Process v2 and supervising on one Asio io_context: the pidfd (exit), the
// signalfd (forwarding), timers (timeout, kill grace, watch) and, with --redact, the output pipes;
// a blocking --watch fetch runs on a worker thread that posts its answer back.
#include "launcher/supervisor.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/process/v2/posix/default_launcher.hpp>
#include <boost/process/v2/posix/vfork_launcher.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "core/fd.hpp"
#include "core/log.hpp"
#include "launcher/exec_init.hpp"
#include "launcher/process_state.hpp"

namespace lockbox::launcher {
namespace {

namespace asio = boost::asio;
namespace bp = boost::process::v2;
using Descriptor = asio::posix::stream_descriptor;

// Both ends are owned: whatever path leaves spawn() closes what is still open.
struct Pipe {
  Fd read, write;
  Status open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return runtime_error("cannot create a pipe");
    read.reset(fds[0]);
    write.reset(fds[1]);
    return Status::ok();
  }
};

// Hands an owned descriptor to Asio (which closes it from then on), non-blocking.
std::unique_ptr<Descriptor> adopt(asio::io_context& ctx, Fd& fd) {
  ::fcntl(fd.get(), F_SETFL, O_NONBLOCK);
  auto d = std::make_unique<Descriptor>(ctx, fd.get());
  (void)fd.release();
  return d;
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // EPIPE: the reader is gone; nothing to do
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

int send_signal(int pidfd, int sig) {
  // ESRCH means the child is already gone: not an error (tini, dumb-init).
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

// Exec errors: the file was found, so ENOENT means its #! interpreter is missing (126) unless the
// file itself vanished in between (127).
int exit_code_for_exec_error(int err, const std::filesystem::path& executable) {
  struct stat st {};
  if (err == ENOENT && ::stat(executable.c_str(), &st) != 0) return 127;
  return 126;
}

}  // namespace

int exit_code_from_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 125;
}

// Where a watch fetch's worker delivers its answer: the reactor, until the supervision ends.
struct WatchMailbox {
  std::mutex mutex;
  asio::io_context* ctx = nullptr;  // guarded by mutex; nullptr once the supervision has ended
};

// One supervision: owns the io_context and every handler's state.
class Supervision {
 public:
  Supervision(ChildSpec& spec, SignalGate& signals) : spec_(spec), signals_(signals) {}
  Result<ChildOutcome> run();

 private:
  Status spawn();
  void watch_signals();
  void start_timers();
  void schedule_watch();
  void on_watch_answer(bool changed);
  void start_fetch(std::function<bool()> fetch);
  void stop_child(bool restart);
  void pump(Descriptor& d, Redactor& r, int out_fd, bool& open);
  void drain(Descriptor& d, Redactor& r, int out_fd, bool& open);
  void maybe_finish();

  ChildSpec& spec_;
  SignalGate& signals_;
  asio::io_context ctx_;
  std::unique_ptr<bp::process> proc_;
  std::unique_ptr<Descriptor> sigfd_, out_, err_, in_;
  std::unique_ptr<Redactor> out_redactor_, err_redactor_;
  // Created after the spawn (see spawn()): no reactor may exist while the vfork child runs.
  std::optional<asio::steady_timer> deadline_, grace_, watch_;
  bool child_done_ = false, out_open_ = false, err_open_ = false, stopping_ = false;
  ChildOutcome outcome_;
  std::array<char, 65536> buf_{};
  Fd pidfd_;
  const bool session_leader_ = ::getsid(0) == ::getpid();
  std::shared_ptr<WatchMailbox> mailbox_;  // set while a fetch is in flight

 public:
  ~Supervision() {
    // A fetch still running is abandoned: its answer must not reach a destroyed io_context.
    if (mailbox_) {
      const std::lock_guard<std::mutex> lock(mailbox_->mutex);
      mailbox_->ctx = nullptr;
    }
  }
};

Status Supervision::spawn() {
  Pipe in, out, err;
  if (spec_.stdin_payload) LOCKBOX_TRY(in.open());
  if (spec_.redact) {
    LOCKBOX_TRY(out.open());
    LOCKBOX_TRY(err.open());
  }
  std::vector<const char*> argv;
  for (const auto& a : spec_.argv) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  const std::string workdir = spec_.workdir.string();
  ExecInit init{spec_.env->envp(), argv.data(), ::getpid(), {in.read.get(), out.write.get(), err.write.get()},
                spec_.user ? &*spec_.user : nullptr, workdir.empty() ? nullptr : workdir.c_str()};
  // vfork: the parent is suspended until the child has exec'd, and no page table is copied (a
  // fork copies ~10 MB of mappings here). Safe because the child only runs async-signal-safe
  // setup, allocates nothing, leaves with _exit on failure (on_exec_error), and Asio has no
  // reactor yet whose state notify_fork() could change (timers and descriptors are created
  // after the spawn).
  bp::posix::vfork_launcher launcher;
  bp::error_code ec;
  auto proc = launcher(ctx_.get_executor(), ec, bp::filesystem::path(spec_.executable.string()),
                       std::vector<std::string>{}, init);
  in.read.close();  // the child's ends: only the child keeps them
  out.write.close();
  err.write.close();
  if (ec) {
    if (launcher.pid > 0) ::waitpid(launcher.pid, nullptr, 0);  // no zombie (1.81 does not reap)
    outcome_.exit_code = exit_code_for_exec_error(ec.value(), spec_.executable);
    log::error("cannot execute {}: {}", spec_.argv.front(), ec.message());
    return Status::ok();
  }
  outcome_.spawned = true;
  proc_ = std::make_unique<bp::process>(std::move(proc));
  // Our own pidfd for sending signals (1.81's native_handle() does not compile for the pidfd
  // handle). The child is not reaped before our async_wait completes, so the pid cannot be reused.
  pidfd_.reset(static_cast<int>(::syscall(SYS_pidfd_open, proc_->id(), 0)));
  if (!pidfd_.valid()) return runtime_error("cannot open a pidfd for the child");
  if (spec_.on_spawned) spec_.on_spawned(static_cast<pid_t>(proc_->id()));
  if (spec_.stdin_payload) {
    in_ = adopt(ctx_, in.write);
    asio::async_write(*in_, asio::buffer(*spec_.stdin_payload),
                      [this](const boost::system::error_code&, std::size_t) { in_->close(); });
  }
  if (spec_.redact) {
    out_ = adopt(ctx_, out.read);
    err_ = adopt(ctx_, err.read);
    std::vector<Redactor::Secret> copy;
    for (const auto& s : spec_.redact_values) copy.push_back({s.name, s.value.clone()});
    out_redactor_ = std::make_unique<Redactor>(std::move(copy));
    err_redactor_ = std::make_unique<Redactor>(std::move(spec_.redact_values));
    out_open_ = err_open_ = true;
    pump(*out_, *out_redactor_, STDOUT_FILENO, out_open_);
    pump(*err_, *err_redactor_, STDERR_FILENO, err_open_);
  }
  return Status::ok();
}

void Supervision::drain(Descriptor& d, Redactor& r, int out_fd, bool& open) {
  // Reads what is available now; EOF (or an error) closes the stream.
  std::string out;
  while (open) {
    const ssize_t n = ::read(d.native_handle(), buf_.data(), buf_.size());
    if (n > 0) {
      r.feed({buf_.data(), static_cast<std::size_t>(n)}, out);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    r.finish(out);
    open = false;
    d.close();
  }
  write_all(out_fd, out);
  wipe(out.data(), out.size());
  wipe(buf_.data(), buf_.size());
}

void Supervision::pump(Descriptor& d, Redactor& r, int out_fd, bool& open) {
  d.async_wait(Descriptor::wait_read, [this, &d, &r, out_fd, &open](const boost::system::error_code& ec) {
    if (ec || !open) return;
    drain(d, r, out_fd, open);
    if (open) {
      pump(d, r, out_fd, open);
    } else {
      maybe_finish();
    }
  });
}

void Supervision::watch_signals() {
  sigfd_->async_wait(Descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec || child_done_) return;
    while (auto sig = signals_.read_pending()) {
      if (is_terminating(sig->signal)) outcome_.terminating_signal = sig->signal;
      // A terminal signals its whole foreground group: the child, in lockbox's group, already has
      // it. Except a hangup while lockbox leads the session (sshd exec'd it, or setsid): the kernel
      // sends that SIGHUP to the session leader alone. Anything else was aimed at lockbox and is
      // passed on once.
      const bool child_has_it = sig->from_terminal && !(sig->signal == SIGHUP && session_leader_);
      if (!child_has_it) send_signal(pidfd_.get(), sig->signal);
      // Job control (TSTP TTIN TTOU): the child has it now; lockbox then stops as well, so the
      // shell sees the whole job stopped. SIGCONT resumes lockbox and is passed on above.
      if (is_job_stop(sig->signal)) stop_self(sig->signal);
    }
    watch_signals();
  });
}

void Supervision::stop_child(bool restart) {
  if (stopping_ || child_done_) return;
  stopping_ = true;
  outcome_.restart = restart;
  send_signal(pidfd_.get(), SIGTERM);
  grace_->expires_after(std::chrono::milliseconds(spec_.kill_grace_ms));
  grace_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !child_done_) send_signal(pidfd_.get(), SIGKILL);
  });
}

void Supervision::start_timers() {
  if (spec_.timeout_ms) {
    deadline_->expires_after(std::chrono::milliseconds(*spec_.timeout_ms));
    deadline_->async_wait([this](const boost::system::error_code& ec) {
      if (ec || child_done_) return;
      outcome_.timed_out = true;
      log::warn("timeout: sending SIGTERM to {}", spec_.argv.front());
      stop_child(false);
    });
  }
  if (spec_.watch_poll) schedule_watch();
}

void Supervision::schedule_watch() {
  watch_->expires_after(std::chrono::milliseconds(spec_.watch_interval_ms));
  watch_->async_wait([this](const boost::system::error_code& ec) {
    if (ec || child_done_ || stopping_ || outcome_.terminating_signal != 0) return;
    WatchAnswer answer = spec_.watch_poll();
    if (answer.fetch) {
      start_fetch(std::move(answer.fetch));
    } else {
      on_watch_answer(answer.changed);
    }
  });
}

void Supervision::on_watch_answer(bool changed) {
  if (child_done_ || stopping_ || outcome_.terminating_signal != 0) return;
  if (changed) {
    log::warn("watch: secrets changed; restarting {}", spec_.argv.front());
    stop_child(true);
  } else {
    schedule_watch();
  }
}

// The worker inherits lockbox's signal mask (every forwarded signal blocked), so signals keep
// arriving on the signalfd the reactor reads.
void Supervision::start_fetch(std::function<bool()> fetch) {
  auto mailbox = std::make_shared<WatchMailbox>();
  mailbox->ctx = &ctx_;
  mailbox_ = mailbox;
  std::thread([this, mailbox, fetch = std::move(fetch)] {
    const bool changed = fetch();
    const std::lock_guard<std::mutex> lock(mailbox->mutex);
    if (mailbox->ctx == nullptr) return;  // abandoned: `this` is gone or going
    asio::post(*mailbox->ctx, [this, changed] {
      mailbox_.reset();
      on_watch_answer(changed);
    });
  }).detach();
}

void Supervision::maybe_finish() {
  if (!child_done_ || out_open_ || err_open_) return;
  for (auto* timer : {&deadline_, &grace_, &watch_}) {
    if (*timer) (*timer)->cancel();
  }
  if (sigfd_) sigfd_->cancel();
  if (in_ && in_->is_open()) in_->close();
  ctx_.stop();
}

Result<ChildOutcome> Supervision::run() {
  LOCKBOX_TRY(spawn());
  if (!outcome_.spawned) return outcome_;
  deadline_.emplace(ctx_);
  grace_.emplace(ctx_);
  watch_.emplace(ctx_);
  Fd sigfd(::fcntl(signals_.fd(), F_DUPFD_CLOEXEC, 0));
  if (!sigfd.valid()) return runtime_error("cannot watch signals");
  sigfd_ = std::make_unique<Descriptor>(ctx_, sigfd.get());
  (void)sigfd.release();
  // Signals that arrived before the spawn were kept pending; they are handled now.
  watch_signals();
  start_timers();
  proc_->async_wait([this](const boost::system::error_code&, int) {
    child_done_ = true;
    outcome_.exit_code = exit_code_from_status(proc_->native_exit_code());
    // Whatever the child wrote is in the pipes now; a grandchild still holding them is cut off.
    if (out_open_) drain(*out_, *out_redactor_, STDOUT_FILENO, out_open_);
    if (err_open_) drain(*err_, *err_redactor_, STDERR_FILENO, err_open_);
    if (out_open_ || err_open_) {
      std::string rest;
      if (out_open_) out_redactor_->finish(rest), write_all(STDOUT_FILENO, rest), rest.clear();
      if (err_open_) err_redactor_->finish(rest), write_all(STDERR_FILENO, rest);
      wipe(rest.data(), rest.size());
      out_open_ = err_open_ = false;
    }
    maybe_finish();
  });
  ctx_.run();
  if (outcome_.timed_out) outcome_.exit_code = 124;
  return outcome_;
}

Result<ChildOutcome> supervise(ChildSpec& spec, SignalGate& signals) {
  Supervision supervision(spec, signals);
  return supervision.run();
}

}  // namespace lockbox::launcher
