// The API routes behind the console's Audit, Keys and Tokens pages (SPEC §14): the audit trail
// with its chain status, the data keys (status for every token, rotate for admins), and tokens
// (admins: list, create shown once, revoke). Audit and tokens are admin only: they span every
// scope. Nothing here returns a secret value; a new token is returned once, with no-store.
#include <fmt/format.h>

#include <cstdlib>
#include <deque>

#include "api/request.hpp"
#include "api/routes.hpp"
#include "core/time_format.hpp"

namespace lockbox::api {
namespace {

constexpr std::int64_t kDefaultAuditLimit = 200;
constexpr std::int64_t kMaxAuditLimit = 5000;

HttpResponse admin_only(const Call& call, std::string_view what) {
  (void)call;
  return error_response(403, "forbidden", fmt::format("only the admin role may {}", what));
}

HttpResponse no_store(HttpResponse r) {
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

void token_json(JsonWriter& json, const store::TokenInfo& t, UnixMillis now) {
  json.begin_object();
  json.key("name");
  json.string(t.name);
  json.key("role");
  json.string(t.role);
  json.key("created_at");
  json.string(format_rfc3339(t.created_at));
  json.key("created_by");
  json.string(t.created_by);
  json.key("expires_at");
  if (t.expires_at) json.string(format_rfc3339(*t.expires_at)); else json.null();
  json.key("revoked_at");
  if (t.revoked_at) json.string(format_rfc3339(*t.revoked_at)); else json.null();
  json.key("state");
  json.string(!t.authentic ? "damaged" : t.revoked_at ? "revoked"
              : (t.expires_at && *t.expires_at <= now) ? "expired" : "live");
  json.end_object();
}

Result<store::AuditFilter> audit_filter(const Call& call) {
  store::AuditFilter filter;
  const auto& q = call.target.query;
  if (auto it = q.find("action"); it != q.end() && !it->second.empty()) filter.action = it->second;
  if (auto it = q.find("target"); it != q.end() && !it->second.empty()) filter.target = it->second;
  if (auto it = q.find("since"); it != q.end() && !it->second.empty()) {
    LOCKBOX_ASSIGN_OR_RETURN(UnixMillis since, parse_time_or_duration(it->second, call.clock.now(), Direction::kPast));
    filter.since = since;
  }
  return filter;
}

}  // namespace

HttpResponse audit_route(Call& call) {
  if (!call.who.admin()) return admin_only(call, "read the audit trail");
  auto filter = audit_filter(call);
  if (!filter.is_ok()) return from_status(filter.status());
  std::int64_t limit = kDefaultAuditLimit;
  if (auto it = call.target.query.find("limit"); it != call.target.query.end()) {
    limit = std::atoll(it->second.c_str());
    if (limit < 1 || limit > kMaxAuditLimit) return error_response(400, "bad_request", "limit must be from 1 to 5000");
  }
  std::deque<store::AuditRecord> newest;  // the last `limit` matching records
  Status st = call.store.for_each_audit(*filter, [&](const store::AuditRecord& r) {
    newest.push_back(r);
    if (static_cast<std::int64_t>(newest.size()) > limit) newest.pop_front();
    return Status::ok();
  });
  if (!st.is_ok()) return from_status(st);
  auto verified = call.store.verify_audit(std::nullopt);
  if (!verified.is_ok()) return from_status(verified.status());
  JsonWriter json;
  json.begin_object();
  json.key("records");
  json.begin_array();
  for (auto it = newest.rbegin(); it != newest.rend(); ++it) {  // newest first
    json.begin_object();
    json.key("seq"); json.integer(it->seq);
    json.key("time"); json.string(format_rfc3339(it->ts));
    json.key("actor"); json.string(it->actor);
    json.key("action"); json.string(it->action);
    json.key("target"); json.string(it->target);
    json.key("outcome"); json.string(it->outcome);
    json.key("detail"); json.string(it->detail);
    json.end_object();
  }
  json.end_array();
  json.key("chain");
  json.begin_object();
  json.key("ok"); json.boolean(!verified->first_bad_seq.has_value());
  json.key("records"); json.integer(verified->records);
  json.key("last_seq"); json.integer(verified->last_seq);
  json.key("first_bad_seq");
  if (verified->first_bad_seq) json.integer(*verified->first_bad_seq); else json.null();
  json.key("problem"); json.string(verified->problem);
  json.end_object();
  json.end_object();
  return no_store(json_response(200, json));
}

HttpResponse keys_route(Call& call) {
  auto keys = call.store.key_status();
  if (!keys.is_ok()) return from_status(keys.status());
  JsonWriter json;
  json.begin_object();
  json.key("active_version"); json.integer(keys->active_version);
  json.key("active_created_at"); json.string(format_rfc3339(keys->active_created_at));
  json.key("master_key_generation"); json.integer(keys->master_key_generation);
  json.key("quarantined"); json.integer(static_cast<std::int64_t>(keys->quarantined.size()));
  json.key("can_rotate"); json.boolean(call.who.admin());
  json.key("keys");
  json.begin_array();
  for (const auto& k : keys->keys) {
    json.begin_object();
    json.key("version"); json.integer(k.version);
    json.key("state"); json.string(k.state);
    json.key("created_at"); json.string(format_rfc3339(k.created_at));
    json.key("encryptions"); json.integer(k.encryptions);
    json.key("max_encryptions"); json.integer(k.max_encryptions);
    json.key("versions_encrypted"); json.integer(k.versions_encrypted);
    json.end_object();
  }
  json.end_array();
  json.end_object();
  return no_store(json_response(200, json));
}

HttpResponse rotate_key_route(Call& call) {
  if (!call.who.admin()) return admin_only(call, "rotate the data key");
  auto rotated = call.store.rotate_data_key(std::nullopt, "console");
  if (!rotated.is_ok()) return from_status(rotated.status());
  return keys_route(call);
}

HttpResponse tokens_route(Call& call) {
  if (!call.who.admin()) return admin_only(call, "manage tokens");
  if (call.request.method == "GET") {
    auto tokens = call.store.list_tokens();
    if (!tokens.is_ok()) return from_status(tokens.status());
    JsonWriter json;
    json.begin_object();
    json.key("tokens");
    json.begin_array();
    for (const auto& t : *tokens) token_json(json, t, call.clock.now());
    json.end_array();
    json.end_object();
    return no_store(json_response(200, json));
  }
  auto body = JsonBody::parse(call.request.body.reveal());
  if (!body.is_ok()) return from_status(body.status());
  if (Status st = (*body)->check_fields({"name", "role", "ttl"}); !st.is_ok()) return from_status(st);
  auto name = (*body)->string("name");
  auto role = (*body)->string("role");
  auto ttl = (*body)->string("ttl");
  if (!name.is_ok() || !role.is_ok() || !ttl.is_ok() || !*name || !*role) {
    return error_response(400, "bad_request", "name and role are required strings");
  }
  if (**role != "admin" && call.policy.roles.count(**role) == 0) {
    return error_response(400, "bad_request", "no such role in the server's policy file");
  }
  std::optional<UnixMillis> expires;
  if (*ttl && !(*ttl)->empty()) {
    auto ms = parse_duration(**ttl);
    if (!ms.is_ok() || *ms <= 0) return error_response(400, "bad_request", "ttl must be a duration such as 30d");
    expires = call.clock.now() + *ms;
  }
  auto made = call.store.create_token(**name, **role, expires);
  if (!made.is_ok()) return from_status(made.status());
  JsonWriter json;
  json.begin_object();
  json.key("token");
  json.string(made->token.reveal());
  json.key("info");
  token_json(json, made->info, call.clock.now());
  json.end_object();
  return no_store(json_response(201, json));
}

HttpResponse revoke_token_route(Call& call) {
  if (!call.who.admin()) return admin_only(call, "manage tokens");
  auto revoked = call.store.revoke_token(call.name);
  if (!revoked.is_ok()) return from_status(revoked.status());
  JsonWriter json;
  token_json(json, *revoked, call.clock.now());
  return no_store(json_response(200, json));
}

}  // namespace lockbox::api
