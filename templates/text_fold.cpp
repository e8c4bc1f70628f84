#include "templates/text_fold.hpp"

#include <utf8proc.h>

namespace loa::templates {
namespace {

void append_utf8(std::string& out, utf8proc_int32_t cp) {
  utf8proc_uint8_t buf[4];
  const auto n = utf8proc_encode_char(cp, buf);
  out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
}

bool is_space(utf8proc_int32_t cp) {
  if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v') return true;
  if (cp < 0x80) return false;
  const auto cat = utf8proc_category(cp);
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

// Letters that do not decompose to a base letter and a mark.
utf8proc_int32_t own_letter(utf8proc_int32_t cp) {
  switch (cp) {
    case 0x0110:  // Đ
    case 0x0111:  // đ
      return 'd';
    case 0x0180:  // ƀ, Ê Đê
    case 0x0243:  // Ƀ
      return 'b';
    default:
      return 0;
  }
}

}  // namespace

std::string fold_text(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  bool pending_space = false;
  auto emit = [&](utf8proc_int32_t cp) {
    if (is_space(cp)) {
      pending_space = !out.empty();
      return;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    if (cp >= 'A' && cp <= 'Z') cp += 'a' - 'A';
    if (cp < 0x80)
      out.push_back(static_cast<char>(cp));
    else
      append_utf8(out, cp);
  };
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(utf8.data());
  auto left = static_cast<utf8proc_ssize_t>(utf8.size());
  while (left > 0) {
    if (*p < 0x80) {  // ASCII needs no table
      emit(*p);
      ++p;
      --left;
      continue;
    }
    utf8proc_int32_t cp = 0;
    const utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) {  // an invalid byte: dropped
      ++p;
      --left;
      continue;
    }
    p += n;
    left -= n;
    if (const utf8proc_int32_t plain = own_letter(cp)) {
      emit(plain);
      continue;
    }
    utf8proc_int32_t parts[8];
    int boundclass = 0;
    const auto count = utf8proc_decompose_char(
        cp, parts, 8,
        static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
                                       UTF8PROC_STRIPMARK | UTF8PROC_LUMP),
        &boundclass);
    if (count < 0 || count > 8) continue;
    for (utf8proc_ssize_t i = 0; i < count; ++i) {
      const utf8proc_int32_t plain = own_letter(parts[i]);
      emit(plain ? plain : parts[i]);
    }
  }
  return out;
}

}  // namespace loa::templates
