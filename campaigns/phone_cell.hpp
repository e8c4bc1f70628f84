// A phone cell as spreadsheets write it, undone before normalize_phone() (campaigns/phone.hpp).
//
// Excel turns a phone number typed into a "General" cell into a number: it drops the leading
// zero (handled by normalize_phone), shows it in scientific notation (8.4912345678E+10), and
// exports it with a decimal suffix (0912345687.0). Officers then fight it with an apostrophe
// ('0912345682), paste full-width digits from other software, or write two numbers or a note
// in one cell ("0912345684 / 0987654321", "0912345685 (chồng)"). read_phone_cell() recovers the
// number each of these meant, and says which repairs it made so the import can report them.
//
// Contract:
//  - Accepts any bytes; never throws. Memory is bounded by the input's size.
//  - `number` is what normalize_phone() should see. It is empty when the cell was scientific
//    notation whose digits Excel already cut (excel_rounded): those digits are lost, and
//    guessing them would message a stranger.
//  - Scientific notation is taken only when every digit is present: 9.12345683E+8 has 8
//    decimals for an exponent of 8, so it is exactly 912345683. 8.49123457E+10 is missing two.
//  - Full-width digits (U+FF10..U+FF19) and other compatibility forms go through NFKC.
//  - Two numbers ("A / B", "A; B", "A, B", one per line): the first is `number`, the second
//    `secondary` (with the same repairs, but not yet normalised). Commas split only between two
//    things that each hold 9 digits, since "912,345,678" is one number with thousands commas.
//  - A note in parentheses ("(chồng)", "(con trai)") is removed and returned in `note`;
//    parentheses holding only digits ("(091) 234-5678", "+84 (0) …") are grouping and stay.
//
// Thread-safety: pure function, safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace loa::campaigns {

enum class PhoneCellRepair : std::uint8_t {
  kApostrophe,     // a leading ' that forced Excel to keep the cell as text
  kDecimalSuffix,  // "0912345687.0": a number exported with its decimal
  kFullWidth,      // full-width digits made ASCII by NFKC
  kScientific,     // complete scientific notation expanded
  kSecondNumber,   // two numbers: the first kept, the second is `secondary`
  kNote,           // a note in parentheses moved to `note`
};

struct PhoneCell {
  std::string number;                    // for normalize_phone(); empty when excel_rounded
  std::string secondary;                 // the second number, repaired; empty when none
  std::string note;                      // the parenthesised note without its parentheses
  std::vector<PhoneCellRepair> repairs;  // in the order made
  bool excel_rounded = false;            // scientific notation missing digits: refuse, do not guess
};

PhoneCell read_phone_cell(std::string_view raw);

}  // namespace loa::campaigns
