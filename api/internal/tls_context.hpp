#pragma once
// Internal to the api module: the server's TLS context (SPEC §15). TLS 1.2 and 1.3 only; TLS 1.2
// offers only ECDHE with AES-GCM or ChaCha20-Poly1305 (Mozilla's "intermediate" list), chosen in
// the server's order (SSL_OP_CIPHER_SERVER_PREFERENCE); no renegotiation. TLS 1.3 suites are all
// AEAD with forward secrecy, so OpenSSL's defaults stay.
// Thread-safety: make_tls_context() is pure; the context is shared read-only by sessions.

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <memory>

#include "core/status.hpp"

namespace lockbox::api::internal {

// The TLS 1.2 cipher list, in the server's order of preference.
inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// The context with the certificate chain and key from PEM files. kBadInput when a file cannot be
// loaded, is encrypted, or the key does not match the certificate; kRuntime when OpenSSL refuses
// the protocol settings.
Result<std::unique_ptr<boost::asio::ssl::context>> make_tls_context(
    const std::filesystem::path& cert, const std::filesystem::path& key);

}  // namespace lockbox::api::internal
