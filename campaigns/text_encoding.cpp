#include "campaigns/text_encoding.hpp"

#include <iconv.h>
#include <utf8proc.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "templates/sms_text.hpp"
#include "templates/utf8.hpp"

namespace loa::campaigns {
namespace {

struct EncodingNames {
  std::string_view shown;  // in the summary and the report
  const char* iconv;       // glibc iconv's name
};

EncodingNames names_of(TextEncoding e) {
  switch (e) {
    case TextEncoding::kUtf8:
      return {"UTF-8", "UTF-8"};
    case TextEncoding::kUtf16Le:
      return {"UTF-16LE", "UTF-16LE"};
    case TextEncoding::kUtf16Be:
      return {"UTF-16BE", "UTF-16BE"};
    case TextEncoding::kWindows1258:
      return {"Windows-1258", "CP1258"};
    case TextEncoding::kTcvn3:
      return {"TCVN3 (ABC)", "TCVN5712-1"};
  }
  return {"UTF-8", "UTF-8"};
}

const char* iconv_name(TextEncoding e) { return names_of(e).iconv; }

// Decodes a whole sample with iconv; undefined bytes become U+FFFD (counted as implausible).
std::string decode_sample(std::string_view bytes, TextEncoding e) {
  iconv_t cd = ::iconv_open("UTF-8", iconv_name(e));
  if (cd == reinterpret_cast<iconv_t>(-1)) return {};
  std::string out;
  std::string buf(4 * bytes.size() + 16, '\0');
  char* in = const_cast<char*>(bytes.data());
  std::size_t in_left = bytes.size();
  while (in_left > 0) {
    char* o = buf.data();
    std::size_t o_left = buf.size();
    const std::size_t r = ::iconv(cd, &in, &in_left, &o, &o_left);
    out.append(buf.data(), buf.size() - o_left);
    if (r == static_cast<std::size_t>(-1)) {
      if (errno == E2BIG) continue;
      out += "\xEF\xBF\xBD";  // EILSEQ, or EINVAL at the sample's cut
      ++in;
      --in_left;
    }
  }
  ::iconv_close(cd);
  return out;
}

// How implausible a decoding is as Vietnamese: symbols and stray marks where letters belong,
// and syllables carrying two tone marks (which no Vietnamese syllable does).
std::size_t implausibility(const std::string& utf8) {
  utf8proc_uint8_t* nfd = nullptr;
  const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(utf8.data()),
                              static_cast<utf8proc_ssize_t>(utf8.size()), &nfd, UTF8PROC_DECOMPOSE);
  if (n < 0) return utf8.size();
  std::size_t bad = 0;
  int tones = 0;
  bool letter_before = false;
  for (utf8proc_ssize_t i = 0; i < n;) {
    utf8proc_int32_t cp = 0;
    const auto len = utf8proc_iterate(nfd + i, n - i, &cp);
    if (len <= 0) break;
    i += len;
    const bool tone = cp == 0x300 || cp == 0x301 || cp == 0x303 || cp == 0x309 || cp == 0x323;
    const bool other_mark = cp == 0x302 || cp == 0x306 || cp == 0x31B;  // â ê ô, ă, ơ ư
    if (tone || other_mark) {
      if (!letter_before) ++bad;
      if (tone && ++tones == 2) ++bad;
      continue;
    }
    const auto cat = utf8proc_category(cp);
    const bool letter = cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL;
    if (cp >= 0x80 && !letter) ++bad;  // ¸ µ ¶ « and their kind
    if (cp >= 0x80 && letter && cp != 0x110 && cp != 0x111 && cp > 0x24F) ++bad;
    if (!letter) tones = 0;
    letter_before = letter;
  }
  std::free(nfd);
  return bad;
}

bool fits_tcvn3(std::string_view bytes) {
  return std::none_of(bytes.begin(), bytes.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || (c >= 0x80 && c <= 0xA0);
  });
}

}  // namespace

std::string_view encoding_name(TextEncoding e) { return names_of(e).shown; }

