#include "campaigns/xls_reader.hpp"

#include <freexl.h>

#include <charconv>

#include "campaigns/cell_text.hpp"
#include "campaigns/file_format.hpp"

namespace loa::campaigns {
namespace {

// "YYYY-MM-DD[ HH:MM:SS]" (freexl) -> "DD/MM/YYYY[ HH:MM]".
std::string vietnamese_date(std::string_view iso) {
  if (iso.size() < 10 || iso[4] != '-' || iso[7] != '-') return std::string(iso);
  std::string out = std::string(iso.substr(8, 2)) + "/" + std::string(iso.substr(5, 2)) + "/" +
                    std::string(iso.substr(0, 4));
  if (iso.size() >= 16 && iso.substr(11, 5) != "00:00") out += " " + std::string(iso.substr(11, 5));
  return out;
}

}  // namespace

std::unique_ptr<XlsReader> XlsReader::open(const std::filesystem::path& path,
                                           std::string_view sheet, RowError& error) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxFileBytes) {
    error =
        RowError::refusal("xls_too_large",
                          "Tệp .xls lớn hơn " + std::to_string(kMaxFileBytes >> 20) +
                              " MiB, vượt giới hạn của định dạng Excel 97-2003. Không nhập gì.",
                          "The .xls file is larger than " + std::to_string(kMaxFileBytes >> 20) +
                              " MiB, beyond what Excel 97-2003 writes. Nothing was imported.");
    return nullptr;
  }
  std::unique_ptr<XlsReader> r(new XlsReader());
  const int rc = freexl_open(path.c_str(), &r->handle_);
  if (rc != FREEXL_OK) {
    const FormatRefusal f = refuse_ole2_not_workbook("freexl " + std::to_string(rc));
    error = RowError::refusal("not_a_workbook", f.vi, f.en);
    return nullptr;
  }
  unsigned int info = 0;
  if (freexl_get_info(r->handle_, FREEXL_BIFF_PASSWORD, &info) == FREEXL_OK &&
      info == FREEXL_BIFF_OBFUSCATED) {
    error = RowError::refusal(
        "workbook_password",
        "Sổ tính .xls được đặt mật khẩu; hãy bỏ mật khẩu trong Excel rồi nhập lại. "
        "Không nhập gì.",
        "The .xls workbook is password-protected; remove the password in Excel and "
        "import again. Nothing was imported.");
    return nullptr;
  }
  unsigned int count = 0;
  freexl_get_info(r->handle_, FREEXL_BIFF_SHEET_COUNT, &count);
  for (unsigned short i = 0; i < count; ++i) {
    const char* name = nullptr;
    r->sheet_names_.emplace_back(
        freexl_get_worksheet_name(r->handle_, i, &name) == FREEXL_OK && name ? name : "");
  }
  if (r->sheet_names_.empty()) {
    const FormatRefusal f = refuse_ole2_not_workbook("no sheet");
    error = RowError::refusal("not_a_workbook", f.vi, f.en);
    return nullptr;
  }
  const auto chosen = choose_sheet(r->sheet_names_, sheet, error);
  if (!chosen) return nullptr;
  const std::size_t pick = *chosen;
  r->sheet_name_ = r->sheet_names_[pick];
  if (freexl_select_active_worksheet(r->handle_, static_cast<unsigned short>(pick)) != FREEXL_OK ||
      freexl_worksheet_dimensions(r->handle_, &r->rows_, &r->columns_) != FREEXL_OK)
    r->empty_sheet_ = true;
  return r;
}

XlsReader::~XlsReader() {
  if (handle_) freexl_close(handle_);
}

bool XlsReader::next(SourceRow& out, RowError& error) {
  error = RowError{};
  // freexl_worksheet_dimensions() gives row and column counts (freexl.c: "rows = worksheet->rows"),
  // despite its header's note about zero-based last indices.
  while (!empty_sheet_ && next_row_ < rows_) {
    const unsigned int row = next_row_++;
    out.clear(row + 1);
    const unsigned short columns = std::min<unsigned short>(columns_, kMaxColumns);
    for (unsigned short c = 0; c < columns; ++c) {
      FreeXL_CellValue v{};
      if (freexl_get_cell_value(handle_, row, c, &v) != FREEXL_OK) {
        out.add({});
        continue;
      }
      switch (v.type) {
        case FREEXL_CELL_INT: {
          cell_ = number_text(v.value.int_value);
          out.add(cell_, cell_);
          break;
        }
        case FREEXL_CELL_DOUBLE: {
          cell_ = number_text(v.value.double_value);
          out.add(cell_, cell_);
          break;
        }
        case FREEXL_CELL_TEXT:
        case FREEXL_CELL_SST_TEXT:
          out.add(v.value.text_value ? v.value.text_value : "");
          break;
        case FREEXL_CELL_DATE:
        case FREEXL_CELL_DATETIME:
          out.add(vietnamese_date(v.value.text_value ? v.value.text_value : ""));
          break;
        case FREEXL_CELL_TIME:
          out.add(v.value.text_value ? v.value.text_value : "");
          break;
        default:
          out.add({});
          break;
      }
    }
    out.finish();
    if (!out.blank()) return true;
  }
  return false;
}

std::string XlsReader::description() const { return "XLS, trang tính '" + sheet_name_ + "'"; }

}  // namespace loa::campaigns
