#include "launcher/redactor.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <utility>
#include <vector>

using lockbox::SecretValue;
using lockbox::launcher::Redactor;

namespace {

using Plain = std::vector<std::pair<std::string, std::string>>;  // (name, value)

Redactor make_redactor(const Plain& secrets) {
  std::vector<Redactor::Secret> list;
  for (const auto& [name, value] : secrets) list.push_back({name, SecretValue(value)});
  return Redactor(std::move(list));
}

std::string redact_whole(const Plain& secrets, std::string_view text) {
  Redactor r = make_redactor(secrets);
  std::string out;
  r.feed(text, out);
  r.finish(out);
  return out;
}

// The reference: scan left to right; at each position take the longest value starting there
// (the first given among equal ones) and continue after it, else copy one byte.
std::string naive_redact(const Plain& secrets, std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t best = 0;
    const std::string* name = nullptr;
    for (const auto& [n, v] : secrets) {
      if (v.size() >= 6 && v.size() > best && text.substr(i, v.size()) == v) {
        best = v.size();
        name = &n;
      }
    }
    if (best > 0) {
      out += "[REDACTED:" + *name + "]";
      i += best;
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::string redact_byte_by_byte(const Plain& secrets, std::string_view text) {
  Redactor r = make_redactor(secrets);
  std::string out;
  for (const char c : text) {
    r.feed(std::string_view(&c, 1), out);
    CHECK(r.held_back() + 1 <= std::max<std::size_t>(r.longest(), 1));
  }
  r.finish(out);
  return out;
}

// Checks every 2-piece split and the byte-by-byte feed against the reference.
void check_all_splits(const Plain& secrets, const std::string& text) {
  const std::string expected = naive_redact(secrets, text);
  CHECK(redact_whole(secrets, text) == expected);
  CHECK(redact_byte_by_byte(secrets, text) == expected);
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    Redactor r = make_redactor(secrets);
    std::string out;
    r.feed(std::string_view(text).substr(0, cut), out);
    r.feed(std::string_view(text).substr(cut), out);
    r.finish(out);
    INFO("split at " << cut);
    CHECK(out == expected);
  }
}

}  // namespace

TEST_CASE("redactor replaces each value with its secret's name", "[launcher][redact]") {
  const Plain secrets{{"DB_PASSWORD", "hunter22"}, {"API_KEY", "sk_live_123456"}};
  CHECK(redact_whole(secrets, "user=me pass=hunter22 key=sk_live_123456\n") ==
        "user=me pass=[REDACTED:DB_PASSWORD] key=[REDACTED:API_KEY]\n");
  CHECK(redact_whole(secrets, "hunter22hunter22") ==
        "[REDACTED:DB_PASSWORD][REDACTED:DB_PASSWORD]");
  CHECK(redact_whole(secrets, "hunter2 is not it") == "hunter2 is not it");
  CHECK(redact_whole(secrets, "") == "");
}

TEST_CASE("redactor gives the same output for every split of the stream", "[launcher][redact]") {
  const Plain secrets{{"A", "abcdef"}, {"B", "cdefgh"}, {"LONG", "abcdefghij"}, {"N", "123456"}};
  check_all_splits(secrets, "xxabcdefghij--abcdefgh--cdefgh 123456123456 abcde abcdefghi");
  check_all_splits(secrets, "abcdefghij");
  check_all_splits(secrets, "aabcdeabcdefgcdefghhh");
}

TEST_CASE("redactor prefers the leftmost, then the longest, overlapping value",
          "[launcher][redact]") {
  const Plain overlap{{"A", "abcdef"}, {"B", "cdefgh"}};
  CHECK(redact_whole(overlap, "xxabcdefghyy") == "xx[REDACTED:A]ghyy");
  CHECK(redact_whole(overlap, "xxcdefghyy") == "xx[REDACTED:B]yy");
  CHECK(redact_whole(overlap, "abcdecdefgh") == "abcde[REDACTED:B]");

  const Plain prefix{{"SHORT", "abcdef"}, {"LONG", "abcdefgh"}};
  CHECK(redact_whole(prefix, "abcdefgh") == "[REDACTED:LONG]");
  CHECK(redact_whole(prefix, "abcdefg") == "[REDACTED:SHORT]g");
  CHECK(redact_whole(prefix, "abcdefabcdefgh") == "[REDACTED:SHORT][REDACTED:LONG]");
  const Plain suffix{{"SHORT", "cdefgh"}, {"LONG", "abcdefgh"}};
  CHECK(redact_whole(suffix, "abcdefgh") == "[REDACTED:LONG]");
  CHECK(redact_whole(suffix, "abcdefgX cdefgh") == "abcdefgX [REDACTED:SHORT]");

  // A longer value fails part-way after a shorter one matched; a third value lies inside the
  // abandoned attempt, after the shorter match, and must still be found.
  const Plain nested{{"A", "abcdef"}, {"LONG", "abcdefXYZuvwxyz"}, {"C", "XYZuvw"}};
  check_all_splits(nested, "abcdefXYZuvwQ");
  CHECK(redact_whole(nested, "abcdefXYZuvwQ") == "[REDACTED:A][REDACTED:C]Q");
  CHECK(redact_whole(nested, "abcdefXYZuvwxyz") == "[REDACTED:LONG]");
}

TEST_CASE("redactor names equal values after the first secret given", "[launcher][redact]") {
  CHECK(redact_whole({{"FIRST", "samevalue"}, {"SECOND", "samevalue"}}, "a samevalue") ==
        "a [REDACTED:FIRST]");
}

TEST_CASE("redactor redacts a value at the very end of the stream", "[launcher][redact]") {
  Redactor r = make_redactor({{"TOKEN", "tok-123456"}, {"OTHER", "tok-1234567890"}});
  std::string out;
  r.feed("the token is tok-", out);
  r.feed("123456", out);
  CHECK(r.held_back() > 0);  // could still become OTHER
  CHECK(r.held_back() <= r.longest() - 1);
  r.finish(out);
  CHECK(out == "the token is [REDACTED:TOKEN]");
  CHECK(r.held_back() == 0);

  // finish() resets: the same object serves a new stream.
  out.clear();
  r.feed("tok-12345", out);
  r.finish(out);
  CHECK(out == "tok-12345");
}

TEST_CASE("redactor leaves values shorter than six bytes alone", "[launcher][redact]") {
  const Plain secrets{{"FIVE", "abcde"}, {"SIX", "abcdef"}, {"EMPTY", ""}};
  CHECK(redact_whole(secrets, "abcde abcdef abcd") == "abcde [REDACTED:SIX] abcd");
  Redactor only_short = make_redactor({{"FIVE", "abcde"}, {"EMPTY", ""}});
  std::string out;
  only_short.feed("abcdeabcde", out);
  CHECK(out == "abcdeabcde");  // nothing held back when nothing can match
  CHECK(only_short.held_back() == 0);
}

TEST_CASE("redactor passes binary and NUL bytes through unchanged", "[launcher][redact]") {
  std::mt19937 rng(7);
  std::string binary(4096, '\0');
  for (auto& c : binary) c = static_cast<char>(rng() & 0xff);
  const Plain none{{"X", std::string("\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7", 8)}};
  const std::string expected = naive_redact(none, binary);
  CHECK(redact_whole(none, binary) == expected);
  CHECK(redact_byte_by_byte(none, binary) == expected);

  const std::string nuls(1000, '\0');
  CHECK(redact_whole(none, nuls) == nuls);

  const Plain high{{"BIN", "\xff\xfe\x01secret\x80"}};
  const std::string text = std::string("\0\0", 2) + "\xff\xfe\x01secret\x80" + std::string("\0", 1);
  CHECK(redact_whole(high, text) ==
        std::string("\0\0", 2) + "[REDACTED:BIN]" + std::string("\0", 1));
  check_all_splits(high, text);
}

TEST_CASE("redactor matches a naive reference on a 1 MB stream with 50 values",
          "[launcher][redact]") {
  std::mt19937 rng(20240601);
  // A four-letter alphabet makes partial matches, overlaps and shared prefixes common.
  const std::string alphabet = "abcd";
  auto random_text = [&](std::size_t n) {
    std::string s(n, 'a');
    for (auto& c : s) c = alphabet[rng() % alphabet.size()];
    return s;
  };
  Plain secrets;
  for (int i = 0; i < 50; ++i) {
    const std::size_t length = 6 + rng() % 30;
    std::string value = random_text(length);
    // Some values extend or overlap earlier ones.
    if (i > 0 && i % 5 == 0) value = secrets[rng() % secrets.size()].second + random_text(2);
    if (i > 0 && i % 7 == 0) value = secrets[rng() % secrets.size()].second.substr(2) + "dd";
    secrets.emplace_back("S" + std::to_string(i), value);
  }
  std::string text;
  while (text.size() < (1u << 20)) {
    text += random_text(rng() % 64);
    text += secrets[rng() % secrets.size()].second;
  }
  const std::string expected = naive_redact(secrets, text);
  CHECK(expected != text);

  Redactor r = make_redactor(secrets);
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t chunk = 1 + rng() % 5000;
    r.feed(std::string_view(text).substr(pos, chunk), out);
    REQUIRE(r.held_back() <= r.longest() - 1);
    pos += chunk;
  }
  r.finish(out);
  CHECK(out.size() == expected.size());
  CHECK(out == expected);
}

TEST_CASE("redactor survives small random streams in random pieces", "[launcher][redact]") {
  std::mt19937 rng(99);
  for (int round = 0; round < 300; ++round) {
    Plain secrets;
    const int count = 1 + static_cast<int>(rng() % 6);
    auto random_text = [&](std::size_t n) {
      std::string s(n, 'x');
      for (auto& c : s) c = "xy"[rng() % 2];
      return s;
    };
    for (int i = 0; i < count; ++i) {
      secrets.emplace_back("V" + std::to_string(i), random_text(4 + rng() % 6));
    }
    const std::string text = random_text(rng() % 80);
    Redactor r = make_redactor(secrets);
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t chunk = rng() % 7;
      r.feed(std::string_view(text).substr(pos, chunk), out);
      pos += chunk;
    }
    r.finish(out);
    INFO("round " << round << " text " << text);
    REQUIRE(out == naive_redact(secrets, text));
  }
}
