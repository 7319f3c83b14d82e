// The admin secret routes of SPEC §8: list, create/update, get, reveal, update, delete (and purge,
// admin only), history, rollback. Each checks the permission on the scope first (403 whether or
// not the secret exists), then asks the store, whose writes audit themselves in their own
// transaction; a reveal's record goes through the group-commit batcher before the value is sent.
#include <fmt/format.h>

#include "api/routes.hpp"
#include "core/log.hpp"
#include "core/time_format.hpp"
#include "store/bytes.hpp"
#include "store/meta_json.hpp"

namespace lockbox::api {
namespace {

constexpr std::int64_t kDefaultLimit = 100;
constexpr std::int64_t kMaxLimit = 1000;

HttpResponse meta_response(int status, const store::SecretMeta& meta,
                           std::optional<UnixMillis> now = {}) {
  JsonWriter json;
  store::write_meta_json(json, meta, nullptr, now);
  return json_response(status, json);
}

Result<std::unique_ptr<JsonBody>> body_of(const Call& call) {
  return JsonBody::parse(call.request.body.reveal());
}

// expires_at of a write: an RFC 3339 time or a duration from now; it must be in the future.
Result<std::optional<UnixMillis>> expiry_field(const JsonBody& body, UnixMillis now) {
  LOCKBOX_ASSIGN_OR_RETURN(auto text, body.string("expires_at"));
  if (!text) return std::optional<UnixMillis>();
  auto at = parse_time_or_duration(*text, now, Direction::kFuture);
  if (!at.is_ok())
    return bad_input("expires_at: expected an RFC 3339 time or a duration (e.g. 30d)");
  if (*at <= now) return bad_input("expires_at: the time is in the past");
  return std::optional<UnixMillis>(*at);
}

// rotate_every / notify_before of a write (SPEC §13): a duration string as the CLI takes it
// ("90d"); an explicit null clears the reminder (0 to the store), absent keeps it.
Result<std::optional<std::int64_t>> reminder_field(const JsonBody& body, std::string_view key) {
  if (body.is_null(key)) return std::optional<std::int64_t>(0);
  LOCKBOX_ASSIGN_OR_RETURN(const auto text, body.string(key));
  if (!text) return std::optional<std::int64_t>();
  auto ms = parse_duration(*text);
  if (!ms.is_ok()) return bad_input(fmt::format("{}: expected a duration (e.g. 90d)", key));
  return std::optional<std::int64_t>(*ms);
}

// description, tags, metadata, expected_version and the rotation reminder of a write body.
Status read_write_fields(const JsonBody& body, store::SetRequest& request) {
  LOCKBOX_ASSIGN_OR_RETURN(request.description, body.string("description"));
  LOCKBOX_ASSIGN_OR_RETURN(request.tags, body.string_list("tags"));
  LOCKBOX_ASSIGN_OR_RETURN(request.metadata, body.string_map("metadata"));
  LOCKBOX_ASSIGN_OR_RETURN(request.expected_version, body.integer("expected_version"));
  if (request.expected_version && *request.expected_version < 0) {
    return bad_input("expected_version must be 0 (must not exist) or a version number");
  }
  LOCKBOX_ASSIGN_OR_RETURN(request.rotate_every_ms, reminder_field(body, "rotate_every"));
  LOCKBOX_ASSIGN_OR_RETURN(request.notify_before_ms, reminder_field(body, "notify_before"));
  return Status::ok();
}

// The list cursor: the hex of "scope address \n name" of the last item returned.
std::string encode_cursor(const store::SecretMeta& meta) {
  return store::to_hex(store::as_bytes(meta.scope.address() + "\n" + meta.name));
}

Result<std::pair<std::string, std::string>> decode_cursor(const std::string& cursor) {
  store::Bytes raw;
  if (!store::from_hex(cursor, raw)) return bad_input("malformed cursor");
  const std::string text(raw.begin(), raw.end());
  const std::size_t nl = text.find('\n');
  if (nl == std::string::npos) return bad_input("malformed cursor");
  return std::make_pair(text.substr(0, nl), text.substr(nl + 1));
}

Result<std::int64_t> limit_param(const Call& call) {
  auto it = call.target.query.find("limit");
  if (it == call.target.query.end()) return kDefaultLimit;
  std::int64_t limit = 0;
  const auto& text = it->second;
  if (text.empty() || text.size() > 4 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return bad_input(fmt::format("limit must be an integer from 1 to {}", kMaxLimit));
  }
  limit = std::stoll(text);
  if (limit < 1 || limit > kMaxLimit)
    return bad_input(fmt::format("limit must be an integer from 1 to {}", kMaxLimit));
  return limit;
}

}  // namespace

Result<Scope> scope_param(const Call& call) {
  auto it = call.target.query.find("scope");
  if (it == call.target.query.end()) return Scope::global();
  return Scope::parse(it->second);
}

HttpResponse list_secrets(Call& call) {
  if (!holds_any(call.who, Permission::kRead)) {
    return error_response(403, "forbidden", "the token's role grants no read permission");
  }
  store::ListFilter filter;
  const auto& q = call.target.query;
  if (auto it = q.find("scope"); it != q.end()) {
    auto scope = Scope::parse(it->second);
    if (!scope.is_ok()) return from_status(scope.status());
    if (!allowed(call.who, Permission::kRead, *scope)) return forbidden(Permission::kRead, *scope);
    filter.scope = *scope;
  }
  if (auto it = q.find("namespace"); it != q.end()) {
    if (Status st = validate_name(it->second, "namespace"); !st.is_ok()) return from_status(st);
    filter.ns = it->second;
  }
  if (auto it = q.find("tag"); it != q.end()) filter.tag = it->second;
  auto limit = limit_param(call);
  if (!limit.is_ok()) return from_status(limit.status());
  std::optional<std::pair<std::string, std::string>> after;
  if (auto it = q.find("cursor"); it != q.end()) {
    auto decoded = decode_cursor(it->second);
    if (!decoded.is_ok()) return from_status(decoded.status());
    after = *decoded;
  }
  auto listed = call.store.list(filter);
  if (!listed.is_ok()) return from_status(listed.status());
  JsonWriter json;
  json.begin_object();
  json.key("secrets");
  json.begin_array();
  std::int64_t count = 0;
  bool more = false;
  const store::SecretMeta* last = nullptr;
  for (const auto& meta : *listed) {
    if (!allowed(call.who, Permission::kRead, meta.scope)) continue;
    if (after && std::make_pair(meta.scope.address(), meta.name) <= *after) continue;
    if (count == *limit) {
      more = true;
      break;
    }
    store::write_meta_json(json, meta, nullptr, call.clock.now());
    ++count;
    last = &meta;
  }
  json.end_array();
  json.key("next_cursor");
  if (more && last != nullptr) {
    json.string(encode_cursor(*last));
  } else {
    json.null();
  }
  json.end_object();
  return json_response(200, json);
}

Result<store::SetRequest> read_create_item(const Call& call, const JsonBody& b) {
  LOCKBOX_TRY(b.check_fields({"name", "value", "scope", "description", "tags", "metadata",
                              "expires_at", "expected_version", "rotate_every", "notify_before"}));
  LOCKBOX_ASSIGN_OR_RETURN(const auto name, b.string("name"));
  if (!name) return bad_input("name is required");
  LOCKBOX_TRY(validate_name(*name, "secret name"));
  LOCKBOX_ASSIGN_OR_RETURN(const auto scope_text, b.string("scope"));
  Scope scope = Scope::global();
  if (scope_text) {
    LOCKBOX_ASSIGN_OR_RETURN(scope, Scope::parse(*scope_text));
  }
  if (!allowed(call.who, Permission::kWrite, scope)) {
    return denied(fmt::format("the token's role does not grant {} on {}",
                              to_string(Permission::kWrite), scope.address()));
  }
  LOCKBOX_ASSIGN_OR_RETURN(auto value, b.secret("value"));
  if (!value) return bad_input("value is required");
  store::SetRequest request;
  request.address = {scope, *name};
  request.value = std::move(*value);
  LOCKBOX_TRY(read_write_fields(b, request));
  LOCKBOX_ASSIGN_OR_RETURN(request.expires_at, expiry_field(b, call.clock.now()));
  return request;
}

HttpResponse create_secret(Call& call) {
  auto body = body_of(call);
  if (!body.is_ok()) return from_status(body.status());
  const JsonBody& b = **body;
  if (b.has("secrets")) return create_secrets_bulk(call, b);
  auto request = read_create_item(call, b);
  if (!request.is_ok()) return from_status(request.status());
  auto written = call.store.set(std::move(request).value());
  if (!written.is_ok()) return from_status(written.status());
  return meta_response(written->outcome == store::WriteOutcome::kCreated ? 201 : 200,
                       written->meta);
}

HttpResponse get_secret(Call& call) {
  auto scope = scope_param(call);
  if (!scope.is_ok()) return from_status(scope.status());
  if (!allowed(call.who, Permission::kRead, *scope)) return forbidden(Permission::kRead, *scope);
  auto meta = call.store.get({*scope, call.name});
  if (!meta.is_ok()) return from_status(meta.status());
  if (meta->tombstone) {
    return error_response(
        404, "not_found",
        fmt::format("{} was deleted at v{}", store::SecretAddress{*scope, call.name}.reference(),
                    meta->version));
  }
  return meta_response(200, *meta, call.clock.now());
}

HttpResponse reveal_secret(Call& call) {
  auto scope = scope_param(call);
  if (!scope.is_ok()) return from_status(scope.status());
  if (!allowed(call.who, Permission::kReveal, *scope))
    return forbidden(Permission::kReveal, *scope);
  const store::SecretAddress address{*scope, call.name};
  auto meta = call.store.get(address);
  if (!meta.is_ok()) return from_status(meta.status());
  if (meta->tombstone) {
    return error_response(404, "not_found",
                          fmt::format("{} was deleted at v{}", address.reference(), meta->version));
  }
  auto value = call.store.decrypt(address, meta->version);
  if (!value.is_ok()) {
    if (value.status().code() == StatusCode::kIntegrity && call.metrics != nullptr)
      call.metrics->add_decrypt_failure();
    return from_status(value.status());
  }
  // No record, no value: the reveal is committed before the response is built.
  if (Status st = call.batcher.append({"secret.reveal", address.reference(), "ok",
                                       fmt::format("v{} via api", meta->version), call.who.actor()},
                                      true);
      !st.is_ok()) {
    log::error("api: cannot write the reveal record: {}", st.message());
    return error_response(503, "unavailable",
                          "the audit record could not be written; nothing revealed");
  }
  JsonWriter json;
  json.begin_object();
  json.key("name");
  json.string(meta->name);
  json.key("scope");
  json.string(meta->scope.address());
  json.key("version");
  json.integer(meta->version);
  json.key("value");
  json.string(value->reveal());
  json.end_object();
  HttpResponse response = json_response(200, json);
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

HttpResponse update_secret(Call& call) {
  auto scope = scope_param(call);
  if (!scope.is_ok()) return from_status(scope.status());
  auto body = body_of(call);
  if (!body.is_ok()) return from_status(body.status());
  const JsonBody& b = **body;
  if (Status st = b.check_fields({"value", "description", "tags", "metadata", "expires_at",
                                  "expected_version", "rotate_every", "notify_before"});
      !st.is_ok()) {
    return from_status(st);
  }
  if (!allowed(call.who, Permission::kWrite, *scope)) return forbidden(Permission::kWrite, *scope);
  const store::SecretAddress address{*scope, call.name};
  store::SetRequest request;
  request.address = address;
  if (Status st = read_write_fields(b, request); !st.is_ok()) return from_status(st);
  auto expiry = expiry_field(b, call.clock.now());
  if (!expiry.is_ok()) return from_status(expiry.status());
  auto value = b.secret("value");
  if (!value.is_ok()) return from_status(value.status());
  auto current = call.store.get(address);
  if (!current.is_ok()) return from_status(current.status());
  if (current->tombstone) {
    return error_response(
        404, "not_found",
        fmt::format("{} was deleted at v{}", address.reference(), current->version));
  }
  // PUT updates an existing secret: fields left out keep their values, the expiry included
  // (an explicit null clears it).
  request.expires_at =
      b.is_null("expires_at") ? std::nullopt : (*expiry ? *expiry : current->expires_at);
  if (*value) {
    request.value = std::move(**value);
  } else {
    // The value carried over is the one read here: if another write lands first, 409 rather than
    // writing an older value back over it.
    if (!request.expected_version) request.expected_version = current->version;
    auto kept = call.store.decrypt(address, current->version);
    if (!kept.is_ok()) return from_status(kept.status());
    request.value = std::move(kept).value();
  }
  auto written = call.store.set(std::move(request));
  if (!written.is_ok()) return from_status(written.status());
  return meta_response(200, written->meta);
}

HttpResponse delete_secret(Call& call) {
  auto scope = scope_param(call);
  if (!scope.is_ok()) return from_status(scope.status());
  const auto purge = call.target.query.find("purge");
  const bool purging =
      purge != call.target.query.end() && (purge->second == "true" || purge->second == "1");
  const Permission needed = purging ? Permission::kPurge : Permission::kDelete;
  if (!allowed(call.who, needed, *scope)) return forbidden(needed, *scope);
  const store::SecretAddress address{*scope, call.name};
  if (purging) {
    if (Status st = call.store.purge(address); !st.is_ok()) return from_status(st);
    JsonWriter json;
    json.begin_object();
    json.key("name");
    json.string(call.name);
    json.key("scope");
    json.string(scope->address());
    json.key("purged");
    json.boolean(true);
    json.end_object();
    return json_response(200, json);
  }
  auto removed = call.store.remove(address);
  if (!removed.is_ok()) return from_status(removed.status());
  return meta_response(200, *removed);
}

HttpResponse secret_history(Call& call) {
  auto scope = scope_param(call);
  if (!scope.is_ok()) return from_status(scope.status());
  if (!allowed(call.who, Permission::kRead, *scope)) return forbidden(Permission::kRead, *scope);
  auto versions = call.store.history({*scope, call.name});
  if (!versions.is_ok()) return from_status(versions.status());
  JsonWriter json;
  json.begin_object();
  json.key("versions");
  json.begin_array();
  for (const auto& v : *versions) store::write_history_entry(json, v);
  json.end_array();
  json.end_object();
  return json_response(200, json);
}

HttpResponse rollback_secret(Call& call) {
  auto scope = scope_param(call);
  if (!scope.is_ok()) return from_status(scope.status());
  auto body = body_of(call);
  if (!body.is_ok()) return from_status(body.status());
  if (Status st = (*body)->check_fields({"version"}); !st.is_ok()) return from_status(st);
  auto version = (*body)->integer("version");
  if (!version.is_ok()) return from_status(version.status());
  if (!*version || **version < 1)
    return error_response(400, "bad_request", "version (a positive integer) is required");
  if (!allowed(call.who, Permission::kWrite, *scope)) return forbidden(Permission::kWrite, *scope);
  auto rolled = call.store.rollback({*scope, call.name}, **version);
  if (!rolled.is_ok()) return from_status(rolled.status());
  return meta_response(200, *rolled);
}

}  // namespace lockbox::api
