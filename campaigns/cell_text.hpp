// How a workbook's numbers and dates become the text the importer reads, the same for .xlsx
// and .xls.
//
// Contract:
//  - number_text(): the shortest decimal that reads back as the same double (std::to_chars),
//    written without an exponent and without ".0" for whole numbers below 10^15, so a phone
//    stored as the number 84912345678 comes through as "84912345678".
//  - date_text(): an Excel serial date as dd/mm/yyyy (with " HH:MM" when it has a time of
//    day), the way Vietnamese lists write dates. The 1900 system counts the non-existent
//    29/02/1900 (ECMA-376 Part 1, 18.17.4.1), so serials from 61 on are one day late.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

namespace loa::campaigns {

std::string number_text(double value);
std::string date_text(double serial, bool date1904);

}  // namespace loa::campaigns
