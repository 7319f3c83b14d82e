// Black-box: the input limits an attacker's review asked for (issue 13, SPEC §18): a new store's
// passphrase length, the last expiry time, plain http only to this host in remote mode, and a
// non-loopback `serve --listen` without TLS.

#include <filesystem>

#include "tests/blackbox/blackbox.hpp"

namespace lockbox::testing {
namespace {

ProcessOptions with_passphrase(const std::string& passphrase) {
  ProcessOptions options;
  options.env["LOCKBOX_MASTER_PASSPHRASE"] = passphrase;
  return options;
}

TEST_CASE("a new store needs a passphrase of at least 12 characters and nothing is created otherwise",
          "[blackbox][limits][sqlite]") {
  // 11 characters, 22 bytes: characters count, not bytes.
  for (const std::string& short_one : {std::string("Q"), std::string("Zq8vXk3RwT9"),
                                       std::string("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                                   "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9")}) {
    Lockbox box;
    const ProcessResult r = box.run({"init"}, with_passphrase(short_one));
    CHECK(r.exit_code == 2);
    CHECK(line_count(r.err) == 1);
    CHECK(r.err.find("12 characters") != std::string::npos);
    CHECK(r.err.find(short_one) == std::string::npos);
    CHECK_FALSE(std::filesystem::exists(box.data_dir()));
  }
  Lockbox box;
  const ProcessResult ok = box.run({"init"}, with_passphrase("twelve chars"));
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(std::filesystem::exists(box.db_path()));
}

TEST_CASE("an expiry after 9999-12-31T23:59:59Z is refused, the last second is accepted",
          "[blackbox][limits]") {
  Lockbox box;
  box.init();
  const std::string before = box.snapshot();
  for (const char* expires : {"9999999y", "8000y", "9999999999d"}) {
    const ProcessResult r = box.run_stdin({"secrets", "set", "X", "--expires", expires}, kCanary);
    INFO(expires);
    CHECK(r.exit_code == 2);
    CHECK(line_count(r.err) == 1);
    CHECK(r.err.find(kCanary) == std::string::npos);
  }
  CHECK(box.snapshot() == before);
  box.set("LAST", "v", {"--expires", "9999-12-31T23:59:59Z"});
  const ProcessResult got = box.run({"secrets", "get", "LAST", "--json"});
  REQUIRE(got.exit_code == 0);
  CHECK(parse_json(got.out).as_object().at("expires_at") == "9999-12-31T23:59:59Z");
}

TEST_CASE("remote mode sends plain http only to an address of this host, not to a name like one",
          "[blackbox][limits]") {
  Lockbox box;
  const std::string missing = (box.root() / "no-token").string();
  for (const char* url : {"http://127.attacker.example:8790", "http://127.0.0.1.nip.io:8790",
                          "http://localhost.attacker.example", "http://10.0.0.1:8790",
                          "http://[::ffff:10.0.0.1]:8790", "http://2130706433:8790"}) {
    INFO(url);
    const ProcessResult resolve = box.run({"resolve", "--server", url, "--token-file", missing});
    CHECK(resolve.exit_code == 2);
    CHECK(resolve.err.find("plain http") != std::string::npos);
    const ProcessResult run = box.run({"run", "--server", url, "--token-file", missing, "--", "true"});
    CHECK(run.exit_code == 125);
    CHECK(run.err.find("plain http") != std::string::npos);
  }
  // This host's addresses pass the check and fail later, on the missing token file.
  for (const char* url : {"http://127.0.0.1:1", "http://127.5.6.7:1", "http://[::1]:1",
                          "http://[::ffff:127.0.0.1]:1", "http://LOCALHOST:1"}) {
    INFO(url);
    const ProcessResult r = box.run({"resolve", "--server", url, "--token-file", missing});
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("plain http") == std::string::npos);
    CHECK(r.err.find("--token-file") != std::string::npos);
  }
}

TEST_CASE("serve refuses a non-loopback listen address without TLS unless --insecure-listen",
          "[blackbox][limits]") {
  Lockbox box;
  box.init();
  for (const char* listen : {"0.0.0.0:0", "[::]:0", "192.0.2.1:0", "[::ffff:0.0.0.0]:0"}) {
    INFO(listen);
    const ProcessResult r = box.run({"serve", "--listen", listen});
    CHECK(r.exit_code == 2);
    CHECK(line_count(r.err) == 1);
    CHECK(r.err.find("--insecure-listen") != std::string::npos);
  }
  // Accepted with the flag (and warned about); an out-of-range --threads then stops it before it
  // binds anything, so the test never listens beyond this host.
  const ProcessResult insecure =
      box.run({"serve", "--listen", "0.0.0.0:0", "--insecure-listen", "--threads", "100000"});
  CHECK(insecure.exit_code == 2);
  CHECK(insecure.err.find("--insecure-listen: plain http") != std::string::npos);
  CHECK(insecure.err.find("--threads") != std::string::npos);
}

}  // namespace
}  // namespace lockbox::testing