std::optional<TextEncoding> parse_encoding(std::string_view name) {
  std::string k;
  for (char c : name)
    if (c != '-' && c != '_' && c != ' ')
      k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (k == "utf8") return TextEncoding::kUtf8;
  if (k == "utf16" || k == "utf16le" || k == "unicode") return TextEncoding::kUtf16Le;
  if (k == "utf16be") return TextEncoding::kUtf16Be;
  if (k == "cp1258" || k == "windows1258") return TextEncoding::kWindows1258;
  if (k == "tcvn3" || k == "abc" || k == "tcvn") return TextEncoding::kTcvn3;
  return std::nullopt;
}

std::size_t bom_length(std::string_view head, TextEncoding e) {
  switch (e) {
    case TextEncoding::kUtf8:
      return head.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
    case TextEncoding::kUtf16Le:
      return head.substr(0, 2) == "\xFF\xFE" ? 2 : 0;
    case TextEncoding::kUtf16Be:
      return head.substr(0, 2) == "\xFE\xFF" ? 2 : 0;
    default:
      return 0;
  }
}

TextEncoding detect_text_encoding(std::string_view head, bool complete) {
  if (head.substr(0, 3) == "\xEF\xBB\xBF") return TextEncoding::kUtf8;
  if (head.substr(0, 2) == "\xFF\xFE") return TextEncoding::kUtf16Le;
  if (head.substr(0, 2) == "\xFE\xFF") return TextEncoding::kUtf16Be;
  // UTF-16 without a BOM: ASCII text leaves every other byte zero.
  std::size_t even_zero = 0, odd_zero = 0;
  for (std::size_t i = 0; i < head.size(); ++i)
    if (head[i] == '\0') ++(i % 2 ? odd_zero : even_zero);
  if (head.size() >= 4 && odd_zero * 3 > head.size() && even_zero * 20 < head.size())
    return TextEncoding::kUtf16Le;
  if (head.size() >= 4 && even_zero * 3 > head.size() && odd_zero * 20 < head.size())
    return TextEncoding::kUtf16Be;
  // UTF-8: valid up to a sequence cut by the end of the sample.
  const std::string_view body = complete ? head : head.substr(0, templates::utf8_chunk_end(head));
  if (templates::find_invalid_utf8(body) == std::string_view::npos) return TextEncoding::kUtf8;
  if (fits_tcvn3(head)) {
    const std::size_t as_cp1258 = implausibility(decode_sample(head, TextEncoding::kWindows1258));
    const std::size_t as_tcvn3 = implausibility(decode_sample(head, TextEncoding::kTcvn3));
    if (as_cp1258 >= 3 && as_tcvn3 * 20 < as_cp1258) return TextEncoding::kTcvn3;
  }
  return TextEncoding::kWindows1258;
}

// ---- TranscodedInput ----------------------------------------------------------------------

class TranscodedInput::Buffer : public std::streambuf {
 public:
  Buffer(std::istream& source, TextEncoding encoding, std::size_t max_line)
      : source_(source), max_line_(max_line), input_(1 << 16) {
    cd_ = ::iconv_open("UTF-8", iconv_name(encoding));
    if (cd_ == reinterpret_cast<iconv_t>(-1)) fail("iconv " + std::string(iconv_name(encoding)));
    skip_bom_ = encoding == TextEncoding::kUtf16Le || encoding == TextEncoding::kUtf16Be;
  }
  ~Buffer() override {
    if (cd_ != reinterpret_cast<iconv_t>(-1)) ::iconv_close(cd_);
  }

  std::string error, error_en;
  std::uint64_t error_line = 0;

 protected:
  int_type underflow() override {
    while (gptr() == egptr()) {
      if (done_) return traits_type::eof();
      produce();
    }
    return traits_type::to_int_type(*gptr());
  }

