// Black-box: the command line itself (help, parse errors, global options anywhere, init) and the
// end-to-end "done when" check.

#include <sys/stat.h>

#include <tuple>

#include "tests/blackbox/blackbox.hpp"

namespace lockbox::testing {
namespace {

namespace fs = std::filesystem;

TEST_CASE("help exits 0 and prints usage", "[blackbox][cli]") {
  Lockbox box;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"secrets", "--help"}, {"secrets", "set", "--help"}}) {
    const ProcessResult r = run_lockbox(args);
    INFO(args.back());
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("--data-dir") != std::string::npos);
    CHECK(r.err.empty());
  }
}

TEST_CASE("parse errors are exit 2 with one line on stderr", "[blackbox][cli]") {
  Lockbox box;
  box.init();
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--bogus"},
                                             {"secrets", "get"},
                                             {"secrets", "frobnicate"},
                                             {"secrets", "get", "X", "--bogus=1"},
                                             {"secrets"},
                                             {}}) {
    const ProcessResult r = box.run(args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(line_count(r.err) == 1);
    CHECK(r.err.rfind("lockbox: ", 0) == 0);
    CHECK(r.out.empty());
  }
}

TEST_CASE("an unexpected positional argument is not echoed", "[blackbox][cli]") {
  Lockbox box;
  box.init();
  const ProcessResult r = box.run({"secrets", "set", "X", "value-one", kCanary});
  CHECK(r.exit_code == 2);
  CHECK(line_count(r.err) == 1);
  CHECK(r.err.find(kCanary) == std::string::npos);
  CHECK(box.snapshot() == "[]\n");
}

TEST_CASE("global options are accepted before and after the command", "[blackbox][cli][sqlite]") {
  Lockbox box;
  box.init();
  box.set("API_KEY", "v");
  const std::string dir = box.data_dir().string();
  ProcessOptions clean;
  clean.unset_env = inherited_lockbox_vars();
  const ProcessResult before =
      run_lockbox({"--data-dir", dir, "--json", "secrets", "get", "API_KEY"}, clean);
  const ProcessResult middle =
      run_lockbox({"secrets", "--data-dir", dir, "get", "--json", "API_KEY"}, clean);
  const ProcessResult after =
      run_lockbox({"secrets", "get", "API_KEY", "--json", "--data-dir", dir, "-v"}, clean);
  CHECK(before.exit_code == 0);
  CHECK(middle.exit_code == 0);
  CHECK(after.exit_code == 0);
  CHECK(before.out == middle.out);
  CHECK(before.out == after.out);
}

TEST_CASE("LOCKBOX_DATA_DIR selects the data dir and --data-dir overrides it",
          "[blackbox][cli][sqlite]") {
  Lockbox box;
  box.init();
  box.set("FROM_ENV", "e");
  ProcessOptions options;
  options.unset_env = inherited_lockbox_vars();
  options.env["LOCKBOX_DATA_DIR"] = box.data_dir().string();
  ProcessResult r = run_lockbox({"secrets", "get", "FROM_ENV", "--reveal"}, options);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "e");
  // --data-dir wins over the environment: an empty dir has no store (exit 1).
  r = run_lockbox({"secrets", "get", "FROM_ENV", "--data-dir", (box.root() / "other").string(),
                   "--master-key-file", (box.data_dir() / "master.key").string()},
                  options);
  CHECK(r.exit_code == 1);
}

