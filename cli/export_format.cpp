#include "cli/export_format.hpp"

#include <fmt/format.h>

#include <array>

#include "core/json_writer.hpp"

namespace lockbox::cli {
namespace {

constexpr char kHex[] = "0123456789abcdef";

bool contains(std::string_view s, std::string_view what) {
  return s.find(what) != std::string_view::npos;
}

// Appends `value` in double quotes for dotenv: LF and CR as \n and \r.
void append_dotenv_double_quoted(SecretValue& out, std::string_view value) {
  out.append("\"");
  std::size_t run = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '\n' && value[i] != '\r') continue;
    out.append(value.substr(run, i - run));
    out.append(value[i] == '\n' ? "\\n" : "\\r");
    run = i + 1;
  }
  out.append(value.substr(run));
  out.append("\"");
}

// YAML 1.1 plain scalars that would not load as a string key.
bool yaml_key_needs_quotes(std::string_view name) {
  static constexpr std::array<std::string_view, 22> kSpecial = {
      "y",    "Y",    "yes",   "Yes",   "YES",   "n",  "N",  "no", "No",  "NO",  "true",
      "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF"};
  static constexpr std::array<std::string_view, 4> kNull = {"null", "Null", "NULL", "~"};
  for (auto s : kSpecial) {
    if (s == name) return true;
  }
  for (auto s : kNull) {
    if (s == name) return true;
  }
  const char first = name.empty() ? '\0' : name.front();
  return first == '-' || (first >= '0' && first <= '9');
}

// The YAML double-quoted escape of the code point starting at value[i] (one byte, or the three
// bytes of U+0085/U+2028/U+2029, which YAML treats as line breaks); empty when verbatim.
std::string_view yaml_escape(std::string_view value, std::size_t i, std::size_t& consumed,
                             std::array<char, 5>& scratch) {
  consumed = 1;
  const auto u = static_cast<unsigned char>(value[i]);
  switch (value[i]) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: break;
  }
  if (u < 0x20 || u == 0x7f) {
    scratch = {'\\', 'x', kHex[u >> 4], kHex[u & 0xF], '\0'};
    return {scratch.data(), 4};
  }
  struct LineBreak {
    std::string_view utf8;
    std::string_view escape;
  };
  static constexpr std::array<LineBreak, 3> kBreaks = {
      {{"\xC2\x85", "\\N"}, {"\xE2\x80\xA8", "\\L"}, {"\xE2\x80\xA9", "\\P"}}};
  // Other C1 controls (U+0080..U+009F) are not printable in YAML: \xNN names the code point.
  const auto next = i + 1 < value.size() ? static_cast<unsigned char>(value[i + 1]) : 0;
  if (u == 0xC2 && next >= 0x80 && next <= 0x9F && next != 0x85) {
    scratch = {'\\', 'x', kHex[next >> 4], kHex[next & 0xF], '\0'};
    consumed = 2;
    return {scratch.data(), 4};
  }
  for (const auto& b : kBreaks) {
    if (value.substr(i, b.utf8.size()) == b.utf8) {
      consumed = b.utf8.size();
      return b.escape;
    }
  }
  return {};
}

}  // namespace

Result<ExportFormat> parse_export_format(std::string_view text) {
  if (text == "env") return ExportFormat::kEnv;
  if (text == "json") return ExportFormat::kJson;
  if (text == "yaml") return ExportFormat::kYaml;
  return bad_input("unknown --format: expected env, json or yaml");
}

Status append_dotenv_line(SecretValue& out, std::string_view name, std::string_view value) {
  const bool has_cr = contains(value, "\r");
  out.append(name);
  out.append("=");
  if (!contains(value, "'") && !has_cr) {
    out.append("'");
    out.append(value);
    out.append("'\n");
    return Status::ok();
  }
  if (!contains(value, "\"") && !contains(value, "\\n") && !contains(value, "\\r")) {
    append_dotenv_double_quoted(out, value);
    out.append("\n");
    return Status::ok();
  }
  if (!contains(value, "`") && !has_cr) {
    out.append("`");
    out.append(value);
    out.append("`\n");
    return Status::ok();
  }
  return bad_input(fmt::format("{} cannot be represented in dotenv; use --format json", name));
}

void append_yaml_line(SecretValue& out, std::string_view name, std::string_view value) {
  if (yaml_key_needs_quotes(name)) {
    out.append("\"");
    out.append(name);
    out.append("\"");
  } else {
    out.append(name);
  }
  out.append(": \"");
  std::array<char, 5> scratch{};
  std::size_t run = 0;
  std::size_t i = 0;
  while (i < value.size()) {
    std::size_t consumed = 1;
    const std::string_view esc = yaml_escape(value, i, consumed, scratch);
    if (!esc.empty()) {
      out.append(value.substr(run, i - run));
      out.append(esc);
      run = i + consumed;
    }
    i += consumed;
  }
  out.append(value.substr(run));
  out.append("\"\n");
}

Result<SecretValue> render_export(const std::vector<store::RevealedSecret>& secrets,
                                  ExportFormat format) {
  if (format == ExportFormat::kJson) {
    JsonWriter json;
    json.begin_object();
    for (const auto& s : secrets) {
      json.key(s.meta.name);
      json.string(s.value.reveal());
    }
    json.end_object();
    SecretValue out(json.view());
    out.append("\n");
    return out;
  }
  SecretValue out;
  out.append("");
  for (const auto& s : secrets) {
    if (format == ExportFormat::kEnv) {
      LOCKBOX_TRY(append_dotenv_line(out, s.meta.name, s.value.reveal()));
    } else {
      append_yaml_line(out, s.meta.name, s.value.reveal());
    }
  }
  if (format == ExportFormat::kYaml && secrets.empty()) out.append("{}\n");
  return out;
}

}  // namespace lockbox::cli
