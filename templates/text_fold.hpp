// Folding text for matching what people type against what lists say: "nguyen van",
// "Nguyen Van" and "NGUYỄN VĂN" all fold to "nguyen van". The one owner of folding: reply
// keywords (campaigns/reply_rules), import headers and yes/no cells (campaigns/household.hpp,
// fold_key) and household search (the *_folded columns, the filter operator `~`) all go through
// fold_text().
//
// Contract:
//  - Canonical and compatibility decomposition, marks stripped, case folded (utf8proc
//    DECOMPOSE | COMPAT | CASEFOLD | STRIPMARK | LUMP), so full-width letters and digits fold
//    to ASCII and typographic dashes and quotes to theirs.
//  - Letters that are letters of their own in Unicode, not a base letter with a mark, are folded
//    explicitly, so that their plain letter finds them: Vietnamese Đ/đ -> d, and the Ê Đê
//    ƀ/Ƀ -> b (reference/vietnam-channels.md, the Ê Đê and M'nông letters). The other Ê Đê and
//    M'nông letters (č, ĕ, ŏ, ŭ, ơ, ư, ê) decompose and lose their marks like Vietnamese ones.
//  - Runs of white space (any Unicode space separator, tab, newline) become one ' '; leading and
//    trailing space is dropped. Invalid UTF-8 bytes are dropped. Other characters are kept.
//  - Output is never longer than 3 bytes per input byte.
//
// Thread-safety: pure function, safe from any thread.
#pragma once

#include <string>
#include <string_view>

namespace loa::templates {

std::string fold_text(std::string_view utf8);

}  // namespace loa::templates
