#include "cli/resolution_output.hpp"

#include <fmt/format.h>

#include "core/json_writer.hpp"
#include "cli/output.hpp"
#include "cli/table.hpp"
#include "core/time_format.hpp"

namespace lockbox::cli {

void print_resolution(const resolver::Resolution& resolution, bool json) {
  if (json) {
    JsonWriter out;
    out.begin_array();
    for (const auto& v : resolution.variables) {
      out.begin_object();
      out.key("name"); out.string(v.name);
      out.key("env"); out.string(v.env);
      out.key("scope"); out.string(v.origin.text());
      out.key("version");
      if (v.origin.kind == resolver::Origin::Kind::kStore) {
        out.integer(v.origin.version);
      } else {
        out.null();
      }
      out.end_object();
    }
    out.end_array();
    write_stdout(out.view());
    write_stdout("\n");
    return;
  }
  Table table({"NAME", "ENV", "ORIGIN", "VERSION", "EXPIRES"});
  for (const auto& v : resolution.variables) {
    const bool stored = v.origin.kind == resolver::Origin::Kind::kStore;
    table.add_row({v.name, v.env, v.origin.text(), stored ? fmt::format("v{}", v.origin.version) : "-",
                   v.expires_at ? format_rfc3339(*v.expires_at) : "-"});
  }
  if (table.empty()) {
    print_note("no secrets resolve for this context");
  } else {
    write_stdout(table.render());
  }
}

}  // namespace lockbox::cli
