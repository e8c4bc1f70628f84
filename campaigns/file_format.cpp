#include "campaigns/file_format.hpp"

#include <algorithm>
#include <cctype>

#include "campaigns/text_encoding.hpp"

namespace loa::campaigns {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

constexpr std::string_view kSaveAs =
    "Hãy mở tệp trong Excel và lưu thành \"Sổ làm việc Excel (.xlsx)\" hoặc \"CSV UTF-8\", rồi "
    "nhập lại. Không nhập gì.";
constexpr std::string_view kSaveAsEn =
    "Open it in Excel and save it as \"Excel Workbook (.xlsx)\" or \"CSV UTF-8\", then import "
    "again. Nothing was imported.";

}  // namespace

FileFormat sniff_file_format(std::string_view head) {
  if (head.empty()) return FileFormat::kEmpty;
  // Signatures: APPNOTE.TXT 4.3.7 (ZIP local header), [MS-CFB] 2.2 (OLE2), ISO 32000 7.5.2 (PDF),
  // and each image format's own magic number.
  if (starts_with(head, "PK\x03\x04") || starts_with(head, "PK\x05\x06")) {
    // ODF puts an uncompressed "mimetype" entry first (ODF 1.2 part 3, 3.3).
    if (head.substr(30, 8) == "mimetype" &&
        head.find("application/vnd.oasis.opendocument") != std::string_view::npos)
      return FileFormat::kOpenDocument;
    return FileFormat::kZip;
  }
  if (starts_with(head, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")) return FileFormat::kOle2;
  if (starts_with(head, "%PDF-")) return FileFormat::kPdf;
  if (starts_with(head, "\x89PNG") || starts_with(head, "\xFF\xD8\xFF") ||
      starts_with(head, "GIF8") || starts_with(head, "BM") || starts_with(head, "II*\0") ||
      starts_with(head, std::string_view("MM\0*", 4)) ||
      (starts_with(head, "RIFF") && head.substr(8, 4) == "WEBP"))
    return FileFormat::kImage;
  if (starts_with(head, "Rar!") || starts_with(head, "7z\xBC\xAF\x27\x1C") ||
      starts_with(head, "\x1F\x8B"))
    return FileFormat::kArchive;
  const TextEncoding encoding = detect_text_encoding(head, true);
  if (encoding == TextEncoding::kUtf16Le || encoding == TextEncoding::kUtf16Be)
    return FileFormat::kText;
  std::string_view body = head.substr(bom_length(head, encoding));
  while (!body.empty() && std::isspace(static_cast<unsigned char>(body.front())))
    body.remove_prefix(1);
  const std::string start = lower_ascii(body.substr(0, 64));
  if (starts_with(start, "<!doctype html") || starts_with(start, "<html") ||
      starts_with(start, "<table") || starts_with(start, "<?xml"))
    return FileFormat::kHtml;
  // Text has no NUL bytes and few control characters.
  std::size_t controls = 0;
  for (char ch : head) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == 0) return FileFormat::kBinary;
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') ++controls;
  }
  return controls * 100 > head.size() ? FileFormat::kBinary : FileFormat::kText;
}

FormatRefusal refuse_format(FileFormat format, std::string_view head) {
  switch (format) {
    case FileFormat::kEmpty:
      return {"Tệp rỗng. Không nhập gì.", "The file is empty. Nothing was imported."};
    case FileFormat::kPdf:
      return {
          "Tệp này là một tài liệu PDF, không phải danh sách bảng tính; loa không đọc được "
          "số liệu trong PDF. Hãy gửi tệp Excel (.xlsx) gốc. Không nhập gì.",
          "This is a PDF document, not a spreadsheet list; loa cannot read the figures in a "
          "PDF. Send the original Excel file (.xlsx). Nothing was imported."};
    case FileFormat::kImage:
      return {
          "Tệp này là một hình ảnh (ảnh chụp hoặc ảnh quét), không phải danh sách bảng tính. "
          "Hãy gửi tệp Excel (.xlsx) gốc. Không nhập gì.",
          "This is an image (a photo or a scan), not a spreadsheet list. Send the original "
          "Excel file (.xlsx). Nothing was imported."};
    case FileFormat::kHtml:
      return {"Tệp này là một trang web (HTML/XML), dù tên có thể là .xls. " + std::string(kSaveAs),
              "This is a web page (HTML/XML), even if its name ends in .xls. " +
                  std::string(kSaveAsEn)};
    case FileFormat::kOpenDocument:
      return {
          "Tệp này là một tài liệu OpenDocument (LibreOffice .ods/.odt). " + std::string(kSaveAs),
          "This is an OpenDocument file (LibreOffice .ods/.odt). " + std::string(kSaveAsEn)};
    case FileFormat::kArchive:
      return {
          "Tệp này là một tệp nén (RAR, 7z hoặc gzip). Hãy giải nén và nhập tệp danh sách bên "
          "trong. Không nhập gì.",
          "This is a compressed archive (RAR, 7z or gzip). Extract it and import the list "
          "inside. Nothing was imported."};
    case FileFormat::kBinary: {
      (void)head;
      return {"Tệp này không phải văn bản CSV hay sổ tính Excel (có byte nhị phân). " +
                  std::string(kSaveAs),
              "This is neither CSV text nor an Excel workbook (it holds binary bytes). " +
                  std::string(kSaveAsEn)};
    }
    case FileFormat::kText:
    case FileFormat::kZip:
    case FileFormat::kOle2:
      break;
  }
  return {"Không nhận ra định dạng tệp. " + std::string(kSaveAs),
          "The file's format is not recognised. " + std::string(kSaveAsEn)};
}

FormatRefusal refuse_zip_not_workbook() {
  return {
      "Tệp này là một tệp ZIP nhưng không phải sổ tính Excel (.xlsx): không có "
      "xl/workbook.xml bên trong. Nếu là tệp nén, hãy giải nén và nhập danh sách bên trong. "
      "Không nhập gì.",
      "This is a ZIP file but not an Excel workbook (.xlsx): there is no xl/workbook.xml in "
      "it. If it is an archive, extract it and import the list inside. Nothing was "
      "imported."};
}

FormatRefusal refuse_ole2_not_workbook(std::string_view detail) {
  return {
      "Tệp này là một tài liệu Office cũ nhưng không đọc được như sổ tính Excel 97-2003 "
      "(.xls) (" +
          std::string(detail) + "). " + std::string(kSaveAs),
      "This is an old Office document but cannot be read as an Excel 97-2003 workbook "
      "(.xls) (" +
          std::string(detail) + "). " + std::string(kSaveAsEn)};
}

}  // namespace loa::campaigns
