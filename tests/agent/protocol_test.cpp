// The agent's wire format (agent/protocol.hpp): round trips, and garbage, truncated and
// oversized input rejected without a crash (the agent drops such a connection and serves on).
#include "agent/protocol.hpp"

#include <catch2/catch.hpp>
#include <random>

using namespace lockbox;
using namespace lockbox::agent;

namespace {

std::string payload_of(const SecretValue& frame) {
  return std::string(frame.reveal().substr(4));
}

}  // namespace

TEST_CASE("a message round-trips its kind, present and absent fields, and binary bytes",
          "[agent][protocol]") {
  MessageWriter w(Kind::kResolve);
  w.field("default").absent().field(std::string("a\0b", 3)).field("").optional_field(std::nullopt);
  const SecretValue frame = w.finish();
  REQUIRE(frame.size() >= 4);
  const std::string payload = payload_of(frame);
  const auto n = (std::size_t{static_cast<unsigned char>(frame.reveal()[2])} << 8) |
                 static_cast<unsigned char>(frame.reveal()[3]);
  CHECK(n == payload.size());
  auto m = decode(payload);
  REQUIRE(m.is_ok());
  CHECK(m->kind == Kind::kResolve);
  REQUIRE(m->fields.size() == 5);
  CHECK(*m->fields[0] == "default");
  CHECK(!m->fields[1]);
  CHECK(*m->fields[2] == std::string("a\0b", 3));
  CHECK(m->fields[3]->empty());
  CHECK(!m->fields[4]);
}

TEST_CASE("the frame reader yields whole payloads however the bytes are split",
          "[agent][protocol]") {
  MessageWriter a(Kind::kHello);
  MessageWriter b(Kind::kAudit);
  b.field("launch").field("namespace:default").field("started").field("command=sh");
  const std::string stream = std::string(a.finish().reveal()) + std::string(b.finish().reveal());
  for (std::size_t step = 1; step <= stream.size(); ++step) {
    FrameReader reader(kMaxRequestBytes);
    std::vector<std::string> got;
    for (std::size_t at = 0; at < stream.size(); at += step) {
      reader.append(std::string_view(stream).substr(at, step));
      while (true) {
        auto next = reader.next();
        REQUIRE(next.is_ok());
        if (!*next) break;
        got.emplace_back((*next)->reveal());
      }
    }
    REQUIRE(got.size() == 2);
    CHECK(decode(got[0])->kind == Kind::kHello);
    CHECK(decode(got[1])->fields.size() == 4);
    CHECK(reader.buffered() == 0);
  }
}

TEST_CASE("an announced length over the limit is refused before its bytes arrive",
          "[agent][protocol]") {
  FrameReader reader(kMaxRequestBytes);
  const std::uint32_t n = kMaxRequestBytes + 1;
  const char head[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                        static_cast<char>(n >> 8), static_cast<char>(n)};
  reader.append({head, 4});
  CHECK(reader.next().status().code() == StatusCode::kBadInput);
  FrameReader huge(kMaxRequestBytes);
  huge.append(std::string("\xff\xff\xff\xff", 4));
  CHECK(!huge.next().is_ok());
}

TEST_CASE("malformed payloads are refused: empty, unknown kind, bad marker, truncated field",
          "[agent][protocol]") {
  CHECK(!decode("").is_ok());
  CHECK(!decode(std::string("\x00", 1)).is_ok());
  CHECK(!decode("\x06").is_ok());
  CHECK(!decode("\x7f").is_ok());
  CHECK(!decode("\x02\x02").is_ok());                                    // marker 2
  CHECK(!decode(std::string("\x02\x01\x00\x00", 4)).is_ok());            // length cut short
  CHECK(!decode(std::string("\x02\x01\x00\x00\x00\x05zz", 8)).is_ok());  // field cut short
  CHECK(!decode(std::string("\x02\x01\xff\xff\xff\xff", 6)).is_ok());    // length past the end
  CHECK(decode(std::string("\x02\x00\x00", 3))->fields.size() == 2);     // two absent fields
}

TEST_CASE("random and mutated bytes never crash the decoder or the frame reader",
          "[agent][protocol]") {
  std::mt19937 rng(20261206);
  MessageWriter w(Kind::kHeads);
  w.field("7").field("global").field("FOO").field("3").absent().field("0").field("value");
  const std::string good = std::string(w.finish().reveal());
  for (int round = 0; round < 20000; ++round) {
    std::string bytes;
    if (round % 2 == 0) {
      bytes = good;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < flips; ++i) bytes[rng() % bytes.size()] = static_cast<char>(rng());
      if (rng() % 3 == 0) bytes.resize(rng() % bytes.size());
    } else {
      bytes.resize(rng() % 64);
      for (auto& c : bytes) c = static_cast<char>(rng());
    }
    FrameReader reader(1024);
    reader.append(bytes);
    for (int i = 0; i < 8; ++i) {
      auto next = reader.next();
      if (!next.is_ok() || !*next) break;
      auto m = decode((*next)->reveal());
      if (m.is_ok()) {
        for (const auto& f : m->fields) {
          if (f) CHECK(f->size() <= bytes.size());
        }
      }
    }
  }
}

TEST_CASE("numbers parse strictly", "[agent][protocol]") {
  CHECK(parse_int("42") == 42);
  CHECK(parse_int("-1") == -1);
  CHECK(!parse_int(""));
  CHECK(!parse_int("4x"));
  CHECK(!parse_int("99999999999999999999"));
}
