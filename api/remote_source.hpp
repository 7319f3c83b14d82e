#pragma once
// Remote mode (SPEC §8, exact): `lockbox run --server URL --token-file F [context flags] -- CMD`
// resolves through POST /api/v1/resolve and launches exactly as a local run. The server applies
// its policy (resolution order, the function's secrets and require rules, the token's role) and
// audits the resolve under the token's name; this host then applies its own layers as a local run
// does (env files, host FLUXBASE_SECRET_*, its policy's prefix, transforms and env_override), so
// the launch view is the same as if the store were here. Launch records stay on the server: the
// resolve record names the token, the context, and each secret's scope and version. The exit
// code is reported on stderr only.
//
// Errors become 125 at the launcher with a one-line message: connection and TLS failures, 401
// (token refused), 403 (role denies), 400 (bad context or missing required secret), 5xx.

#include <memory>
#include <string>

#include "core/status.hpp"
#include "launcher/secret_source.hpp"

namespace lockbox::api {

struct RemoteOptions {
  std::string server_url;   // http[s]://HOST[:PORT][/PATH]
  std::string token_file;   // holds lbx_<id>_<secret> (surrounding whitespace ignored)
};

// Reads the token (kBadInput when the file is missing, unreadable or empty) and prepares the
// client; nothing is sent until the first resolve.
Result<std::unique_ptr<launcher::SecretSource>> remote_source(const RemoteOptions& options);

}  // namespace lockbox::api
