// `lockbox tokens create|list|revoke` (SPEC §5, §8): API tokens with a role and an optional TTL.
// The token is printed once, by create, and never again: the store keeps only its digest.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "cli/command.hpp"
#include "cli/context.hpp"
#include "cli/expiry.hpp"
#include "core/json_writer.hpp"
#include "cli/output.hpp"
#include "cli/secret_output.hpp"
#include "cli/table.hpp"
#include "core/time_format.hpp"

namespace lockbox::cli {
namespace {

constexpr std::string_view kAdminRole = "admin";  // built in (SPEC §5)

struct CreateOptions {
  std::string name;
  std::string role;
  std::optional<std::string> ttl;
};

Status check_role(const Context& ctx, const std::string& role) {
  if (role == kAdminRole || ctx.policy().roles.count(role) > 0) return Status::ok();
  return bad_input(fmt::format("unknown role {}: use admin or a role defined under roles: in the "
                               "policy file",
                               role));
}

std::string token_state(const store::TokenInfo& t, UnixMillis now) {
  if (!t.authentic) return "tampered";  // refused by serve: its row fails authentication
  if (t.revoked_at) return "revoked";
  if (t.expires_at && *t.expires_at <= now) return "expired";
  return "active";
}

// Exit 5 naming the tokens whose rows fail authentication (listed with the others first).
Status tampered_tokens(const std::vector<store::TokenInfo>& tokens) {
  std::string names;
  for (const store::TokenInfo& t : tokens) {
    if (!t.authentic) names += (names.empty() ? "" : ", ") + t.name + " (" + t.id + ")";
  }
  if (names.empty()) return Status::ok();
  return integrity_error("token rows fail authentication and are refused: " + names +
                         "; revoke them (lockbox tokens revoke NAME)");
}

Status tokens_create(const GlobalOptions& globals, const CreateOptions& options) {
  LOCKBOX_ASSIGN_OR_RETURN(const Context ctx, Context::create(globals));
  LOCKBOX_TRY(validate_name(options.name, "token name"));
  LOCKBOX_TRY(check_role(ctx, options.role));
  std::optional<UnixMillis> expires_at;
  if (options.ttl) {
    auto ttl = parse_duration(*options.ttl);
    if (!ttl.is_ok()) return ttl.status().with_context("--ttl");
    expires_at = process_clock().now() + *ttl;
    LOCKBOX_TRY(check_expiry_cap(*expires_at, "--ttl"));  // 9999-12-31T23:59:59Z, as for secrets
  }
  LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
  LOCKBOX_ASSIGN_OR_RETURN(const store::NewToken created,
                           store->create_token(options.name, options.role, expires_at));
  if (ctx.json()) {
    JsonWriter json;
    json.begin_object();
    json.key("token");
    json.string(created.token.reveal());
    json.key("name");
    json.string(created.info.name);
    json.key("role");
    json.string(created.info.role);
    json.key("expires_at");
    if (expires_at) {
      json.string(format_rfc3339(*expires_at));
    } else {
      json.null();
    }
    json.end_object();
    emit_json(json);
  } else {
    SecretValue line(created.token.reveal());
    line.append("\n");
    write_stdout(line.reveal());
  }
  print_note(fmt::format("created token {} (role {}{}); it is shown only this once: store it now",
                         created.info.name, created.info.role,
                         expires_at ? ", expires " + format_rfc3339(*expires_at) : ""));
  return Status::ok();
}

Status tokens_list(const GlobalOptions& globals) {
  LOCKBOX_ASSIGN_OR_RETURN(const Context ctx, Context::create(globals));
  LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
  LOCKBOX_ASSIGN_OR_RETURN(const std::vector<store::TokenInfo> tokens, store->list_tokens());
  const UnixMillis now = process_clock().now();
  const auto time_or = [](const std::optional<UnixMillis>& t, const char* none) {
    return t ? format_rfc3339(*t) : std::string(none);
  };
  if (ctx.json()) {
    JsonWriter json;
    json.begin_array();
    for (const store::TokenInfo& t : tokens) {
      json.begin_object();
      json.key("name");
      json.string(t.name);
      json.key("id");
      json.string(t.id);
      json.key("role");
      json.string(t.role);
      json.key("state");
      json.string(token_state(t, now));
      json.key("created_at");
      json.string(format_rfc3339(t.created_at));
      json.key("created_by");
      json.string(t.created_by);
      const std::string expires = time_or(t.expires_at, "");
      const std::string revoked = time_or(t.revoked_at, "");
      json.key("expires_at");
      json.optional_string(t.expires_at ? std::optional<std::string_view>(expires) : std::nullopt);
      json.key("revoked_at");
      json.optional_string(t.revoked_at ? std::optional<std::string_view>(revoked) : std::nullopt);
      json.end_object();
    }
    json.end_array();
    emit_json(json);
    return tampered_tokens(tokens);
  }
  if (tokens.empty()) {
    print_note("no tokens");
    return Status::ok();
  }
  Table table({"NAME", "ID", "ROLE", "STATE", "CREATED", "EXPIRES"});
  for (const store::TokenInfo& t : tokens) {
    table.add_row({t.name, t.id, t.role, token_state(t, now), format_rfc3339(t.created_at),
                   time_or(t.expires_at, "never")});
  }
  write_stdout(table.render());
  return tampered_tokens(tokens);
}

Status tokens_revoke(const GlobalOptions& globals, const std::string& name) {
  LOCKBOX_ASSIGN_OR_RETURN(const Context ctx, Context::create(globals));
  LOCKBOX_TRY(validate_name(name, "token name"));
  LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
  LOCKBOX_ASSIGN_OR_RETURN(const store::TokenInfo revoked, store->revoke_token(name));
  print_note(fmt::format("revoked token {} (id {}); it is refused from the next request on", revoked.name,
                         revoked.id));
  return Status::ok();
}

}  // namespace

void add_tokens_commands(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot) {
  CLI::App* tokens = parent.add_subcommand("tokens", "API tokens for lockbox serve");
  tokens->require_subcommand(1);
  tokens->fallthrough();

  CLI::App* create = tokens->add_subcommand("create", "Create a token (printed once)");
  create->fallthrough();
  auto options = std::make_shared<CreateOptions>();
  create->add_option("--name", options->name, "Token name")->required();
  create->add_option("--role", options->role, "admin, or a role of the policy file")->required();
  create->add_option("--ttl", options->ttl, "Lifetime (a duration, e.g. 30d); default: no expiry");
  create->callback([&globals, &slot, options] {
    slot.action = [&globals, options] { return tokens_create(globals, *options); };
  });

  CLI::App* list = tokens->add_subcommand("list", "Tokens with their role and state (never the token)");
  list->fallthrough();
  list->callback([&globals, &slot] { slot.action = [&globals] { return tokens_list(globals); }; });

  CLI::App* revoke = tokens->add_subcommand("revoke", "Revoke a token by name");
  revoke->fallthrough();
  auto name = std::make_shared<std::string>();
  revoke->add_option("NAME", *name, "Token name")->required();
  revoke->callback([&globals, &slot, name] {
    slot.action = [&globals, name] { return tokens_revoke(globals, *name); };
  });
}

}  // namespace lockbox::cli
