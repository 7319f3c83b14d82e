// API tokens in the SQLite store (SPEC §5, §8): lbx_<id>_<secret>, stored as the SHA-256 of the
// secret, looked up by id; wrong, malformed, expired and revoked tokens are all refused alike.
#include <catch2/catch.hpp>
#include <regex>

#include "tests/store/sqlite/legacy_store.hpp"

using namespace lockbox;
using lockbox::testing::StoreFixture;

namespace {

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

store::NewToken create(store::Store& s, const std::string& name,
                       std::optional<UnixMillis> expires_at = std::nullopt) {
  auto created = s.create_token(name, "admin", expires_at);
  REQUIRE(created.is_ok());
  return std::move(created).value();
}

void check_refused(store::Store& s, std::string_view token) {
  const auto r = s.authenticate_token(token);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == StatusCode::kDenied);
  CHECK(r.status().message() == "invalid, expired or revoked token");  // never says which
}

}  // namespace

TEST_CASE("a new token has the lbx_<id>_<secret> shape and authenticates", "[store][tokens]") {
  StoreFixture f;
  const store::NewToken t = create(*f.store, "ci");
  const std::string token(t.token.reveal());
  CHECK(std::regex_match(token, std::regex("lbx_[0-9a-f]{16}_[0-9a-f]{64}")));
  CHECK(token.substr(4, 16) == t.info.id);
  const auto who = f.store->authenticate_token(token);
  REQUIRE(who.is_ok());
  CHECK(who->name == "ci");
  CHECK(who->role == "admin");
  CHECK(who->created_by == "tester");
  CHECK(
      f.count("SELECT count(*) FROM audit WHERE action = 'token.create' AND target = 'token:ci'") ==
      1);
}

TEST_CASE("the store keeps only a digest: the token's secret is in no file", "[store][tokens]") {
  StoreFixture f;
  const store::NewToken t = create(*f.store, "ci");
  const std::string secret(t.token.reveal().substr(21));
  f.store.reset();
  CHECK(f.all_file_bytes().find(secret) == std::string::npos);
  CHECK(f.all_file_bytes().find(std::string(t.token.reveal())) == std::string::npos);
}

TEST_CASE("wrong, malformed and unknown tokens are refused alike", "[store][tokens]") {
  StoreFixture f;
  const std::string token(create(*f.store, "ci").token.reveal());
  std::string wrong_secret = token;
  wrong_secret.back() = wrong_secret.back() == '0' ? '1' : '0';
  std::string unknown_id = token;
  unknown_id[4] = unknown_id[4] == '0' ? '1' : '0';
  for (const std::string& bad : std::vector<std::string>{
           wrong_secret, unknown_id, token.substr(0, token.size() - 1), token + "0", std::string(),
           std::string("lbx_"), "Bearer " + token, "LBX" + token.substr(3),
           token.substr(0, 20) + "-" + token.substr(21)}) {
    INFO(bad.size());
    check_refused(*f.store, bad);
  }
  std::string upper = token;
  const auto letter = upper.find_first_of("abcdef", 21);
  if (letter != std::string::npos) {
    upper[letter] = static_cast<char>(upper[letter] - 'a' + 'A');
    check_refused(*f.store, upper);  // hex is lower case only
  }
}

TEST_CASE("an expired token is refused from its expiry on (injected clock)", "[store][tokens]") {
  StoreFixture f;
  const std::string token(create(*f.store, "short", f.clock.now() + kDayMs).token.reveal());
  CHECK(f.store->authenticate_token(token).is_ok());
  f.clock.advance(kDayMs - 1);
  CHECK(f.store->authenticate_token(token).is_ok());
  f.clock.advance(1);
  check_refused(*f.store, token);
}

TEST_CASE("a revoked token is refused on the next request; its name can be reused",
          "[store][tokens]") {
  StoreFixture f;
  const std::string first(create(*f.store, "ci").token.reveal());
  auto again = f.store->create_token("ci", "admin", std::nullopt);
  REQUIRE_FALSE(again.is_ok());
  CHECK(again.status().code() == StatusCode::kBadInput);
  const auto revoked = f.store->revoke_token("ci");
  REQUIRE(revoked.is_ok());
  CHECK(revoked->revoked_at.has_value());
  check_refused(*f.store, first);
  check_refused(*f.reopen(), first);
  CHECK(f.store->revoke_token("ci").status().code() == StatusCode::kNotFound);
  const std::string second(create(*f.store, "ci").token.reveal());
  CHECK(f.store->authenticate_token(second).is_ok());
  check_refused(*f.store, first);
  const auto all = f.store->list_tokens();
  REQUIRE(all.is_ok());
  REQUIRE(all->size() == 2);
  CHECK(all->at(0).revoked_at.has_value());
  CHECK_FALSE(all->at(1).revoked_at.has_value());
  CHECK(f.count("SELECT count(*) FROM audit WHERE action = 'token.revoke'") == 1);
}

TEST_CASE("token names follow the name rule", "[store][tokens]") {
  StoreFixture f;
  for (const char* bad : {"", "a b", "a.b", "a/b"}) {
    CHECK(f.store->create_token(bad, "admin", std::nullopt).status().code() ==
          StatusCode::kBadInput);
  }
  CHECK(f.count("SELECT count(*) FROM tokens") == 0);
  CHECK(f.count("SELECT count(*) FROM audit") == 0);
}

TEST_CASE("a store of schema 1 gains the tokens table when opened", "[store][tokens][sqlite]") {
  StoreFixture f;
  make_legacy(f);
  f.sql("DROP TABLE tokens; PRAGMA user_version = 1;");
  auto store = f.reopen();
  CHECK(f.count("PRAGMA user_version") == 4);
  auto created = store->create_token("after-migration", "admin", std::nullopt);
  REQUIRE(created.is_ok());
  CHECK(store->authenticate_token(created->token.reveal()).is_ok());
}
