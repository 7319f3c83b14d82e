// Behaviour of the SQLite store: versions, carry-over, tombstones, rollback, purge, import, expiry.
#include <catch2/catch.hpp>

#include "tests/store/sqlite/store_fixture.hpp"

using namespace lockbox;
using lockbox::testing::set_request;
using lockbox::testing::StoreFixture;

namespace {
const Scope kProd = Scope::ns("production");
store::SecretAddress addr(const std::string& name, const Scope& scope = Scope::global()) {
  return {scope, name};
}
std::string reveal(store::Store& s, const store::SecretAddress& a) {
  auto r = s.reveal(a);
  REQUIRE(r.is_ok());
  return std::string(r->value.reveal());
}
}  // namespace

TEST_CASE("set appends versions and get returns the head", "[store][sqlite]") {
  StoreFixture f;
  auto first = f.store->set(set_request(kProd, "DB_URL", "one"));
  REQUIRE(first.is_ok());
  CHECK(first->outcome == store::WriteOutcome::kCreated);
  CHECK(first->meta.version == 1);
  f.clock.advance(1000);
  auto second = f.store->set(set_request(kProd, "DB_URL", "two"));
  REQUIRE(second.is_ok());
  CHECK(second->outcome == store::WriteOutcome::kUpdated);
  CHECK(second->meta.version == 2);

  auto head = f.store->get(addr("DB_URL", kProd));
  REQUIRE(head.is_ok());
  CHECK(head->version == 2);
  CHECK(head->created_at == first->meta.updated_at);
  CHECK(head->updated_at == first->meta.updated_at + 1000);
  CHECK(head->fingerprint.size() == 16);
  CHECK(reveal(*f.store, addr("DB_URL", kProd)) == "two");
  CHECK(f.store->get(addr("DB_URL", kProd), 1)->fingerprint == first->meta.fingerprint);
  CHECK(f.store->get(addr("DB_URL", kProd), 3).status().code() == StatusCode::kNotFound);
  CHECK(f.store->get(addr("DB_URL")).status().code() == StatusCode::kNotFound);
}

TEST_CASE("values survive reopening the store", "[store][sqlite]") {
  StoreFixture f;
  REQUIRE(f.store->set(set_request(Scope::function("default", "fn"), "K", "multi\nline ${X} $(y)")).is_ok());
  f.store.reset();
  auto reopened = f.reopen();
  CHECK(reveal(*reopened, addr("K", Scope::function("default", "fn"))) == "multi\nline ${X} $(y)");
}

TEST_CASE("an empty value is stored and read back", "[store][sqlite]") {
  StoreFixture f;
  REQUIRE(f.store->set(set_request(Scope::global(), "EMPTY", "")).is_ok());
  CHECK(reveal(*f.store, addr("EMPTY")).empty());
}

TEST_CASE("equal values share a fingerprint only within one secret", "[store][sqlite]") {
  StoreFixture f;
  const auto a1 = f.store->set(set_request(kProd, "A", "same"))->meta.fingerprint;
  const auto a2 = f.store->set(set_request(kProd, "A", "same"))->meta.fingerprint;
  const auto b = f.store->set(set_request(kProd, "B", "same"))->meta.fingerprint;
  const auto g = f.store->set(set_request(Scope::global(), "A", "same"))->meta.fingerprint;
  CHECK(a1 == a2);
  CHECK(a1 != b);
  CHECK(a1 != g);
}

