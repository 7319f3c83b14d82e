#include "policies/policy_loader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <system_error>
#include <type_traits>

#include "policies/internal/value_readers.hpp"
#include "policies/internal/yaml_reader.hpp"

namespace lockbox::policies {
namespace {

using internal::check_name;
using internal::Field;
using internal::in_quotes;
using internal::KeyRule;
using internal::read_map;
using internal::read_resolution;
using internal::YamlReader;

constexpr std::int64_t kMaxValueBytesLimit = std::int64_t{16} * 1024 * 1024;
constexpr std::int64_t kMaxRetries = 100;

// ---- readers that fill one member: KeyRule<T> wants a function of the struct T being filled,
// and these are instantiated per member (`duration_into<&RotationPolicy::notify_before_ms>`).

std::vector<std::string_view> enum_names(NameTransform) {
  return {"keep", "posix"};
}
std::vector<std::string_view> enum_names(OnExpired) {
  return {"skip", "fail"};
}
std::vector<std::string_view> enum_names(EnvOverride) {
  return {"allow", "warn", "deny"};
}

template <auto Member, typename T>
Status enum_into(const YamlReader& r, const Field& f, T& out) {
  using Enum = std::remove_reference_t<decltype(out.*Member)>;
  LOCKBOX_ASSIGN_OR_RETURN(std::size_t index, r.choice(f, enum_names(Enum{})));
  out.*Member = static_cast<Enum>(index);  // enum_names lists enumerators in declaration order
  return Status::ok();
}

template <auto Member, typename T>
Status duration_into(const YamlReader& r, const Field& f, T& out) {
  LOCKBOX_ASSIGN_OR_RETURN(out.*Member, r.duration(f));
  return Status::ok();
}

template <auto Member, typename T>
Status resolution_into(const YamlReader& r, const Field& f, T& out) {
  LOCKBOX_ASSIGN_OR_RETURN(out.*Member, read_resolution(r, f));
  return Status::ok();
}

// ---- inject, limits, rotation

Status read_prefix(const YamlReader& r, const Field& f, InjectPolicy& out) {
  LOCKBOX_ASSIGN_OR_RETURN(std::string prefix, r.string(f));
  if (!internal::is_valid_prefix(prefix)) {
    return r.error_at(f, "invalid prefix " + in_quotes(prefix) +
                             ": expected [A-Za-z_][A-Za-z0-9_]* or an empty string");
  }
  out.prefix = std::move(prefix);
  return Status::ok();
}

Status read_max_value_bytes(const YamlReader& r, const Field& f, LimitsPolicy& out) {
  LOCKBOX_ASSIGN_OR_RETURN(std::int64_t bytes, r.integer(f, 1, kMaxValueBytesLimit));
  out.max_value_bytes = static_cast<std::size_t>(bytes);
  return Status::ok();
}

const std::array<KeyRule<InjectPolicy>, 3> kInjectRules = {{
    {"prefix", read_prefix},
    {"name_transform", enum_into<&InjectPolicy::name_transform>},
    {"on_expired", enum_into<&InjectPolicy::on_expired>},
}};

const std::array<KeyRule<LimitsPolicy>, 1> kLimitsRules = {{
    {"max_value_bytes", read_max_value_bytes},
}};

const std::array<KeyRule<RotationPolicy>, 3> kRotationRules = {{
    {"data_key_max_age", duration_into<&RotationPolicy::data_key_max_age_ms>},
    {"secret_max_age", duration_into<&RotationPolicy::secret_max_age_ms>},
    {"notify_before", duration_into<&RotationPolicy::notify_before_ms>},
}};

// ---- namespaces, functions, jobs, roles

const std::array<KeyRule<NamespacePolicy>, 2> kNamespaceRules = {{
    {"env_override", enum_into<&NamespacePolicy::env_override>},
    {"resolution", resolution_into<&NamespacePolicy::resolution>},
}};

Status read_function_namespace(const YamlReader& r, const Field& f, FunctionPolicy& out) {
  LOCKBOX_ASSIGN_OR_RETURN(std::string ns, r.string(f));
  LOCKBOX_TRY(check_name(r, f.node.Mark(), ns, "namespace"));
  out.ns = std::move(ns);
  return Status::ok();
}

Status read_command(const YamlReader& r, const Field& f, FunctionPolicy& out) {
  LOCKBOX_ASSIGN_OR_RETURN(out.command, internal::read_command(r, f));
  return Status::ok();
}

Status read_workdir(const YamlReader& r, const Field& f, FunctionPolicy& out) {
  LOCKBOX_ASSIGN_OR_RETURN(out.workdir, internal::read_workdir(r, f));
  return Status::ok();
}

Status read_secrets(const YamlReader& r, const Field& f, FunctionPolicy& out) {
  LOCKBOX_ASSIGN_OR_RETURN(out.secrets, internal::read_secret_globs(r, f));
  return Status::ok();
}

Status read_require(const YamlReader& r, const Field& f, FunctionPolicy& out) {
  LOCKBOX_ASSIGN_OR_RETURN(out.require, internal::read_name_list(r, f));
  return Status::ok();
}

Status read_retries(const YamlReader& r, const Field& f, FunctionPolicy& out) {
  LOCKBOX_ASSIGN_OR_RETURN(std::int64_t retries, r.integer(f, 0, kMaxRetries));
  out.retries = static_cast<int>(retries);
  return Status::ok();
}

// A job is a function plus `retries`.
const std::array<KeyRule<FunctionPolicy>, 6> kFunctionRules = {{
    {"namespace", read_function_namespace},
    {"command", read_command},
    {"workdir", read_workdir},
    {"timeout", duration_into<&FunctionPolicy::timeout_ms>},
    {"secrets", read_secrets},
    {"require", read_require},
}};
const std::array<KeyRule<FunctionPolicy>, 7> kJobRules = {{
    {"namespace", read_function_namespace},
    {"command", read_command},
    {"workdir", read_workdir},
    {"timeout", duration_into<&FunctionPolicy::timeout_ms>},
    {"secrets", read_secrets},
    {"require", read_require},
    {"retries", read_retries},
}};

// Reads a permission list of a role into the member `Member`.
template <std::vector<std::string> RolePolicy::*Member>
Status read_permission(const YamlReader& r, const Field& f, RolePolicy& out) {
  LOCKBOX_ASSIGN_OR_RETURN(out.*Member, internal::read_scope_patterns(r, f));
  return Status::ok();
}

const std::array<KeyRule<RolePolicy>, 5> kRoleRules = {{
    {"read", read_permission<&RolePolicy::read>},
    {"write", read_permission<&RolePolicy::write>},
    {"delete", read_permission<&RolePolicy::del>},
    {"reveal", read_permission<&RolePolicy::reveal>},
    {"resolve", read_permission<&RolePolicy::resolve>},
}};

// A map of named entries (`functions:` and the like): each key follows the name rule and its
// value is read by `rules`; `finish`, when given, completes or vets the entry afterwards.
template <typename T, std::size_t N>
Status read_named(const YamlReader& r, const Field& f, std::string_view what,
                  const std::array<KeyRule<T>, N>& rules, std::map<std::string, T>& out,
                  std::type_identity_t<Status (*)(const YamlReader&, const Field&, T&)> finish) {
  return r.for_each_entry(f, [&](const Field& entry) -> Status {
    LOCKBOX_TRY(check_name(r, entry.key_mark, entry.name, std::string(what) + " name"));
    T item;
    LOCKBOX_TRY(
        read_map(r, entry, "in " + std::string(what) + " " + in_quotes(entry.name), rules, item));
    if (finish != nullptr) LOCKBOX_TRY(finish(r, entry, item));
    out.insert_or_assign(entry.name, std::move(item));  // for_each_entry refused duplicates
    return Status::ok();
  });
}

// Without `workdir`, the policy's command runs in the policy file's directory.
void default_workdir(const YamlReader& r, FunctionPolicy& fn) {
  if (fn.workdir.empty()) fn.workdir = r.base_dir();
}

Status finish_function(const YamlReader& r, const Field& entry, FunctionPolicy& fn) {
  fn.name = entry.name;
  default_workdir(r, fn);
  return Status::ok();
}

Status finish_job(const YamlReader& r, const Field& entry, FunctionPolicy& job) {
  job.name = entry.name;
  default_workdir(r, job);
  if (job.command.empty()) {
    return r.error_at(entry.key_mark, "job " + in_quotes(entry.name) + " has no 'command'");
  }
  return Status::ok();
}

Status finish_role(const YamlReader& r, const Field& entry, RolePolicy&) {
  if (entry.name == "admin") {
    return r.error_at(entry.key_mark, "role 'admin' is built in and cannot be redefined");
  }
  return Status::ok();
}

// ---- the top level

Status read_version(const YamlReader& r, const Field& f, Policy& policy) {
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  LOCKBOX_ASSIGN_OR_RETURN(std::int64_t version, r.integer(f, kMin, kMax));
  if (version != 1) {
    return r.error_at(f, "unsupported policy version " + std::to_string(version) + ": expected 1");
  }
  policy.version = 1;
  return Status::ok();
}

template <auto Member, const auto& Rules, typename T>
Status section_into(const YamlReader& r, const Field& f, T& out) {
  return read_map(r, f, "in " + f.name, Rules, out.*Member);
}

Status read_namespaces(const YamlReader& r, const Field& f, Policy& p) {
  return read_named(r, f, "namespace", kNamespaceRules, p.namespaces, nullptr);
}

Status read_functions(const YamlReader& r, const Field& f, Policy& p) {
  return read_named(r, f, "function", kFunctionRules, p.functions, finish_function);
}

Status read_jobs(const YamlReader& r, const Field& f, Policy& p) {
  return read_named(r, f, "job", kJobRules, p.jobs, finish_job);
}

Status read_roles(const YamlReader& r, const Field& f, Policy& p) {
  return read_named(r, f, "role", kRoleRules, p.roles, finish_role);
}

const std::array<KeyRule<Policy>, 9> kTopRules = {{
    {"version", read_version},
    {"resolution", resolution_into<&Policy::resolution>},
    {"inject", section_into<&Policy::inject, kInjectRules>},
    {"limits", section_into<&Policy::limits, kLimitsRules>},
    {"rotation", section_into<&Policy::rotation, kRotationRules>},
    {"namespaces", read_namespaces},
    {"functions", read_functions},
    {"jobs", read_jobs},
    {"roles", read_roles},
}};

// strerror text, lower-cased to match our messages ("no such file or directory").
std::string errno_text(int error) {
  std::string text = std::generic_category().message(error);
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = static_cast<char>(text[0] + 32);
  return text;
}

Result<std::string> read_policy_text(const std::filesystem::path& path) {
  const auto fail = [&](const std::string& reason) {
    return bad_input("cannot read policy file " + path.string() + ": " + reason);
  };
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below, unread.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return fail(errno_text(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return bad_input("policy file " + path.string() + " is not a regular file");
  }
  std::string text;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return fail(errno_text(error));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxPolicyFileBytes) {
      ::close(fd);
      return fail("larger than " + std::to_string(kMaxPolicyFileBytes) + " bytes");
    }
  }
  ::close(fd);
  return text;
}

}  // namespace

Result<Policy> parse_policy(std::string_view yaml, const std::string& source,
                            const std::filesystem::path& base_dir) {
  const YamlReader reader(source, base_dir);
  try {
    LOCKBOX_ASSIGN_OR_RETURN(std::optional<YAML::Node> document,
                             reader.load_document(std::string(yaml)));
    Policy policy;
    policy.source = source;
    if (!document) return policy;  // empty, or only comments
    const Field top{*document, document->Mark(), "", false};
    LOCKBOX_TRY(read_map(reader, top, "at the top level", kTopRules, policy));
    return policy;
  } catch (const YAML::Exception& e) {
    return reader.error_at(e.mark, "invalid YAML: " + internal::printable(e.msg));
  }
}

Result<Policy> load_policy_file(const std::filesystem::path& path) {
  LOCKBOX_ASSIGN_OR_RETURN(std::string text, read_policy_text(path));
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) absolute = path;
  LOCKBOX_ASSIGN_OR_RETURN(Policy policy,
                           parse_policy(text, path.string(), absolute.parent_path()));
  policy.source = path;
  return policy;
}

}  // namespace lockbox::policies
