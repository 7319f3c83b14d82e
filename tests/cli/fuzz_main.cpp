// A plain main for the libFuzzer harnesses where libFuzzer is not installed
// (tests/cli/fuzz_link_test.sh): feeds each file named on the command line, then a few fixed
// inputs, to LLVMFuzzerTestOneInput.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void feed(const std::string& input) {
  (void)LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    feed(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  }
  for (const char* fixed : {"", "A=1\n", "version: 1\n", "\xff\xfe", "export B='x\n"}) feed(fixed);
  return 0;
}
