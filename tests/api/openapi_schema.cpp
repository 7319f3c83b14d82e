#include "tests/api/openapi_schema.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <stdexcept>

namespace lockbox::testing {
namespace {

namespace json = boost::json;

const std::set<std::string> kChecked = {"type",  "properties", "required", "additionalProperties",
                                        "items", "enum",       "const",    "oneOf",
                                        "anyOf", "minimum",    "maximum",  "pattern",
                                        "$ref"};
const std::set<std::string> kAnnotations = {"description", "format",  "default",
                                            "title",       "example", "examples"};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_integer(const json::value& v) {
  if (v.is_int64() || v.is_uint64()) return true;
  if (!v.is_double()) return false;
  const double d = v.as_double();
  return d == static_cast<double>(static_cast<long long>(d));
}

double number_of(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  return v.as_double();
}

bool has_type(const json::value& v, std::string_view type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "boolean") return v.is_bool();
  if (type == "null") return v.is_null();
  if (type == "integer") return is_integer(v);
  if (type == "number") return v.is_number();
  return false;
}

std::string str(const json::value& v) {
  return std::string(v.as_string().c_str());
}

}  // namespace

OpenApi::OpenApi(json::value document) : doc_(std::move(document)) {}

const json::value& OpenApi::resolve(const json::value& node) const {
  const json::value* at = &node;
  for (int depth = 0; at->is_object() && at->as_object().contains("$ref"); ++depth) {
    if (depth > 16) throw std::runtime_error("$ref loop");
    const std::string ref = str(at->as_object().at("$ref"));
    if (ref.rfind("#/", 0) != 0) throw std::runtime_error("only local $ref: " + ref);
    at = &doc_.at_pointer(ref.substr(1));
  }
  return *at;
}

std::set<std::string> OpenApi::operations() const {
  std::set<std::string> out;
  for (const auto& [path, item] : doc_.at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object()) {
      if (method == "parameters") continue;
      std::string m(method);
      for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out.insert(m + " " + std::string(path));
    }
  }
  return out;
}

std::vector<std::string> OpenApi::check(const std::string& method, const std::string& path,
                                        int status, const std::string& body,
                                        const std::string& content_type) const {
  std::vector<std::string> problems;
  const std::string op_name = method + " " + path;
  const auto* item = doc_.at("paths").as_object().if_contains(path);
  const auto* op = item != nullptr ? item->as_object().if_contains(lower(method)) : nullptr;
  if (op == nullptr) return {op_name + ": not in the document"};
  const auto& responses = op->at("responses").as_object();
  const auto* response = responses.if_contains(std::to_string(status));
  if (response == nullptr)
    return {op_name + ": status " + std::to_string(status) + " is not documented"};
  const auto& r = resolve(*response).as_object();
  const auto* content = r.if_contains("content");
  if (content == nullptr) {
    if (!body.empty()) problems.push_back(op_name + ": a body where none is documented");
    return problems;
  }
  std::string type = lower(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  if (!content_type.empty() && !content->as_object().contains(type)) {
    problems.push_back(op_name + ": Content-Type " + content_type + " is not documented");
  }
  const auto* media = content->as_object().if_contains("application/json");
  if (media == nullptr) return problems;  // text/plain (metrics): any text
  json::error_code ec;
  const json::value value = json::parse(body, ec);
  if (ec) return {op_name + " " + std::to_string(status) + ": the body is not JSON"};
  validate(media->at("schema"), value, op_name + " " + std::to_string(status) + " $", problems);
  return problems;
}

void OpenApi::validate_object(const json::object& s, const json::object& o,
                              const std::string& where, std::vector<std::string>& problems) const {
  for (const auto& name : s.contains("required") ? s.at("required").as_array() : json::array{}) {
    if (!o.contains(name.as_string())) problems.push_back(where + ": missing " + str(name));
  }
  const auto* props = s.if_contains("properties");
  const auto* extra = s.if_contains("additionalProperties");
  for (const auto& [key, field] : o) {
    const std::string at = where + "." + std::string(key);
    if (props != nullptr && props->as_object().contains(key)) {
      validate(props->as_object().at(key), field, at, problems);
    } else if (extra != nullptr && extra->is_bool() && !extra->as_bool()) {
      problems.push_back(at + ": not in the schema");
    } else if (extra != nullptr && extra->is_object()) {
      validate(*extra, field, at, problems);
    }
  }
}

void OpenApi::validate(const json::value& schema_in, const json::value& v, const std::string& where,
                       std::vector<std::string>& problems) const {
  const json::object& s = resolve(schema_in).as_object();
  for (const auto& [key, ignored] : s) {
    const std::string k(key);
    if (kChecked.count(k) == 0 && kAnnotations.count(k) == 0)
      problems.push_back(where + ": unsupported keyword " + k);
  }
  auto fail = [&](const std::string& what) { problems.push_back(where + ": " + what); };
  if (const auto* type = s.if_contains("type")) {
    bool ok = false;
    if (type->is_string()) ok = has_type(v, type->as_string());
    for (const auto& t : type->is_array() ? type->as_array() : json::array{})
      ok = ok || has_type(v, t.as_string());
    if (!ok) return fail("expected type " + json::serialize(*type) + ", got " + json::serialize(v));
  }
  if (const auto* e = s.if_contains("enum")) {
    const auto& options = e->as_array();
    if (std::find(options.begin(), options.end(), v) == options.end())
      fail("not one of " + json::serialize(*e));
  }
  if (const auto* c = s.if_contains("const"); c != nullptr && *c != v)
    fail("not " + json::serialize(*c));
  if (v.is_number()) {
    if (const auto* m = s.if_contains("minimum"); m != nullptr && number_of(v) < number_of(*m))
      fail("below minimum");
    if (const auto* m = s.if_contains("maximum"); m != nullptr && number_of(v) > number_of(*m))
      fail("above maximum");
  }
  if (const auto* p = s.if_contains("pattern"); p != nullptr && v.is_string()) {
    if (!std::regex_search(str(v), std::regex(str(*p)))) fail("does not match " + str(*p));
  }
  if (v.is_object()) validate_object(s, v.as_object(), where, problems);
  if (const auto* items = s.if_contains("items"); items != nullptr && v.is_array()) {
    std::size_t i = 0;
    for (const auto& item : v.as_array())
      validate(*items, item, where + "[" + std::to_string(i++) + "]", problems);
  }
  for (const char* combinator : {"oneOf", "anyOf"}) {
    const auto* list = s.if_contains(combinator);
    if (list == nullptr) continue;
    int matches = 0;
    for (const auto& alternative : list->as_array()) {
      std::vector<std::string> sub;
      validate(alternative, v, where, sub);
      matches += sub.empty() ? 1 : 0;
    }
    if (matches == 0 || (std::string_view(combinator) == "oneOf" && matches > 1)) {
      fail(std::string(combinator) + ": " + std::to_string(matches) + " alternatives match");
    }
  }
}

}  // namespace lockbox::testing
