// UTF-8 well-formedness, shared by everything that takes text from outside: CSV imports,
// filter expressions, templates. Follows RFC 3629 / Unicode table 3-7: no overlong forms, no
// surrogates, nothing above U+10FFFF.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string_view>

namespace loa::templates {

// The byte offset of the first byte that does not begin a well-formed sequence, or
// std::string_view::npos when the whole text is valid. ASCII runs are checked eight bytes at a
// time, so clean input costs little.
std::size_t find_invalid_utf8(std::string_view s);

// The length of `s` without a trailing lead byte and its continuations (at most 3 bytes) that
// a following chunk may complete: what a reader of a chunked stream can check now.
std::size_t utf8_chunk_end(std::string_view s);

}  // namespace loa::templates
