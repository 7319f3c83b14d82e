// Black-box: `lockbox doctor` (SPEC §5): exit 0 when nothing needs action (warnings allowed), 1
// when something does; one line per finding with its fix; the --json shape; never a value. Time
// moves with LOCKBOX_TEST_NOW. Cases tagged [keys] need the keyring commands (keys rotate,
// reencrypt, key status).

#include <sqlite3.h>
#include <sys/stat.h>

#include <set>

#include "core/clock.hpp"
#include "core/time_format.hpp"
#include "tests/blackbox/blackbox.hpp"

namespace lockbox::testing {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The finding lines ("error: ..." / "warning: ...") of a human report.
std::vector<std::string> findings(const std::string& out, const std::string& severity) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < out.size()) {
    const std::size_t end = out.find('\n', start);
    const std::string line = out.substr(start, end - start);
    if (line.rfind(severity + ": ", 0) == 0) lines.push_back(line);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

// A finding line of `severity` mentioning `part` exists.
bool has_finding(const ProcessResult& r, const std::string& severity, const std::string& part) {
  for (const std::string& line : findings(r.out, severity)) {
    if (contains(line, part)) return true;
  }
  return false;
}

// The last line of stdout: the summary.
std::string summary(const std::string& out) {
  if (out.empty() || out.back() != '\n') return out;
  const std::size_t start = out.rfind('\n', out.size() - 2);
  return out.substr(start == std::string::npos ? 0 : start + 1,
                    out.size() - 1 - (start == std::string::npos ? 0 : start + 1));
}

ProcessResult doctor(const Lockbox& box, std::vector<std::string> extra = {},
                     ProcessOptions options = {}) {
  std::vector<std::string> args{"doctor"};
  args.insert(args.end(), extra.begin(), extra.end());
  ProcessResult r = box.run(args, std::move(options));
  CHECK_FALSE(contains(r.out, kCanary));
  CHECK_FALSE(contains(r.err, kCanary));
  return r;
}

TEST_CASE("doctor on a fresh store: exit 0 with the key-next-to-the-database warning",
          "[doctor][sqlite]") {
  Lockbox box;
  box.init();
  box.set("API", kCanary);
  const ProcessResult r = doctor(box);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(findings(r.out, "error").empty());
  REQUIRE(findings(r.out, "warning").size() == 1);
  CHECK(has_finding(r, "warning", (box.data_dir() / "master.key").string()));
  CHECK(has_finding(r, "warning", "in production keep the master key elsewhere"));
  CHECK(has_finding(r, "warning", " \u2014 fine for local development"));
  CHECK(summary(r.out) == "doctor: nothing needs action, 1 warning");
  CHECK(r.err.empty());
}

TEST_CASE("doctor with the key elsewhere finds no problem", "[doctor]") {
  Lockbox box;
  const fs::path key = box.root() / "elsewhere.key";
  write_file(key, std::string(kKeyA) + "\n", 0600);
  REQUIRE(box.run({"init", "--master-key-file", key.string()}).exit_code == 0);
  const ProcessResult r = doctor(box, {"--master-key-file", key.string()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "doctor: no problems found\n");
}

TEST_CASE("doctor asks for chmod on a readable database or data dir", "[doctor][sqlite]") {
  Lockbox box;
  box.init();
  SECTION("database file 0644") {
    REQUIRE(::chmod(box.db_path().c_str(), 0644) == 0);
    const ProcessResult r = doctor(box);
    INFO(r.out);
    CHECK(r.exit_code == 1);
    CHECK(has_finding(r, "error", "chmod 600 " + box.db_path().string()));
    CHECK(has_finding(r, "error", "(mode 0644)"));
    CHECK(summary(r.out) == "doctor: 1 problem needs action, 1 warning");
  }
  SECTION("data dir 0755") {
    REQUIRE(::chmod(box.data_dir().c_str(), 0755) == 0);
    const ProcessResult r = doctor(box);
    CHECK(r.exit_code == 1);
    CHECK(has_finding(r, "error", "chmod 700 " + box.data_dir().string()));
  }
  SECTION("no .gitignore is a warning") {
    fs::remove(box.data_dir() / ".gitignore");
    const ProcessResult r = doctor(box);
    CHECK(r.exit_code == 0);
    CHECK(has_finding(r, "warning", ".gitignore"));
  }
}

TEST_CASE("doctor: an expired secret needs action, an expiring one is a warning",
          "[doctor][sqlite]") {
  Lockbox box;
  box.init();
  box.set("OLD", kCanary, {"--expires", "2d", "--namespace", "staging"});
  box.set("SOON", kCanary, {"--expires", "10d"});

  ProcessResult r = doctor(box, {}, at(kDay));
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK(has_finding(r, "warning", "namespace:staging/OLD expires at "));
  CHECK_FALSE(contains(r.out, "SOON"));

  r = doctor(box, {}, at(5 * kDay));
  CHECK(r.exit_code == 1);
  CHECK(has_finding(r, "error", "namespace:staging/OLD expired at "));
  CHECK(has_finding(r, "error", "(3d ago)"));
  CHECK(has_finding(r, "error", "lockbox secrets set OLD --scope namespace:staging"));
  CHECK(has_finding(r, "warning", "global/SOON expires at "));
  CHECK(summary(r.out) == "doctor: 1 problem needs action, 2 warnings");
}

TEST_CASE("doctor: a secret not rotated within secret_max_age needs action", "[doctor]") {
  Lockbox box;
  box.init();
  box.set("DB_URL", kCanary);
  const ProcessResult r = doctor(box, {}, at(181 * kDay));
  INFO(r.out);
  CHECK(r.exit_code == 1);
  CHECK(has_finding(r, "error", "global/DB_URL not rotated for 181d"));
  CHECK(has_finding(r, "error", "lockbox secrets set DB_URL --scope global"));
}

TEST_CASE("doctor warns about production namespaces open to host overrides", "[doctor][sqlite]") {
  Lockbox box;
  box.init();
  box.set("LIVE_ONLY", kCanary, {"--namespace", "live"});
  const fs::path policy = box.root() / "lockbox.yaml";
  write_file(policy,
             "version: 1\n"
             "namespaces:\n"
             "  production: { resolution: [function, namespace, global] }\n"
             "  Prod-EU: { env_override: deny }\n"
             "  staging: {}\n"
             "functions:\n"
             "  mailer: { namespace: prd }\n");
  const ProcessResult r = doctor(box, {"--policy", policy.string()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  for (const std::string ns : {"production", "prd", "live"}) {
    CHECK(has_finding(r, "warning", "namespace " + ns + " looks like production"));
  }
  CHECK(has_finding(r, "warning", "set env_override: deny"));
  CHECK(has_finding(r, "warning", "host FLUXBASE_SECRET_* variables can override"));
  CHECK_FALSE(contains(r.out, "Prod-EU"));
  CHECK_FALSE(contains(r.out, "staging"));
  CHECK(findings(r.out, "warning").size() == 4);  // three namespaces and the key placement
}

TEST_CASE("doctor without a master key: exit 1, and the file checks still run",
          "[doctor][sqlite]") {
  Lockbox box;
  ProcessOptions with_key;
  with_key.env["LOCKBOX_MASTER_KEY"] = kKeyA;
  REQUIRE(box.run({"init"}, with_key).exit_code == 0);
  REQUIRE(::chmod(box.db_path().c_str(), 0640) == 0);

  const ProcessResult r = doctor(box);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(has_finding(r, "error", "no master key"));
  CHECK(has_finding(r, "error", "chmod 600 " + box.db_path().string()));
  CHECK(r.err.empty());

  const ProcessResult ok = doctor(box, {}, with_key);  // key from the environment: no file
  CHECK(ok.exit_code == 1);                            // the 0640 database only
  CHECK(findings(ok.out, "error").size() == 1);
  CHECK(findings(ok.out, "warning").empty());
}

TEST_CASE("doctor names a wrong key, a refused key file and a missing store", "[doctor][sqlite]") {
  Lockbox box;
  SECTION("missing store") {
    const ProcessResult r = doctor(box);
    CHECK(r.exit_code == 1);
    CHECK(has_finding(r, "error", box.data_dir().string()));
  }
  SECTION("wrong key") {
    ProcessOptions key_a;
    key_a.env["LOCKBOX_MASTER_KEY"] = kKeyA;
    REQUIRE(box.run({"init"}, key_a).exit_code == 0);
    ProcessOptions key_b;
    key_b.env["LOCKBOX_MASTER_KEY"] = kKeyB;
    const ProcessResult r = doctor(box, {}, key_b);
    INFO(r.out);
    CHECK(r.exit_code == 1);
    CHECK(has_finding(r, "error", "cannot open the store"));
    CHECK_FALSE(contains(r.out, kKeyA));
    CHECK_FALSE(contains(r.out, kKeyB));
  }
  SECTION("key file readable by others") {
    const fs::path key = box.root() / "open.key";
    write_file(key, std::string(kKeyA) + "\n", 0600);
    REQUIRE(box.run({"init", "--master-key-file", key.string()}).exit_code == 0);
    REQUIRE(::chmod(key.c_str(), 0644) == 0);
    const ProcessResult r = doctor(box, {"--master-key-file", key.string()});
    INFO(r.out);
    CHECK(r.exit_code == 1);
    CHECK(has_finding(r, "error", "chmod 600 " + key.string()));
    CHECK(findings(r.out, "error").size() == 1);
  }
}

TEST_CASE("doctor reports a broken policy file and still runs the other checks",
          "[doctor][sqlite]") {
  Lockbox box;
  box.init();
  const fs::path policy = box.root() / "bad.yaml";
  write_file(policy, "version: 1\nbogus: true\n");
  const ProcessResult r = doctor(box, {"--policy", policy.string()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(has_finding(r, "error", "bad.yaml:2:"));
  CHECK(has_finding(r, "warning", "master.key"));
}

TEST_CASE("doctor --json: {ok, findings: [{severity, check, message, fix}]}", "[doctor][sqlite]") {
  Lockbox box;
  box.init();
  box.set("OLD", kCanary, {"--expires", "1d"});
  ProcessResult r = doctor(box, {"--json"}, at(3 * kDay));
  INFO(r.out);
  CHECK(r.exit_code == 1);
  boost::json::value doc = parse_json(r.out);
  CHECK(keys_of(doc.as_object()) == std::vector<std::string>{"findings", "ok"});
  CHECK(doc.at("ok").as_bool() == false);
  std::set<std::string> checks;
  for (const auto& item : doc.at("findings").as_array()) {
    CHECK(keys_of(item.as_object()) ==
          std::vector<std::string>{"check", "fix", "message", "severity"});
    const std::string severity(item.at("severity").as_string());
    CHECK((severity == "action" || severity == "warning"));
    checks.insert(std::string(item.at("check").as_string()));
    CHECK_FALSE(item.at("fix").as_string().empty());
  }
  CHECK(checks.count("secrets") == 1);
  CHECK(checks.count("master_key") == 1);

  box.set("OLD", kCanary);  // a new value without expiry
  r = doctor(box, {"--json"});
  CHECK(r.exit_code == 0);
  doc = parse_json(r.out);
  CHECK(doc.at("ok").as_bool() == true);
  CHECK(doc.at("findings").as_array().size() == 1);  // the key placement warning
}

TEST_CASE("doctor: a data key older than data_key_max_age needs keys rotate", "[doctor][keys]") {
  Lockbox box;
  box.init();
  ProcessResult r = doctor(box, {}, at(91 * kDay));
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(has_finding(r, "error", "lockbox keys rotate"));
  CHECK(has_finding(r, "error", "active data key v1 is 91d old"));

  REQUIRE(box.run({"keys", "rotate"}, at(91 * kDay)).exit_code == 0);
  r = doctor(box, {}, at(92 * kDay));
  CHECK(r.exit_code == 0);
  CHECK_FALSE(contains(r.out, "keys rotate"));
}

TEST_CASE("doctor names a quarantined version after keys reencrypt", "[doctor][keys]") {
  Lockbox box;
  box.init();
  box.set("VICTIM", kCanary, {"--namespace", "prod-eu"});
  box.set("BYSTANDER", "fine");
  REQUIRE(box.run({"keys", "rotate"}).exit_code == 0);
  ProcessResult r = doctor(box);
  CHECK(has_finding(r, "warning", "lockbox keys reencrypt"));  // v1 still holds both secrets

  tamper_envelope(box.db_path(), "VICTIM");
  r = box.run({"keys", "reencrypt"});
  INFO(r.err);
  CHECK(r.exit_code == 5);  // docs/KEYS.md: the run finishes the rest, then exits 5
  r = doctor(box);
  INFO(r.out);
  CHECK(r.exit_code == 1);
  CHECK(has_finding(r, "error", "namespace:prod-eu/VICTIM@v1"));
  CHECK(has_finding(r, "error", "quarantined"));
  CHECK_FALSE(has_finding(r, "error", "BYSTANDER"));
}

TEST_CASE("doctor names a token whose row was edited outside lockbox, as an error",
          "[sqlite][doctor][tokens]") {
  Lockbox box;
  box.init();
  REQUIRE(
      box.run({"tokens", "create", "--name", "ci", "--role", "admin", "--ttl", "1h"}).exit_code ==
      0);
  REQUIRE(box.run({"tokens", "create", "--name", "ops", "--role", "admin"}).exit_code == 0);
  ProcessResult r = doctor(box);
  CHECK_FALSE(contains(r.out, "tokens"));
  const ProcessResult listed = box.run({"tokens", "list", "--json"});
  REQUIRE(listed.exit_code == 0);
  std::string ci_id;
  const boost::json::value listed_json = parse_json(listed.out);
  for (const auto& t : listed_json.as_array()) {
    if (t.as_object().at("name").as_string() == "ci")
      ci_id = t.as_object().at("id").as_string().c_str();
  }
  REQUIRE(ci_id.size() == 16);

  // Un-expiring the token: a cell that decides access, edited without the master key.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(box.db_path().c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "UPDATE tokens SET expires_at = NULL WHERE name = 'ci'", nullptr,
                       nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  r = doctor(box);
  INFO(r.out);
  CHECK(r.exit_code == 1);
  CHECK(has_finding(r, "error", "token ci (id " + ci_id + ") fails authentication"));
  CHECK(has_finding(r, "error", "lockbox tokens revoke ci"));
  CHECK_FALSE(has_finding(r, "error", "token ops"));
  r = doctor(box, {"--json"});
  CHECK(r.exit_code == 1);
  bool json_names_it = false;
  const boost::json::value report = parse_json(r.out);
  for (const auto& f : report.as_object().at("findings").as_array()) {
    const auto& o = f.as_object();
    if (o.at("check").as_string() == "tokens" && o.at("severity").as_string() == "action" &&
        contains(o.at("message").as_string().c_str(), ci_id)) {
      json_names_it = true;
    }
  }
  CHECK(json_names_it);

  // Revoking it re-signs the row: doctor is quiet again.
  REQUIRE(box.run({"tokens", "revoke", "ci"}).exit_code == 0);
  CHECK(doctor(box).exit_code == 0);
}

}  // namespace
}  // namespace lockbox::testing
