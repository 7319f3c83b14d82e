// Black-box: every command of the Fluxbase secrets guide ("CLI Commands"), typed as the guide
// types it with `fluxbase` replaced by `lockbox`, including the `--scope KIND` grammar of SPEC §5.

#include <set>

#include "tests/blackbox/blackbox.hpp"

namespace lockbox::testing {
namespace {

// Runs one guide command; REQUIREs exit 0 and returns stdout.
std::string typed(const Lockbox& box, const std::vector<std::string>& args) {
  const ProcessResult r = box.run(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// The scope addresses of `secrets list --json` with `filters`.
std::set<std::string> listed(const Lockbox& box, std::vector<std::string> filters) {
  filters.insert(filters.begin(), {"secrets", "list"});
  filters.push_back("--json");
  std::set<std::string> out;
  const boost::json::value doc = parse_json(typed(box, filters));
  for (const auto& item : doc.as_array()) {
    const auto& o = item.as_object();
    out.insert(std::string(o.at("scope").as_string()) + "/" + std::string(o.at("name").as_string()));
  }
  return out;
}

TEST_CASE("every command of the Fluxbase secrets guide works as typed", "[blackbox][fluxbase]") {
  Lockbox box;
  box.init();
  // Create or Update a Secret
  typed(box, {"secrets", "set", "API_KEY", "sk-your-api-key"});
  typed(box, {"secrets", "set", "DATABASE_URL", "postgres://...", "--scope", "namespace",
              "--namespace", "production"});
  typed(box, {"secrets", "set", "STRIPE_KEY", "sk_live_...", "--description",
              "Stripe production API key"});
  typed(box, {"secrets", "set", "TEMP_TOKEN", "xyz", "--expires", "30d"});
  CHECK(box.reveal("DATABASE_URL", {"--namespace", "production"}) == "postgres://...");
  box.set("OTHER", "o", {"--function", "fn", "--namespace", "production"});

  // List Secrets
  const auto all = listed(box, {});
  CHECK(all == std::set<std::string>{"global/API_KEY", "global/STRIPE_KEY", "global/TEMP_TOKEN",
                                     "namespace:production/DATABASE_URL",
                                     "function:production/fn/OTHER"});
  CHECK(typed(box, {"secrets", "list"}).find("API_KEY") != std::string::npos);
  CHECK(listed(box, {"--scope", "global"}) ==
        std::set<std::string>{"global/API_KEY", "global/STRIPE_KEY", "global/TEMP_TOKEN"});
  CHECK(listed(box, {"--scope", "namespace"}) ==
        std::set<std::string>{"namespace:production/DATABASE_URL"});
  CHECK(typed(box, {"secrets", "list", "--scope", "namespace"}).find("DATABASE_URL") !=
        std::string::npos);
  CHECK(listed(box, {"--namespace", "production"}) ==
        std::set<std::string>{"namespace:production/DATABASE_URL", "function:production/fn/OTHER"});
  typed(box, {"secrets", "list", "--namespace", "production"});

  // Get Secret Metadata (the value is never printed)
  const std::string meta = typed(box, {"secrets", "get", "API_KEY"});
  CHECK(meta.find("sk-your-api-key") == std::string::npos);
  const std::string ns_meta = typed(box, {"secrets", "get", "DATABASE_URL", "--namespace", "production"});
  CHECK(ns_meta.find("postgres://") == std::string::npos);

  // Version History (two more versions, so version 2 exists to roll back to)
  typed(box, {"secrets", "set", "API_KEY", "sk-second"});
  typed(box, {"secrets", "set", "API_KEY", "sk-third"});
  CHECK(typed(box, {"secrets", "history", "API_KEY"}).find("sk-") == std::string::npos);
  typed(box, {"secrets", "rollback", "API_KEY", "2"});
  CHECK(box.reveal("API_KEY") == "sk-second");

  // Delete a Secret
  typed(box, {"secrets", "delete", "API_KEY"});
  typed(box, {"secrets", "delete", "DATABASE_URL", "--namespace", "production"});
  CHECK(listed(box, {"--scope", "namespace"}).empty());
  CHECK(box.run({"secrets", "get", "API_KEY"}).exit_code == 3);
}

TEST_CASE("the Fluxbase grammar --scope KIND names a scope together with the flag of that kind",
          "[blackbox][fluxbase]") {
  Lockbox box;
  box.init();
  typed(box, {"secrets", "set", "F", "f", "--scope", "function", "--function", "fn", "--namespace",
              "prod"});
  typed(box, {"secrets", "set", "G", "g", "--scope", "group", "--group", "g1"});
  typed(box, {"secrets", "set", "K", "k", "--scope", "apikey", "--apikey", "k1"});
  typed(box, {"secrets", "set", "W", "w", "--scope", "global"});
  CHECK(listed(box, {}) == std::set<std::string>{"function:prod/fn/F", "group:g1/G", "apikey:k1/K",
                                                 "global/W"});
  CHECK(listed(box, {"--scope", "function"}) == std::set<std::string>{"function:prod/fn/F"});
  CHECK(listed(box, {"--scope", "group", "--scope-kind", "group"}) ==
        std::set<std::string>{"group:g1/G"});
  CHECK(box.reveal("G", {"--scope", "group", "--group", "g1"}) == "g");
}

TEST_CASE("the Fluxbase grammar --scope KIND without its flag or with another kind's flag is exit 2",
          "[blackbox][fluxbase]") {
  Lockbox box;
  box.init();
  const std::string before = box.snapshot();
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--scope", "namespace"},
        {"--scope", "namespace", "--group", "g1"},
        {"--scope", "function", "--namespace", "prod"},
        {"--scope", "group", "--apikey", "k1"},
        {"--scope", "apikey"},
        {"--scope", "global", "--namespace", "prod"},
        {"--scope", "namespace:prod", "--namespace", "prod"}}) {
    std::vector<std::string> args{"secrets", "set", "X", kCanary};
    args.insert(args.end(), flags.begin(), flags.end());
    const ProcessResult r = box.run(args);
    INFO(flags[1]);
    CHECK(r.exit_code == 2);
    CHECK(line_count(r.err) == 1);
    CHECK(r.err.find(kCanary) == std::string::npos);
  }
  CHECK(box.snapshot() == before);
  const ProcessResult mixed = box.run({"secrets", "list", "--scope", "group", "--scope-kind", "apikey"});
  CHECK(mixed.exit_code == 2);
}

}  // namespace
}  // namespace lockbox::testing
