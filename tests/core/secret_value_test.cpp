#include "core/secret_value.hpp"

#include <catch2/catch.hpp>

#include "core/secure_key.hpp"

#include <fmt/format.h>

#include <ostream>
#include <string>
#include <type_traits>

using namespace lockbox;

TEST_CASE("secret values keep their bytes across appends and moves", "[core][secret]") {
  SecretValue v("abc");
  v.append(std::string(1000, 'x'));
  CHECK(v.size() == 1003);
  SecretValue moved = std::move(v);
  CHECK(moved.reveal().substr(0, 3) == "abc");
  CHECK(v.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  CHECK(moved.clone().equals(moved));
  CHECK_FALSE(moved.equals(SecretValue("abc")));
}

TEST_CASE("secret values hold NUL and multi-line bytes verbatim", "[core][secret]") {
  const std::string raw("a\0b\nc", 5);
  SecretValue v(raw);
  CHECK(v.reveal() == raw);
  v.clear();
  CHECK(v.empty());
}

TEST_CASE("secure keys live on the secure heap and compare in constant time", "[core][secret]") {
  CHECK(init_secure_heap());
  std::vector<std::uint8_t> bytes(32, 0x42);
  SecureKey a(bytes);
  SecureKey b = a.clone();
  CHECK(a.equals(b));
  b.mutable_data()[31] ^= 1;
  CHECK_FALSE(a.equals(b));
}

namespace {
template <typename T, typename = void>
struct is_streamable : std::false_type {};
template <typename T>
struct is_streamable<T, std::void_t<decltype(std::declval<std::ostream&>() << std::declval<const T&>())>>
    : std::true_type {};
}  // namespace

// Compile-time properties, checked here so that adding an operator<< or a formatter fails a build.
static_assert(!is_streamable<SecretValue>::value, "SecretValue must not be printable");
static_assert(!fmt::is_formattable<SecretValue>::value, "SecretValue must not be formattable");
static_assert(!std::is_copy_constructible_v<SecretValue>, "SecretValue copies must be explicit");
static_assert(!std::is_convertible_v<SecretValue, std::string_view>, "reveal() is the only way in");
static_assert(!std::is_copy_constructible_v<SecureKey>, "keys must not be copied implicitly");

TEST_CASE("secret values cannot be printed, formatted or copied implicitly", "[core][secret]") {
  SUCCEED("checked by the static_asserts above");
}
