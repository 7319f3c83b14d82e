// Token rows are authenticated under the row-auth key (SPEC §17): someone who can edit the store
// file but has no master key cannot make a working token, raise a role, un-revoke or un-expire.
// Each case edits the raw database the way the wave-1 attacker review did.
#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "tests/store/sqlite/legacy_store.hpp"

using namespace lockbox;
using lockbox::testing::StoreFixture;

namespace {

store::NewToken make(store::Store& s, const std::string& name, const std::string& role = "reader",
                     std::optional<UnixMillis> expires_at = std::nullopt) {
  auto created = s.create_token(name, role, expires_at);
  REQUIRE(created.is_ok());
  return std::move(created).value();
}

void check_refused(store::Store& s, const store::NewToken& t) {
  const auto r = s.authenticate_token(t.token.reveal());
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == StatusCode::kDenied);
}

bool listed_authentic(store::Store& s, const std::string& id) {
  auto tokens = s.list_tokens();
  REQUIRE(tokens.is_ok());
  for (const auto& t : *tokens) {
    if (t.id == id) return t.authentic;
  }
  FAIL("token not listed");
  return false;
}

}  // namespace

TEST_CASE("a token row copied under a new id with its hash is refused and listed as not authentic",
          "[store][tokens][integrity][sqlite]") {
  StoreFixture f;
  const store::NewToken t = make(*f.store, "ci", "admin");
  // The attacker knows a secret of their own and plants its (legacy) SHA-256 under a new id.
  const std::string secret(64, 'a');
  const std::string forged = "lbx_00000000000000ff_" + secret;
  f.sql(fmt::format(
      "INSERT INTO tokens(id, name, role, secret_hash, created_at, created_by, hash_scheme, "
      "row_mac) SELECT '00000000000000ff', 'evil', 'admin', "
      "X'ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb', created_at, "
      "created_by, 1, row_mac FROM tokens WHERE id = '{}'",
      t.info.id));
  const auto r = f.store->authenticate_token(forged);
  CHECK_FALSE(r.is_ok());
  CHECK_FALSE(listed_authentic(*f.store, "00000000000000ff"));
  CHECK(listed_authentic(*f.store, t.info.id));
  CHECK(f.store->authenticate_token(t.token.reveal()).is_ok());  // the others stay usable
}

TEST_CASE("raising a token's role makes it refused", "[store][tokens][integrity]") {
  StoreFixture f;
  const store::NewToken t = make(*f.store, "ci", "reader");
  f.sql("UPDATE tokens SET role = 'admin'");
  check_refused(*f.store, t);
  CHECK_FALSE(listed_authentic(*f.store, t.info.id));
}

TEST_CASE("un-revoking a token keeps it refused", "[store][tokens][integrity]") {
  StoreFixture f;
  const store::NewToken t = make(*f.store, "ci");
  REQUIRE(f.store->revoke_token("ci").is_ok());
  check_refused(*f.store, t);
  f.sql("UPDATE tokens SET revoked_at = NULL");
  check_refused(*f.store, t);
}

TEST_CASE("un-expiring a token keeps it refused", "[store][tokens][integrity]") {
  StoreFixture f;
  const store::NewToken t = make(*f.store, "ci", "reader", f.clock.now() + 1000);
  f.sql("UPDATE tokens SET expires_at = NULL");
  check_refused(*f.store, t);
}

TEST_CASE("a token whose MAC or hash scheme is edited is refused",
          "[store][tokens][integrity][sqlite]") {
  StoreFixture f;
  const store::NewToken t = make(*f.store, "ci");
  SECTION("MAC cleared") {
    f.sql("UPDATE tokens SET row_mac = NULL");
  }
  SECTION("MAC flipped") {
    f.sql("UPDATE tokens SET row_mac = zeroblob(32)");
  }
  SECTION("scheme set to legacy") {
    f.sql("UPDATE tokens SET hash_scheme = 1");
  }
  SECTION("secret hash replaced") {
    f.sql("UPDATE tokens SET secret_hash = zeroblob(32)");
  }
  check_refused(*f.store, t);
}

TEST_CASE("migration authenticates only tokens the audit trail created, with their roles",
          "[store][tokens][integrity][sqlite]") {
  StoreFixture f;
  const store::NewToken kept = make(*f.store, "kept", "reader");
  const store::NewToken raised = make(*f.store, "raised", "reader");
  const store::NewToken revoked = make(*f.store, "gone", "reader");
  REQUIRE(f.store->revoke_token("gone").is_ok());
  // Back to the shape of a store that predates row authentication, plus an attacker's edits.
  make_legacy(f, {std::string(kept.token.reveal()), std::string(raised.token.reveal()),
                  std::string(revoked.token.reveal())});
  f.sql(
      "UPDATE tokens SET role = 'admin' WHERE name = 'raised'; "
      "UPDATE tokens SET revoked_at = NULL WHERE name = 'gone'");
  auto store = f.reopen();
  CHECK(store->authenticate_token(kept.token.reveal()).is_ok());
  CHECK_FALSE(store->authenticate_token(raised.token.reveal()).is_ok());
  CHECK_FALSE(store->authenticate_token(revoked.token.reveal()).is_ok());
  CHECK(f.count("SELECT count(*) FROM audit WHERE action = 'store.migrate'") == 1);
  CHECK(f.count("PRAGMA user_version") == 4);
  CHECK(store->verify_audit(std::nullopt)->first_bad_seq == std::nullopt);
  // The legacy hash of a blessed token keeps working; a new token gets the keyed hash.
  CHECK(f.count("SELECT hash_scheme FROM tokens WHERE name = 'kept'") == 1);
}

TEST_CASE("after the migration the old audit key row is gone, so the store cannot look unmigrated",
          "[store][tokens][integrity][sqlite]") {
  StoreFixture f;
  const store::NewToken t = make(*f.store, "ci");
  make_legacy(f, {std::string(t.token.reveal())});
  (void)f.reopen();  // migrates: the audit key moves to an id above kRowAuthKeyIds
  CHECK(f.count("SELECT count(*) FROM keyring WHERE purpose = 'audit' AND wrapped IS NOT NULL") ==
        1);
  CHECK(f.count("SELECT key_id FROM keyring WHERE purpose = 'audit' AND state = 'active'") >
        0xC0000000);
  // Reviving the destroyed row cannot work: its key material is gone.
  f.sql(
      "UPDATE keyring SET state = 'retired' WHERE purpose = 'audit' AND state = 'active'; "
      "UPDATE keyring SET state = 'active' WHERE purpose = 'audit' AND state = 'destroyed'");
  auto again = f.try_open(7);
  REQUIRE_FALSE(again.is_ok());
  CHECK(again.status().code() == StatusCode::kIntegrity);
}
