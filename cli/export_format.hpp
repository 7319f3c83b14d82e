#pragma once
// The output formats of `secrets export` (SPEC §5). Each document is built in a SecretValue
// (wiped when freed), because it holds every exported value.
//
// env (dotenv, read back by `secrets import` and by the dotenv npm package v16):
//   NAME='value'   when the value has no ' and no CR (single quotes keep everything literal,
//                  newlines included);
//   NAME="value"   otherwise, when the value has no " and no backslash followed by n or r (in
//                  double quotes dotenv expands \n and \r; LF and CR are written as \n and \r);
//   NAME=`value`   otherwise, when the value has no ` and no CR;
//   else kBadInput naming the secret: "cannot be represented in dotenv; use --format json".
// json: one object {"NAME": "value", ...}.
// yaml: one "NAME: "value"" line per secret, YAML double-quoted escapes; keys a YAML 1.1 parser
//   would read as a bool, null or number are quoted.

#include <optional>
#include <string_view>
#include <vector>

#include "core/secret_value.hpp"
#include "core/status.hpp"
#include "store/types.hpp"

namespace lockbox::cli {

enum class ExportFormat { kEnv, kJson, kYaml };

// "env", "json" or "yaml"; kBadInput otherwise.
Result<ExportFormat> parse_export_format(std::string_view text);

// Appends `NAME=<quoted value>\n` to `out`, or kBadInput as described above.
Status append_dotenv_line(SecretValue& out, std::string_view name, std::string_view value);

// Appends `NAME: "<escaped value>"\n` to `out`.
void append_yaml_line(SecretValue& out, std::string_view name, std::string_view value);

// The whole document for `secrets` in `format`.
Result<SecretValue> render_export(const std::vector<store::RevealedSecret>& secrets,
                                  ExportFormat format);

}  // namespace lockbox::cli
