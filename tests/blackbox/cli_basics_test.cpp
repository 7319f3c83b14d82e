// Black-box: the command line itself (help, parse errors, global options anywhere, init) and the
// end-to-end "done when" check.

#include <sys/stat.h>

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

TEST_CASE("global options are accepted before and after the command", "[blackbox][cli]") {
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

TEST_CASE("LOCKBOX_DATA_DIR selects the data dir and --data-dir overrides it", "[blackbox][cli]") {
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
          "[blackbox][init]") {
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

TEST_CASE("a postgresql store URL is exit 2 backend not built", "[blackbox][cli]") {
  Lockbox box;
  box.init();
  ProcessResult r = box.run({"secrets", "list", "--store", "postgresql://u:pw@db/lockbox"});
  CHECK(r.exit_code == 2);
  CHECK(r.err == "lockbox: backend not built: postgresql\n");
  ProcessOptions options;
  options.env["LOCKBOX_STORE"] = "postgresql://u:pw@db/lockbox";
  r = box.run({"secrets", "list"}, options);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("pw@") == std::string::npos);
}

TEST_CASE("a sqlite:PATH store URL puts the database at PATH", "[blackbox][cli]") {
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
          "[blackbox][done]") {
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
