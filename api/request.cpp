#include "api/request.hpp"

#include <fmt/format.h>

#include <boost/json/parser.hpp>

#include "api/http.hpp"

namespace lockbox::api {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return bad_input("malformed percent escape in the request target");
      const int hi = hex_digit(text[i + 1]);
      const int lo = hex_digit(text[i + 2]);
      if (hi < 0 || lo < 0) return bad_input("malformed percent escape in the request target");
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return bad_input("NUL byte in the request target");
    out.push_back(c);
  }
  return out;
}

}  // namespace

Result<Target> parse_target(std::string_view target) {
  const std::size_t q = target.find('?');
  Target out;
  out.path = std::string(target.substr(0, q));
  if (out.path.empty() || out.path.front() != '/')
    return bad_input("the request target must be a path");
  std::string_view path = out.path;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string_view raw = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (raw.empty()) continue;
    LOCKBOX_ASSIGN_OR_RETURN(std::string segment, percent_decode(raw, false));
    out.segments.push_back(std::move(segment));
  }
  if (q == std::string_view::npos) return out;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    LOCKBOX_ASSIGN_OR_RETURN(std::string key, percent_decode(pair.substr(0, eq), true));
    LOCKBOX_ASSIGN_OR_RETURN(std::string value, eq == std::string_view::npos
                                                    ? Result<std::string>(std::string())
                                                    : percent_decode(pair.substr(eq + 1), true));
    if (!out.query.emplace(std::move(key), std::move(value)).second) {
      return bad_input("a query parameter is given more than once");
    }
  }
  return out;
}

Result<std::unique_ptr<JsonBody>> JsonBody::parse(std::string_view body) {
  std::unique_ptr<JsonBody> parsed(new JsonBody());
  // Every string of the document is allocated from this arena, wiped by the destructor. Beyond
  // it the resource would fall back to the heap (unwiped), so it is sized for the worst case:
  // the parsed form of a JSON document is at most a few times the text.
  // The parser's temporary stack (partial strings) gets its own slice of the arena.
  const std::size_t temp_size = body.size() + 1024;
  parsed->arena_size_ = body.size() * 4 + 4096 + temp_size;
  parsed->arena_.reset(new unsigned char[parsed->arena_size_]);
  parsed->resource_ = std::make_unique<boost::json::monotonic_resource>(
      parsed->arena_.get() + temp_size, parsed->arena_size_ - temp_size);
  boost::system::error_code ec;
  {
    boost::json::parser parser(boost::json::storage_ptr(), boost::json::parse_options(),
                               parsed->arena_.get(), temp_size);
    parser.reset(boost::json::storage_ptr(parsed->resource_.get()));
    parser.write(boost::json::string_view(body.data(), body.size()), ec);
    if (!ec) parsed->root_ = parser.release();
  }
  if (ec) return bad_input("malformed JSON body");
  if (!parsed->root_.is_object()) return bad_input("the body must be a JSON object");
  return parsed;
}

JsonBody::~JsonBody() {
  root_ = nullptr;
  resource_.reset();
  if (arena_) wipe(arena_.get(), arena_size_);
}

const boost::json::value* JsonBody::find(std::string_view key) const {
  const auto& object = this->object();
  auto it = object.find(boost::json::string_view(key.data(), key.size()));
  if (it == object.end() || it->value().is_null()) return nullptr;
  return &it->value();
}

Status JsonBody::check_fields(std::initializer_list<std::string_view> known) const {
  for (const auto& kv : object()) {
    const std::string_view key(kv.key().data(), kv.key().size());
    bool ok = false;
    for (const auto k : known) ok = ok || k == key;
    if (!ok) return bad_input(fmt::format("unknown field in the body: {}", printable(key, 64)));
  }
  return Status::ok();
}

bool JsonBody::has(std::string_view key) const {
  return find(key) != nullptr;
}

bool JsonBody::is_null(std::string_view key) const {
  const auto& object = this->object();
  auto it = object.find(boost::json::string_view(key.data(), key.size()));
  return it != object.end() && it->value().is_null();
}

Result<std::optional<std::string>> JsonBody::string(std::string_view key) const {
  const auto* v = find(key);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return bad_input(fmt::format("{} must be a string", key));
  return std::optional<std::string>(std::string(v->get_string().data(), v->get_string().size()));
}

Result<std::optional<SecretValue>> JsonBody::secret(std::string_view key) const {
  const auto* v = find(key);
  if (v == nullptr) return std::optional<SecretValue>();
  if (!v->is_string()) return bad_input(fmt::format("{} must be a string", key));
  return std::optional<SecretValue>(
      SecretValue(std::string_view(v->get_string().data(), v->get_string().size())));
}

Result<std::optional<std::int64_t>> JsonBody::integer(std::string_view key) const {
  const auto* v = find(key);
  if (v == nullptr) return std::optional<std::int64_t>();
  if (v->is_int64()) return std::optional<std::int64_t>(v->get_int64());
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return std::optional<std::int64_t>(static_cast<std::int64_t>(v->get_uint64()));
  }
  return bad_input(fmt::format("{} must be an integer", key));
}

Result<std::optional<std::vector<std::string>>> JsonBody::string_list(std::string_view key) const {
  const auto* v = find(key);
  if (v == nullptr) return std::optional<std::vector<std::string>>();
  if (!v->is_array()) return bad_input(fmt::format("{} must be an array of strings", key));
  std::vector<std::string> out;
  for (const auto& item : v->get_array()) {
    if (!item.is_string()) return bad_input(fmt::format("{} must be an array of strings", key));
    out.emplace_back(item.get_string().data(), item.get_string().size());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<std::optional<std::map<std::string, std::string>>> JsonBody::string_map(
    std::string_view key) const {
  const auto* v = find(key);
  if (v == nullptr) return std::optional<std::map<std::string, std::string>>();
  if (!v->is_object()) return bad_input(fmt::format("{} must be an object of strings", key));
  std::map<std::string, std::string> out;
  for (const auto& kv : v->get_object()) {
    if (!kv.value().is_string())
      return bad_input(fmt::format("{} must be an object of strings", key));
    out.emplace(std::string(kv.key().data(), kv.key().size()),
                std::string(kv.value().get_string().data(), kv.value().get_string().size()));
  }
  return std::optional<std::map<std::string, std::string>>(std::move(out));
}

Result<std::optional<std::vector<std::unique_ptr<JsonBody>>>> JsonBody::objects(
    std::string_view key) const {
  using Items = std::vector<std::unique_ptr<JsonBody>>;
  const auto* v = find(key);
  if (v == nullptr) return std::optional<Items>();
  if (!v->is_array()) return bad_input(fmt::format("{} must be an array", key));
  Items out;
  out.reserve(v->get_array().size());
  for (std::size_t i = 0; i < v->get_array().size(); ++i) {
    const auto& item = v->get_array()[i];
    if (!item.is_object()) return bad_input(fmt::format("{}[{}]: must be an object", key, i));
    std::unique_ptr<JsonBody> view(new JsonBody());
    view->view_ = &item.get_object();
    out.push_back(std::move(view));
  }
  return std::optional<Items>(std::move(out));
}

}  // namespace lockbox::api
