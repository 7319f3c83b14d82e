#pragma once
// Internal to the api module: starting one connection's Session (api/internal/http_session.cpp)
// for HttpServer. Included only by the two TUs that include Beast.
// Thread-safety: start_session may be called from any thread; the session then runs on its strand.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <string>

#include "api/internal/connection_table.hpp"
#include "api/internal/server_state.hpp"

namespace lockbox::api::internal {

using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// Registers a session for `stream` (accepted from `peer`, admitted as `admission`) with `state`
// and starts it: the TLS handshake or the first read.
void start_session(ServerState& state, PlainStream stream, std::string peer,
                   ConnectionTable::Admission admission);
void start_session(ServerState& state, TlsStream stream, std::string peer,
                   ConnectionTable::Admission admission);

}  // namespace lockbox::api::internal
