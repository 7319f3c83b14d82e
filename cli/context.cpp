#include "cli/context.hpp"

#include "cli/policy_source.hpp"

#include <pwd.h>
#include <unistd.h>

#include "core/log.hpp"
#include "core/time_format.hpp"
#include "core/timing.hpp"

namespace lockbox::cli {
namespace {

constexpr std::string_view kNoMasterKey =
    "no master key: set LOCKBOX_MASTER_KEY, LOCKBOX_MASTER_KEY_FILE, --master-key-file or run "
    "lockbox init";

Status check_store_url(const std::string& url) {
  if (url.empty() || url.rfind("sqlite:", 0) == 0) {
    if (url == "sqlite:") return bad_input("--store sqlite: needs a path (sqlite:PATH)");
    return Status::ok();
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) return Status::ok();
  return bad_input("unsupported --store URL: expected sqlite:PATH or postgresql://...");
}

}  // namespace

std::string current_actor() {
  const uid_t uid = ::geteuid();
  std::string buffer(16384, '\0');
  struct passwd pw {};
  struct passwd* found = nullptr;
  if (::getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr && found->pw_name[0] != '\0') {
    return found->pw_name;
  }
  return "uid:" + std::to_string(uid);
}

Result<Context> Context::create(const GlobalOptions& globals) {
  LOCKBOX_TRY(check_store_url(globals.store_url));
  auto timeout = parse_duration(globals.busy_timeout);
  if (!timeout.is_ok()) return timeout.status().with_context("--busy-timeout");
  if (globals.data_dir.empty()) return bad_input("--data-dir must not be empty");
  Context ctx;
  ctx.options_.data_dir = globals.data_dir;
  ctx.options_.url = globals.store_url;
  ctx.options_.busy_timeout_ms = timeout.value();
  ctx.options_.actor = current_actor();
  ctx.options_.clock = &process_clock();
  if (!globals.master_key_file.empty()) ctx.master_key_file_ = globals.master_key_file;
  ctx.json_ = globals.json;
  // The policy's limits govern the store's checks too (SPEC §9, §10).
  LOCKBOX_ASSIGN_OR_RETURN(ctx.policy_, load_policy(globals));
  ctx.options_.limits.max_value_bytes = ctx.policy_.limits.max_value_bytes;
  timing::mark("cli+policy");
  return ctx;
}

Result<std::optional<store::MasterKey>> Context::load_master_key() const {
  return store::load_master_key({master_key_file_, options_.data_dir});
}

Result<std::unique_ptr<store::Store>> Context::open_store() const {
  LOCKBOX_ASSIGN_OR_RETURN(std::optional<store::MasterKey> key, load_master_key());
  if (!key) return key_error(std::string(kNoMasterKey));
  log::info("master key from {}; opening {} as {}", key->source, store::Store::display_name(options_),
            options_.actor);
  return store::Store::open(options_, std::move(*key));
}

}  // namespace lockbox::cli
