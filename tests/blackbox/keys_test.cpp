// Black-box: `lockbox keys status|generate|rotate|reencrypt|rewrap` (SPEC §5, §6; CRYPTO.md tests
// 11, 14): the status JSON, key files, rotation by age and policy, rewrap and its refusals, a kill
// at every fault point and a real kill -9 of a long re-encryption (one current master key, one
// active data key, every value intact, the rerun finishes), processes writing while others rotate.
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include "core/clock.hpp"
#include "core/time_format.hpp"
#include "tests/blackbox/blackbox.hpp"

extern char** environ;

namespace lockbox::testing {
namespace {

namespace fs = std::filesystem;
using Values = std::map<std::string, std::string>;
// Runs `query` on the store read-only; every row, columns as text (blobs as hex) joined by '|'.
std::vector<std::string> query(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_busy_timeout(h, 10000);
  sqlite3_stmt* st = nullptr;
  const int prepared = sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr);
  std::vector<std::string> out;
  int rc = SQLITE_DONE;
  while (prepared == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::string row;
    for (int c = 0; c < sqlite3_column_count(st); ++c) {
      static constexpr char kHex[] = "0123456789abcdef";
      const bool blob = sqlite3_column_type(st, c) == SQLITE_BLOB;  // before any conversion
      const auto* p = static_cast<const unsigned char*>(blob ? sqlite3_column_blob(st, c)
                                                             : sqlite3_column_text(st, c));
      const int n = sqlite3_column_bytes(st, c);
      if (blob) {
        for (int i = 0; i < n; ++i) row += {kHex[p[i] >> 4], kHex[p[i] & 15]};
      } else {
        row.append(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
      }
      row += '|';
    }
    out.push_back(row);
  }
  const std::string error = sqlite3_errmsg(h);
  sqlite3_finalize(st);
  sqlite3_close(h);
  INFO(sql << ": " << error);
  REQUIRE(prepared == SQLITE_OK);
  REQUIRE(rc == SQLITE_DONE);
  return out;
}

std::int64_t number(const fs::path& db, const std::string& sql) {
  const auto rows = query(db, sql);
  REQUIRE(rows.size() == 1);
  return std::stoll(rows[0]);
}

std::string dump(const fs::path& db, const std::string& sql) {
  std::string all;
  for (const auto& row : query(db, sql)) all += row + "\n";
  return all;
}

void exec(const fs::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(h);
  REQUIRE(rc == SQLITE_OK);
}

const char* const kEveryVersion =
    "SELECT secret_id, version, key_id, envelope, row_rev FROM versions ORDER BY 1, 2";
const char* const kKeyTables =
    "SELECT * FROM keyring UNION ALL SELECT generation, kcv, state, created_at, 0, 0, 0, 0, 0, 0 "
    "FROM master_keys ORDER BY 1, 2";

// `keys status --json`, parsed; REQUIREs exit 0.
boost::json::object status_of(const Lockbox& box, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"keys", "status", "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  const ProcessResult r = box.run(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return parse_json(r.out).as_object();
}

// "VERSION:STATE:VERSIONS_ENCRYPTED" of every data key, e.g. "1:decrypt_only:2 2:active:0".
std::string keyring_of(const boost::json::object& status) {
  std::string out;
  for (const auto& k : status.at("keys").as_array()) {
    out += (out.empty() ? "" : " ") + std::to_string(k.at("version").as_int64()) + ":" +
           std::string(k.at("state").as_string()) + ":" +
           std::to_string(k.at("versions_encrypted").as_int64());
  }
  return out;
}

// Imports `n` secrets with distinctive values (one `secrets import`); returns them by name.
Values import_secrets(const Lockbox& box, int n, const std::string& tag) {
  Values values;
  std::string dotenv;
  for (int i = 0; i < n; ++i) {
    const std::string name = "S" + std::to_string(i);
    values[name] = tag + "-" + std::to_string(i) + "-" + std::to_string((i * 7919) % 100003);
    dotenv += name + "='" + values[name] + "'\n";
  }
  write_file(box.root() / "secrets.env", dotenv);
  ProcessOptions options;
  options.timeout_ms = 120000;
  const ProcessResult r =
      box.run({"secrets", "import", (box.root() / "secrets.env").string()}, options);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return values;
}

// Every global secret's value (`secrets export --format json`) equals `expected`.
void check_values(const Lockbox& box, const Values& expected,
                  const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"secrets", "export", "--format", "json"};
  args.insert(args.end(), extra.begin(), extra.end());
  ProcessOptions options;
  options.timeout_ms = 120000;
  const ProcessResult r = box.run(args, options);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const boost::json::object exported = parse_json(r.out).as_object();
  CHECK(exported.size() == expected.size());
  std::size_t wrong = 0;
  std::string first_wrong;
  for (const auto& [name, value] : expected) {
    const auto* got = exported.if_contains(name);
    if (got == nullptr || !got->is_string() || got->as_string() != value) {
      if (wrong++ == 0) first_wrong = name;
    }
  }
  INFO("first wrong value: " << first_wrong);
  CHECK(wrong == 0);
}

// A lockbox process in the background (fork/exec), for kills from outside and raw wait statuses.
// Output goes to <root>/background.log.
class Background {
 public:
  Background(const Lockbox& box, std::vector<std::string> args,
             const std::map<std::string, std::string>& env = {})
      : log_(box.root() / "background.log") {
    args.insert(args.begin(), LOCKBOX_BIN);
    args.push_back("--data-dir");
    args.push_back(box.data_dir().string());
    std::vector<std::string> envs;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::string_view(*e).rfind("LOCKBOX_", 0) != 0) envs.emplace_back(*e);
    }
    for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    for (auto& e : envs) envp.push_back(e.data());
    argv.push_back(nullptr);
    envp.push_back(nullptr);
    const std::string log = log_.string();
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      const int in = ::open("/dev/null", O_RDONLY);
      const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (in < 0 || out < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0)
        ::_exit(126);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0) (void)kill_and_wait(SIGKILL);
  }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  // The wait status once the process has ended (non-blocking).
  std::optional<int> poll() {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
    pid_ = -1;
    return status;
  }
  int wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) continue;
    pid_ = -1;
    return status;
  }
  int kill_and_wait(int sig) {
    ::kill(pid_, sig);
    return wait();
  }
  [[nodiscard]] std::string log() const { return read_file(log_); }

 private:
  fs::path log_;
  pid_t pid_ = -1;
};

