#include "cli/table.hpp"

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

std::string display_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
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
