// The audit chain and the ciphertexts against edits of the PostgreSQL rows (issue 11 item 6): the
// raw-edit tests of tests/store/sqlite/audit_verify_test.cpp and sqlite_integrity_test.cpp (tagged
// [sqlite]: their SQL is SQLite's, randomblob, x'' literals, helper tables in the store's schema),
// written again for the PostgreSQL schema with the same assertions, on a fresh database of the
// cluster LOCKBOX_TEST_PG_URL names. Helper tables are TEMP or in schema public, since an object
// in schema lockbox that lockbox did not create is refused at open (which would pass for the wrong
// reason).
#include <catch2/catch.hpp>

#include "tests/store/postgres/pg_test_support.hpp"
#include "tests/store/sqlite/audit_test_support.hpp"
#include "tests/store/sqlite/store_fixture.hpp"

using namespace lockbox;
using lockbox::testing::check_broken_at;
using lockbox::testing::checkpoint_of;
using lockbox::testing::StoreFixture;
using lockbox::testing::verify;
using lockbox::testing::pg::put;
using lockbox::testing::pg::random_bytes;

namespace {

const Scope kProd = Scope::ns("production");

// Five records: set A, set B, set A, reveal A, delete B.
void write_five(StoreFixture& f) {
  REQUIRE(lockbox::testing::pg_pass());
  put(*f.store, kProd, "A", "a1");
  put(*f.store, kProd, "B", "b1");
  put(*f.store, kProd, "A", "a2");
  REQUIRE(f.store->reveal({kProd, "A"}).is_ok());
  REQUIRE(f.store->remove({kProd, "B"}).is_ok());
  REQUIRE(f.count("SELECT count(*) FROM audit") == 5);
}

const std::string kAuditColumns =
    "(seq, ts, actor, action, target, outcome, detail, prev_mac, entry_mac)";

}  // namespace

// ---- the audit chain ----

TEST_CASE("postgresql: editing any column of a record names that record", "[pg][audit]") {
  const std::vector<std::string> edits = {
      "actor = 'mallory'",  "action = 'secret.reveal'", "target = 'namespace:production/Z'",
      "outcome = 'denied'", "detail = 'v9 created'",    "ts = ts + 1"};
  for (const std::string& edit : edits) {
    INFO(edit);
    StoreFixture f;
    write_five(f);
    f.sql("UPDATE audit SET " + edit + " WHERE seq = 3");
    check_broken_at(f, 3, "record 3 was edited");
  }
}

TEST_CASE("postgresql: editing a record's MACs names that record", "[pg][audit]") {
  StoreFixture f;
  write_five(f);
  SECTION("entry_mac replaced") {
    f.sql("UPDATE audit SET entry_mac = " + random_bytes(32) + " WHERE seq = 4");
    check_broken_at(f, 4, "record 4 was edited");
  }
  SECTION("prev_mac replaced") {
    f.sql("UPDATE audit SET prev_mac = " + random_bytes(32) + " WHERE seq = 4");
    check_broken_at(f, 4, "record 4 does not follow record 3");
  }
  SECTION("the first record's prev_mac is not zero") {
    f.sql("UPDATE audit SET prev_mac = " + random_bytes(32) + " WHERE seq = 1");
    check_broken_at(f, 1, "record 1");
  }
  SECTION("a MAC of the wrong length") {
    f.sql("UPDATE audit SET entry_mac = '\\x00'::bytea WHERE seq = 2");
    check_broken_at(f, 2, "record 2 is damaged");
  }
  SECTION("a MAC made empty") {
    f.sql("UPDATE audit SET prev_mac = ''::bytea WHERE seq = 2");
    check_broken_at(f, 2, "record 2 is damaged");
  }
}

TEST_CASE("postgresql: deleting a record names the missing seq", "[pg][audit]") {
  StoreFixture f;
  write_five(f);
  SECTION("a middle record") {
    f.sql("DELETE FROM audit WHERE seq = 3");
    check_broken_at(f, 3, "record 3 is missing");
  }
  SECTION("the first record") {
    f.sql("DELETE FROM audit WHERE seq = 1");
    check_broken_at(f, 1, "record 1 is missing");
  }
  SECTION("a middle record, then the later ones renumbered to close the gap") {
    // Through negative seqs: the primary key is checked row by row.
    f.sql(
        "DELETE FROM audit WHERE seq = 3; UPDATE audit SET seq = -(seq - 1) WHERE seq > 3; "
        "UPDATE audit SET seq = -seq WHERE seq < 0");
    check_broken_at(f, 3, "record 3 does not follow record 2");
  }
}