bool killed_by_sigkill(int status) {
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

}  // namespace

TEST_CASE("keys status --json has exactly the SPEC fields, states and quarantine", "[keys][sqlite]") {
  Lockbox box;
  box.init();
  box.set("A", "alpha");
  box.set("B", "bravo");
  boost::json::object s = status_of(box);
  CHECK(keys_of(s) ==
        std::vector<std::string>{"active_version", "keys", "master_key_generation", "quarantined"});
  CHECK(s.at("active_version") == 1);
  CHECK(s.at("master_key_generation") == 1);
  REQUIRE(s.at("quarantined").is_array());
  CHECK(s.at("quarantined").as_array().empty());
  REQUIRE(s.at("keys").as_array().size() == 1);
  const boost::json::object& k = s.at("keys").as_array()[0].as_object();
  CHECK(keys_of(k) == std::vector<std::string>{"created_at", "encryptions", "state", "version",
                                               "versions_encrypted"});
  CHECK(k.at("state") == "active");
  CHECK(k.at("versions_encrypted") == 2);
  CHECK(k.at("encryptions") == 2);
  const std::string created(k.at("created_at").as_string());
  CHECK(created.back() == 'Z');
  CHECK(parse_rfc3339(created).is_ok());

  REQUIRE(box.run({"keys", "rotate"}).exit_code == 0);
  s = status_of(box);
  CHECK(s.at("active_version") == 2);
  CHECK(keyring_of(s) == "1:decrypt_only:2 2:active:0");
  const ProcessResult text = box.run({"keys", "status"});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("decrypt_only") != std::string::npos);

  // Damage A's only version (under key 1): reencrypt moves B, quarantines A, exits 5.
  const std::string of_a = " WHERE secret_id = (SELECT id FROM secrets WHERE name = 'A')";
  std::string hex = query(box.db_path(), "SELECT envelope FROM versions" + of_a).at(0);
  hex[51] = hex[51] == '0' ? '1' : '0';  // byte 25: ciphertext
  exec(box.db_path(),
       "UPDATE versions SET envelope = x'" + hex.substr(0, hex.size() - 1) + "'" + of_a);
  const ProcessResult reencrypt = box.run({"keys", "reencrypt"});
  INFO(reencrypt.err);
  CHECK(reencrypt.exit_code == 5);
  CHECK(reencrypt.err.find("quarantined") != std::string::npos);
  s = status_of(box);
  CHECK(keyring_of(s) == "1:decrypt_only:1 2:active:1");
  REQUIRE(s.at("quarantined").as_array().size() == 1);
  const boost::json::object& q = s.at("quarantined").as_array()[0].as_object();
  CHECK((q.at("name") == "A" && q.at("scope") == "global" && q.at("version") == 1));
  CHECK(box.reveal("B") == "bravo");
  CHECK(box.run({"secrets", "get", "A", "--reveal"}).exit_code == 5);
  CHECK(box.run({"keys", "reencrypt"}).exit_code == 5);  // still there, not duplicated
  CHECK(status_of(box).at("quarantined").as_array().size() == 1);
}

