#include "cli/table.hpp"

#include "core/utf8.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace lockbox::cli {
namespace {

// Display width approximated by code points (continuation bytes do not count).
std::size_t display_width(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

void append_line(std::string& out, const std::vector<std::string>& cells,
                 const std::vector<std::size_t>& widths) {
  for (std::size_t i = 0; i < cells.size(); ++i) {
    out += cells[i];
    if (i + 1 == cells.size()) break;
    out.append(widths[i] - display_width(cells[i]) + 2, ' ');
  }
  out += '\n';
}

}  // namespace

// The length of the valid UTF-8 sequence starting at text[i] (1 for ASCII), or 0 when the bytes
// there are not valid UTF-8.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  const std::size_t n = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3
                        : lead >= 0xf0 && lead <= 0xf4                   ? 4
                                                                         : 0;
  if (n == 0 || i + n > text.size()) return 0;
  return is_valid_utf8(text.substr(i, n)) ? n : 0;
}

std::string display_safe(std::string_view text) {
  // C0 controls, DEL, the C1 controls U+0080..U+009F (some terminals act on them: U+009B is a
  // CSI) and bytes that are not valid UTF-8 are escaped, so a cell can never drive the terminal.
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto u = static_cast<unsigned char>(text[i]);
    const std::size_t n = utf8_sequence_length(text, i);
    if (text[i] == '\n') {
      out += "\\n";
    } else if (text[i] == '\t') {
      out += "\\t";
    } else if (n == 0 || u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else if (n == 2 && u == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(text[i + 1]));
    } else {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    ++i;
    if (n == 2 && u == 0xc2) ++i;  // both bytes of an escaped C1 control
  }
  return out;
}

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::add_row(std::vector<std::string> cells) {
  for (auto& cell : cells) cell = display_safe(cell);
  rows_.push_back(std::move(cells));
}

std::string Table::render() const {
  const std::size_t columns = !headers_.empty() ? headers_.size()
                              : rows_.empty()   ? 0
                                                : rows_.front().size();
  std::vector<std::size_t> widths(columns, 0);
  auto measure = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size() && i < columns; ++i) {
      widths[i] = std::max(widths[i], display_width(cells[i]));
    }
  };
  measure(headers_);
  for (const auto& row : rows_) measure(row);
  std::string out;
  if (!headers_.empty()) append_line(out, headers_, widths);
  for (const auto& row : rows_) append_line(out, row, widths);
  return out;
}

std::string render_fields(const std::vector<std::pair<std::string, std::string>>& fields) {
  Table table({});
  for (const auto& [name, value] : fields) table.add_row({name, value});
  return table.render();
}

}  // namespace lockbox::cli
