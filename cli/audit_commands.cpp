// `audit list | verify | checkpoint` (SPEC §7): the read side of the HMAC-chained audit trail.
// list prints records for people (a table, paged at a terminal) or scripts (--json); verify
// recomputes the chain and exits 5 naming the first bad seq; checkpoint prints `SEQ:MAC:COUNTER`,
// to be kept outside the store so that a cut tail or rolled-back rows can be detected later.

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command.hpp"
#include "cli/context.hpp"
#include "core/json_writer.hpp"
#include "cli/output.hpp"
#include "cli/secret_output.hpp"
#include "cli/table.hpp"
#include "core/time_format.hpp"
#include "store/bytes.hpp"

extern char** environ;

namespace lockbox::cli {
namespace {

// SPEC §7 (exact), and the record of row authentication's one-time migration (SPEC §17):
// store.migrate, when an older store gains the row MACs.
constexpr std::array<std::string_view, 17> kActions = {
    "secret.set",    "secret.delete", "secret.purge",  "secret.rollback",
    "secret.import", "secret.reveal", "secret.export", "launch",
    "job",           "resolve",       "key.rotate",    "key.reencrypt",
    "key.rewrap",    "token.create",  "token.revoke",  "auth.failure",
    "store.migrate"};

// The pager when $PAGER is unset: quit at once when the text fits on a screen (-F), pass colours
// through (-R), leave the text on the screen afterwards (-X).
constexpr const char* kDefaultPager = "less -FRX";

// A checkpoint seq has at most 18 digits, so it always fits an int64.
constexpr std::size_t kMaxSeqDigits = 18;

struct ListOptions {
  std::optional<std::string> since;
  std::optional<std::string> action;
  std::optional<std::string> target;
  bool no_pager = false;
};

struct VerifyOptions {
  std::optional<std::string> checkpoint;
};

// ---- audit list ----

Result<store::AuditFilter> audit_filter(const ListOptions& options) {
  store::AuditFilter filter;
  if (options.since) {
    LOCKBOX_ASSIGN_OR_RETURN(
        filter.since,
        parse_time_or_duration(*options.since, process_clock().now(), Direction::kPast));
  }
  if (options.action) {
    if (std::find(kActions.begin(), kActions.end(), *options.action) == kActions.end()) {
      return bad_input(
          fmt::format("unknown --action: expected one of {}", fmt::join(kActions, ", ")));
    }
    filter.action = *options.action;
  }
  if (options.target) {
    if (options.target->empty()) return bad_input("--target must not be empty");
    filter.target = *options.target;
  }
  return filter;
}

void write_records_json(const std::vector<store::AuditRecord>& records) {
  JsonWriter json;
  json.begin_array();
  for (const auto& r : records) {
    json.begin_object();
    json.key("seq");
    json.integer(r.seq);
    json.key("time");
    json.string(format_rfc3339(r.ts));
    json.key("actor");
    json.string(r.actor);
    json.key("action");
    json.string(r.action);
    json.key("target");
    json.string(r.target);
    json.key("outcome");
    json.string(r.outcome);
    json.key("detail");
    json.string(r.detail);
    json.end_object();
  }
  json.end_array();
  emit_json(json);
}

std::string dash_if_empty(const std::string& text) {
  return text.empty() ? "-" : text;
}

std::string render_records_table(const std::vector<store::AuditRecord>& records) {
  Table table({"SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "OUTCOME", "DETAIL"});
  for (const auto& r : records) {
    table.add_row({std::to_string(r.seq), format_rfc3339(r.ts), dash_if_empty(r.actor), r.action,
                   dash_if_empty(r.target), dash_if_empty(r.outcome), dash_if_empty(r.detail)});
  }
  return table.render();
}

// The pager command line: $PAGER, else kDefaultPager. An empty $PAGER (or "cat") means no pager,
// as for git and man.
std::optional<std::string> pager_command() {
  const char* env = std::getenv("PAGER");
  if (env == nullptr) return std::string(kDefaultPager);
  const std::string_view command(env);
  if (command.find_first_not_of(" \t") == std::string_view::npos || command == "cat") {
    return std::nullopt;
  }
  return std::string(command);
}

// Writes every byte to `fd`; stops quietly when the reader has gone (a pager the user quit).
void write_to_pipe(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Starts `sh -c COMMAND` reading from a new pipe (the command line is the user's own, with its
// arguments and quoting, as git and man run $PAGER). Returns the pid and the pipe's write end.
std::optional<std::pair<pid_t, int>> spawn_pager(const std::string& command) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);  // dup2 clears CLOEXEC
  std::string arg0 = "sh", arg1 = "-c", arg2 = command;
  char* argv[] = {arg0.data(), arg1.data(), arg2.data(), nullptr};
  // The pager inherits lockbox's signal mask and dispositions, which are still those lockbox was
  // started with (nothing is ignored or blocked yet), and an environment already cleared of
  // LOCKBOX_MASTER_* (main).
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, "/bin/sh", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[0]);
  if (rc != 0) {
    ::close(fds[1]);
    return std::nullopt;
  }
  return std::make_pair(pid, fds[1]);
}

// Shows `text` through the pager. false when the pager could not be started, so the caller
// prints directly: sh exits 127 (not found) or 126 (not executable) before reading anything.
bool show_in_pager(std::string_view text, const std::string& command) {
  const auto pager = spawn_pager(command);
  if (!pager) return false;
  const auto [pid, fd] = *pager;
  // A user who quits the pager early closes the pipe: that must end the listing quietly (EPIPE,
  // not death by SIGPIPE and a non-zero exit). Ctrl-C reaches the pager too; lockbox keeps
  // waiting so that the shell gets the terminal back only once the pager has restored it.
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_pipe {
  }, old_int{}, old_quit{};
  ::sigaction(SIGPIPE, &ignore, &old_pipe);
  ::sigaction(SIGINT, &ignore, &old_int);
  ::sigaction(SIGQUIT, &ignore, &old_quit);
  write_to_pipe(fd, text);
  ::close(fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGQUIT, &old_quit, nullptr);
  return !(WIFEXITED(status) && (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127));
}

void print_paged(std::string_view text, bool no_pager) {
  if (!no_pager && stdout_is_terminal()) {
    if (const auto command = pager_command(); command && show_in_pager(text, *command)) return;
  }
  write_stdout(text);
}

Status run_list(const GlobalOptions& globals, const ListOptions& options) {
  LOCKBOX_ASSIGN_OR_RETURN(Context ctx, Context::create(globals));
  LOCKBOX_ASSIGN_OR_RETURN(const store::AuditFilter filter, audit_filter(options));
  LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
  std::vector<store::AuditRecord> records;
  LOCKBOX_TRY(store->for_each_audit(filter, [&records](const store::AuditRecord& r) {
    records.push_back(r);
    return Status::ok();
  }));
  if (ctx.json()) {
    write_records_json(records);
  } else if (records.empty()) {
    print_note("no audit records");
  } else {
    print_paged(render_records_table(records), options.no_pager);
  }
  return Status::ok();
}

// ---- audit verify / checkpoint ----

// A checkpoint: the newest record's seq and MAC, and the store's change counter when it was taken
// (SEQ:MAC:COUNTER). The counter catches a rollback of the rows behind an intact audit trail: it
// is authenticated and only grows, so a store whose counter is below a checkpoint's was replaced
// (wholly or in part) by an older copy. SEQ:MAC, the form before the counter, is still accepted.
struct Checkpoint {
  store::AuditCheckpoint audit;
  std::optional<std::int64_t> change_counter;
};

std::string format_checkpoint(const store::AuditCheckpoint& checkpoint, std::int64_t counter) {
  return fmt::format("{}:{}:{}", checkpoint.seq, store::to_hex(checkpoint.mac), counter);
}

bool parse_digits(std::string_view digits, std::int64_t& out) {
  if (digits.empty() || digits.size() > kMaxSeqDigits ||
      digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return false;
  }
  (void)std::from_chars(digits.data(), digits.data() + digits.size(), out);  // <= 18 digits
  return true;
}

// SEQ:MAC[:COUNTER] exactly as `audit checkpoint` prints it: decimal digits, a colon, 64
// lower-case hex, and a colon and decimal digits. The text is not echoed in the error (it could
// be anything a user pasted).
Result<Checkpoint> parse_checkpoint(std::string_view text) {
  const Status malformed = bad_input(
      "malformed --checkpoint: expected SEQ:MAC:COUNTER (or SEQ:MAC) as printed by `lockbox audit "
      "checkpoint` (a record number, a colon, 64 lower-case hex digits, a colon, a counter)");
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) return malformed;
  Checkpoint checkpoint;
  if (!parse_digits(text.substr(0, colon), checkpoint.audit.seq)) return malformed;
  std::string_view mac = text.substr(colon + 1);
  if (const std::size_t second = mac.find(':'); second != std::string_view::npos) {
    std::int64_t counter = 0;
    if (!parse_digits(mac.substr(second + 1), counter)) return malformed;
    checkpoint.change_counter = counter;
    mac = mac.substr(0, second);
  }
  store::Bytes bytes;
  if (mac.size() != checkpoint.audit.mac.size() * 2 || !store::is_lower_hex(mac) ||
      !store::from_hex(mac, bytes) || bytes.size() != checkpoint.audit.mac.size()) {
    return malformed;
  }
  std::copy(bytes.begin(), bytes.end(), checkpoint.audit.mac.begin());
  return checkpoint;
}

// A chain that verifies is also checked against the checkpoint's change counter.
Status check_counter(store::Store& store, const Checkpoint& checkpoint, store::AuditVerifyResult& result) {
  if (result.first_bad_seq || !checkpoint.change_counter) return Status::ok();
  LOCKBOX_ASSIGN_OR_RETURN(const std::int64_t counter, store.change_counter());
  if (counter >= *checkpoint.change_counter) return Status::ok();
  result.first_bad_seq = checkpoint.audit.seq;
  result.problem = fmt::format(
      "the store was rolled back to an older copy: its change counter is {}, the checkpoint's {} "
      "(restore the store from a backup)",
      counter, *checkpoint.change_counter);
  return Status::ok();
}

Status broken_status(const store::AuditVerifyResult& result) {
  return integrity_error(
      fmt::format("audit trail broken at seq {}: {}", *result.first_bad_seq, result.problem));
}

void write_verify_json(const store::AuditVerifyResult& result) {
  JsonWriter json;
  json.begin_object();
  json.key("ok");
  json.boolean(!result.first_bad_seq);
  json.key("records");
  json.integer(result.records);
  json.key("last_seq");
  json.integer(result.last_seq);
  json.key("first_bad_seq");
  if (result.first_bad_seq) {
    json.integer(*result.first_bad_seq);
  } else {
    json.null();
  }
  json.key("problem");
  json.optional_string(result.first_bad_seq ? std::optional<std::string_view>(result.problem)
                                            : std::nullopt);
  json.end_object();
  emit_json(json);
}

Status run_verify(const GlobalOptions& globals, const VerifyOptions& options) {
  LOCKBOX_ASSIGN_OR_RETURN(Context ctx, Context::create(globals));
  std::optional<Checkpoint> checkpoint;
  if (options.checkpoint) {
    LOCKBOX_ASSIGN_OR_RETURN(checkpoint, parse_checkpoint(*options.checkpoint));
  }
  LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
  LOCKBOX_ASSIGN_OR_RETURN(store::AuditVerifyResult result,
                           store->verify_audit(checkpoint ? std::optional(checkpoint->audit) : std::nullopt));
  if (checkpoint) LOCKBOX_TRY(check_counter(*store, *checkpoint, result));
  if (ctx.json()) {
    write_verify_json(result);
  } else if (!result.first_bad_seq) {
    write_stdout(fmt::format("audit trail verified: {} records (last seq {})\n", result.records,
                             result.last_seq));
  }
  return result.first_bad_seq ? broken_status(result) : Status::ok();
}

// A checkpoint vouches for everything before it, so it is only given for a trail that verifies:
// the newest record is taken first and the whole chain is then verified up to it (one snapshot
// would be stricter, but a record appended in between is simply newer than the checkpoint).
Status run_checkpoint(const GlobalOptions& globals) {
  LOCKBOX_ASSIGN_OR_RETURN(Context ctx, Context::create(globals));
  LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
  LOCKBOX_ASSIGN_OR_RETURN(const store::AuditCheckpoint checkpoint, store->audit_checkpoint());
  LOCKBOX_ASSIGN_OR_RETURN(const store::AuditVerifyResult result, store->verify_audit(checkpoint));
  if (result.first_bad_seq) return broken_status(result);
  // Read after the record: a write in between only makes the checkpoint stricter than its seq.
  LOCKBOX_ASSIGN_OR_RETURN(const std::int64_t counter, store->change_counter());
  const std::string text = format_checkpoint(checkpoint, counter);
  if (!ctx.json()) {
    write_stdout(text + "\n");
    return Status::ok();
  }
  JsonWriter json;
  json.begin_object();
  json.key("checkpoint");
  json.string(text);
  json.key("seq");
  json.integer(checkpoint.seq);
  json.key("change_counter");
  json.integer(counter);
  json.end_object();
  emit_json(json);
  return Status::ok();
}

}  // namespace

void add_audit_commands(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot) {
  CLI::App* audit = parent.add_subcommand("audit", "Read and verify the audit trail");
  audit->require_subcommand(1);

  auto list = std::make_shared<ListOptions>();
  CLI::App* cmd = audit->add_subcommand("list", "List audit records, oldest first");
  cmd->add_option("--since", list->since, "Only records since DUR ago (24h) or an RFC 3339 TIME");
  cmd->add_option("--action", list->action, "Only this action (secret.set, launch, ...)");
  cmd->add_option("--target", list->target, "Only this target; '*' matches any characters");
  cmd->add_flag("--no-pager", list->no_pager, "Do not page the table at a terminal");
  cmd->callback([&, list] { slot.action = [&globals, list] { return run_list(globals, *list); }; });

  auto verify = std::make_shared<VerifyOptions>();
  cmd = audit->add_subcommand("verify", "Recompute the audit chain (exit 5 when it is broken)");
  cmd->add_option("--checkpoint", verify->checkpoint,
                  "SEQ:MAC:COUNTER from `audit checkpoint`: also detect a cut tail or rolled-back rows");
  cmd->callback(
      [&, verify] { slot.action = [&globals, verify] { return run_verify(globals, *verify); }; });

  cmd =
      audit->add_subcommand("checkpoint", "Print SEQ:MAC:COUNTER (newest record, change counter), to keep elsewhere");
  cmd->callback([&] { slot.action = [&globals] { return run_checkpoint(globals); }; });
}

}  // namespace lockbox::cli