TEST_CASE("postgresql: a forged record names its seq", "[pg][audit]") {
  StoreFixture f;
  write_five(f);
  SECTION("inserted in the middle, chained to its predecessor") {
    // Make room at seq 3, then insert a record whose prev_mac is record 2's real entry_mac.
    f.sql(
        "UPDATE audit SET seq = -(seq + 1) WHERE seq >= 3; UPDATE audit SET seq = -seq WHERE seq < "
        "0; "
        "INSERT INTO audit " +
        kAuditColumns +
        " SELECT 3, ts, actor, 'secret.set', 'namespace:production/X', "
        "'ok', 'v1 created', entry_mac, " +
        random_bytes(32) + " FROM audit WHERE seq = 2");
    check_broken_at(f, 3, "record 3 was edited");
  }
  SECTION("appended at the end") {
    f.sql("INSERT INTO audit " + kAuditColumns +
          " SELECT 6, ts + 1, actor, 'secret.set', "
          "'namespace:production/X', 'ok', 'v1 created', entry_mac, " +
          random_bytes(32) + " FROM audit WHERE seq = 5");
    check_broken_at(f, 6, "record 6 was edited");
  }
  SECTION("a copy of a real record replayed at the end") {
    f.sql("INSERT INTO audit " + kAuditColumns +
          " SELECT 6, ts, actor, action, target, outcome, detail, "
          "prev_mac, entry_mac FROM audit WHERE seq = 5");
    check_broken_at(f, 6, "record 6 does not follow record 5");
  }
}

TEST_CASE("postgresql: reordering records names the first moved seq", "[pg][audit]") {
  StoreFixture f;
  write_five(f);
  SECTION("two rows swap their seq numbers") {
    f.sql(
        "UPDATE audit SET seq = 100 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 4; "
        "UPDATE audit SET seq = 4 WHERE seq = 100");
    check_broken_at(f, 2, "record 2 does not follow record 1");
  }
  SECTION("two rows swap their contents, MACs kept in place") {
    f.sql(
        "CREATE TEMP TABLE saved AS SELECT * FROM audit WHERE seq IN (2, 4); "
        "UPDATE audit SET (ts, actor, action, target, outcome, detail) = "
        "(SELECT ts, actor, action, target, outcome, detail FROM saved WHERE saved.seq = 6 - "
        "audit.seq) "
        "WHERE seq IN (2, 4)");
    check_broken_at(f, 2, "record 2 was edited");
  }
}

TEST_CASE("postgresql: renumbering every record names seq 1", "[pg][audit]") {
  StoreFixture f;
  write_five(f);
  SECTION("shifted up") {
    f.sql("UPDATE audit SET seq = -(seq + 10); UPDATE audit SET seq = -seq");
    check_broken_at(f, 1, "record 1 is missing");
  }
  SECTION("shifted down to start at 0") {
    f.sql("UPDATE audit SET seq = -(seq - 1); UPDATE audit SET seq = -seq WHERE seq < 0");
    check_broken_at(f, 1, "record 1");
  }
}

TEST_CASE("postgresql: verify keeps counting after the first bad record", "[pg][audit]") {
  StoreFixture f;
  write_five(f);
  f.sql("UPDATE audit SET detail = 'x' WHERE seq = 2; UPDATE audit SET detail = 'y' WHERE seq = 4");
  const store::AuditVerifyResult r = verify(f);
  CHECK(r.first_bad_seq == std::optional<std::int64_t>(2));
  CHECK(r.records == 5);
  CHECK(r.last_seq == 5);
}

TEST_CASE("postgresql: a cut tail is caught only against a checkpoint, naming the checkpoint seq",
          "[pg][audit]") {
  StoreFixture f;
  write_five(f);
  const store::AuditCheckpoint cp = checkpoint_of(f);
  REQUIRE(cp.seq == 5);
  f.sql("DELETE FROM audit WHERE seq >= 4");
  const store::AuditVerifyResult plain = verify(f);
  CHECK_FALSE(plain.first_bad_seq);  // what is left is a valid chain
  CHECK(plain.records == 3);
  check_broken_at(f, 5, "the trail ends at record 3, before the checkpoint", cp);

  SECTION("and stays caught when new records refill the cut seqs") {
    auto store = f.reopen();
    for (const char* name : {"N1", "N2", "N3"}) put(*store, kProd, name, "n");
    CHECK_FALSE(verify(f).first_bad_seq);
    check_broken_at(f, 5, "record 5 does not match the checkpoint", cp);
  }
  SECTION("and a trail cut to nothing") {
    f.sql("DELETE FROM audit");
    CHECK_FALSE(verify(f).first_bad_seq);
    check_broken_at(f, 5, "the trail is empty", cp);
  }
}

