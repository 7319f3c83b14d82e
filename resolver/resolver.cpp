// The resolver (SPEC §2–§3). Each layer is first built on its own, keyed by final variable name,
// so a collision inside a layer is caught where it happens and never becomes an overwrite; the
// layers are then laid over each other in precedence order, and the refused-name check runs last,
// on exactly what would be injected (a dropped or skipped variable cannot be refused).

#include "resolver/resolver.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/time_format.hpp"

namespace lockbox::resolver {
namespace {

using policies::EnvOverride;

// One layer's variables by final variable name.
using Layer = std::map<std::string, ResolvedVariable, std::less<>>;

// The naming rules of one launch.
struct Naming {
  std::string_view prefix;
  policies::NameTransform transform;
  const policies::FunctionPolicy* function;  // its `secrets` allow-list applies when set
};

template <typename Range>
std::string join(const Range& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

// `transformed` is the name after name_transform and without the prefix (SPEC §2).
bool allowed(const Naming& naming, std::string_view transformed) {
  if (naming.function == nullptr || !naming.function->secrets) return true;
  return std::any_of(naming.function->secrets->begin(), naming.function->secrets->end(),
                     [&](const std::string& pattern) { return glob_match(pattern, transformed); });
}

// Adds `var` to `layer`. The same name again replaces the earlier entry (dotenv keeps the last
// duplicate of a key); a different name that maps to the same variable is a collision, because
// either choice would silently drop a value someone set on purpose.
Status add_to_layer(Layer& layer, ResolvedVariable var, std::string_view shown_prefix,
                    std::string_view where) {
  if (auto it = layer.find(var.env); it != layer.end() && it->second.name != var.name) {
    return bad_input(fmt::format("{}{} and {}{} {} both map to {}; rename one", shown_prefix,
                                 it->second.name, shown_prefix, var.name, where, var.env));
  }
  std::string env = var.env;
  layer.insert_or_assign(std::move(env), std::move(var));
  return Status::ok();
}

// ---- layer 1: the store -------------------------------------------------------------------

struct StoreLayer {
  Layer injected;              // winners that are not expired
  std::set<std::string> live;  // their secret names, for `require`
};

// Per name, the head whose scope comes first in `chain`. Heads outside the chain (and
// tombstones, which the caller should already have left out) are ignored rather than trusted.
std::map<std::string, const store::SecretMeta*> pick_store_winners(
    const std::vector<store::SecretMeta>& heads, const std::vector<Scope>& chain) {
  std::map<std::string, std::pair<std::size_t, const store::SecretMeta*>> best;
  for (const auto& head : heads) {
    if (head.tombstone) continue;
    const auto pos = std::find(chain.begin(), chain.end(), head.scope);
    if (pos == chain.end()) continue;
    const auto rank = static_cast<std::size_t>(pos - chain.begin());
    auto [it, inserted] = best.try_emplace(head.name, rank, &head);
    const auto& [best_rank, best_head] = it->second;
    if (!inserted &&
        (rank < best_rank || (rank == best_rank && head.version > best_head->version))) {
      it->second = {rank, &head};
    }
  }
  std::map<std::string, const store::SecretMeta*> winners;
  for (const auto& [name, ranked] : best) winners.emplace(name, ranked.second);
  return winners;
}

ResolvedVariable store_variable(const store::SecretMeta& meta, std::string env) {
  ResolvedVariable var;
  var.name = meta.name;
  var.env = std::move(env);
  var.origin.kind = Origin::Kind::kStore;
  var.origin.scope = meta.scope;
  var.origin.version = meta.version;
  var.expires_at = meta.expires_at;
  return var;  // value stays empty: only winners are decrypted, by the caller
}

std::string expiry_text(const ResolvedVariable& var) {
  return fmt::format("{} from {}@v{} expired at {}", var.name, var.origin.scope.address(),
                     var.origin.version, format_rfc3339(*var.expires_at));
}

// Store winners the allow-list lets through. Collisions are checked before expiry so that the
// same store contents fail the same way whatever the clock says.
Result<StoreLayer> build_store_layer(const ResolveInput& input, const Naming& naming,
                                     std::vector<std::string>& warnings) {
  const auto chain = scope_chain(*input.policy, input.context);
  Layer all;
  for (const auto& [name, meta] : pick_store_winners(input.heads, chain)) {
    std::string transformed = transform_name(name, naming.transform);
    if (!allowed(naming, transformed)) continue;
    std::string env = std::string(naming.prefix) + transformed;
    LOCKBOX_TRY(add_to_layer(all, store_variable(*meta, std::move(env)), "", "in the store"));
  }
  StoreLayer out;
  std::vector<std::string> expired;
  for (auto& [env, var] : all) {
    // An expired winner still owns its name: no fall-through to a broader scope (SPEC §2).
    if (var.expires_at && *var.expires_at <= input.now) {
      expired.push_back(expiry_text(var));
      continue;
    }
    out.live.insert(var.name);
    out.injected.emplace(env, std::move(var));
  }
  if (expired.empty()) return out;
  if (input.policy->inject.on_expired == policies::OnExpired::kFail) {
    return bad_input(join(expired, "; ") + " (on_expired: fail)");
  }
  for (const auto& line : expired) warnings.push_back(line + "; not injected");
  return out;
}

// `require` asks for values that come from the store itself: an env file or the host cannot
// stand in for a production secret that is missing or expired.
Status check_required(const ResolveInput& input, const StoreLayer& store) {
  if (input.function == nullptr) return Status::ok();
  std::vector<std::string> missing;
  for (const auto& name : input.function->require) {
    if (store.live.contains(name)) continue;
    if (std::find(missing.begin(), missing.end(), name) == missing.end()) missing.push_back(name);
  }
  if (missing.empty()) return Status::ok();
  return bad_input("required secrets missing from the store: " + join(missing, ", "));
}

// ---- layer 2: env files -------------------------------------------------------------------

Result<std::vector<Layer>> build_env_file_layers(const ResolveInput& input, const Naming& naming) {
  std::vector<Layer> layers;
  for (const auto& file : input.env_files) {
    Layer layer;
    const std::string where = "in env file " + file.path;
    for (const auto& entry : file.entries) {
      // parse_dotenv guarantees valid keys; a caller that built entries by hand may not.
      if (!is_valid_name(entry.key)) {
        return bad_input(fmt::format("{}:{}: invalid secret name", file.path, entry.line));
      }
      std::string transformed = transform_name(entry.key, naming.transform);
      if (!allowed(naming, transformed)) continue;
      ResolvedVariable var;
      var.name = entry.key;
      var.env = std::string(naming.prefix) + transformed;
      var.origin.kind = Origin::Kind::kEnvFile;
      var.origin.env_file = file.path;
      var.value = entry.value.clone();
      LOCKBOX_TRY(add_to_layer(layer, std::move(var), "", where));
    }
    layers.push_back(std::move(layer));
  }
  return layers;
}

// ---- layer 3: the host environment --------------------------------------------------------

struct HostLayer {
  Layer layer;
  std::set<std::string> consumed;
};

// Host variable names are echoed in warnings only when they look like names: a value pasted into
// the environment by mistake must not reach stderr.
std::string shown_host_name(std::string_view host_name) {
  const bool plain =
      host_name.size() <= 300 && std::all_of(host_name.begin(), host_name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '.';
      });
  return plain ? std::string(host_name) : std::string("(a host variable with an unusual name)");
}

// The secret name a host variable stands for, or nullopt when it is no override. With a prefix,
// every `<prefix>NAME` variable is one (and is consumed); without one, only a variable whose
// name a lower layer defines is, since anything else is just the inherited environment.
std::optional<std::string> host_secret_name(std::string_view host_name, const Naming& naming,
                                            const Layer& lower, HostLayer& out,
                                            std::vector<std::string>& warnings) {
  if (naming.prefix.empty()) {
    if (!lower.contains(host_name)) return std::nullopt;
    out.consumed.emplace(host_name);
    return std::string(host_name);
  }
  if (!host_name.starts_with(naming.prefix)) return std::nullopt;
  out.consumed.emplace(host_name);
  const std::string_view name = host_name.substr(naming.prefix.size());
  if (is_valid_name(name)) return std::string(name);
  warnings.push_back(fmt::format("host variable {} is not {}<secret name>; not injected",
                                 shown_host_name(host_name), naming.prefix));
  return std::nullopt;
}

Result<HostLayer> build_host_layer(const ResolveInput& input, const Naming& naming,
                                   const Layer& lower, std::vector<std::string>& warnings) {
  HostLayer out;
  std::set<std::string, std::less<>> seen;
  for (std::string_view entry : input.host_environ) {
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    const std::string_view host_name = entry.substr(0, eq);
    // getenv() and the child's libc read the first of duplicate entries; so do we.
    if (!seen.emplace(host_name).second) continue;
    auto name = host_secret_name(host_name, naming, lower, out, warnings);
    if (!name) continue;
    std::string transformed = transform_name(*name, naming.transform);
    if (!allowed(naming, transformed)) continue;
    ResolvedVariable var;
    var.name = std::move(*name);
    var.env = std::string(naming.prefix) + transformed;
    var.origin.kind = Origin::Kind::kHost;
    var.value = SecretValue(entry.substr(eq + 1));
    LOCKBOX_TRY(add_to_layer(out.layer, std::move(var), naming.prefix, "in the host environment"));
  }
  return out;
}

// ---- merging ------------------------------------------------------------------------------

// Lays `layer` over `merged` (matching on the final name), or under env_override deny records
// its names as dropped instead.
void lay_over(Layer& merged, Layer& layer, bool deny, std::set<std::string>& dropped) {
  for (auto& [env, var] : layer) {
    if (deny) {
      dropped.insert(env);
    } else {
      merged.insert_or_assign(env, std::move(var));
    }
  }
}

Status check_refused(const Layer& merged) {
  std::vector<std::string> refused;
  for (const auto& [env, var] : merged) {
    if (is_refused_env_name(env)) {
      refused.push_back(fmt::format("{} (from {})", env, var.origin.text()));
    }
  }
  if (refused.empty()) return Status::ok();
  return bad_input(fmt::format("refused variable name{}: {}", refused.size() == 1 ? "" : "s",
                               join(refused, ", ")));
}

void add_override_warning(EnvOverride mode, const std::string& ns,
                          const std::set<std::string>& dropped, const Resolution& out,
                          std::vector<std::string>& warnings) {
  if (mode == EnvOverride::kDeny && !dropped.empty()) {
    warnings.push_back(
        fmt::format("namespace {} has env_override: deny; dropped env-file and host overrides: {}",
                    ns, join(dropped, ", ")));
  } else if (mode == EnvOverride::kWarn && !out.overrides.empty()) {
    warnings.push_back(
        fmt::format("namespace {} has env_override: warn; env-file and host overrides applied: {}",
                    ns, join(out.overrides, ", ")));
  }
}

}  // namespace

std::string Origin::text() const {
  switch (kind) {
    case Kind::kStore: return scope.address();
    case Kind::kEnvFile: return "env-file:" + env_file;
    case Kind::kHost: return "host";
  }
  return {};
}

std::vector<Scope> scope_chain(const policies::Policy& policy, const LaunchContext& context) {
  std::vector<Scope> chain;
  for (ScopeKind kind : policy.resolution_for(context.ns)) {
    std::optional<Scope> scope;
    switch (kind) {
      case ScopeKind::kApikey:
        if (context.apikey) scope = Scope::apikey(*context.apikey);
        break;
      case ScopeKind::kGroup:
        if (context.group) scope = Scope::group(*context.group);
        break;
      case ScopeKind::kFunction:
        if (context.function) scope = Scope::function(context.ns, *context.function);
        break;
      case ScopeKind::kNamespace: scope = Scope::ns(context.ns); break;
      case ScopeKind::kGlobal: scope = Scope::global(); break;
    }
    // A repeated kind (the loader rejects it) must not change which scope ranks first.
    if (scope && std::find(chain.begin(), chain.end(), *scope) == chain.end()) {
      chain.push_back(std::move(*scope));
    }
  }
  return chain;
}

Result<Resolution> resolve(const ResolveInput& input) {
  if (input.policy == nullptr) return bad_input("resolve: no policy given");
  const policies::Policy& policy = *input.policy;
  const Naming naming{policy.inject.prefix, policy.inject.name_transform, input.function};
  Resolution out;
  std::vector<std::string> warnings;

  LOCKBOX_ASSIGN_OR_RETURN(StoreLayer store, build_store_layer(input, naming, warnings));
  LOCKBOX_TRY(check_required(input, store));
  LOCKBOX_ASSIGN_OR_RETURN(std::vector<Layer> files, build_env_file_layers(input, naming));

  const EnvOverride mode = policy.env_override_for(input.context.ns);
  const bool deny = mode == EnvOverride::kDeny;
  std::set<std::string> dropped;
  Layer merged = std::move(store.injected);
  for (Layer& file : files) lay_over(merged, file, deny, dropped);
  // Under deny the host can only shadow what the store defines (relevant to an empty prefix).
  LOCKBOX_ASSIGN_OR_RETURN(HostLayer host, build_host_layer(input, naming, merged, warnings));
  lay_over(merged, host.layer, deny, dropped);

  for (const auto& [env, var] : merged) {
    if (var.origin.kind != Origin::Kind::kStore) out.overrides.push_back(env);
  }
  add_override_warning(mode, input.context.ns, dropped, out, warnings);
  LOCKBOX_TRY(check_refused(merged));

  for (auto& [env, var] : merged) out.variables.push_back(std::move(var));
  out.consumed_host.assign(host.consumed.begin(), host.consumed.end());
  out.warnings = std::move(warnings);
  return out;
}

}  // namespace lockbox::resolver
