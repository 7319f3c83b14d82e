// Name-level rules of SPEC §3: name_transform, the refused-name list and the allow-list globs.
// Kept apart from resolver.cpp because the launcher and `policy check` use them on their own.

#include <array>
#include <string>
#include <string_view>

#include "resolver/resolver.hpp"

namespace lockbox::resolver {
namespace {

// SPEC §3 (exact). Names refused as a whole.
constexpr auto kRefusedExact = std::to_array<std::string_view>({
    "PATH",
    "HOME",
    "SHELL",
    "IFS",
    "ENV",
    "BASH_ENV",
    "PS4",
    "GCONV_PATH",
    "GLIBC_TUNABLES",
    "LOCPATH",
    "NLSPATH",
    "HOSTALIASES",
    "RES_OPTIONS",
    "TMPDIR",
    "NODE_OPTIONS",
    "NODE_PATH",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PERL5OPT",
    "PERL5LIB",
    "RUBYOPT",
    "RUBYLIB",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "CLASSPATH",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "FTP_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "ftp_proxy",
    "all_proxy",
    "no_proxy",
    // Their twins (issue 13): option, library-path and startup-file variables of other runtimes,
    // TLS key logging and provider loading, and shell or git hooks that run a command.
    "JDK_JAVA_OPTIONS",
    "PERLLIB",
    "SSLKEYLOGFILE",
    "OPENSSL_CONF",
    "OPENSSL_MODULES",
    "PYTHONWARNINGS",
    "PROMPT_COMMAND",
    "GIT_SSH_COMMAND",
    "GIT_EXEC_PATH",
    "LUA_PATH",
    "LUA_INIT",
    "GEM_PATH",
    "R_PROFILE",
    // Beyond the SPEC's list (a later review): the same hooks under their other spellings, shell
    // option imports, debugger and breakpoint hooks, PHP start-up files, and trust-store overrides
    // of curl, Python requests and node (like SSL_CERT_FILE).
    "LUA_CPATH",
    "R_PROFILE_USER",
    "R_ENVIRON",
    "R_ENVIRON_USER",
    "GIT_SSH",
    "GIT_PROXY_COMMAND",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "SHELLOPTS",
    "BASHOPTS",
    "PERL5DB",
    "PYTHONBREAKPOINT",
    "PHPRC",
    "PHP_INI_SCAN_DIR",
    "NODE_EXTRA_CA_CERTS",
    "CURL_CA_BUNDLE",
    "REQUESTS_CA_BUNDLE",
});

// SPEC §3 `X_*` entries: every name that starts with one of these is refused (the prefix alone
// too, since it starts with itself).
constexpr auto kRefusedPrefixes =
    std::to_array<std::string_view>({"BASH_FUNC_", "LD_", "DYLD_", "MALLOC_", "LOCKBOX_",
                                     // LUA_INIT_5_4 and its siblings; GIT_CONFIG_KEY_n/VALUE_n
                                     // (core.sshCommand, core.hooksPath …) and GIT_CONFIG_GLOBAL
                                     "LUA_INIT_", "GIT_CONFIG_"});

}  // namespace

std::string transform_name(std::string_view name, policies::NameTransform transform) {
  std::string out(name);
  if (transform == policies::NameTransform::kPosix) {
    for (char& c : out) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      if (c == '-') c = '_';
    }
  }
  return out;
}

bool is_refused_env_name(std::string_view env) {
  for (std::string_view refused : kRefusedExact) {
    if (env == refused) return true;
  }
  for (std::string_view prefix : kRefusedPrefixes) {
    if (env.starts_with(prefix)) return true;
  }
  return false;
}

}  // namespace lockbox::resolver
