#include "policies/internal/yaml_reader.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <charconv>
#include <set>
#include <sstream>

#include "core/time_format.hpp"

namespace lockbox::policies::internal {
namespace {

constexpr std::size_t kMaxQuoted = 64;

std::string type_error(std::string_view expected, const Field& field) {
  if (field.name.empty()) return "expected " + std::string(expected) + " at the top level";
  return "expected " + std::string(expected) + (field.element ? " in " : " for ") +
         in_quotes(field.name);
}

// "a", "a or b", "a, b or c".
std::string join_options(const std::vector<std::string_view>& options) {
  std::string out;
  for (std::size_t i = 0; i < options.size(); ++i) {
    if (i > 0) out += (i + 1 == options.size()) ? " or " : ", ";
    out += options[i];
  }
  return out;
}

// Records where documents start and ignores everything else: a first pass over the stream.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> marks;

  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

Result<std::optional<YAML::Node>> YamlReader::load_document(const std::string& text) const {
  // Not YAML::LoadAll: on a stray flow token (",]") yaml-cpp 0.7 reports empty documents at the
  // same mark forever, and LoadAll allocates until memory runs out. Stop at the second one.
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  DocumentStarts starts;
  while (starts.marks.size() < 2 && parser.HandleNextDocument(starts)) {
  }
  if (starts.marks.empty()) return std::optional<YAML::Node>();
  if (starts.marks.size() > 1) {
    if (starts.marks[1].pos == starts.marks[0].pos) {
      return error_at(starts.marks[1], "invalid YAML: unexpected token");
    }
    return error_at(starts.marks[1], "more than one YAML document in a policy file");
  }
  return std::optional<YAML::Node>(YAML::Load(text));
}

std::string printable(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < kMaxQuoted; ++i) {
    const char c = text[i];
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  if (text.size() > kMaxQuoted) out += "...";
  return out;
}

std::string in_quotes(std::string_view text) {
  return "'" + printable(text) + "'";
}

Status YamlReader::error_at(const YAML::Mark& mark, const std::string& message) const {
  if (mark.line < 0 || mark.column < 0) return bad_input(source_ + ": " + message);
  return bad_input(source_ + ":" + std::to_string(mark.line + 1) + ":" +
                   std::to_string(mark.column + 1) + ": " + message);
}

Status YamlReader::error_at(const Field& field, const std::string& message) const {
  if (field.node.IsNull() && !field.name.empty()) return error_at(field.key_mark, message);
  return error_at(field.node.Mark(), message);
}

Status YamlReader::for_each_entry(const Field& field,
                                  const std::function<Status(const Field&)>& fn) const {
  if (field.node.IsNull()) return Status::ok();
  if (!field.node.IsMap()) return error_at(field, type_error("a map", field));
  std::set<std::string> seen;
  for (auto it = field.node.begin(); it != field.node.end(); ++it) {
    // Copies: the iterator yields a temporary pair, so a reference to it->first would dangle.
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    if (!key.IsScalar()) {
      const std::string where =
          field.name.empty() ? "at the top level" : "in " + in_quotes(field.name);
      return error_at(key.Mark(), "expected a string key " + where);
    }
    const std::string& name = key.Scalar();
    if (!seen.insert(name).second) return error_at(key.Mark(), "duplicate key " + in_quotes(name));
    LOCKBOX_TRY(fn(Field{value, key.Mark(), name, false}));
  }
  return Status::ok();
}

Result<std::vector<Field>> YamlReader::list_items(const Field& field) const {
  std::vector<Field> items;
  if (field.node.IsNull()) return items;
  if (!field.node.IsSequence()) return error_at(field, type_error("a list", field));
  items.reserve(field.node.size());
  for (const YAML::Node& element : field.node) {
    // An empty element has no useful mark of its own; point at the list's key instead.
    const YAML::Mark mark = element.IsNull() ? field.key_mark : element.Mark();
    items.push_back(Field{element, mark, field.name, true});
  }
  return items;
}

Result<std::string> YamlReader::string(const Field& field) const {
  if (!field.node.IsScalar()) return error_at(field, type_error("a string", field));
  return field.node.Scalar();
}

Result<std::int64_t> YamlReader::integer(const Field& field, std::int64_t min,
                                         std::int64_t max) const {
  // A quoted scalar ("3") is a string, not an integer: the tag "!" marks it.
  if (!field.node.IsScalar() || field.node.Tag() == "!") {
    return error_at(field, type_error("an integer", field));
  }
  const std::string& text = field.node.Scalar();
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec == std::errc::invalid_argument || ptr != end) {
    return error_at(field, type_error("an integer", field));
  }
  if (ec == std::errc::result_out_of_range || value < min || value > max) {
    return error_at(field, in_quotes(field.name) + " must be between " + std::to_string(min) +
                               " and " + std::to_string(max));
  }
  return value;
}

Result<std::int64_t> YamlReader::duration(const Field& field) const {
  LOCKBOX_ASSIGN_OR_RETURN(std::string text, string(field));
  auto ms = parse_duration(text);
  if (!ms.is_ok()) {
    return error_at(field, "malformed duration " + in_quotes(text) + " for " +
                               in_quotes(field.name) +
                               ": expected a number and a unit s, m, h, d, w or y (30s, 10m, 7d)");
  }
  return ms.value();
}

Result<std::size_t> YamlReader::choice(const Field& field,
                                       const std::vector<std::string_view>& options) const {
  LOCKBOX_ASSIGN_OR_RETURN(std::string text, string(field));
  for (std::size_t i = 0; i < options.size(); ++i) {
    if (options[i] == text) return i;
  }
  return error_at(field, "bad value " + in_quotes(text) + " for " + in_quotes(field.name) +
                             ": expected " + join_options(options));
}

}  // namespace lockbox::policies::internal
