// Unit tests of the API's pure pieces: group commit, the failure limiter, request parsing and the
// role rules (no socket, no process).
#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <thread>

#include "api/access.hpp"
#include "api/audit_batcher.hpp"
#include "api/auth_limiter.hpp"
#include "api/request.hpp"
#include "api/resolve_cache.hpp"

namespace lockbox::api {

TEST_CASE("AuditBatcher: concurrent appends share commits and all get their status", "[service]") {
  std::atomic<int> commits{0}, records{0};
  AuditBatcher batcher([&](const std::vector<store::AuditEvent>& events, bool) {
    ++commits;
    records += static_cast<int>(events.size());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a commit's fsync
    return Status::ok();
  });
  constexpr int kThreads = 8, kEach = 50;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        if (batcher.append({"resolve", "global", "ok", "", "token:t"}, false).is_ok()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == kThreads * kEach);
  CHECK(records == kThreads * kEach);
  CHECK(batcher.records() == static_cast<std::uint64_t>(kThreads * kEach));
  CHECK(commits < kThreads * kEach / 2);  // grouped
}

TEST_CASE("AuditBatcher: append_async returns before the commit and calls back with its status",
          "[service]") {
  std::promise<void> gate;
  auto opened = gate.get_future().share();
  AuditBatcher batcher([opened](const std::vector<store::AuditEvent>&, bool) {
    opened.wait();  // the commit cannot finish before the caller has returned
    return Status::ok();
  });
  std::promise<Status> done;
  batcher.append_async({"resolve", "global", "ok", ""}, false,
                       [&done](const Status& st) { done.set_value(st); });
  auto result = done.get_future();
  CHECK(result.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
  gate.set_value();
  REQUIRE(result.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  CHECK(result.get().is_ok());
}

TEST_CASE("AuditBatcher: records still pending at destruction are committed and called back",
          "[service]") {
  std::atomic<int> committed{0}, called{0};
  {
    AuditBatcher batcher([&](const std::vector<store::AuditEvent>& events, bool) {
      committed += static_cast<int>(events.size());
      return Status::ok();
    });
    for (int i = 0; i < 20; ++i)
      batcher.append_async({"resolve", "global", "ok", ""}, false,
                           [&](const Status&) { ++called; });
  }
  CHECK(committed == 20);
  CHECK(called == 20);
}

TEST_CASE("AuditBatcher: a failed commit fails every record of its batch", "[service]") {
  AuditBatcher batcher(
      [](const std::vector<store::AuditEvent>&, bool) { return runtime_error("disk full"); });
  const Status st = batcher.append({"secret.reveal", "global/A", "ok", "v1"}, true);
  CHECK(st.code() == StatusCode::kRuntime);
}

TEST_CASE("AuditBatcher: a batch is durable when any record in it asks to be", "[service]") {
  std::vector<bool> durability;
  AuditBatcher batcher([&](const std::vector<store::AuditEvent>&, bool durable) {
    durability.push_back(durable);
    return Status::ok();
  });
  CHECK(batcher.append({"resolve", "global", "ok", ""}, false).is_ok());
  CHECK(batcher.append({"secret.reveal", "global/A", "ok", ""}, true).is_ok());
  CHECK(durability == std::vector<bool>{false, true});
}

TEST_CASE("AuditBatcher: records queued during a commit form the next batch, durable if one asks",
          "[service]") {
  std::promise<void> gate;
  auto opened = gate.get_future().share();
  std::promise<void> first_started;
  std::vector<std::pair<std::size_t, bool>> batches;  // (records, durable), committer thread only
  AuditBatcher batcher([&, opened](const std::vector<store::AuditEvent>& events, bool durable) {
    if (batches.empty()) {
      first_started.set_value();
      opened.wait();  // hold the first commit until the others are queued
    }
    batches.emplace_back(events.size(), durable);
    return Status::ok();
  });
  std::promise<void> all_done;
  std::atomic<int> left{4};
  auto done = [&](const Status& st) {
    CHECK(st.is_ok());
    if (--left == 0) all_done.set_value();
  };
  batcher.append_async({"resolve", "global", "ok", "first"}, false, done);
  REQUIRE(first_started.get_future().wait_for(std::chrono::seconds(5)) ==
          std::future_status::ready);
  batcher.append_async({"resolve", "global", "ok", "a"}, false, done);
  batcher.append_async({"secret.reveal", "global/A", "ok", "b"}, true, done);
  batcher.append_async({"resolve", "global", "ok", "c"}, false, done);
  gate.set_value();
  REQUIRE(all_done.get_future().wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  REQUIRE(batches.size() == 2);
  CHECK(batches[0] == std::pair<std::size_t, bool>{1, false});
  CHECK(batches[1] == std::pair<std::size_t, bool>{3, true});
}

TEST_CASE("AuthLimiter: blocks an address after the limit until its window ends", "[service]") {
  AuthLimiter limiter(3, 60'000);
  CHECK(limiter.blocked_for("10.0.0.1", 0) == 0);
  CHECK(limiter.record_failure("10.0.0.1", 0) == AuthLimiter::Effect::kNone);
  CHECK(limiter.record_failure("10.0.0.1", 1000) == AuthLimiter::Effect::kNone);
  CHECK(limiter.blocked_for("10.0.0.1", 1000) == 0);
  CHECK(limiter.record_failure("10.0.0.1", 2000) == AuthLimiter::Effect::kBlocksAddress);
  CHECK(limiter.blocked_for("10.0.0.1", 2000) == 58);
  CHECK(limiter.blocked_for("10.0.0.2", 2000) == 0);    // per address
  CHECK(limiter.blocked_for("10.0.0.1", 60'000) == 0);  // window over
  AuthLimiter tiny(1, 1000, 2);                         // bounded table: the oldest goes first
  tiny.record_failure("a", 0);
  tiny.record_failure("b", 10);
  tiny.record_failure("c", 20);
  CHECK(tiny.blocked_for("a", 30) == 0);
  CHECK(tiny.blocked_for("c", 30) > 0);
}

TEST_CASE("AuthLimiter: a global budget blocks every address once many addresses failed",
          "[service]") {
  AuthLimiter limiter(10, 60'000, 65536, 5);
  for (int i = 1; i <= 4; ++i) {
    CHECK(limiter.record_failure("127.0.0." + std::to_string(i), 1000) ==
          AuthLimiter::Effect::kNone);
  }
  CHECK(limiter.blocked_for("127.0.0.9", 1000) == 0);
  CHECK(limiter.record_failure("127.0.0.5", 1000) == AuthLimiter::Effect::kExhaustsBudget);
  CHECK(limiter.blocked_for("127.0.0.9", 1000) == 60);   // an address that never failed
  CHECK(limiter.blocked_for("127.0.0.9", 61'000) == 0);  // the window began at the first failure
  CHECK(limiter.record_failure("127.0.0.9", 61'000) == AuthLimiter::Effect::kNone);  // a new window
}

TEST_CASE("AuthLimiter: IPv6 addresses count per /64", "[service]") {
  AuthLimiter limiter(2, 60'000);
  limiter.record_failure("2001:db8:1:2::1", 0);
  CHECK(limiter.record_failure("2001:db8:1:2:ffff::9", 0) ==
        AuthLimiter::Effect::kBlocksAddress);  // same /64
  CHECK(limiter.blocked_for("2001:db8:1:2::77", 0) > 0);
  CHECK(limiter.blocked_for("2001:db8:1:3::1", 0) == 0);  // another /64
}

TEST_CASE("ResolveCache: counter and expiry invalidate; entries and bytes are bounded",
          "[service]") {
  auto entry = [](std::int64_t counter, std::size_t bytes,
                  std::optional<UnixMillis> until = std::nullopt) {
    return ResolveCache::Entry{counter, until, SecretValue(std::string(bytes, 'v')), "detail", 1};
  };
  ResolveCache cache(3, 100);
  cache.put("a", entry(1, 10));
  CHECK(cache.find("a", 1, 0).has_value());
  CHECK_FALSE(cache.find("a", 2, 0).has_value());  // the store changed: dropped
  CHECK_FALSE(cache.find("a", 1, 0).has_value());
  cache.put("b", entry(1, 10, 500));
  CHECK(cache.find("b", 1, 499).has_value());
  CHECK_FALSE(cache.find("b", 1, 500).has_value());  // a secret expired
  cache.put("c", entry(1, 40));
  cache.put("d", entry(1, 40));
  cache.put("e", entry(1, 40));  // 120 bytes > 100: the least recently used goes
  CHECK_FALSE(cache.find("c", 1, 0).has_value());
  CHECK(cache.find("d", 1, 0).has_value());
  CHECK(cache.find("e", 1, 0).has_value());
  cache.put("big", entry(1, 101));  // over the whole budget: not kept
  CHECK_FALSE(cache.find("big", 1, 0).has_value());
  cache.put("f", entry(1, 1));
  cache.put("g", entry(1, 1));  // 4 entries > 3
  CHECK_FALSE(cache.find("d", 1, 0).has_value());
}

TEST_CASE("ResolveCache: an entry is reused for at most kMaxAgeMs, whatever the counter says",
          "[service]") {
  ResolveCache cache;
  const UnixMillis t0 = 1'000'000;
  cache.put(
      "a", ResolveCache::Entry{7, std::nullopt, SecretValue(std::string("body")), "detail", 1, t0});
  CHECK(cache.find("a", 7, t0).has_value());
  CHECK(cache.find("a", 7, t0 + ResolveCache::kMaxAgeMs - 1).has_value());
  CHECK_FALSE(cache.find("a", 7, t0 + ResolveCache::kMaxAgeMs).has_value());  // too old: dropped
  CHECK_FALSE(cache.find("a", 7, t0).has_value());
  cache.put(
      "b", ResolveCache::Entry{7, std::nullopt, SecretValue(std::string("body")), "detail", 1, t0});
  CHECK_FALSE(cache.find("b", 7, t0 - 1).has_value());  // the clock went back: not trusted
}

TEST_CASE("parse_target decodes the path and query", "[service]") {
  auto t = parse_target("/api/v1/admin/secrets/A%5FB?scope=namespace%3Aprod&limit=5&flag");
  REQUIRE(t.is_ok());
  CHECK(t->path == "/api/v1/admin/secrets/A%5FB");
  CHECK(t->segments == std::vector<std::string>{"api", "v1", "admin", "secrets", "A_B"});
  CHECK(t->query.at("scope") == "namespace:prod");
  CHECK(t->query.at("limit") == "5");
  CHECK(t->query.at("flag").empty());
  CHECK_FALSE(parse_target("/x?a=%zz").is_ok());
  CHECK_FALSE(parse_target("/x%00").is_ok());
  CHECK_FALSE(parse_target("/x%4").is_ok());
  CHECK_FALSE(parse_target("x").is_ok());
}

TEST_CASE("parse_target splits the path before decoding, so %2F stays inside its segment",
          "[service]") {
  auto t = parse_target("/api/v1/admin/secrets/A%2Fvalue");
  REQUIRE(t.is_ok());
  CHECK(t->segments == std::vector<std::string>{"api", "v1", "admin", "secrets", "A/value"});
}

TEST_CASE("parse_target refuses a query key given twice", "[service]") {
  auto t = parse_target("/api/v1/admin/secrets?scope=global&scope=namespace%3Aprod");
  REQUIRE_FALSE(t.is_ok());
  CHECK(t.status().code() == StatusCode::kBadInput);
  CHECK(t.status().message().find("prod") == std::string::npos);
  CHECK_FALSE(parse_target("/x?a=1&a").is_ok());
  CHECK(parse_target("/x?a=1&b=1").is_ok());
}

TEST_CASE("JsonBody: types, unknown fields, null and malformed input", "[service]") {
  auto body = JsonBody::parse(
      R"({"name":"A","value":"v","tags":["x"],"metadata":{"k":"v"},"n":3,"z":null})");
  REQUIRE(body.is_ok());
  const JsonBody& b = **body;
  CHECK(b.string("name")->value() == "A");
  CHECK(b.secret("value")->value().reveal() == "v");
  CHECK(b.string_list("tags")->value() == std::vector<std::string>{"x"});
  CHECK(b.string_map("metadata")->value().at("k") == "v");
  CHECK(b.integer("n")->value() == 3);
  CHECK_FALSE(b.string("z")->has_value());
  CHECK(b.is_null("z"));
  CHECK_FALSE(b.is_null("missing"));
  CHECK(b.string("n").status().code() == StatusCode::kBadInput);
  CHECK(b.integer("name").status().code() == StatusCode::kBadInput);
  CHECK(b.string_list("metadata").status().code() == StatusCode::kBadInput);
  CHECK_FALSE(b.check_fields({"name", "value"}).is_ok());
  CHECK(b.check_fields({"name", "value", "tags", "metadata", "n", "z"}).is_ok());
  CHECK_FALSE(JsonBody::parse("{").is_ok());
  CHECK_FALSE(JsonBody::parse("[]").is_ok());
  CHECK_FALSE(JsonBody::parse("{} extra").is_ok());
}

TEST_CASE("roles: admin does everything, purge is admin only, unknown roles nothing", "[service]") {
  policies::Policy policy;
  policy.roles["devops"].read = {"namespace:production", "function:production/*"};
  policy.roles["devops"].write = {"namespace:production"};
  policy.roles["all"].resolve = {"*"};
  const Principal admin = principal_for("a", "admin", policy);
  const Principal devops = principal_for("d", "devops", policy);
  const Principal all = principal_for("x", "all", policy);
  const Principal gone = principal_for("g", "deleted-role", policy);
  CHECK(allowed(admin, Permission::kPurge, Scope::global()));
  CHECK(allowed(devops, Permission::kRead, Scope::ns("production")));
  CHECK(allowed(devops, Permission::kRead, Scope::function("production", "api")));
  CHECK_FALSE(allowed(devops, Permission::kWrite, Scope::function("production", "api")));
  CHECK_FALSE(allowed(devops, Permission::kRead, Scope::ns("staging")));
  CHECK_FALSE(allowed(devops, Permission::kPurge, Scope::ns("production")));
  CHECK(allowed(all, Permission::kResolve, Scope::apikey("k")));
  CHECK_FALSE(allowed(all, Permission::kRead, Scope::global()));
  CHECK_FALSE(allowed(gone, Permission::kRead, Scope::global()));
  CHECK(holds_any(devops, Permission::kRead));
  CHECK_FALSE(holds_any(devops, Permission::kReveal));
  CHECK(admin.actor() == "token:a");
}

}  // namespace lockbox::api
