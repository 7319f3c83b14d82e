#include "api/internal/tls_context.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>

#include <string>

namespace lockbox::api::internal {

namespace ssl = boost::asio::ssl;

Result<std::unique_ptr<ssl::context>> make_tls_context(const std::filesystem::path& cert,
                                                       const std::filesystem::path& key) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return runtime_error("http server: cannot set the TLS versions and cipher suites");
  }
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  boost::system::error_code ec;
  // An encrypted key must fail here, not prompt on the terminal.
  context->set_password_callback([](std::size_t, auto) { return std::string(); }, ec);
  context->use_certificate_chain_file(cert.string(), ec);
  if (ec)
    return bad_input(fmt::format("http server: cannot load TLS certificate {}: {}", cert.string(),
                                 ec.message()));
  context->use_private_key_file(key.string(), ssl::context::pem, ec);  // also checks the pair
  if (ec)
    return bad_input(
        fmt::format("http server: cannot load TLS key {}: {}", key.string(), ec.message()));
  return context;
}

}  // namespace lockbox::api::internal
