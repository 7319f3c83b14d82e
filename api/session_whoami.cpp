// GET /api/v1/whoami: the calling token's name, role and permission patterns, so that the web
// console shows only the controls the role can use (SPEC §14), and so that a sign-in can check a
// token through the ordinary authentication path (auth.failure, rate limits).
#include <vector>

#include "api/routes.hpp"

namespace lockbox::api {
namespace {

void patterns(JsonWriter& json, std::string_view key, const std::vector<std::string>* list, bool admin) {
  json.key(key);
  json.begin_array();
  if (admin) json.string("*");
  if (list != nullptr) {
    for (const auto& p : *list) json.string(p);
  }
  json.end_array();
}

}  // namespace

HttpResponse whoami(Call& call) {
  const Principal& who = call.who;
  const policies::RolePolicy* role = who.policy;
  const bool admin = who.admin();
  JsonWriter json;
  json.begin_object();
  json.key("token");
  json.string(who.token_name);
  json.key("role");
  json.string(who.role);
  json.key("admin");
  json.boolean(admin);
  json.key("permissions");
  json.begin_object();
  patterns(json, "read", role != nullptr ? &role->read : nullptr, admin);
  patterns(json, "write", role != nullptr ? &role->write : nullptr, admin);
  patterns(json, "delete", role != nullptr ? &role->del : nullptr, admin);
  patterns(json, "reveal", role != nullptr ? &role->reveal : nullptr, admin);
  patterns(json, "resolve", role != nullptr ? &role->resolve : nullptr, admin);
  json.end_object();
  json.end_object();
  HttpResponse response = json_response(200, json);
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

}  // namespace lockbox::api
