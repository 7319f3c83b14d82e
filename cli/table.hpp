#pragma once
// Table: aligned plain-text tables for people (the non --json output).
// Columns are separated by two spaces and padded to the widest cell (counted in UTF-8 code
// points); the last column is not padded, so no line has trailing blanks. Cells are made safe
// for a terminal: control characters become visible escapes ("\n", "\x1b"), so a description
// cannot break the layout or inject terminal sequences.
// NOTE: never put a secret value in a Table; it is an ordinary std::string buffer.
// Thread-safety: none.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lockbox::cli {

class Table {
 public:
  // An empty `headers` vector makes a table without a header line.
  explicit Table(std::vector<std::string> headers);

  // REQUIRES: cells.size() equals the header count (or the first row's size without headers).
  void add_row(std::vector<std::string> cells);
  [[nodiscard]] bool empty() const { return rows_.empty(); }

  // The rendered table, each line ending in '\n'.
  [[nodiscard]] std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// A two-column "field  value" block (no header), e.g. the metadata of one secret.
[[nodiscard]] std::string render_fields(
    const std::vector<std::pair<std::string, std::string>>& fields);

// `text` with control characters escaped for display.
[[nodiscard]] std::string display_safe(std::string_view text);

}  // namespace lockbox::cli
