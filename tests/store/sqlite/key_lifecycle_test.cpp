// The key lifecycle of the SQLite store (CRYPTO.md "Rotation", tests 9, 10, 12, 13, 14):
// data-key rotation with stale caches and racing rotators, batched re-encryption with its
// quarantine, master-key rewrap, the nonce budget and its reservations, nonce uniqueness, a
// failing RNG, and threads writing while others rotate and re-encrypt. The fault points kill the
// process, so they are exercised by tests/blackbox/keys_test.cpp, never here.
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <latch>
#include <map>
#include <optional>
#include <thread>

#include "store/envelope.hpp"
#include "tests/store/sqlite/key_test_support.hpp"
#include "tests/store/sqlite/store_fixture.hpp"

using namespace lockbox;
using lockbox::testing::master_key_from;
using lockbox::testing::set_request;
using lockbox::testing::StoreFixture;
using lockbox::testing::test_master_key;
using namespace lockbox::testing::keys;

TEST_CASE("after a rotation old and new versions stay readable, also to a store opened before it",
          "[keys]") {
  StoreFixture f;
  auto stale = f.reopen();  // another process: it caches data key 1 and a nonce block of it
  write(*stale, "WARM", "cached");
  CHECK(write(*f.store, "A", "alpha").meta.key_id == 1);
  auto rotated = f.store->rotate_data_key(std::nullopt, "test");
  REQUIRE(rotated.is_ok());
  CHECK((rotated->rotated && rotated->previous == 1 && rotated->active == 2));
  CHECK(write(*f.store, "B", "bravo").meta.key_id == 2);
  CHECK(f.store->get(at("A"))->key_id == 1);
  CHECK(f.store->get(at("B"))->key_id == 2);
  CHECK(reveal(*f.store, "A") + reveal(*f.store, "B") == "alphabravo");

  f.store.reset();
  auto restarted = f.reopen();
  CHECK(reveal(*restarted, "A") + reveal(*restarted, "B") == "alphabravo");
  CHECK(keyring_of(status_of(*restarted)) == "1:decrypt_only:2 2:active:1");

  // The stale store still holds a block of key 1: its next write must use key 2 all the same.
  CHECK(write(*stale, "C", "charlie").meta.key_id == 2);
  CHECK(stale->get(at("C"))->key_id == 2);
  CHECK(reveal(*stale, "A") + reveal(*stale, "B") + reveal(*stale, "C") == "alphabravocharlie");
  CHECK(reveal(*restarted, "C") == "charlie");
  CHECK(f.count("SELECT count(*) FROM versions WHERE key_id = 1") == 2);
}

TEST_CASE("of two racing rotators that saw the same active key exactly one rotates", "[keys]") {
  StoreFixture f;
  auto other = f.reopen();
  const std::uint32_t seen_a = status_of(*f.store).active_version;  // both read 1
  const std::uint32_t seen_b = status_of(*other).active_version;
  std::optional<Result<store::RotateResult>> a, b;
  std::latch start(2);
  auto race = [&](store::Store& s, std::uint32_t seen,
                  std::optional<Result<store::RotateResult>>& out) {
    start.arrive_and_wait();
    out.emplace(s.rotate_data_key(seen, "racer"));
  };
  std::thread ta(race, std::ref(*f.store), seen_a, std::ref(a));
  std::thread tb(race, std::ref(*other), seen_b, std::ref(b));
  ta.join();
  tb.join();
  REQUIRE((a->is_ok() && b->is_ok()));
  CHECK(int{(*a)->rotated} + int{(*b)->rotated} == 1);
  CHECK(((*a)->active == 2 && (*b)->active == 2));
  CHECK(f.count("SELECT count(*) FROM keyring WHERE purpose = 'data'") == 2);
  CHECK(f.count("SELECT count(*) FROM keyring WHERE purpose = 'data' AND state = 'active'") == 1);
  CHECK(audit_count(f.db_path(), "key.rotate") == 1);
}