TEST_CASE("unset fields carry over but expiry belongs to its version", "[store][sqlite]") {
  StoreFixture f;
  auto req = set_request(kProd, "TOKEN", "v1");
  req.description = "payment token";
  req.tags = std::vector<std::string>{"payments", "pci"};
  req.metadata = std::map<std::string, std::string>{{"owner", "team-a"}};
  req.expires_at = f.clock.now() + 3600'000;
  REQUIRE(f.store->set(std::move(req)).is_ok());
  auto second = f.store->set(set_request(kProd, "TOKEN", "v2"));
  REQUIRE(second.is_ok());
  CHECK(second->meta.description == "payment token");
  CHECK(second->meta.tags == std::vector<std::string>{"payments", "pci"});
  CHECK(second->meta.metadata.at("owner") == "team-a");
  CHECK_FALSE(second->meta.expires_at.has_value());
  CHECK(f.store->get(addr("TOKEN", kProd), 1)->expires_at == f.clock.now() + 3600'000);
}

TEST_CASE("expected_version guards against lost updates", "[store][sqlite]") {
  StoreFixture f;
  auto req = set_request(kProd, "X", "a");
  req.expected_version = 0;
  REQUIRE(f.store->set(std::move(req)).is_ok());
  auto stale = set_request(kProd, "X", "b");
  stale.expected_version = 0;
  const auto conflict = f.store->set(std::move(stale));
  CHECK(conflict.status().code() == StatusCode::kBadInput);
  CHECK(conflict.status().message().find("version conflict") != std::string::npos);
  auto fresh = set_request(kProd, "X", "c");
  fresh.expected_version = 1;
  CHECK(f.store->set(std::move(fresh)).is_ok());
}

TEST_CASE("delete appends a tombstone that rollback brings back", "[store][sqlite]") {
  StoreFixture f;
  REQUIRE(f.store->set(set_request(kProd, "K", "keep-me")).is_ok());
  auto tomb = f.store->remove(addr("K", kProd));
  REQUIRE(tomb.is_ok());
  CHECK(tomb->tombstone);
  CHECK(tomb->version == 2);
  const auto gone = f.store->reveal(addr("K", kProd));
  CHECK(gone.status().code() == StatusCode::kNotFound);
  CHECK(gone.status().message().find("deleted at v2") != std::string::npos);
  CHECK(f.store->remove(addr("K", kProd)).status().code() == StatusCode::kNotFound);
  CHECK(f.store->list({}).value().empty());
  store::ListFilter with_deleted;
  with_deleted.include_deleted = true;
  CHECK(f.store->list(with_deleted).value().size() == 1);

  CHECK(f.store->rollback(addr("K", kProd), 2).status().code() == StatusCode::kBadInput);
  auto back = f.store->rollback(addr("K", kProd), 1);
  REQUIRE(back.is_ok());
  CHECK(back->version == 3);
  CHECK(reveal(*f.store, addr("K", kProd)) == "keep-me");
  const auto hist = f.store->history(addr("K", kProd));
  REQUIRE(hist->size() == 3);
  CHECK((*hist)[1].tombstone);
  CHECK((*hist)[2].fingerprint == (*hist)[0].fingerprint);
}

TEST_CASE("rollback carries the old version's value and metadata", "[store][sqlite]") {
  StoreFixture f;
  auto req = set_request(kProd, "K", "old");
  req.description = "first";
  REQUIRE(f.store->set(std::move(req)).is_ok());
  auto req2 = set_request(kProd, "K", "new");
  req2.description = "second";
  REQUIRE(f.store->set(std::move(req2)).is_ok());
  auto back = f.store->rollback(addr("K", kProd), 1);
  REQUIRE(back.is_ok());
  CHECK(back->description == "first");
  CHECK(reveal(*f.store, addr("K", kProd)) == "old");
}

TEST_CASE("purge destroys every version and a recreated secret starts over", "[store][sqlite]") {
  StoreFixture f;
  REQUIRE(f.store->set(set_request(kProd, "K", "canary-purged-value")).is_ok());
  REQUIRE(f.store->set(set_request(kProd, "K", "canary-purged-value2")).is_ok());
  REQUIRE(f.store->purge(addr("K", kProd)).is_ok());
  CHECK(f.store->get(addr("K", kProd)).status().code() == StatusCode::kNotFound);
  CHECK(f.store->purge(addr("K", kProd)).code() == StatusCode::kNotFound);
  CHECK(f.count("SELECT count(*) FROM versions") == 0);
  auto again = f.store->set(set_request(kProd, "K", "fresh"));
  REQUIRE(again.is_ok());
  CHECK(again->meta.version == 1);
}

TEST_CASE("import writes all or nothing and skips unchanged values", "[store][sqlite]") {
  StoreFixture f;
  REQUIRE(f.store->set(set_request(kProd, "SAME", "s")).is_ok());
  REQUIRE(f.store->set(set_request(kProd, "CHANGED", "old")).is_ok());
  std::vector<store::ImportEntry> bad;
  bad.push_back({"NEW", SecretValue("n")});
  bad.push_back({"BROKEN", SecretValue(std::string("nul\0byte", 8))});
  const auto before = f.count("SELECT count(*) FROM versions");
  CHECK(f.store->import(kProd, std::move(bad)).status().code() == StatusCode::kBadInput);
  CHECK(f.count("SELECT count(*) FROM versions") == before);

  std::vector<store::ImportEntry> good;
  good.push_back({"SAME", SecretValue("s")});
  good.push_back({"CHANGED", SecretValue("new")});
  good.push_back({"NEW", SecretValue("first")});
  good.push_back({"NEW", SecretValue("last wins")});
  auto summary = f.store->import(kProd, std::move(good));
  REQUIRE(summary.is_ok());
  CHECK(summary->created == 1);
  CHECK(summary->updated == 1);
  CHECK(summary->unchanged == 1);
  CHECK(reveal(*f.store, addr("NEW", kProd)) == "last wins");
  CHECK(f.store->get(addr("SAME", kProd))->version == 1);
}

TEST_CASE("list filters by scope, kind, namespace and tag", "[store][sqlite]") {
  StoreFixture f;
  auto tagged = set_request(Scope::function("production", "mail"), "T", "x");
  tagged.tags = std::vector<std::string>{"mail"};
  REQUIRE(f.store->set(std::move(tagged)).is_ok());
  REQUIRE(f.store->set(set_request(kProd, "N", "x")).is_ok());
  REQUIRE(f.store->set(set_request(Scope::ns("staging"), "N", "x")).is_ok());
  REQUIRE(f.store->set(set_request(Scope::global(), "G", "x")).is_ok());
  store::ListFilter by_ns;
  by_ns.ns = "production";
  CHECK(f.store->list(by_ns)->size() == 2);
  store::ListFilter by_kind;
  by_kind.kind = ScopeKind::kNamespace;
  CHECK(f.store->list(by_kind)->size() == 2);
  store::ListFilter by_scope;
  by_scope.scope = Scope::global();
  CHECK(f.store->list(by_scope)->size() == 1);
  store::ListFilter by_tag;
  by_tag.tag = "mail";
  CHECK(f.store->list(by_tag)->size() == 1);
  CHECK(f.store->list({})->size() == 4);
}

TEST_CASE("heads_in_scopes returns live heads of the given scopes only", "[store][sqlite]") {
  StoreFixture f;
  REQUIRE(f.store->set(set_request(kProd, "A", "1")).is_ok());
  REQUIRE(f.store->set(set_request(kProd, "B", "1")).is_ok());
  REQUIRE(f.store->remove(addr("B", kProd)).is_ok());
  REQUIRE(f.store->set(set_request(Scope::ns("staging"), "A", "1")).is_ok());
  REQUIRE(f.store->set(set_request(Scope::global(), "C", "1")).is_ok());
  auto heads = f.store->heads_in_scopes({kProd, Scope::global()});
  REQUIRE(heads.is_ok());
  REQUIRE(heads->size() == 2);
  CHECK((*heads)[0].name == "A");
  CHECK((*heads)[1].name == "C");
}

TEST_CASE("the change counter increases with every secret write", "[store][sqlite]") {
  StoreFixture f;
  const auto c0 = f.store->change_counter().value();
  REQUIRE(f.store->set(set_request(kProd, "A", "1")).is_ok());
  const auto c1 = f.store->change_counter().value();
  CHECK(c1 > c0);
  REQUIRE(f.store->remove(addr("A", kProd)).is_ok());
  CHECK(f.store->change_counter().value() > c1);
  // Another process sees it too.
  CHECK(f.reopen()->change_counter().value() == f.store->change_counter().value());
}

TEST_CASE("bad input is refused and changes nothing", "[store][sqlite]") {
  StoreFixture f;
  const auto before = f.count("SELECT count(*) FROM versions");
  CHECK(f.store->set(set_request(kProd, "bad.name", "v")).status().code() == StatusCode::kBadInput);
  CHECK(f.store->set(set_request(kProd, "", "v")).status().code() == StatusCode::kBadInput);
  CHECK(f.store->set(set_request(kProd, std::string(257, 'A'), "v")).status().code() == StatusCode::kBadInput);
  CHECK(f.store->set(set_request(kProd, "BIG", std::string(65537, 'x'))).status().code() == StatusCode::kBadInput);
  CHECK(f.store->set(set_request(kProd, "NUL", std::string("a\0b", 3))).status().code() == StatusCode::kBadInput);
  CHECK(f.store->set(set_request(kProd, "UTF", "\xff\xfe")).status().code() == StatusCode::kBadInput);
  auto desc = set_request(kProd, "D", "v");
  desc.description = std::string(1025, 'd');
  CHECK(f.store->set(std::move(desc)).status().code() == StatusCode::kBadInput);
  auto tags = set_request(kProd, "T", "v");
  tags.tags = std::vector<std::string>(33, "t");
  CHECK(f.store->set(std::move(tags)).status().code() == StatusCode::kBadInput);
  CHECK(f.count("SELECT count(*) FROM versions") == before);
  CHECK(f.store->set(set_request(kProd, "EXACT", std::string(65536, 'x'))).is_ok());
}
