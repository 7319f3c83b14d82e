#include "launcher/launch_plan.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/fd.hpp"
#include "core/log.hpp"
#include "core/timing.hpp"
#include "resolver/dotenv.hpp"

namespace lockbox::launcher {
namespace {

Result<const policies::FunctionPolicy*> find_entry(const RunRequest& r, const policies::Policy& p) {
  const auto& table = r.job ? p.jobs : p.functions;
  if (!r.function_name) return static_cast<const policies::FunctionPolicy*>(nullptr);
  auto it = table.find(*r.function_name);
  if (it != table.end()) return &it->second;
  if (r.function_form || r.job) {
    return bad_input(
        fmt::format("unknown {} {}{}", r.job ? "job" : "function", *r.function_name,
                    p.source.empty() ? " (no policy file)" : " in " + p.source.string()));
  }
  return static_cast<const policies::FunctionPolicy*>(
      nullptr);  // --function F without a policy entry
}

Result<std::vector<resolver::EnvFileLayer>> read_env_files(const std::vector<std::string>& paths) {
  std::vector<resolver::EnvFileLayer> layers;
  for (const auto& path : paths) {
    LOCKBOX_ASSIGN_OR_RETURN(const SecretValue content, read_secret_file(path, "env file"));
    LOCKBOX_ASSIGN_OR_RETURN(auto entries, resolver::parse_dotenv(content.reveal(), path));
    layers.push_back({path, std::move(entries)});
  }
  return layers;
}

}  // namespace

Result<SecretValue> read_secret_file(const std::string& path, std::string_view what,
                                     std::size_t max_bytes) {
  // O_NONBLOCK: a FIFO is refused at once instead of waiting for a writer (SPEC §18).
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) return bad_input(fmt::format("cannot read {} {}", what, path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return bad_input(fmt::format("{} {} is not a regular file", what, path));
  }
  SecretValue content;
  char buf[16384];
  ssize_t n = 0;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) content.append({buf, static_cast<std::size_t>(n)});
    if (content.size() > max_bytes) break;
  }
  wipe(buf, sizeof buf);
  if (n < 0) return bad_input(fmt::format("cannot read {} {}", what, path));
  if (content.size() > max_bytes) return bad_input(fmt::format("{} {} is too large", what, path));
  return content;
}

Result<LaunchPlan> plan_context(const RunRequest& request, const policies::Policy& policy) {
  LaunchPlan plan;
  LOCKBOX_ASSIGN_OR_RETURN(plan.function, find_entry(request, policy));
  const policies::FunctionPolicy* fn = plan.function;
  if (request.function_form || request.job) {
    if (fn->ns && request.ns && *request.ns != *fn->ns) {
      return bad_input(fmt::format("--namespace {} contradicts the policy: {} runs in namespace {}",
                                   *request.ns, fn->name, *fn->ns));
    }
    plan.argv = fn->command;
    plan.workdir = fn->workdir;
    plan.argv.insert(plan.argv.end(), request.extra_args.begin(), request.extra_args.end());
  } else {
    plan.argv = request.command;
  }
  if (plan.argv.empty()) return bad_input("no command to run: use run FUNCTION or run -- COMMAND");
  plan.context.ns = request.ns.value_or(fn != nullptr && fn->ns ? *fn->ns : "default");
  if (request.function_name) plan.context.function = *request.function_name;
  plan.context.group = request.group;
  plan.context.apikey = request.apikey;
  for (const auto* id :
       {&plan.context.ns, plan.context.function ? &*plan.context.function : nullptr,
        plan.context.group ? &*plan.context.group : nullptr,
        plan.context.apikey ? &*plan.context.apikey : nullptr}) {
    if (id != nullptr) LOCKBOX_TRY(validate_name(*id, "context identifier"));
  }
  plan.timeout_ms =
      request.timeout_ms ? request.timeout_ms : (fn != nullptr ? fn->timeout_ms : std::nullopt);
  plan.audit_target = plan.context.function
                          ? Scope::function(plan.context.ns, *plan.context.function).address()
                          : Scope::ns(plan.context.ns).address();
  return plan;
}

std::vector<store::SecretMeta> winners_in(const std::vector<store::SecretMeta>& winners,
                                          const std::vector<Scope>& scopes) {
  std::vector<store::SecretMeta> out;
  for (const auto& meta : winners) {
    if (std::find(scopes.begin(), scopes.end(), meta.scope) != scopes.end()) out.push_back(meta);
  }
  return out;
}

Status resolve_plan(LaunchPlan& plan, const RunRequest& request, const policies::Policy& policy,
                    store::Store& store, const std::vector<std::string_view>& host, UnixMillis now,
                    bool decrypt) {
  const StoredLayer stored{
      [&store](const std::vector<Scope>& scopes) { return store.heads_in_scopes(scopes); },
      [&store](const store::SecretAddress& address, std::int64_t version) {
        return store.decrypt(address, version);
      }};
  return resolve_plan(plan, request, policy, stored, host, now, decrypt);
}

Status resolve_plan(LaunchPlan& plan, const RunRequest& request, const policies::Policy& policy,
                    const StoredLayer& stored, const std::vector<std::string_view>& host,
                    UnixMillis now, bool decrypt) {
  resolver::ResolveInput input;
  input.policy = &policy;
  input.context = plan.context;
  input.function = plan.function;
  LOCKBOX_ASSIGN_OR_RETURN(input.heads, stored.heads(resolver::scope_chain(policy, plan.context)));
  LOCKBOX_ASSIGN_OR_RETURN(input.env_files, read_env_files(request.env_files));
  input.host_environ = host;
  input.now = now;
  LOCKBOX_ASSIGN_OR_RETURN(plan.resolution, resolver::resolve(input));
  timing::mark("resolve");
  for (auto& v : plan.resolution.variables) {
    if (!decrypt || v.origin.kind != resolver::Origin::Kind::kStore) continue;
    LOCKBOX_ASSIGN_OR_RETURN(v.value, stored.value({v.origin.scope, v.name}, v.origin.version));
  }
  timing::mark("decrypt");
  for (const auto& w : plan.resolution.warnings) log::warn("{}", w);
  return Status::ok();
}

std::string plan_fingerprint(const LaunchPlan& plan) {
  std::string out;
  for (const auto& v : plan.resolution.variables) {
    if (v.origin.kind != resolver::Origin::Kind::kStore) continue;
    out += fmt::format("{}|{}|{}|{};", v.env, v.origin.text(), v.origin.version,
                       v.expires_at ? *v.expires_at : -1);
  }
  return out;
}

std::string injected_summary(const LaunchPlan& plan) {
  std::string out;
  for (const auto& v : plan.resolution.variables) {
    if (!out.empty()) out += ',';
    out += v.name + "@" + v.origin.text();
    if (v.origin.kind == resolver::Origin::Kind::kStore)
      out += fmt::format("#v{}", v.origin.version);
  }
  return out;
}

}  // namespace lockbox::launcher