TEST_CASE("reencrypt moves every version across three rotations to the active key", "[keys]") {
  StoreFixture f;
  std::map<std::pair<std::string, std::int64_t>, std::string> expected;  // (name, version) -> value
  auto put = [&](int i, const std::string& round) {
    const std::string name = "S" + std::to_string(i);
    const std::string value = round + "-value-" + std::to_string(i);
    expected[{name, write(*f.store, name, value).meta.version}] = value;
  };
  auto remove = [&](int i) { REQUIRE(f.store->remove(at("S" + std::to_string(i))).is_ok()); };
  for (int i = 0; i < 10; ++i) put(i, "r0");  // key 1: 10 versions
  remove(0);
  remove(1);
  rotate(*f.store);
  put(0, "r1");  // key 2: 5 versions (S0 comes back after its tombstone)
  for (int i = 2; i < 6; ++i) put(i, "r1");
  rotate(*f.store);
  for (int i = 6; i < 10; ++i) put(i, "r2");  // key 3: 4 versions
  remove(2);
  rotate(*f.store);
  put(3, "r3");  // key 4 (active): 1 version
  REQUIRE(expected.size() == 20);
  const std::string fingerprints = dump(f.db_path(), kFingerprints);

  std::vector<store::ReencryptProgress> progress;
  store::ReencryptOptions options;
  options.batch_size = 4;
  options.on_progress = [&](const store::ReencryptProgress& p) { progress.push_back(p); };
  auto summary = f.store->reencrypt(options);
  INFO(summary.status().message());
  REQUIRE(summary.is_ok());
  CHECK((summary->reencrypted == 19 && summary->quarantined == 0 && summary->active == 4));
  CHECK(summary->retired == std::vector<std::uint32_t>{1, 2, 3});
  REQUIRE(progress.size() >= 5);  // 19 versions in batches of at most 4
  for (std::size_t i = 0; i < progress.size(); ++i) {
    CHECK(progress[i].total == 19);
    const std::int64_t before = i == 0 ? 0 : progress[i - 1].done;
    CHECK(progress[i].done > before);
    CHECK(progress[i].done - before <= 4);
  }
  CHECK(progress.back().done == 19);

  const store::KeyStatus status = status_of(*f.store);
  CHECK(status.active_version == 4);
  CHECK(keyring_of(status) == "1:retired:0 2:retired:0 3:retired:0 4:active:20");
  CHECK(status.quarantined.empty());
  CHECK(f.count("SELECT count(*) FROM versions WHERE tombstone = 0 AND key_id <> 4") == 0);
  for (const auto& [ref, value] : expected)
    CHECK(decrypted(*f.store, ref.first, ref.second) == value);
  CHECK(f.store->reveal(at("S1")).status().code() == StatusCode::kNotFound);
  CHECK(f.store->reveal(at("S2")).status().code() == StatusCode::kNotFound);
  CHECK(reveal(*f.store, "S0") + reveal(*f.store, "S3") + reveal(*f.store, "S9") ==
        "r1-value-0r3-value-3r2-value-9");
  CHECK(dump(f.db_path(), kFingerprints) == fingerprints);
  CHECK(audit_count(f.db_path(), "key.reencrypt") == 1);

  // A rerun (another process) finds nothing to move and records exactly one more run.
  progress.clear();
  auto again = f.reopen();
  auto rerun = again->reencrypt(options);
  REQUIRE(rerun.is_ok());
  CHECK((rerun->reencrypted == 0 && rerun->retired.empty() && progress.empty()));
  CHECK(audit_count(f.db_path(), "key.reencrypt") == 2);
  CHECK(decrypted(*again, "S4", 1) == "r0-value-4");
}

