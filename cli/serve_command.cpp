// `lockbox serve [--listen ADDR:PORT] [--tls-cert F --tls-key F] [--threads N]` (SPEC §8, exact):
// the REST API on 127.0.0.1:8790 by default, plus the scheduled key work (rotation when due, then
// re-encryption). Prints one line when it listens ("lockbox serve: listening on URL"), logs
// requests that fail with a server error, and exits 0 after a graceful SIGTERM/SIGINT.
#include <fmt/format.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <memory>
#include <thread>

#include "api/change_listener.hpp"
#include "api/http_server.hpp"
#include "api/metrics.hpp"
#include "api/scheduler.hpp"
#include "api/service.hpp"
#include "api/ui_console.hpp"
#include "cli/command.hpp"
#include "cli/context.hpp"
#include "cli/output.hpp"
#include "core/log.hpp"
#include "core/time_format.hpp"

namespace lockbox::cli {
namespace {

constexpr int kMaxThreads = 256;

struct ServeOptions {
  std::string listen = "127.0.0.1:8790";
  std::string tls_cert, tls_key;
  int threads = 0;  // 0: twice the cores, at least 4
  bool insecure_listen = false;
  std::string rotation_check = "1h";
  bool no_ui = false;                // SPEC §14: --no-ui turns the console off
  std::string session_idle = "30m";  // console sessions' idle expiry (api::kDefaultSessionIdleMs)
};

// "127.0.0.1:8790", "[::1]:8790", "0.0.0.0:80". The host must be an IP address.
Status parse_listen(const std::string& text, std::string& address, std::uint16_t& port) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad_input("--listen: expected ADDR:PORT");
  address = text.substr(0, colon);
  if (address.front() == '[') {
    if (address.back() != ']') return bad_input("--listen: expected ADDR:PORT");
    address = address.substr(1, address.size() - 2);
  }
  const std::string port_text = text.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || value > 65535) {
    return bad_input("--listen: the port must be a number from 0 to 65535");
  }
  port = static_cast<std::uint16_t>(value);
  return Status::ok();
}

// 127.0.0.0/8, ::1 and ::ffff:127.x.y.z; anything else (0.0.0.0, ::, a LAN address, text that is
// not an address) can be reached from another host.
bool is_loopback_listen(const std::string& address) {
  boost::system::error_code ec;
  const auto ip = boost::asio::ip::make_address(address, ec);
  if (ec) return false;
  if (ip.is_v6() && ip.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, ip.to_v6()).is_loopback();
  }
  return ip.is_loopback();
}

// Tokens and values in clear to other hosts only when asked for (SPEC §18), and then with a
// warning.
Status check_listen_exposure(const std::string& address, const ServeOptions& options) {
  if (!options.tls_cert.empty() || is_loopback_listen(address)) return Status::ok();
  if (!options.insecure_listen) {
    return bad_input(
        "--listen: a non-loopback address without --tls-cert would send tokens and values in "
        "clear; add --tls-cert and --tls-key, or --insecure-listen");
  }
  log::warn(
      "serve: --insecure-listen: plain http on a non-loopback address; tokens and secret "
      "values cross the network unencrypted");
  return Status::ok();
}

// Each connection is a descriptor: lift the soft limit to the hard one (often 1024 → 1M), so the
// connection cap, not EMFILE, is what refuses clients.
void raise_file_limit() {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &files);
  }
}

