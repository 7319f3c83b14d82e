// The bulk forms of SPEC §13 (Phase): POST /api/v1/admin/secrets with {secrets: [...]} (each item
// as a single create's body) and DELETE /api/v1/admin/secrets with {secrets: [{name, scope}]}.
// Every item is read and its permission checked before the store is asked; the store writes them
// all in ONE transaction (Store::set_many / remove_many), all or nothing. The first bad item is
// named by its 0-based index: 400 "secrets[3]: ..." (a version conflict or a missing secret too:
// the whole request is refused), 403 "secrets[3]: ..." for a scope the token may not write.
// The 1 MiB body limit (413) is the server's; at most kMaxItems items.
#include <fmt/format.h>

#include "api/routes.hpp"
#include "store/meta_json.hpp"

namespace lockbox::api {
namespace {

constexpr std::size_t kMaxItems = 1000;

// An item's failure: its index in front of the message; the store's conflict and not-found
// become 400 (the request is bad as a whole), others map as for single writes.
HttpResponse item_failure(const Status& status) {
  if (status.code() == StatusCode::kNotFound || status.code() == StatusCode::kBadInput) {
    return error_response(400, "bad_request", status.message());
  }
  return from_status(status);
}

Status prefix(std::size_t index, const Status& status) {
  return status.with_context(fmt::format("secrets[{}]", index));
}

// The items of {secrets: [...]}, which must be the body's only field, 1 to kMaxItems of them.
Result<std::vector<std::unique_ptr<JsonBody>>> bulk_items(const JsonBody& body) {
  LOCKBOX_TRY(body.check_fields({"secrets"}));
  LOCKBOX_ASSIGN_OR_RETURN(auto items, body.objects("secrets"));
  if (!items || items->empty() || items->size() > kMaxItems) {
    return bad_input(fmt::format("secrets must be an array of 1 to {} items", kMaxItems));
  }
  return std::move(*items);
}

HttpResponse metas_response(const std::vector<store::SecretMeta>& metas, std::size_t created,
                            UnixMillis now) {
  JsonWriter json;
  json.begin_object();
  json.key("secrets");
  json.begin_array();
  for (const auto& meta : metas) store::write_meta_json(json, meta, nullptr, now);
  json.end_array();
  json.key("created");
  json.integer(static_cast<std::int64_t>(created));
  json.key("updated");
  json.integer(static_cast<std::int64_t>(metas.size() - created));
  json.end_object();
  return json_response(200, json);
}

// One bulk delete item {name, scope}: the address, once the token may delete in its scope.
Result<store::SecretAddress> read_delete_item(const Call& call, const JsonBody& item) {
  LOCKBOX_TRY(item.check_fields({"name", "scope"}));
  LOCKBOX_ASSIGN_OR_RETURN(const auto name, item.string("name"));
  if (!name) return bad_input("name is required");
  LOCKBOX_TRY(validate_name(*name, "secret name"));
  LOCKBOX_ASSIGN_OR_RETURN(const auto scope_text, item.string("scope"));
  Scope scope = Scope::global();
  if (scope_text) {
    LOCKBOX_ASSIGN_OR_RETURN(scope, Scope::parse(*scope_text));
  }
  if (!allowed(call.who, Permission::kDelete, scope)) {
    return denied(fmt::format("the token's role does not grant {} on {}",
                              to_string(Permission::kDelete), scope.address()));
  }
  return store::SecretAddress{scope, *name};
}

}  // namespace

HttpResponse create_secrets_bulk(Call& call, const JsonBody& body) {
  auto items = bulk_items(body);
  if (!items.is_ok()) return from_status(items.status());
  std::vector<store::SetRequest> requests;
  requests.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    auto request = read_create_item(call, *(*items)[i]);
    if (!request.is_ok()) return from_status(prefix(i, request.status()));
    requests.push_back(std::move(request).value());
  }
  auto written = call.store.set_many(std::move(requests));
  if (!written.is_ok()) return item_failure(written.status());
  std::vector<store::SecretMeta> metas;
  std::size_t created = 0;
  metas.reserve(written->size());
  for (auto& w : *written) {
    if (w.outcome == store::WriteOutcome::kCreated) ++created;
    metas.push_back(std::move(w.meta));
  }
  return metas_response(metas, created, call.clock.now());
}

HttpResponse delete_secrets(Call& call) {
  auto body = JsonBody::parse(call.request.body.reveal());
  if (!body.is_ok()) return from_status(body.status());
  auto items = bulk_items(**body);
  if (!items.is_ok()) return from_status(items.status());
  std::vector<store::SecretAddress> addresses;
  addresses.reserve(items->size());
  for (std::size_t i = 0; i < items->size(); ++i) {
    auto address = read_delete_item(call, *(*items)[i]);
    if (!address.is_ok()) return from_status(prefix(i, address.status()));
    addresses.push_back(std::move(address).value());
  }
  auto removed = call.store.remove_many(addresses);
  if (!removed.is_ok()) return item_failure(removed.status());
  JsonWriter json;
  json.begin_object();
  json.key("secrets");
  json.begin_array();
  for (const auto& meta : *removed) store::write_meta_json(json, meta);
  json.end_array();
  json.end_object();
  return json_response(200, json);
}

}  // namespace lockbox::api