TEST_CASE("a version that fails authentication is quarantined and keeps its key", "[keys]") {
  StoreFixture f;
  write(*f.store, "A", "alpha");
  write(*f.store, "B", "bravo");
  write(*f.store, "V", "victim-1");
  write(*f.store, "V", "victim-2");
  rotate(*f.store);
  write(*f.store, "C", "charlie");
  rotate(*f.store);
  damage_envelope(f.db_path(), "V", 1);

  store::ReencryptOptions options;
  options.batch_size = 2;
  auto summary = f.store->reencrypt(options);
  INFO(summary.status().message());
  REQUIRE(summary.is_ok());
  CHECK((summary->quarantined == 1 && summary->reencrypted == 4));
  CHECK(summary->retired == std::vector<std::uint32_t>{2});
  store::KeyStatus status = status_of(*f.store);
  REQUIRE(status.quarantined.size() == 1);
  const store::QuarantinedVersion& q = status.quarantined[0];
  CHECK(q.address.reference() == "namespace:production/V");
  CHECK((q.version == 1 && q.key_id == 1 && !q.reason.empty()));
  CHECK(keyring_of(status) == "1:decrypt_only:1 2:retired:0 3:active:4");
  CHECK(reveal(*f.store, "A") + reveal(*f.store, "B") + reveal(*f.store, "C") +
            reveal(*f.store, "V") ==
        "alphabravocharlievictim-2");
  const auto damaged = f.store->decrypt(at("V"), 1);
  CHECK(damaged.status().code() == StatusCode::kIntegrity);
  CHECK(damaged.status().message().find("namespace:production/V@v1") != std::string::npos);
  CHECK(dump(f.db_path(), "SELECT outcome FROM audit WHERE action = 'key.reencrypt'") ==
        "quarantined|\n");

  auto rerun = f.reopen()->reencrypt(options);
  REQUIRE(rerun.is_ok());
  CHECK((rerun->quarantined == 0 && rerun->reencrypted == 0));
  status = status_of(*f.store);
  CHECK(status.quarantined.size() == 1);
  CHECK(f.count("SELECT count(*) FROM quarantine") == 1);
  CHECK(keyring_of(status) == "1:decrypt_only:1 2:retired:0 3:active:4");
}

TEST_CASE("a master-key rewrap leaves secret rows untouched and makes the old key stale",
          "[keys]") {
  StoreFixture f;
  write(*f.store, "A", "alpha");
  write(*f.store, "B", "bravo-1");
  write(*f.store, "B", "bravo-2");
  rotate(*f.store);
  write(*f.store, "C", "charlie");
  REQUIRE(f.store->remove(at("B")).is_ok());
  auto opened_before = f.reopen();
  const std::string versions = dump(f.db_path(), kEveryVersion);
  const std::string fingerprints = dump(f.db_path(), kFingerprints);

  auto generation = f.store->rewrap(master_key_from(test_master_key(42)));
  INFO(generation.status().message());
  REQUIRE(generation.is_ok());
  CHECK(*generation == 2);
  CHECK(dump(f.db_path(), kEveryVersion) == versions);
  CHECK(reveal(*f.store, "C") == "charlie");  // the same object goes on with the new KEK
  CHECK(audit_count(f.db_path(), "key.rewrap") == 1);
  CHECK(dump(f.db_path(), "SELECT generation, state FROM master_keys") ==
        "1|retired|\n2|current|\n");
  CHECK(f.count("SELECT count(*) FROM keyring WHERE kek_generation <> 2") == 0);
  // A process that opened the store before cannot add a key wrapped under the retired KEK.
  CHECK(opened_before->rotate_data_key(std::nullopt, "stale").status().code() == StatusCode::kKey);
  CHECK(f.count("SELECT count(*) FROM keyring WHERE purpose = 'data'") == 2);
  f.store.reset();
  opened_before.reset();

  const auto old_key = f.try_open(7);
  CHECK(old_key.status().code() == StatusCode::kKey);
  CHECK_THAT(old_key.status().message(),
             Catch::Contains("stale") && Catch::Contains("generation 1"));
  auto restarted = f.reopen(42);
  CHECK(reveal(*restarted, "A") + reveal(*restarted, "C") == "alphacharlie");
  CHECK(decrypted(*restarted, "B", 1) + decrypted(*restarted, "B", 2) == "bravo-1bravo-2");
  CHECK(status_of(*restarted).master_key_generation == 2);
  CHECK(dump(f.db_path(), kFingerprints) == fingerprints);
  auto verified = restarted->verify_audit(std::nullopt);
  INFO(verified.status().message());
  REQUIRE(verified.is_ok());
  CHECK((!verified->first_bad_seq.has_value() && verified->records > 0));

  // Refused: the current key (a no-op that would retire the key in use) and a retired one.
  auto keys_and_rows = [&] {
    return dump(f.db_path(), "SELECT * FROM keyring ORDER BY key_id") +
           dump(f.db_path(), "SELECT * FROM master_keys ORDER BY generation") +
           dump(f.db_path(), kEveryVersion);
  };
  const std::string before = keys_and_rows();
  CHECK(restarted->rewrap(master_key_from(test_master_key(42))).status().code() ==
        StatusCode::kBadInput);
  const auto back = restarted->rewrap(master_key_from(test_master_key(7)));
  CHECK(back.status().code() == StatusCode::kBadInput);
  CHECK(back.status().message().find("generation 1") != std::string::npos);
  CHECK(keys_and_rows() == before);
  CHECK(audit_count(f.db_path(), "key.rewrap") == 1);
  CHECK(reveal(*f.reopen(42), "A") == "alpha");
}