 private:
  void fail(const std::string& what) {
    error_line =
        line_ + static_cast<std::uint64_t>(std::count(pending_.begin(), pending_.end(), '\n'));
    error = "dòng " + std::to_string(error_line) +
            ": có byte không hợp lệ trong bảng mã đã chọn (" + what + "); không nhập gì.";
    error_en = "line " + std::to_string(error_line) +
               ": bytes that are not valid in the encoding (" + what + "); nothing was imported.";
    done_ = true;
    setg(nullptr, nullptr, nullptr);
  }

  void produce() {
    if (cd_ == reinterpret_cast<iconv_t>(-1)) return;
    // More input, converted onto pending_.
    if (!source_eof_) {
      source_.read(input_.data() + input_len_,
                   static_cast<std::streamsize>(input_.size() - input_len_));
      input_len_ += static_cast<std::size_t>(source_.gcount());
      if (!source_) source_eof_ = true;
      std::size_t skip = 0;
      if (skip_bom_ && input_len_ >= 2) {
        const std::string_view head(input_.data(), 2);
        if (head == "\xFF\xFE" || head == "\xFE\xFF") skip = 2;
        skip_bom_ = false;
      }
      char* in = input_.data() + skip;
      std::size_t in_left = input_len_ - skip;
      char out[1 << 14];
      while (in_left > 0) {
        char* o = out;
        std::size_t o_left = sizeof out;
        const std::size_t r = ::iconv(cd_, &in, &in_left, &o, &o_left);
        pending_.append(out, sizeof out - o_left);
        if (r != static_cast<std::size_t>(-1)) continue;
        if (errno == E2BIG) continue;
        if (errno == EINVAL && !source_eof_) break;  // a sequence cut by the chunk
        return fail(errno == EINVAL ? "ký tự bị cắt ở cuối tệp" : "EILSEQ");
      }
      std::copy(in, in + in_left, input_.data());
      input_len_ = in_left;
      if (source_eof_ && input_len_ > 0) return fail("ký tự bị cắt ở cuối tệp");
    }
    // iconv's UTF-8 "conversion" passes bytes it does not check; what goes on must be UTF-8.
    if (templates::find_invalid_utf8(pending_) != std::string_view::npos) return fail("UTF-8");
    // Complete lines, composed.
    std::size_t cut = pending_.rfind('\n');
    cut = cut == std::string::npos ? 0 : cut + 1;
    if (source_eof_) cut = pending_.size();
    if (cut == 0 && pending_.size() > max_line_) cut = pending_.size();
    out_.clear();
    if (cut > 0) {
      const std::string_view lines(pending_.data(), cut);
      auto composed = templates::nfc(lines);
      out_ = composed ? std::move(composed.value()) : std::string(lines);
      line_ += static_cast<std::uint64_t>(std::count(lines.begin(), lines.end(), '\n'));
      pending_.erase(0, cut);
    }
    // The last of the input is served before underflow() sees done_.
    done_ = source_eof_ && pending_.empty();
    setg(out_.data(), out_.data(), out_.data() + out_.size());
  }

  std::istream& source_;
  std::size_t max_line_;
  iconv_t cd_ = reinterpret_cast<iconv_t>(-1);
  bool skip_bom_ = false;
  std::vector<char> input_;
  std::size_t input_len_ = 0;
  bool source_eof_ = false;
  bool done_ = false;
  std::string pending_;  // converted, not yet a complete line
  std::string out_;      // composed, being read
  std::uint64_t line_ = 1;
};

TranscodedInput::TranscodedInput(std::istream& source, TextEncoding encoding,
                                 std::size_t max_line_bytes)
    : std::istream(nullptr), buffer_(std::make_unique<Buffer>(source, encoding, max_line_bytes)) {
  rdbuf(buffer_.get());
}

TranscodedInput::~TranscodedInput() = default;

const std::string& TranscodedInput::error() const { return buffer_->error; }
const std::string& TranscodedInput::error_en() const { return buffer_->error_en; }
std::uint64_t TranscodedInput::error_line() const { return buffer_->error_line; }

}  // namespace loa::campaigns
