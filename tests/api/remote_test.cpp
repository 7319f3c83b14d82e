// Remote mode (SPEC §8): `lockbox run --server URL --token-file F` on a host with no store and no
// master key launches exactly as a local run; the server audits the resolve under the token.
#include "tests/api/serve_fixture.hpp"

namespace lockbox::testing {
namespace {

// A launcher host: its own empty directory, no store, no master key, no policy.
struct Host {
  Lockbox box;  // never initialised
  std::filesystem::path token_file;
  Host(const std::string& token) : token_file(box.root() / "token") { write_file(token_file, token + "\n"); }
  ProcessResult run(const std::string& url, std::vector<std::string> args, ProcessOptions options = {}) const {
    std::vector<std::string> argv = {"run", "--server", url, "--token-file", token_file.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    options.cwd = box.root().string();
    return box.run(argv, std::move(options));
  }
};

const std::vector<std::string> kPrintA = {"--", "sh", "-c", "printf %s \"$FLUXBASE_SECRET_A\"; exit 7"};

}  // namespace

TEST_CASE("remote run: values from the server, exit code of the child, audit on the server", "[remote]") {
  Lockbox box;
  box.init();
  REQUIRE(box.run_stdin({"secrets", "set", "A", "--namespace", "prod"}, kCanary).exit_code == 0);
  REQUIRE(box.run_stdin({"secrets", "set", "B", "--scope", "global"}, "b").exit_code == 0);
  Server server(box);
  Host host(make_token(box, "edge", "admin"));
  std::vector<std::string> args = {"--namespace", "prod"};
  args.insert(args.end(), kPrintA.begin(), kPrintA.end());
  const ProcessResult r = host.run(server.url(), args);
  INFO(r.err);
  CHECK(r.exit_code == 7);
  CHECK(r.out == kCanary);
  CHECK(!std::filesystem::exists(host.box.data_dir()));  // the host needs no store

  // Local layers still apply on the host: an env file overrides the stored value.
  write_file(host.box.root() / "local.env", "A=from-env-file\n");
  std::vector<std::string> with_file = {"--namespace", "prod", "--env-file", (host.box.root() / "local.env").string()};
  with_file.insert(with_file.end(), kPrintA.begin(), kPrintA.end());
  const ProcessResult overridden = host.run(server.url(), with_file);
  CHECK(overridden.exit_code == 7);
  CHECK(overridden.out == "from-env-file");

  // --dry-run: names, origins and versions; never values.
  const ProcessResult dry = host.run(server.url(), {"--namespace", "prod", "--dry-run", "--json", "--", "true"});
  INFO(dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.out.find(kCanary) == std::string::npos);
  const auto view = parse_json(dry.out).as_array();
  REQUIRE(view.size() == 2);
  CHECK(view[0].as_object().at("scope").as_string() == "namespace:prod");

  CHECK(server.stop() == 0);
  const ProcessResult audit = box.run({"audit", "list", "--action", "resolve", "--json"});
  const auto records = parse_json(audit.out).as_array();
  REQUIRE(records.size() == 3);
  CHECK(records[0].as_object().at("actor").as_string() == "token:edge");
  CHECK(records[0].as_object().at("target").as_string() == "namespace:prod");
  CHECK(server.log().find(kCanary) == std::string::npos);
}

TEST_CASE("remote run failures before the spawn are exit 125", "[remote]") {
  Lockbox box;
  box.init();
  const auto policy = box.root() / "lockbox.yaml";
  write_file(policy, "version: 1\nroles:\n  reader: { read: [\"*\"] }\n");
  box.set("A", "a");
  const std::string reader = make_token(box, "reader", "reader", {"--policy", policy.string()});
  Server server(box, {"--policy", policy.string()});
  const std::vector<std::string> cmd = {"--", "sh", "-c", "echo ran"};
  // The role may not resolve: 125, nothing runs.
  const ProcessResult denied_run = Host(reader).run(server.url(), cmd);
  CHECK(denied_run.exit_code == 125);
  CHECK(denied_run.out.empty());
  CHECK(denied_run.err.find("denied") != std::string::npos);
  // A wrong token.
  const ProcessResult refused = Host("lbx_0000000000000000_" + std::string(64, '0')).run(server.url(), cmd);
  CHECK(refused.exit_code == 125);
  CHECK(refused.err.find("refused the token") != std::string::npos);
  // An empty or missing token file; --server without --token-file.
  Host empty("");
  write_file(empty.token_file, "\n");
  CHECK(empty.run(server.url(), cmd).exit_code == 125);
  CHECK(box.run({"run", "--server", server.url(), "--", "true"}).exit_code == 125);
  CHECK(box.run({"run", "--server", "ftp://x", "--token-file", empty.token_file.string(), "--", "true"}).exit_code == 125);
  // Plain http only to this host: the token and the values would cross the wire.
  const ProcessResult plain = Host(reader).run("http://192.0.2.1:8790", cmd);
  CHECK(plain.exit_code == 125);
  CHECK(plain.err.find("use https") != std::string::npos);
  const std::string url = server.url();
  CHECK(server.stop() == 0);
  // No server: 125 naming where it tried.
  const ProcessResult down = Host(reader).run(url, cmd);
  CHECK(down.exit_code == 125);
  CHECK(down.err.find("127.0.0.1") != std::string::npos);
  CHECK(down.out.empty());
}

TEST_CASE("remote run over TLS verifies the server certificate", "[remote]") {
  Lockbox box;
  box.init();
  box.set("A", kCanary);
  const auto cert = box.root() / "cert.pem";
  const auto key = box.root() / "key.pem";
  const ProcessResult made = run_process({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                                          key.string(), "-out", cert.string(), "-days", "1", "-subj", "/CN=localhost",
                                          "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"});
  REQUIRE(made.exit_code == 0);
  Server server(box, {"--tls-cert", cert.string(), "--tls-key", key.string()});
  REQUIRE(server.url().rfind("https://", 0) == 0);
  Host host(make_token(box, "edge", "admin"));
  // Not trusted: refused before anything is sent with the token.
  const ProcessResult untrusted = host.run(server.url(), kPrintA);
  CHECK(untrusted.exit_code == 125);
  CHECK(untrusted.err.find("verif") != std::string::npos);
  ProcessOptions trust;
  trust.env["SSL_CERT_FILE"] = cert.string();
  const ProcessResult trusted = host.run(server.url(), kPrintA, trust);
  INFO(trusted.err);
  CHECK(trusted.exit_code == 7);
  CHECK(trusted.out == kCanary);
  CHECK(server.stop() == 0);
}

}  // namespace lockbox::testing

namespace lockbox::testing {

TEST_CASE("resolve --server shows the launch view; a role that denies is exit 6", "[remote]") {
  Lockbox box;
  box.init();
  const auto policy = box.root() / "lockbox.yaml";
  write_file(policy, "version: 1\nroles:\n  reader: { read: [\"*\"] }\n  runner: { resolve: [\"*\"] }\n");
  box.set("A", kCanary);
  const std::vector<std::string> p = {"--policy", policy.string()};
  const std::string reader = make_token(box, "reader", "reader", p);
  const std::string runner = make_token(box, "runner", "runner", p);
  Server server(box, p);
  const auto token_file = box.root() / "token";
  write_file(token_file, runner);
  const ProcessResult ok = box.run({"resolve", "--server", server.url(), "--token-file", token_file.string(), "--json"});
  INFO(ok.err);
  REQUIRE(ok.exit_code == 0);
  CHECK(ok.out.find(kCanary) == std::string::npos);
  CHECK(parse_json(ok.out).as_array().at(0).as_object().at("name").as_string() == "A");
  write_file(token_file, reader);
  const ProcessResult denied_resolve =
      box.run({"resolve", "--server", server.url(), "--token-file", token_file.string()});
  CHECK(denied_resolve.exit_code == 6);
  CHECK(denied_resolve.err.find("denied") != std::string::npos);
  CHECK(box.run({"resolve", "--server", server.url()}).exit_code == 2);
  CHECK(server.stop() == 0);
}

}  // namespace lockbox::testing