TEST_CASE("a nonce budget of 10 in blocks of 4: the 11th encryption uses a new key", "[keys]") {
  BudgetStore b(10, 4);
  for (int i = 1; i <= 10; ++i) {
    INFO("encryption " << i);
    CHECK(write(*b.store, "K" + std::to_string(i), "v" + std::to_string(i)).meta.key_id == 1);
    CHECK(b.budget() == std::to_string(std::min((i + 3) / 4 * 4, 10)) + "/" + std::to_string(i));
  }
  CHECK(write(*b.store, "K11", "v11").meta.key_id == 2);
  const store::KeyStatus status = status_of(*b.store);
  CHECK(keyring_of(status) == "1:decrypt_only:10 2:active:1");
  REQUIRE(status.keys.size() == 2);
  CHECK((status.keys[0].encryptions == 10 && status.keys[0].max_encryptions == 10));
  CHECK(status.keys[1].encryptions == 1);
  CHECK(audit_count(b.db(), "key.rotate") == 1);
  CHECK(number(b.db(),
               "SELECT count(*) FROM audit WHERE action = 'key.rotate' AND "
               "detail LIKE '%nonce budget%'") == 1);
  for (int i = 1; i <= 11; ++i)
    CHECK(reveal(*b.store, "K" + std::to_string(i)) == "v" + std::to_string(i));
}

TEST_CASE("nonce reservations survive a restart: a new process starts a fresh block", "[keys]") {
  BudgetStore b(100, 4);
  write(*b.store, "A", "1");
  write(*b.store, "B", "2");
  CHECK(b.budget() == "4/2");
  b.store.reset();  // the process ends with 2 encryptions of its block unused
  auto second = b.open();
  write(*second, "C", "3");
  CHECK(b.budget() == "8/3");  // never reuses the first process's block
  auto third = b.open();       // two live processes, each with its own block
  write(*third, "D", "4");
  CHECK(b.budget() == "12/4");
  write(*second, "E", "5");
  CHECK(b.budget() == "12/5");
}