TEST_CASE("postgresql: a checkpoint with a wrong MAC fails at its seq, after an earlier edit",
          "[pg][audit]") {
  StoreFixture f;
  write_five(f);
  store::AuditCheckpoint cp = checkpoint_of(f);
  cp.mac[0] ^= 0x01;
  check_broken_at(f, 5, "record 5 does not match the checkpoint", cp);
  f.sql("UPDATE audit SET outcome = 'x' WHERE seq = 2");
  check_broken_at(f, 2, "record 2 was edited", cp);
}

// ---- values and keys ----

TEST_CASE("postgresql: a tampered value row is exit 5 naming the secret, others stay readable",
          "[pg][crypto]") {
  StoreFixture f;
  REQUIRE(lockbox::testing::pg_pass());
  put(*f.store, kProd, "VICTIM", "v1");
  put(*f.store, kProd, "BYSTANDER", "fine");
  // Byte 26 (offset 25) of the envelope flipped, as the SQLite test does.
  f.sql(
      "UPDATE versions SET envelope = set_byte(envelope, 25, get_byte(envelope, 25) # 1) "
      "WHERE secret_id = (SELECT id FROM secrets WHERE name = 'VICTIM')");
  auto store = f.reopen();
  const auto damaged = store->reveal({kProd, "VICTIM"});
  CHECK(damaged.status().code() == StatusCode::kIntegrity);
  INFO(damaged.status().message());
  CHECK(damaged.status().message().find("namespace:production/VICTIM@v1") != std::string::npos);
  const auto ok = store->reveal({kProd, "BYSTANDER"});
  REQUIRE(ok.is_ok());
  CHECK(ok->value.reveal() == "fine");
}

TEST_CASE("postgresql: ciphertexts swapped between secrets or versions fail to decrypt",
          "[pg][crypto]") {
  StoreFixture f;
  REQUIRE(lockbox::testing::pg_pass());
  put(*f.store, kProd, "A", "alpha");
  put(*f.store, kProd, "B", "bravo");
  put(*f.store, kProd, "B", "bravo2");
  SECTION("between secrets") {
    f.sql(
        "UPDATE versions SET envelope = (SELECT envelope FROM versions WHERE secret_id = "
        "(SELECT id FROM secrets WHERE name = 'B') AND version = 1) "
        "WHERE secret_id = (SELECT id FROM secrets WHERE name = 'A')");
    CHECK(f.reopen()->reveal({kProd, "A"}).status().code() == StatusCode::kIntegrity);
  }
  SECTION("between versions of one secret") {
    f.sql(
        "UPDATE versions SET envelope = (SELECT envelope FROM versions v2 WHERE v2.secret_id = "
        "versions.secret_id AND v2.version = 1) WHERE version = 2");
    CHECK(f.reopen()->reveal({kProd, "B"}).status().code() == StatusCode::kIntegrity);
  }
  SECTION("between scopes") {
    f.sql("UPDATE secrets SET scope = 'namespace:staging' WHERE name = 'A'");
    CHECK(f.reopen()->reveal({Scope::ns("staging"), "A"}).status().code() ==
          StatusCode::kIntegrity);
  }
  SECTION("into a secret recreated after a purge") {
    f.sql(
        "CREATE TABLE public.saved AS SELECT envelope, key_id FROM versions WHERE secret_id = "
        "(SELECT id FROM secrets WHERE name = 'A')");
    REQUIRE(f.store->purge({kProd, "A"}).is_ok());
    put(*f.store, kProd, "A", "other");
    f.sql(
        "UPDATE versions SET envelope = (SELECT envelope FROM public.saved) "
        "WHERE secret_id = (SELECT id FROM secrets WHERE name = 'A'); DROP TABLE public.saved");
    CHECK(f.reopen()->reveal({kProd, "A"}).status().code() == StatusCode::kIntegrity);
  }
}

TEST_CASE("postgresql: wrapped keys swapped between keyring rows are rejected", "[pg][crypto]") {
  StoreFixture f;
  REQUIRE(lockbox::testing::pg_pass());
  put(*f.store, kProd, "A", "alpha");
  f.store.reset();
  // The data key's wrapping (key 1) over the fingerprint key's: the UPDATE's subquery reads the
  // rows as they were, so no helper table is needed.
  REQUIRE(f.count("SELECT count(*) FROM keyring WHERE key_id = 1 AND purpose = 'data'") == 1);
  f.sql(
      "UPDATE keyring SET wrapped = (SELECT wrapped FROM keyring WHERE key_id = 1) WHERE purpose = "
      "'fingerprint'");
  const auto opened = f.try_open(7);
  INFO(opened.status().message());
  CHECK(opened.status().code() == StatusCode::kIntegrity);
}