Status serve(const GlobalOptions& globals, const ServeOptions& options) {
  api::ServerOptions server;
  LOCKBOX_TRY(parse_listen(options.listen, server.address, server.port));
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return bad_input("--tls-cert and --tls-key go together");
  }
  LOCKBOX_TRY(check_listen_exposure(server.address, options));
  LOCKBOX_ASSIGN_OR_RETURN(Context ctx, Context::create(globals));
  raise_file_limit();
  // One long-lived process appending a record per request: no automatic checkpoints (they would
  // stall whichever request commits at that moment); a background thread checkpoints instead.
  ctx.mutable_store_options().wal_autocheckpoint_pages = 0;
  if (!options.tls_cert.empty()) {
    server.tls_cert = options.tls_cert;
    server.tls_key = options.tls_key;
  }
  if (options.threads < 0 || options.threads > kMaxThreads) {
    return bad_input(fmt::format("--threads must be from 1 to {}", kMaxThreads));
  }
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  server.threads = options.threads > 0 ? options.threads : std::max(8, 4 * cores);
  auto check = parse_duration(options.rotation_check);
  if (!check.is_ok()) return check.status().with_context("--rotation-check");

  auto open_store = [&ctx]() { return ctx.open_store(); };
  api::Metrics metrics;
  api::ServiceConfig config;
  config.policy = &ctx.policy();
  config.open_store = open_store;
  config.clock = &process_clock();
  config.metrics = &metrics;
  LOCKBOX_ASSIGN_OR_RETURN(auto service, api::ApiService::create(std::move(config)));

  server.on_listening = [](const std::string& address, std::uint16_t port, bool tls) {
    const bool v6 = address.find(':') != std::string::npos;
    write_stderr(fmt::format("lockbox serve: listening on {}://{}{}{}:{}\n", tls ? "https" : "http",
                             v6 ? "[" : "", address, v6 ? "]" : "", port));
  };
  server.on_request = [&metrics](const api::RequestRecord& r) {
    metrics.observe_request(r);
    // Names and routes only: the route template, never the target (it may name a secret).
    if (r.status >= 500)
      log::error("serve: {} {} -> {} ({} us)", r.method, r.route, r.status, r.duration.count());
  };
  server.on_shutdown = [](int signal) {
    write_stderr(fmt::format("lockbox serve: shutting down ({}), finishing in-flight requests\n",
                             signal != 0 ? fmt::format("signal {}", signal) : "stop"));
  };
  api::Handler handler = [&service](api::HttpRequest& request) { return service->handle(request); };
  auto idle = parse_duration(options.session_idle);
  if (!idle.is_ok() || *idle < 1000)
    return bad_input("--session-idle must be a duration of at least 1s");
  std::unique_ptr<api::ConsoleFront> console;
  if (!options.no_ui) {
    console = std::make_unique<api::ConsoleFront>(
        api::ConsoleOptions{!options.tls_cert.empty(), *idle, api::kDefaultMaxSessions,
                            &process_clock()},
        handler);
    handler = [&console](api::HttpRequest& request) { return console->handle(request); };
  }
  LOCKBOX_ASSIGN_OR_RETURN(auto http,
                           api::HttpServer::create(std::move(server), std::move(handler)));

  api::KeyScheduler scheduler(
      {open_store, &process_clock(), ctx.policy().rotation.data_key_max_age_ms, *check});
  scheduler.start();
  api::ChangeListener listener(
      {open_store, [&service](std::int64_t counter) {
         const std::size_t dropped = service->cached_answers();
         service->drop_cached_answers();
         log::debug("serve: the store changed (counter {}); dropped {} cached answers", counter,
                    dropped);
       }});
  listener.start();
  Status ran = http->run();
  listener.stop();
  scheduler.stop();
  write_stderr("lockbox serve: stopped\n");
  return ran;
}

}  // namespace

void add_serve_command(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* cmd = parent.add_subcommand("serve", "Serve the REST API and scheduled key rotation");
  cmd->add_option("--listen", options->listen, "ADDR:PORT to listen on (default 127.0.0.1:8790)");
  cmd->add_option("--tls-cert", options->tls_cert, "PEM certificate chain (with --tls-key: HTTPS)");
  cmd->add_option("--tls-key", options->tls_key, "PEM private key of --tls-cert");
  cmd->add_flag("--insecure-listen", options->insecure_listen,
                "Allow plain http on a non-loopback --listen address (warns)");
  cmd->add_option("--threads", options->threads,
                  "Server threads (default: four per core, at least 8)");
  cmd->add_option("--rotation-check", options->rotation_check,
                  "How often to check whether the data key is due for rotation (default 1h)");
  cmd->add_flag("--no-ui", options->no_ui, "Do not serve the web console (/ui/) or its sessions");
  cmd->add_option("--session-idle", options->session_idle,
                  "Idle expiry of web console sessions (default 30m)");
  cmd->callback([&globals, &slot, options] {
    slot.action = [&globals, options] { return serve(globals, *options); };
  });
}

}  // namespace lockbox::cli