TEST_CASE("a write rolled back after reserving does not keep the reserved block", "[keys]") {
  // Two real paths fail after the reservation: the RNG failing on the nonce, and an import whose
  // later entry hits a damaged row. (A version conflict fails before reserving.)
  SwitchableRandom rng;
  BudgetStore b(100, 4, &rng);
  for (int i = 1; i <= 4; ++i) write(*b.store, "K" + std::to_string(i), "v");
  REQUIRE(b.budget() == "4/4");  // the block is used up: the next write reserves in its transaction
  SECTION("the RNG fails when sealing") {
    rng.failing = true;
    CHECK_FALSE(b.store->set(set_request(kProd, "K1", "w")).is_ok());
    rng.failing = false;
  }
  SECTION("an import's later entry is a damaged row") {
    exec(b.db(),
         "UPDATE versions SET tags = x'ff' WHERE secret_id = (SELECT id FROM secrets WHERE name = "
         "'K4')");
    std::vector<store::ImportEntry> entries;
    entries.push_back({"NEW", SecretValue("n")});
    entries.push_back({"K4", SecretValue("w")});
    CHECK(b.store->import(kProd, std::move(entries)).status().code() == StatusCode::kIntegrity);
    CHECK(b.store->get(at("NEW")).status().code() == StatusCode::kNotFound);
  }
  CHECK(b.budget() == "4/4");
  write(*b.store, "K2", "after");
  CHECK(b.budget() == "8/5");  // a fresh block: the rolled-back one was never recorded
}

TEST_CASE("100,000 envelope seals across 4 threads never repeat a nonce", "[keys][crypto]") {
  constexpr std::size_t kThreads = 4, kPerThread = 25'000;
  const SecureKey dek = test_master_key(11);
  const store::Bytes uid(store::kSecretUidSize, 0x5a);
  const store::Bytes context = store::secret_aad_context(uid, "global", "N", uid, 1);
  using Nonce = std::array<std::uint8_t, store::kNonceSize>;
  std::vector<Nonce> all(kThreads * kPerThread);  // thread t fills its own slice
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      OsRandom random;  // each thread its own source
      for (std::size_t i = 0; i < kPerThread && errors[t].empty(); ++i) {
        auto sealed = store::seal_envelope(dek, 1, store::kLabelSecretValue, context,
                                           store::as_bytes("x"), random);
        auto parsed = sealed.is_ok() ? store::parse_envelope(*sealed) : sealed.status();
        if (!parsed.is_ok()) errors[t] = parsed.status().message();
        if (parsed.is_ok())
          std::copy(parsed->nonce.begin(), parsed->nonce.end(), all[t * kPerThread + i].begin());
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors) CHECK(e.empty());
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  CHECK(std::find(all.begin(), all.end(), Nonce{}) == all.end());
}

TEST_CASE("a failing random source fails closed: set and rotate write nothing", "[keys][crypto]") {
  StoreFixture f;
  SwitchableRandom rng;
  f.options.random = &rng;
  auto s = f.reopen();
  write(*s, "EXISTING", "before");
  auto state = [&] {
    std::string all = dump(f.db_path(), kEveryVersion);
    for (const char* t : {"keyring", "secrets", "audit", "meta"}) {
      all += dump(f.db_path(), std::string("SELECT * FROM ") + t + " ORDER BY 1");
    }
    return all;
  };
  const std::string before = state();
  rng.failing = true;
  CHECK(s->set(set_request(kProd, "EXISTING", "after")).status().code() == StatusCode::kRuntime);
  CHECK(s->set(set_request(kProd, "NEW", "fresh")).status().code() == StatusCode::kRuntime);
  CHECK_FALSE(s->rotate_data_key(std::nullopt, "test").is_ok());
  CHECK(state() == before);
  rng.failing = false;
  CHECK(reveal(*s, "EXISTING") == "before");
  CHECK(s->get(at("NEW")).status().code() == StatusCode::kNotFound);
  CHECK(write(*s, "EXISTING", "after").meta.version == 2);
}

