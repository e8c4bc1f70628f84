// The encodings household lists arrive in, and turning them into UTF-8 NFC.
//
// Officers' lists are UTF-8 CSV when all goes well; otherwise Excel's "Unicode Text" (UTF-16
// with a byte-order mark, tab-separated), a Windows-1258 export from an older Excel, or a
// TCVN3 (ABC) file typed with the .VnTime fonts. Conversion is glibc's iconv, then NFC through
// utf8proc: Windows-1258 writes tones as combining marks (U+0300, U+0301, U+0303, U+0309,
// U+0323), which NFC composes so that filters and templates see one spelling.
//
// TCVN3 is decoded with glibc's TCVN5712-1 (the VN1 repertoire of TCVN 5712:1993), which is a
// superset of TCVN3/ABC (VN3): both place the same letters at 0xA1-0xFF; VN1 also puts
// capitals with tones at 0x01-0x17 and 0x80-0xA0, where TCVN3 has nothing. So every TCVN3
// byte decodes right, and detection refuses those extra positions as "not TCVN3".
//
// Thread-safety: the functions are pure; a TranscodedInput is used by one thread.
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

namespace loa::campaigns {

enum class TextEncoding : std::uint8_t { kUtf8, kUtf16Le, kUtf16Be, kWindows1258, kTcvn3 };

// "UTF-8", "UTF-16LE", "UTF-16BE", "Windows-1258", "TCVN3 (ABC)".
std::string_view encoding_name(TextEncoding encoding);
// --encoding values: utf8, utf16, utf16le, utf16be, cp1258, windows-1258, tcvn3, abc (any case).
std::optional<TextEncoding> parse_encoding(std::string_view name);

// Guesses the encoding of a text file from its first bytes (`head`, a few KiB; `complete`:
// the file is no longer than that). BOMs decide; so do the zero bytes of UTF-16 without one;
// valid UTF-8 is UTF-8. Otherwise the bytes are an 8-bit legacy encoding: TCVN3 only when they
// leave no doubt (decoded as Windows-1258 they give symbols and syllables with two tones,
// decoded as TCVN3 they give neither), else Windows-1258.
TextEncoding detect_text_encoding(std::string_view head, bool complete);

// The byte-order mark's length at the start of `head` for `encoding` (0 if none).
std::size_t bom_length(std::string_view head, TextEncoding encoding);

// Reads `source` in `encoding` and yields UTF-8 in NFC, line by line, through a std::istream.
// Memory: one chunk of input and the longest line, capped at max_line_bytes (a longer line is
// passed on in pieces, uncomposed at the cut). A byte sequence the encoding does not define
// stops the stream; error() then names its line.
class TranscodedInput : public std::istream {
 public:
  TranscodedInput(std::istream& source, TextEncoding encoding,
                  std::size_t max_line_bytes = 1 << 20);
  ~TranscodedInput() override;

  // Empty while all is well; else "dòng N: …" (Vietnamese), with error_en() in English.
  const std::string& error() const;
  const std::string& error_en() const;
  std::uint64_t error_line() const;

 private:
  class Buffer;
  std::unique_ptr<Buffer> buffer_;
};

}  // namespace loa::campaigns
