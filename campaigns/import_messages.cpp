#include "campaigns/import_messages.hpp"

#include <array>
#include <cctype>

namespace loa::campaigns {
namespace {

// One row per reason code. "{}" in a message is replaced by the issue's detail (a number, a
// line, the known categories); a message without "{}" ignores it.
struct ReasonText {
  std::string_view code;
  std::string_view vi;
  std::string_view vi_advice;
  std::string_view en;
  std::string_view en_advice;
};

// clang-format off
constexpr std::array<ReasonText, 37> kReasons = {{
  // Phone numbers (campaigns/phone.hpp, PhoneError).
  {"phone_missing",
   "Không có số điện thoại",
   "Ghi số di động 10 chữ số của hộ (ví dụ 0912 345 678) nếu có.",
   "no phone number",
   "Add the household's 10-digit mobile number (e.g. 0912 345 678) if it has one."},
  {"phone_invalid_character",
   "Số điện thoại có chữ hoặc ký hiệu lạ",
   "Chỉ ghi chữ số trong ô số điện thoại; ghi chú để ở cột Ghi chú.",
   "the phone number contains a letter or symbol",
   "Keep only digits in the phone cell; put notes in the Ghi chú (note) column."},
  {"phone_too_short",
   "Số điện thoại quá ngắn so với số di động Việt Nam (10 chữ số)",
   "Kiểm tra lại số với hộ; số di động có 10 chữ số, ví dụ 0912 345 678.",
   "the phone number is too short for a Vietnamese mobile number (10 digits)",
   "Check the number with the household; a mobile number has 10 digits, e.g. 0912 345 678."},
  {"phone_too_long",
   "Số điện thoại quá dài so với số di động Việt Nam (10 chữ số)",
   "Kiểm tra lại số; nếu ô có hai số thì ngăn cách bằng dấu /.",
   "the phone number is too long for a Vietnamese mobile number (10 digits)",
   "Check the number; if the cell holds two numbers, separate them with /."},
  {"phone_foreign",
   "Số điện thoại nước ngoài (mã quốc gia khác +84)",
   "Ghi số di động Việt Nam của hộ nếu có.",
   "the phone number has a country code other than Vietnam's +84",
   "Give the household's Vietnamese mobile number if it has one."},
  {"phone_landline",
   "Số máy bàn (mã vùng 02x): không nhận được SMS và Zalo",
   "Ghi số di động của hộ nếu có.",
   "a landline number (area code 02x): cannot receive SMS or Zalo messages",
   "Give the household's mobile number if it has one."},
  {"phone_unknown_prefix",
   "Không phải đầu số di động Việt Nam",
   "Kiểm tra lại các chữ số đầu của số điện thoại.",
   "not a Vietnamese mobile number: unknown prefix",
   "Check the first digits of the number."},
  {"phone_unallocated",
   "Đầu số di động nhưng dải số này chưa được cấp",
   "Kiểm tra lại số với hộ.",
   "a mobile prefix, but this number range is not allocated",
   "Check the number with the household."},
  {"phone_invalid",
   "Số điện thoại không dùng được",
   "Kiểm tra lại số với hộ.",
   "unusable phone number",
   "Check the number with the household."},
  {"phone_old_prefix",
   "Số cũ 11 chữ số đã được đổi thành {}",
   "Không cần làm gì; nên cập nhật số mới vào danh sách.",
   "old 11-digit number converted to {}",
   "Nothing to do; update the list with the new number."},
  {"phone_leading_zero",
   "Đã thêm lại số 0 đầu bị mất: {}",
   "Định dạng cột số điện thoại là Văn bản (Text) để Excel không bỏ số 0.",
   "leading zero restored: {}",
   "Format the phone column as Text so that Excel keeps the zero."},
  // What a spreadsheet did to the cell (campaigns/phone_cell.hpp).
  {"phone_apostrophe",
   "Đã bỏ dấu nháy ' trước số",
   "Không cần làm gì.",
   "the apostrophe before the number was removed",
   "Nothing to do."},
  {"phone_decimal_suffix",
   "Đã bỏ phần thập phân (.0) mà Excel thêm vào số",
   "Định dạng cột là Văn bản (Text) rồi xuất lại.",
   "the decimal (.0) that Excel added was removed",
   "Format the column as Text and export again."},
  {"phone_full_width",
   "Đã đổi chữ số toàn khổ (full-width) thành chữ số thường",
   "Không cần làm gì; lần sau gõ số bằng bàn phím thường.",
   "full-width digits were converted to ordinary digits",
   "Nothing to do; next time type the number with an ordinary keyboard."},
  {"phone_scientific",
   "Số dạng khoa học của Excel đã được đổi thành {}",
   "Kiểm tra số; định dạng cột là Văn bản (Text) rồi xuất lại.",
   "Excel's scientific notation expanded to {}",
   "Check the number; format the column as Text and export again."},
  {"phone_excel_rounded",
   "Excel đã làm tròn số này; định dạng cột là Văn bản (Text) rồi xuất lại",
   "Gõ lại số đúng vào ô, vì các chữ số cuối đã mất.",
   "Excel rounded this number; format the column as Text and export again",
   "Type the right number into the cell again: its last digits are lost."},
  {"phone_second_number",
   "Ô có hai số: dùng số đầu, số thứ hai ({}) được lưu làm số phụ",
   "Mỗi ô chỉ ghi một số; số phụ để ở cột riêng.",
   "two numbers in the cell: the first is used, the second ({}) is kept as a secondary phone",
   "Write one number per cell; put a second number in a column of its own."},
  {"phone_note",
   "Đã tách ghi chú ({}) khỏi số điện thoại và lưu vào thuộc tính phone_note",
   "Ghi chú để ở cột Ghi chú.",
   "the note ({}) was removed from the phone number and kept in the attribute phone_note",
   "Put notes in the Ghi chú (note) column."},
  // The row.
  {"no_identity",
   "Không có mã hộ cũng không có số di động dùng được: không nhận ra được hộ này khi nhập lại",
   "Thêm Mã hộ hoặc số di động cho dòng này.",
   "neither a household code nor a usable phone: the row cannot be matched again",
   "Add a household code or a mobile number to the row."},
  {"unknown_category",
   "Không phải đối tượng của chương trình (các loại: {})",
   "Sửa thành một trong các loại trên.",
   "not a programme category (known: {})",
   "Change it to one of the categories listed."},
  {"missing_category",
   "Thiếu phân loại hộ (các loại: {})",
   "Ghi một trong các loại trên.",
   "no category (known: {})",
   "Fill in one of the categories listed."},
  {"unknown_language",
   "Không phải mã ngôn ngữ (vi, rad, cmo, jra…); đã lấy theo dân tộc",
   "Ghi vi, rad (Ê Đê), cmo (M'nông), jra (Gia Rai) hoặc để trống.",
   "not a language tag (vi, rad, cmo, jra, …); derived from the ethnic group",
   "Write vi, rad (Ê Đê), cmo (M'nông), jra (Jarai) or leave it empty."},
  {"unrecognised_yes_no",
   "Không phải có/không; đã dùng giá trị mặc định",
   "Ghi có hoặc không.",
   "not a yes/no value (có/không); read as the default",
   "Write có (yes) or không (no)."},
  {"shared_phone",
   "Số điện thoại trùng với dòng {}; chiến dịch chỉ gửi số này một tin",
   "Kiểm tra lại; nếu các hộ thật sự dùng chung số thì không cần làm gì.",
   "phone also on line {}; a campaign sends this phone one message",
   "Check it; if the households really share the phone, nothing to do."},
  {"duplicate_code",
   "Mã hộ đã có ở dòng {}; dòng sau được dùng",
   "Xoá dòng trùng hoặc sửa lại mã hộ.",
   "household code already on line {}; this later row wins",
   "Delete the repeated row or correct the household code."},
  {"bad_record",
   "Dòng hỏng, không đọc được ({})",
   "Kiểm tra dấu ngoặc kép và số cột của dòng này.",
   "a broken record ({})",
   "Check the quotes and the number of columns of this row."},
  // The whole file (ImportSummary::refused_reason).
  {"file_not_utf8",
   "Dòng {}: tệp không phải UTF-8 (xuất theo bảng mã Windows-1258 hay mã cũ?). Chưa nhập gì",
   "Lưu lại tệp dạng \"CSV UTF-8\" rồi nhập lại.",
   "line {}: the file is not UTF-8 (a Windows-1258 or other legacy export?). Nothing was imported",
   "Save it as \"CSV UTF-8\" and import again."},
  {"file_empty",
   "Tệp rỗng",
   "Kiểm tra lại tệp đã chọn.",
   "the file is empty",
   "Check the file you chose."},
  {"file_unreadable",
   "Không đọc được tệp ({})",
   "Kiểm tra lại tệp đã chọn.",
   "the file cannot be read ({})",
   "Check the file you chose."},
  {"header_unusable",
   "Dòng tiêu đề không dùng được: {}",
   "Đổi tên cột theo mẫu (Mã hộ, Họ và tên chủ hộ, Số điện thoại, Phân loại hộ, Xã/Phường) "
   "hoặc chỉ định bằng --map 'Tên cột=trường'.",
   "unusable header row: {}",
   "Rename the columns as in the sample (Mã hộ, Số điện thoại, Phân loại hộ, Xã/Phường) or "
   "map them with --map 'Header=field'."},
  {"bad_map",
   "Chỉ định cột (--map) sai: {}",
   "Viết dạng 'Tên cột=trường', ví dụ 'STT=ignore,Ghi chú 2=attr.note2'.",
   "bad column overrides (--map): {}",
   "Write 'Header=field', e.g. 'STT=ignore,Note 2=attr.note2'."},
  {"report_unwritable",
   "Không ghi được báo cáo ({})",
   "Kiểm tra thư mục báo cáo và quyền ghi.",
   "cannot write the report ({})",
   "Check the report directory and its permissions."},
  {"header_row_missing",
   "Không có dòng {} để làm dòng tên cột (--header-row)",
   "Mở tệp, xem dòng tên cột là dòng số mấy rồi nhập lại với --header-row đúng số đó.",
   "there is no row {} to use as the header (--header-row)",
   "Open the file, find the row that names the columns, and import again with that number."},
  {"bad_encoding",
   "Bảng mã '{}' không hỗ trợ",
   "Dùng một trong: utf8, utf16, cp1258, tcvn3 (hoặc bỏ --encoding để loa tự nhận ra).",
   "encoding '{}' is not supported",
   "Use one of utf8, utf16, cp1258, tcvn3 (or leave --encoding out and loa detects it)."},
  {"title_row",
   "Dòng tiêu đề phía trên dòng tên cột (dòng {}): bỏ qua",
   "Không cần sửa.",
   "a title row above the header (line {}): skipped",
   "Nothing to fix."},
  {"subtotal_row",
   "Dòng tổng cộng, không phải một hộ: bỏ qua",
   "Không cần sửa.",
   "a subtotal row, not a household: skipped",
   "Nothing to fix."},
  {"upload_name",
   "Tên tệp phải có 1 đến 200 ký tự và không có dấu /",
   "Đặt lại tên tệp.",
   "name is a file name of 1-200 characters without '/'",
   "Rename the file."},
}};

constexpr std::array<std::array<std::string_view, 2>, kReportColumns> kReportColumnNames = {{
  {"Dòng", "line"},
  {"Cột", "column"},
  {"Giá trị", "value"},
  {"Mức độ", "severity"},
  {"Mã lý do", "reason"},
  {"Lý do", "message"},
  {"Cách sửa", "advice"},
}};
// clang-format on

const ReasonText* find_reason(std::string_view code) {
  for (const auto& r : kReasons)
    if (r.code == code) return &r;
  return nullptr;
}

std::string fill(std::string_view text, std::string_view detail) {
  const auto at = text.find("{}");
  if (at == std::string_view::npos) return std::string(text);
  return std::string(text.substr(0, at)) + std::string(detail) + std::string(text.substr(at + 2));
}

bool starts_with_en(const char* value) {
  return value != nullptr && (value[0] == 'e' || value[0] == 'E') &&
         (value[1] == 'n' || value[1] == 'N') &&
         (value[2] == '\0' || value[2] == '_' || value[2] == '-' || value[2] == '.');
}

IssueText text_for(std::string_view code, std::string_view detail, MessageLanguage language) {
  const ReasonText* r = find_reason(code);
  if (r == nullptr) return {std::string(detail.empty() ? code : detail), {}};
  return language == MessageLanguage::kEn ? IssueText{fill(r->en, detail), r->en_advice}
                                          : IssueText{fill(r->vi, detail), r->vi_advice};
}

}  // namespace

MessageLanguage language_from_locale(const char* lc_all, const char* lc_messages,
                                     const char* lang) {
  for (const char* v : {lc_all, lc_messages, lang})
    if (v != nullptr && v[0] != '\0')
      return starts_with_en(v) ? MessageLanguage::kEn : MessageLanguage::kVi;
  return MessageLanguage::kVi;
}

MessageLanguage language_from_accept_language(std::string_view header) {
  while (!header.empty() && (header.front() == ' ' || header.front() == '\t'))
    header.remove_prefix(1);
  const std::string first(header.substr(0, header.find_first_of(",;")));
  return starts_with_en(first.c_str()) ? MessageLanguage::kEn : MessageLanguage::kVi;
}

IssueText issue_text(const ImportIssue& issue, MessageLanguage language) {
  return text_for(issue.reason, issue.detail, language);
}

IssueText refusal_text(std::string_view reason, std::string_view detail, MessageLanguage language) {
  return text_for(reason, detail, language);
}

std::string_view severity_text(IssueSeverity severity, MessageLanguage language) {
  const bool en = language == MessageLanguage::kEn;
  switch (severity) {
    case IssueSeverity::kRejected:
      return en ? "rejected" : "bị loại";
    case IssueSeverity::kWarning:
      return en ? "warning" : "cảnh báo";
    case IssueSeverity::kFixed:
      return en ? "fixed" : "đã sửa";
  }
  return "?";
}

std::string_view report_column(std::size_t index, MessageLanguage language) {
  if (index >= kReportColumnNames.size()) return {};
  return kReportColumnNames[index][language == MessageLanguage::kEn ? 1 : 0];
}

}  // namespace loa::campaigns