TEST_CASE("keys generate writes a 0600 hex key file and never overwrites one", "[keys]") {
  Lockbox box;
  const fs::path file = box.root() / "new.key";
  const ProcessResult r = box.run({"keys", "generate", "--out", file.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  const std::string key = read_file(file);
  REQUIRE(key.size() == 65);
  CHECK(key.back() == '\n');
  CHECK(key.find_first_not_of("0123456789abcdef") == 64);
  const ProcessResult again = box.run({"keys", "generate", "--out", file.string()});
  CHECK(again.exit_code == 2);
  CHECK(read_file(file) == key);
  REQUIRE(box.run({"keys", "generate", "--out", (box.root() / "other.key").string()}).exit_code ==
          0);
  CHECK(read_file(box.root() / "other.key") != key);
}

TEST_CASE("keys rotate makes keys 1, 2, 3 and reencrypt retires the old ones", "[keys]") {
  Lockbox box;
  box.init();
  box.set("A", "alpha");
  ProcessResult r = box.run({"keys", "rotate", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const boost::json::object rotated = parse_json(r.out).as_object();
  CHECK(rotated ==
        boost::json::object{{"rotated", true}, {"previous_version", 1}, {"active_version", 2}});
  REQUIRE(box.run({"keys", "rotate"}).exit_code == 0);
  box.set("B", "bravo");
  const boost::json::object s = status_of(box);
  CHECK(s.at("active_version") == 3);
  CHECK(keyring_of(s) == "1:decrypt_only:1 2:decrypt_only:0 3:active:1");
  r = box.run({"keys", "reencrypt"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(keyring_of(status_of(box)) == "1:retired:0 2:retired:0 3:active:2");
  CHECK(box.reveal("A") + box.reveal("B") == "alphabravo");
}

TEST_CASE("keys rotate --if-due follows the key's age and the policy's data_key_max_age",
          "[keys]") {
  Lockbox box;
  box.init();
  box.set("A", "alpha");
  auto if_due = [&](ProcessOptions options, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"keys", "rotate", "--if-due"};
    args.insert(args.end(), extra.begin(), extra.end());
    const ProcessResult r = box.run(args, std::move(options));
    INFO(r.err);
    CHECK(r.exit_code == 0);
    return status_of(box).at("active_version").as_int64();
  };
  CHECK(if_due({}) == 1);
  CHECK(if_due(at(89 * kDay)) == 1);
  CHECK(status_of(box).at("keys").as_array().size() == 1);
  CHECK(if_due(at(91 * kDay)) == 2);
  CHECK(box.reveal("A") == "alpha");

  Lockbox other;
  other.init();
  const fs::path policy = other.root() / "policy.yaml";
  write_file(policy, "version: 1\nrotation: { data_key_max_age: 1d }\n");
  std::vector<std::string> args{"keys", "rotate", "--if-due", "--policy", policy.string()};
  CHECK(other.run(args, at(kDay / 2)).exit_code == 0);
  CHECK(status_of(other).at("active_version") == 1);
  CHECK(other.run(args, at(2 * kDay)).exit_code == 0);
  CHECK(status_of(other).at("active_version") == 2);
}

TEST_CASE("keys rewrap moves the keyring to a new master key and the old key becomes stale",
          "[keys][sqlite]") {
  Lockbox box;
  box.init();
  box.set("A", "alpha");
  box.set("B", "bravo-1");
  box.set("B", "bravo-2");
  REQUIRE(box.run({"keys", "rotate"}).exit_code == 0);
  box.set("C", "charlie");
  const std::string versions = dump(box.db_path(), kEveryVersion);
  const std::string new_key = (box.root() / "new.key").string();
  REQUIRE(box.run({"keys", "generate", "--out", new_key}).exit_code == 0);
  ProcessResult r = box.run({"keys", "rewrap", "--new-master-key-file", new_key});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(dump(box.db_path(), kEveryVersion) == versions);

  r = box.run({"secrets", "get", "A", "--reveal"});  // <data>/master.key still holds the old key
  CHECK(r.exit_code == 4);
  CHECK_THAT(r.err, Catch::Contains("stale") && Catch::Contains("generation 1"));
  const std::vector<std::string> with_new{"--master-key-file", new_key};
  CHECK(box.reveal("A", with_new) + box.reveal("B", with_new) + box.reveal("C", with_new) ==
        "alphabravo-2charlie");
  CHECK(status_of(box, with_new).at("master_key_generation") == 2);
  CHECK(box.run({"audit", "verify", "--master-key-file", new_key}).exit_code == 0);

  // Back to the retired key: refused, nothing changed.
  const std::string before = dump(box.db_path(), kKeyTables);
  r = box.run({"keys", "rewrap", "--master-key-file", new_key, "--new-master-key-file",
               (box.data_dir() / "master.key").string()});
  CHECK(r.exit_code == 2);
  CHECK(dump(box.db_path(), kKeyTables) == before);
}

TEST_CASE("keys rewrap refuses the current key, a loose or missing file and a wrong old key",
          "[keys][sqlite]") {
  Lockbox box;
  box.init();
  box.set("A", "alpha");
  const std::string snapshot = box.snapshot();
  const std::string tables = dump(box.db_path(), kKeyTables) + dump(box.db_path(), kEveryVersion);
  auto rewrap = [&](const std::string& new_file, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"keys", "rewrap", "--new-master-key-file", new_file};
    args.insert(args.end(), extra.begin(), extra.end());
    const ProcessResult r = box.run(args);
    INFO(new_file << ": " << r.err);
    CHECK(dump(box.db_path(), kKeyTables) + dump(box.db_path(), kEveryVersion) == tables);
    CHECK(box.snapshot() == snapshot);
    return r.exit_code;
  };
  const fs::path same = box.root() / "same.key";
  write_file(same, read_file(box.data_dir() / "master.key"), 0600);
  CHECK(rewrap(same.string()) == 2);
  const fs::path fresh = box.root() / "fresh.key";
  REQUIRE(box.run({"keys", "generate", "--out", fresh.string()}).exit_code == 0);
  const fs::path loose = box.root() / "loose.key";
  write_file(loose, read_file(fresh), 0644);
  REQUIRE(::chmod(loose.c_str(), 0644) == 0);
  CHECK(rewrap(loose.string()) == 4);
  CHECK(rewrap((box.root() / "missing.key").string()) == 4);
  fs::create_symlink(fresh, box.root() / "link.key");
  CHECK(rewrap((box.root() / "link.key").string()) == 4);
  const fs::path wrong = box.root() / "wrong.key";
  write_file(wrong, std::string(kKeyB) + "\n", 0600);
  CHECK(rewrap(fresh.string(), {"--master-key-file", wrong.string()}) == 4);
  CHECK(box.reveal("A") == "alpha");
}

namespace {
struct Fault {
  std::string point;    // LOCKBOX_FAULT
  std::string command;  // rotate | reencrypt | rewrap
  bool committed;       // the step's transaction had committed
  std::string keyring;  // keyring_of(keys status) after the kill
};
}  // namespace

TEST_CASE("a kill at every fault point leaves one master key, one active data key, every value",
          "[keys][fault][sqlite]") {
  const Fault fault = GENERATE(values<Fault>({
      {"rotate.after-demote", "rotate", false, "1:active:30"},
      {"rotate.after-insert", "rotate", false, "1:active:30"},
      {"rotate.before-commit", "rotate", false, "1:active:30"},
      {"rotate.after-commit", "rotate", true, "1:decrypt_only:30 2:active:0"},
      {"reencrypt.before-commit:2", "reencrypt", false, "1:decrypt_only:25 2:active:5"},
      {"reencrypt.after-commit:2", "reencrypt", true, "1:decrypt_only:20 2:active:10"},
      // Reached once per run (the last transaction), so its first hit.
      {"reencrypt.before-final-commit", "reencrypt", false, "1:decrypt_only:0 2:active:30"},
      {"rewrap.after-retire", "rewrap", false, "1:decrypt_only:30 2:active:0"},
      {"rewrap.after-key:2", "rewrap", false, "1:decrypt_only:30 2:active:0"},
      {"rewrap.before-commit", "rewrap", false, "1:decrypt_only:30 2:active:0"},
      {"rewrap.after-commit", "rewrap", true, "1:decrypt_only:30 2:active:0"},
  }));
  INFO("fault point " << fault.point);
  Lockbox box;
  box.init();
  const Values values = import_secrets(box, 30, "fault");
  const std::string new_key = (box.root() / "new.key").string();
  std::vector<std::string> args{"keys", fault.command};
  if (fault.command != "rotate") REQUIRE(box.run({"keys", "rotate"}).exit_code == 0);
  if (fault.command == "reencrypt") args = {"keys", "reencrypt", "--batch-size", "5"};
  if (fault.command == "rewrap") {
    REQUIRE(box.run({"keys", "generate", "--out", new_key}).exit_code == 0);
    args = {"keys", "rewrap", "--new-master-key-file", new_key};
  }
  Background killed(box, args, {{"LOCKBOX_FAULT", fault.point}});
  const int status = killed.wait();
  INFO(killed.log());
  REQUIRE(killed_by_sigkill(status));

  // Exactly one of the two master keys opens the store.
  std::vector<std::string> key;
  if (fault.command == "rewrap") {
    if (fault.committed) key = {"--master-key-file", new_key};
    const ProcessResult other =
        box.run({"keys", "status", "--master-key-file",
                 fault.committed ? (box.data_dir() / "master.key").string() : new_key});
    CHECK(other.exit_code == 4);
    CHECK(other.err.find(fault.committed ? "stale" : "wrong master key") != std::string::npos);
  }
  const boost::json::object s = status_of(box, key);
  CHECK(s.at("master_key_generation") == (fault.command == "rewrap" && fault.committed ? 2 : 1));
  CHECK(keyring_of(s) == fault.keyring);  // one active data key, nothing lost
  check_values(box, values, key);
  CHECK(number(box.db_path(), "SELECT count(*) FROM audit WHERE action = 'key.reencrypt'") == 0);

  // The rerun finishes and leaves no version under an old key.
  auto with_key = [&](std::vector<std::string> argv) {
    argv.insert(argv.end(), key.begin(), key.end());
    return argv;
  };
  const ProcessResult r = box.run(with_key({"keys", "reencrypt", "--batch-size", "5"}));
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(keyring_of(status_of(box, key)) ==
        (fault.keyring.size() > 12 ? "1:retired:0 2:active:30" : "1:active:30"));
  check_values(box, values, key);
  CHECK(box.run(with_key({"audit", "verify"})).exit_code == 0);
}

TEST_CASE("kill -9 during a 20,000-version reencrypt keeps its progress and the rerun finishes",
          "[keys][fault][sqlite]") {
  constexpr int kSecrets = 20'000;
  constexpr int kBatch = 200;
  Lockbox box;
  box.init();
  const Values values = import_secrets(box, kSecrets, "kill9");
  REQUIRE(box.run({"keys", "rotate"}).exit_code == 0);
  const std::string moved_sql = "SELECT count(*) FROM versions WHERE key_id = 2";

  std::int64_t seen = 0;
  int status = 0;
  {
    Background reencrypt(box, {"keys", "reencrypt", "--batch-size", std::to_string(kBatch)});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      seen = number(box.db_path(), moved_sql);
      if (seen > 0 && seen < kSecrets) break;
      if (reencrypt.poll().has_value())
        FAIL("reencrypt ended before it could be killed: " << reencrypt.log());
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    status = reencrypt.kill_and_wait(SIGKILL);
  }
  REQUIRE(killed_by_sigkill(status));
  const std::int64_t after = number(box.db_path(), moved_sql);
  INFO("seen " << seen << ", after the kill " << after);
  CHECK(seen > 0);
  CHECK(after >= seen);        // committed batches are durable
  CHECK(after < kSecrets);     // killed part-way
  CHECK(after % kBatch == 0);  // a batch is all or nothing

  const ProcessResult r = box.run({"keys", "reencrypt", "--batch-size", std::to_string(kBatch)});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("re-encrypted " + std::to_string(kSecrets - after) + " versions") !=
        std::string::npos);
  CHECK(keyring_of(status_of(box)) == "1:retired:0 2:active:" + std::to_string(kSecrets));
  CHECK(number(box.db_path(), "SELECT count(*) FROM versions WHERE key_id <> 2") == 0);
  check_values(box, values);
}

TEST_CASE("processes writing while others rotate lose no update and every row decrypts", "[keys]") {
  constexpr int kWriters = 4;
  constexpr int kSets = 12;  // per writer, over 3 secrets
  constexpr int kRotators = 2;
  constexpr int kRotations = 8;  // per rotator
  auto name_of = [](int w, int i) { return "P" + std::to_string(w) + "_" + std::to_string(i % 3); };
  auto value_of = [](int w, int i) { return "p" + std::to_string(w) + "-" + std::to_string(i); };
  Lockbox box;
  box.init();
  std::vector<std::vector<ProcessResult>> results(kWriters + kRotators);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kSets; ++i) {
        results[static_cast<std::size_t>(w)].push_back(
            box.run_stdin({"secrets", "set", name_of(w, i)}, value_of(w, i)));
      }
    });
  }
  for (int r = 0; r < kRotators; ++r) {
    threads.emplace_back([&, r] {
      for (int i = 0; i < kRotations; ++i) {
        results[static_cast<std::size_t>(kWriters + r)].push_back(
            box.run({"keys", "rotate", "--json"}));
      }
    });
  }
  for (auto& t : threads) t.join();
  std::int64_t rotations = 0;
  for (std::size_t t = 0; t < results.size(); ++t) {
    for (const ProcessResult& r : results[t]) {
      INFO("thread " << t << ": " << r.err);
      CHECK(r.exit_code == 0);
      if (t >= kWriters && r.exit_code == 0) rotations += parse_json(r.out).at("rotated").as_bool();
    }
  }
  CHECK(rotations >= kRotations);  // a rotator loses only to a rotation made by the other

  std::string keyring = keyring_of(status_of(box));
  INFO(keyring);
  CHECK(keyring.find(std::to_string(1 + rotations) + ":active:") != std::string::npos);
  CHECK(keyring.find(":active:") == keyring.rfind(":active:"));  // the only active key
  CHECK(std::count(keyring.begin(), keyring.end(), ' ') == rotations);
  Values last;  // each writer's last value of each of its secrets
  for (int w = 0; w < kWriters; ++w) {
    for (int i = 0; i < kSets; ++i) last[name_of(w, i)] = value_of(w, i);
  }
  check_values(box, last);
  // Every row decrypts: a last rotation and a re-encryption read every version there is.
  REQUIRE(box.run({"keys", "rotate"}).exit_code == 0);
  const ProcessResult r = box.run({"keys", "reencrypt"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  const boost::json::object s = status_of(box);
  CHECK(s.at("quarantined").as_array().empty());
  keyring.clear();
  for (std::int64_t k = 1; k <= rotations + 1; ++k) keyring += std::to_string(k) + ":retired:0 ";
  CHECK(keyring_of(s) ==
        keyring + std::to_string(rotations + 2) + ":active:" + std::to_string(kWriters * kSets));
  CHECK(box.run({"audit", "verify"}).exit_code == 0);
}

}  // namespace lockbox::testing
