#include "agent/state.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>

#include "core/log.hpp"
#include "resolver/resolver.hpp"

namespace lockbox::agent {
namespace {

// More contexts than this and the cache starts over (a bound on memory, not a policy).
constexpr std::size_t kMaxCachedContexts = 4096;

// Identity of the policy file's current contents: inode, size, change and modification times.
std::string stamp_of(const std::optional<std::filesystem::path>& file) {
  if (!file) return {};
  struct stat st {};
  if (::stat(file->c_str(), &st) != 0) return "missing";
  return fmt::format("{}:{}:{}:{}.{}:{}.{}", st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec, st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

SecretValue ok_frame() {
  return MessageWriter(Kind::kOk).finish();
}

// Per name, the live head whose scope comes first in `chain` (the newest version on a tie), as
// the resolver picks store winners: the client's resolver then sees exactly its winners.
std::vector<store::SecretMeta> winners(std::vector<store::SecretMeta> heads,
                                       const std::vector<Scope>& chain) {
  std::map<std::string, std::pair<std::size_t, std::size_t>> best;  // name -> (rank, index)
  for (std::size_t i = 0; i < heads.size(); ++i) {
    const auto& head = heads[i];
    if (head.tombstone) continue;
    const auto pos = std::find(chain.begin(), chain.end(), head.scope);
    if (pos == chain.end()) continue;
    const auto rank = static_cast<std::size_t>(pos - chain.begin());
    auto [it, inserted] = best.try_emplace(head.name, rank, i);
    if (!inserted &&
        (rank < it->second.first ||
         (rank == it->second.first && head.version > heads[it->second.second].version))) {
      it->second = {rank, i};
    }
  }
  std::vector<store::SecretMeta> out;
  for (const auto& [name, ranked] : best) out.push_back(std::move(heads[ranked.second]));
  return out;
}

std::string cache_key(const std::vector<Scope>& chain) {
  std::string key;
  for (const auto& scope : chain) key += scope.address() + '\n';
  return key;
}

}  // namespace

SecretValue error_frame(const Status& status) {
  MessageWriter w(Kind::kError);
  w.field(std::to_string(static_cast<int>(status.code()))).field(status.message());
  return w.finish();
}

AgentState::AgentState(const AgentOptions& options, std::unique_ptr<store::Store> store,
                       policies::Policy policy)
    : options_(options),
      store_(std::move(store)),
      policy_(std::move(policy)),
      policy_stamp_(stamp_of(options.policy_file)) {}

void AgentState::reload_policy_if_changed() {
  std::string stamp = stamp_of(options_.policy_file);
  if (stamp == policy_stamp_) return;
  policy_stamp_ = std::move(stamp);
  auto fresh = options_.load_policy();
  if (!fresh.is_ok()) {
    // A half-written or broken edit: keep serving the last good policy (the client parses the
    // file too, so a launch reports the error itself).
    log::warn("agent: keeping the previous policy: {}", fresh.status().message());
    return;
  }
  policy_ = std::move(fresh).value();
  cache_.clear();
  log::notice("agent: policy reloaded from {}", options_.policy_file->string());
}

// Before every answer: the policy file and the store's change counter. A counter that moved (or
// cannot be read) drops every cached answer.
Status AgentState::refresh() {
  reload_policy_if_changed();
  auto counter = store_->change_counter();
  if (!counter.is_ok()) {
    cache_.clear();
    counter_.reset();
    return counter.status();
  }
  if (!counter_ || *counter_ != *counter) {
    cache_.clear();
    values_.clear();
  }
  counter_ = *counter;
  return Status::ok();
}

Result<const AgentState::Entry*> AgentState::lookup(const std::vector<Scope>& chain, bool decrypt) {
  const std::string key = cache_key(chain);
  auto it = cache_.find(key);
  if (it != cache_.end() && (it->second.decrypted || !decrypt)) return &it->second;
  if (cache_.size() >= kMaxCachedContexts) cache_.clear();
  LOCKBOX_ASSIGN_OR_RETURN(auto heads, store_->heads_in_scopes(chain));
  Entry entry;
  for (auto& meta : winners(std::move(heads), chain))
    entry.heads.push_back({std::move(meta), std::nullopt});
  if (decrypt) {
    for (auto& head : entry.heads) {
      LOCKBOX_ASSIGN_OR_RETURN(
          SecretValue value, store_->decrypt({head.meta.scope, head.meta.name}, head.meta.version));
      head.value = std::move(value);
    }
    entry.decrypted = true;
  }
  auto [slot, inserted] = cache_.insert_or_assign(key, std::move(entry));
  return &slot->second;
}

std::optional<SecretValue> AgentState::resolve(const Message& request) {
  if (request.fields.size() < 5 || !request.fields[0] || !request.fields[4]) return std::nullopt;
  const std::string_view decrypt_flag = *request.fields[4];
  if (decrypt_flag != "0" && decrypt_flag != "1") return std::nullopt;
  resolver::LaunchContext context;
  context.ns = std::string(*request.fields[0]);
  std::optional<std::string>* ids[] = {&context.function, &context.group, &context.apikey};
  for (std::size_t i = 0; i < 3; ++i) {
    if (request.fields[i + 1]) *ids[i] = std::string(*request.fields[i + 1]);
  }
  for (const auto* id :
       {&context.ns, context.function ? &*context.function : nullptr,
        context.group ? &*context.group : nullptr, context.apikey ? &*context.apikey : nullptr}) {
    if (id == nullptr) continue;
    if (Status st = validate_name(*id, "context identifier"); !st.is_ok()) return error_frame(st);
  }
  // The launch's scope chain, computed by the client from its policy (so the launch is the direct
  // one); without one, this agent's policy gives it.
  std::vector<Scope> chain;
  for (std::size_t i = 5; i < request.fields.size(); ++i) {
    if (!request.fields[i]) return std::nullopt;
    auto scope = Scope::parse(*request.fields[i]);
    if (!scope.is_ok()) return std::nullopt;
    chain.push_back(std::move(scope).value());
  }
  if (Status st = refresh(); !st.is_ok()) return error_frame(st);
  if (chain.empty()) chain = resolver::scope_chain(policy_, context);
  auto entry = lookup(chain, decrypt_flag == "1");
  if (!entry.is_ok()) return error_frame(entry.status());
  MessageWriter w(Kind::kHeads);
  w.field(std::to_string(*counter_));
  for (const auto& head : (*entry)->heads) {
    const auto& m = head.meta;
    const std::string expires = m.expires_at ? std::to_string(*m.expires_at) : std::string();
    w.field(m.scope.address()).field(m.name).field(std::to_string(m.version));
    w.optional_field(m.expires_at ? std::optional<std::string_view>(expires) : std::nullopt);
    w.field(m.tombstone ? "1" : "0");
    w.optional_field(decrypt_flag == "1" && head.value
                         ? std::optional<std::string_view>(head.value->reveal())
                         : std::nullopt);
  }
  return w.finish();
}

// Launch records only: the actions a launch writes (a peer of this uid could run lockbox
// itself, so this grants nothing; it keeps the agent from being a general audit writer).
std::optional<SecretValue> AgentState::audit(const Message& request) {
  if (request.fields.size() != 4) return std::nullopt;
  for (const auto& f : request.fields) {
    if (!f) return std::nullopt;
  }
  store::AuditEvent event{text(request.fields[0]), text(request.fields[1]), text(request.fields[2]),
                          text(request.fields[3])};
  if (event.action != "launch" && event.action != "job" && event.action != "resolve") {
    return error_frame(
        bad_input("agent: only launch, job and resolve records are written through the agent"));
  }
  if (Status st = store_->append_audit(event, false); !st.is_ok()) return error_frame(st);
  return ok_frame();
}

// The values of exactly the versions the client's plan injects, after its own filters (the
// function's secrets: globs, expiry, env-file and host overrides): a name the launch does not
// inject is never decrypted or sent. Kept until the counter moves.
std::optional<SecretValue> AgentState::values(const Message& request) {
  constexpr std::size_t kMaxValues = 100'000;
  if (request.fields.size() % 3 != 0 || request.fields.size() / 3 > kMaxValues) return std::nullopt;
  for (const auto& f : request.fields) {
    if (!f) return std::nullopt;
  }
  if (Status st = refresh(); !st.is_ok()) return error_frame(st);
  if (values_.size() + request.fields.size() / 3 > kMaxValues) values_.clear();
  MessageWriter w(Kind::kOk);
  for (std::size_t i = 0; i < request.fields.size(); i += 3) {
    auto scope = Scope::parse(*request.fields[i]);
    const auto version = parse_int(*request.fields[i + 2]);
    if (!scope.is_ok() || !version || *version <= 0) return std::nullopt;
    const store::SecretAddress address{std::move(scope).value(),
                                       std::string(*request.fields[i + 1])};
    if (Status st = validate_name(address.name, "secret name"); !st.is_ok()) return error_frame(st);
    const std::string key = address.reference() + "#" + std::to_string(*version);
    auto it = values_.find(key);
    if (it == values_.end()) {
      auto value = store_->decrypt(address, *version);
      if (!value.is_ok()) return error_frame(value.status());
      it = values_.emplace(key, std::move(value).value()).first;
    }
    w.field(it->second.reveal());
  }
  log::debug("agent: sent {} values", request.fields.size() / 3);
  return w.finish();
}

std::optional<SecretValue> AgentState::answer(const Message& request) {
  switch (request.kind) {
    case Kind::kHello:
      return request.fields.empty() ? std::optional<SecretValue>(ok_frame()) : std::nullopt;
    case Kind::kResolve: return resolve(request);
    case Kind::kAudit: return audit(request);
    case Kind::kValues: return values(request);
    case Kind::kCounter: {
      if (!request.fields.empty()) return std::nullopt;
      if (Status st = refresh(); !st.is_ok()) return error_frame(st);
      MessageWriter w(Kind::kOk);
      w.field(std::to_string(*counter_));
      return w.finish();
    }
    default: return std::nullopt;  // an answer kind sent as a request
  }
}

}  // namespace lockbox::agent
