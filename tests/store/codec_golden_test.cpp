// Golden vectors for the audit chain's canonical encoding and MAC, and for the tags/metadata
// column codecs (issue 15: the earlier tests recomputed the expected bytes with the very function
// that wrote them). The expected hex was computed outside lockbox (Python's struct/hmac from the
// layouts in store/audit_chain.hpp and store/row_codec.hpp). These are persistent formats: a
// failure here means stored audit trails would stop verifying or stored rows stop decoding.

#include <catch2/catch.hpp>

#include "store/audit_chain.hpp"
#include "store/row_codec.hpp"
#include "tests/store/crypto_test_util.hpp"

namespace lockbox::store {
namespace {

using testing::hex;
using testing::hex_of;
using testing::key_from_hex;

constexpr const char* kChainKey =
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f";

AuditRecord first_record() {
  AuditRecord r;
  r.seq = 7;
  r.ts = 1767225600123;
  r.actor = "user:alice";
  r.action = "secret.set";
  r.target = "namespace:prod/DB_URL";
  r.outcome = "ok";
  r.detail = "v3 fp=ab12";
  return r;
}

Mac mac_of(const char* text) {
  Mac mac{};
  const Bytes bytes = hex(text);
  std::copy(bytes.begin(), bytes.end(), mac.begin());
  return mac;
}

}  // namespace

TEST_CASE("golden vector: an audit record's canonical bytes", "[store][audit]") {
  CHECK(
      hex_of(audit_canonical(first_record())) ==
      "00000000000000070000019b76daa87b0000000a757365723a616c6963650000000a7365637265742e736574"
      "000000156e616d6573706163653a70726f642f44425f55524c000000026f6b0000000a76332066703d61623132");
}

TEST_CASE("golden vector: the first two entry MACs of a chain", "[store][audit]") {
  const SecureKey key = key_from_hex(kChainKey);
  const Mac first = audit_entry_mac(key, Mac{}, first_record());
  CHECK(hex_of(first) == "c635e784bbc5c7b0cea718480ac9c19496732aad60678129cfd4a91561ac4c23");
  AuditRecord second;
  second.seq = 8;
  second.ts = 1767225600999;
  second.actor = "token:ci";
  second.action = "resolve";
  second.target = "global";
  second.outcome = "ok";
  second.detail = "";
  CHECK(hex_of(audit_entry_mac(
            key, mac_of("c635e784bbc5c7b0cea718480ac9c19496732aad60678129cfd4a91561ac4c23"),
            second)) == "227900a2bd0ac9280cd9daf44c6532703afe55a487d948a5a2b80b43a9e33d76");
}

TEST_CASE("golden vector: tags and metadata column encodings", "[store][codec]") {
  const Bytes tags = encode_tags({"db", "", "\xc3\xa9"});
  CHECK(hex_of(tags) == "0000000264620000000000000002c3a9");
  auto decoded_tags = decode_tags(hex("0000000264620000000000000002c3a9"));
  REQUIRE(decoded_tags.is_ok());
  CHECK(*decoded_tags == std::vector<std::string>{"db", "", "\xc3\xa9"});
  // Keys in sorted order, whatever order they were given in.
  const Bytes metadata = encode_metadata({{"owner", "team-a"}, {"env", "prod"}});
  CHECK(hex_of(metadata) == "00000003656e760000000470726f64000000056f776e6572000000067465616d2d61");
  auto decoded = decode_metadata(metadata);
  REQUIRE(decoded.is_ok());
  CHECK(decoded->at("env") == "prod");
  CHECK(decoded->at("owner") == "team-a");
  CHECK_FALSE(decode_tags(hex("00000005646200")).is_ok());  // a length past the end
}

}  // namespace lockbox::store