TEST_CASE("init creates a private data dir, a .gitignore and a 0600 master key",
          "[blackbox][init][sqlite]") {
  Lockbox box;
  const ProcessResult r = box.run({"init"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("master.key") != std::string::npos);
  CHECK(r.err.find("back it up") != std::string::npos);
  struct stat st {};
  REQUIRE(::stat(box.data_dir().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(read_file(box.data_dir() / ".gitignore") == "*\n");
  REQUIRE(::stat((box.data_dir() / "master.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(fs::exists(box.db_path()));
}

TEST_CASE("init --json reports the paths, null key file when a key was configured",
          "[blackbox][init]") {
  Lockbox generated;
  ProcessResult r = generated.run({"init", "--json"});
  REQUIRE(r.exit_code == 0);
  auto doc = parse_json(r.out).as_object();
  CHECK(keys_of(doc) == std::vector<std::string>{"data_dir", "database", "master_key_file"});
  CHECK(doc.at("master_key_file").is_string());

  Lockbox configured;
  ProcessOptions options;
  options.env["LOCKBOX_MASTER_KEY"] = kKeyA;
  r = configured.run({"--json", "init"}, options);
  REQUIRE(r.exit_code == 0);
  doc = parse_json(r.out).as_object();
  CHECK(doc.at("master_key_file").is_null());
  CHECK_FALSE(fs::exists(configured.data_dir() / "master.key"));
  CHECK(r.out.find(kKeyA) == std::string::npos);
}

TEST_CASE("init on an existing store is exit 2 and changes nothing", "[blackbox][init]") {
  Lockbox box;
  box.init();
  box.set("KEEP", "k");
  const std::string key_before = read_file(box.data_dir() / "master.key");
  const std::string before = box.snapshot();
  const ProcessResult r = box.run({"init"});
  CHECK(r.exit_code == 2);
  CHECK(line_count(r.err) == 1);
  CHECK(read_file(box.data_dir() / "master.key") == key_before);
  CHECK(box.snapshot() == before);
  CHECK(box.reveal("KEEP") == "k");
}

// ---- PostgreSQL (SPEC §11): the [pg] pass only; the SQLite pass has no cluster to talk to ----

namespace {

struct PgUrl {
  std::string user, password, host, port;
};

PgUrl split_base_url() {
  const std::string base = pg_base_url();  // postgresql://user:password@host:port
  const std::string rest = base.substr(std::string("postgresql://").size());
  const auto colon = rest.find(':');
  const auto at = rest.find('@');
  const auto port = rest.rfind(':');
  return {rest.substr(0, colon), rest.substr(colon + 1, at - colon - 1),
          rest.substr(at + 1, port - at - 1), rest.substr(port + 1)};
}

}  // namespace

TEST_CASE(
    "a postgresql store that cannot be reached is one line naming host, port and database, never "
    "the password",
    "[blackbox][cli][pg]") {
  if (!pg_backend()) return;  // runs in the [pg] pass
  Lockbox box;
  box.init();
  const PgUrl u = split_base_url();
  const std::string wrong_password = "postgresql://" + u.user + ":not-the-" + u.password + "@" +
                                     u.host + ":" + u.port + "/" + box.pg_db();
  const std::string missing_db = pg_base_url() + "/no_such_database";
  const std::string closed_port =
      "postgres://" + u.user + ":" + u.password + "@127.0.0.1:1/" + box.pg_db();
  for (const auto& [url, port, db] :
       {std::tuple{wrong_password, u.port, box.pg_db()},
        std::tuple{missing_db, u.port, std::string("no_such_database")},
        std::tuple{closed_port, std::string("1"), box.pg_db()}}) {
    INFO(url);
    ProcessResult r = box.run({"secrets", "list", "--store", url, "-v"});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("host " + u.host + " port " + port + " database " + db) != std::string::npos);
    CHECK(r.err.find(u.password) == std::string::npos);
    CHECK(r.out.find(u.password) == std::string::npos);
    CHECK(r.err.find("lockbox: cannot connect to the PostgreSQL store") != std::string::npos);
    CHECK(r.err.find(":***@") != std::string::npos);  // the -v log names the store, redacted
    r = box.run({"run", "--store", url, "--", "true"});
    CHECK(r.exit_code == 125);
    CHECK(line_count(r.err) == 1);
    CHECK(r.err.find(u.password) == std::string::npos);
    r = box.run({"doctor", "--store", url});
    CHECK(r.exit_code != 0);
    CHECK(r.err.find(u.password) == std::string::npos);
    CHECK(r.out.find(u.password) == std::string::npos);
  }
}

TEST_CASE(
    "init on a postgresql database that already holds a lockbox schema is exit 2 and changes "
    "nothing",
    "[blackbox][cli][pg]") {
  if (!pg_backend()) return;
  Lockbox box;
  box.init();
  box.set("KEEP", "k");
  const ProcessResult r = box.run({"init"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("already exists at postgresql://" + split_base_url().user + ":***@") !=
        std::string::npos);
  CHECK(box.reveal("KEEP") == "k");
}

TEST_CASE("a postgresql schema from a newer lockbox is refused with the SQLite message",
          "[blackbox][cli][pg]") {
  if (!pg_backend()) return;
  Lockbox box;
  box.init();
  pg_sql(box.pg_db(), "UPDATE lockbox.schema_version SET version = 99");
  const ProcessResult r = box.run({"secrets", "list"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "lockbox: store schema v99 is newer than this lockbox (v4)\n");
}

TEST_CASE("a trigger or rule added to the lockbox tables on postgresql is refused at open (exit 5)",
          "[blackbox][cli][pg]") {
  if (!pg_backend()) return;
  Lockbox box;
  box.init();
  box.set("A", "a");
  pg_sql(box.pg_db(),
         "CREATE FUNCTION public.keep() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN OLD; "
         "END$$; "
         "CREATE TRIGGER sticky BEFORE UPDATE ON lockbox.secrets FOR EACH ROW EXECUTE FUNCTION "
         "public.keep()");
  ProcessResult r = box.run({"secrets", "list"});
  CHECK(r.exit_code == 5);
  CHECK(r.err.find("trigger lockbox did not create (sticky)") != std::string::npos);
  pg_sql(box.pg_db(),
         "DROP TRIGGER sticky ON lockbox.secrets; CREATE RULE hide AS ON UPDATE TO "
         "lockbox.versions DO INSTEAD NOTHING");
  r = box.run({"secrets", "list"});
  CHECK(r.exit_code == 5);
  CHECK(r.err.find("rule lockbox did not create (hide)") != std::string::npos);
  pg_sql(box.pg_db(), "DROP RULE hide ON lockbox.versions");
  CHECK(box.reveal("A") == "a");
}

TEST_CASE("a postgresql connection dropped in the middle of a write is one line and writes nothing",
          "[blackbox][cli][pg]") {
  if (!pg_backend()) return;
  Lockbox box;
  box.init();
  box.set("A", "old");
  const std::string before = box.snapshot();
  const std::string audit_rows = pg_sql(box.pg_db(), "SELECT count(*) FROM lockbox.audit");
  ProcessOptions options;
  options.env["LOCKBOX_TEST_PG_DROP_BEFORE_COMMIT"] = "1";
  const ProcessResult r = box.run_stdin({"secrets", "set", "A"}, "new", options);
  CHECK(r.exit_code == 1);
  CHECK(line_count(r.err) == 1);
  CHECK(r.err.find("lost the connection to the PostgreSQL store at host") != std::string::npos);
  CHECK(box.snapshot() == before);
  CHECK(box.reveal("A") == "old");
  CHECK(box.run({"audit", "verify"}).exit_code == 0);
  CHECK(pg_sql(box.pg_db(), "SELECT count(*) FROM lockbox.audit") ==
        std::to_string(std::stoi(audit_rows) + 1));  // + the reveal above
}

TEST_CASE("a sqlite:PATH store URL puts the database at PATH", "[blackbox][cli][sqlite]") {
  Lockbox box;
  const std::string url = "sqlite:" + (box.root() / "elsewhere.db").string();
  ProcessResult r = box.run({"init", "--store", url, "--json"});
  REQUIRE(r.exit_code == 0);
  CHECK(parse_json(r.out).as_object().at("database") == (box.root() / "elsewhere.db").c_str());
  CHECK(fs::exists(box.root() / "elsewhere.db"));
  CHECK_FALSE(fs::exists(box.db_path()));
  ProcessOptions options;
  options.env["LOCKBOX_STORE"] = url;
  options.stdin_data = "there";
  REQUIRE(box.run({"secrets", "set", "WHERE"}, options).exit_code == 0);
  options.stdin_data.reset();
  r = box.run({"secrets", "get", "WHERE", "--reveal"}, options);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "there");
}

TEST_CASE("a value piped to set reads back verbatim and is stored nowhere in plaintext",
          "[blackbox][done][sqlite]") {
  Lockbox box;
  box.init();
  ProcessResult r = box.run_stdin({"secrets", "set", "X"}, "v");
  REQUIRE(r.exit_code == 0);
  CHECK(r.err == "created global/X v1\n");
  r = box.run({"secrets", "get", "X", "--reveal"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "v");

  box.set("CANARY", kCanary);
  box.set("CANARY_ARGV", "", {});
  r = box.run({"secrets", "set", "CANARY_ARGV", std::string(kCanary) + "-argv"});
  REQUIRE(r.exit_code == 0);
  CHECK(box.reveal("CANARY") == kCanary);
  ProcessOptions debug;
  debug.env["LOCKBOX_LOG"] = "debug";
  debug.stdin_data = kCanary;
  r = box.run({"secrets", "set", "CANARY", "-vvv"}, debug);
  CHECK(r.exit_code == 0);
  CHECK(r.err.find(kCanary) == std::string::npos);
  r = box.run({"secrets", "get", "CANARY", "--reveal", "-vvv"}, debug);
  CHECK(r.out == kCanary);
  CHECK(r.err.find(kCanary) == std::string::npos);
  for (const auto& [path, bytes] : read_all_files(box.data_dir())) {
    INFO(path);
    CHECK(bytes.find(kCanary) == std::string::npos);
  }
}

}  // namespace
}  // namespace lockbox::testing
