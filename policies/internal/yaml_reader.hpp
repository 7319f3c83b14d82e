#pragma once
// Private to lockbox_policies: typed, position-aware reading of a yaml-cpp document. yaml-cpp
// types appear here and nowhere in a public header (they link PRIVATE).
//
// Every check reports "SOURCE:LINE:COLUMN: message" with 1-based positions. yaml-cpp 0.7 keeps
// duplicate map keys silently; for_each_entry() is the one place maps are walked, and it refuses
// them, so no caller can forget.

#include <yaml-cpp/yaml.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.hpp"

namespace lockbox::policies::internal {

// A value of the document with the key that introduced it.
struct Field {
  YAML::Node node;
  YAML::Mark key_mark;   // where its key starts; errors about an empty value point here
  std::string name;      // the key ("command"); empty for the document itself
  bool element = false;  // an element of the list `name` rather than its value
};

// `text` in single quotes for a message: at most 64 characters, anything outside printable ASCII
// shown as '?', so a message stays one readable line whatever the file holds.
std::string in_quotes(std::string_view text);
// The same without the quotes, for foreign messages (yaml-cpp's) that end up in ours.
std::string printable(std::string_view text);

// Thread-safety: const methods only; one reader per document.
class YamlReader {
 public:
  YamlReader(std::string source, std::filesystem::path base_dir)
      : source_(std::move(source)), base_dir_(std::move(base_dir)) {}

  [[nodiscard]] const std::filesystem::path& base_dir() const { return base_dir_; }

  // The one document of `text`; nullopt when it holds none (empty, or only comments). A second
  // document is an error at its start. Throws YAML::Exception on a syntax error.
  [[nodiscard]] Result<std::optional<YAML::Node>> load_document(const std::string& text) const;

  // kBadInput "SOURCE:LINE:COLUMN: message"; "SOURCE: message" when the mark is unknown.
  [[nodiscard]] Status error_at(const YAML::Mark& mark, const std::string& message) const;
  // At the field's value; at its key when the value is empty (yaml-cpp marks an empty value at
  // whatever token follows it, often on the next line).
  [[nodiscard]] Status error_at(const Field& field, const std::string& message) const;

  // Calls `fn` for each pair of the map `field`, in document order, after checking that the key
  // is a string that did not occur before in this map. An empty value counts as an empty map.
  // Stops at the first non-ok Status (its own or fn's).
  [[nodiscard]] Status for_each_entry(const Field& field,
                                      const std::function<Status(const Field&)>& fn) const;
  // The elements of the list `field` (an empty value is an empty list); each element's name is
  // the list's name.
  [[nodiscard]] Result<std::vector<Field>> list_items(const Field& field) const;

  // A scalar's text (quoted or not). Errors: not a scalar.
  [[nodiscard]] Result<std::string> string(const Field& field) const;
  // An unquoted decimal integer in [min, max].
  [[nodiscard]] Result<std::int64_t> integer(const Field& field, std::int64_t min,
                                             std::int64_t max) const;
  // A SPEC §1 duration, in milliseconds.
  [[nodiscard]] Result<std::int64_t> duration(const Field& field) const;
  // The index of the scalar's text in `options`; error "bad value 'x' for 'k': expected a, b".
  [[nodiscard]] Result<std::size_t> choice(const Field& field,
                                           const std::vector<std::string_view>& options) const;

 private:
  std::string source_;
  std::filesystem::path base_dir_;
};

// One allowed key of a map and how its value is read into a T: the schema is a table of these.
template <typename T>
struct KeyRule {
  std::string_view key;
  Status (*read)(const YamlReader& reader, const Field& value, T& out);
};

// Reads the map `field` into `out`; a key without a rule is "unknown key 'k' <where>"
// (where: "in inject", "at the top level") at the key's position.
template <typename T, std::size_t N>
Status read_map(const YamlReader& reader, const Field& field, std::string_view where,
                const std::array<KeyRule<T>, N>& rules, T& out) {
  return reader.for_each_entry(field, [&](const Field& entry) -> Status {
    for (const KeyRule<T>& rule : rules) {
      if (rule.key == entry.name) return rule.read(reader, entry, out);
    }
    return reader.error_at(entry.key_mark,
                           "unknown key " + in_quotes(entry.name) + " " + std::string(where));
  });
}

}  // namespace lockbox::policies::internal