TEST_CASE("threads writing, rotating and re-encrypting on one store lose no update", "[keys]") {
  // One Store object per thread: 2 writers (200 sets over 50 secrets, 20 compare-and-swap
  // increments of COUNTER), 2 rotators (20 attempts, a re-encryption after every 5th).
  StoreFixture f;
  f.options.busy_timeout_ms = 60000;
  write(*f.store, "COUNTER", "0");
  std::vector<std::unique_ptr<store::Store>> stores;
  for (int i = 0; i < 4; ++i) stores.push_back(f.reopen());
  std::vector<std::string> errors(4);
  std::atomic<int> rotated{0};
  std::latch start(4);
  auto writer = [&](std::size_t w) {
    store::Store& s = *stores[w];
    std::string& error = errors[w];
    start.arrive_and_wait();
    for (int n = 0; n < 200 && error.empty(); ++n) {
      const std::string name = "W" + std::to_string(w) + "_" + std::to_string(n % 50);
      auto r = s.set(set_request(kProd, name, "w" + std::to_string(w) + "-" + std::to_string(n)));
      if (!r.is_ok()) error = name + ": " + r.status().message();
      while (n % 10 == 0 && error.empty()) {  // COUNTER += 1: read, write expecting that version
        auto head = s.get(at("COUNTER"));
        auto value = head.is_ok() ? s.decrypt(at("COUNTER"), head->version)
                                  : Result<SecretValue>(head.status());
        if (!value.is_ok()) error = "COUNTER: " + value.status().message();
        if (!value.is_ok()) break;
        auto req = set_request(kProd, "COUNTER",
                               std::to_string(std::stoi(std::string(value->reveal())) + 1));
        req.expected_version = head->version;
        auto written = s.set(std::move(req));
        if (written.is_ok()) break;
        if (written.status().message().find("version conflict") == std::string::npos)
          error = written.status().message();
      }
    }
  };
  auto rotator = [&](std::size_t r) {
    store::Store& s = *stores[r];
    start.arrive_and_wait();
    for (int i = 0; i < 20 && errors[r].empty(); ++i) {
      auto seen = s.key_status();
      auto result = seen.is_ok() ? s.rotate_data_key(seen->active_version, "thread")
                                 : Result<store::RotateResult>(seen.status());
      if (!result.is_ok()) errors[r] = "rotate: " + result.status().message();
      if (result.is_ok() && result->rotated) ++rotated;
      if (i % 5 != 4) continue;
      auto moved = s.reencrypt({16, {}});
      if (!moved.is_ok()) errors[r] = "reencrypt: " + moved.status().message();
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < 2; ++i) threads.emplace_back(writer, i);
  for (std::size_t i = 2; i < 4; ++i) threads.emplace_back(rotator, i);
  for (auto& t : threads) t.join();
  for (const auto& e : errors) CHECK(e.empty());

  const store::KeyStatus status = status_of(*f.store);
  CHECK(rotated >= 20);  // a rotator loses only to a rotation by the other, inside its attempt
  CHECK(status.keys.size() == static_cast<std::size_t>(1 + rotated));
  CHECK(f.count("SELECT count(*) FROM keyring WHERE purpose = 'data' AND state = 'active'") == 1);
  CHECK(audit_count(f.db_path(), "key.rotate") == rotated);
  CHECK(status.quarantined.empty());
  CHECK(reveal(*f.store, "COUNTER") == "40");
  for (int w = 0; w < 2; ++w) {
    for (int n = 0; n < 50; ++n) {
      const std::string name = "W" + std::to_string(w) + "_" + std::to_string(n);
      CHECK(reveal(*f.store, name) == "w" + std::to_string(w) + "-" + std::to_string(150 + n));
      CHECK(f.store->get(at(name))->version == 4);
    }
  }
  const Rows all = rows(f.db_path(),
                        "SELECT s.name, v.version FROM versions v JOIN secrets s "
                        "ON s.id = v.secret_id WHERE v.tombstone = 0");
  CHECK(all.size() == std::size_t{441});  // 400 sets, 40 increments, the first COUNTER
  for (const auto& row : all) CHECK(f.store->decrypt(at(row[0]), std::stoll(row[1])).is_ok());
  REQUIRE(f.store->reencrypt({}).is_ok());
  CHECK(f.count("SELECT count(*) FROM versions WHERE key_id <> " +
                std::to_string(status.active_version)) == 0);
}
