// What a household list file is, judged by its content (signature, byte-order mark, byte
// statistics), never by its name: officers rename files, and browsers upload "upload.csv".
//
// Contract: sniff_file_format() looks at the first bytes only (at least 4 KiB when the file has
// them). A ZIP is reported as kZip: only opening it tells an .xlsx workbook from another ZIP
// (XlsxReader does). An OLE2 compound file is reported as kOle2 (an .xls workbook, or a Word
// .doc; XlsReader tells). Everything loa cannot read gets a description for the refusal,
// Vietnamese first.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace loa::campaigns {

enum class FileFormat : std::uint8_t {
  kEmpty,
  kText,  // CSV or tab-separated text, in any encoding text_encoding.hpp knows
  kZip,   // .xlsx if it holds xl/workbook.xml
  kOle2,  // .xls (Excel 97-2003) or another old Office document
  kPdf,
  kImage,
  kHtml,          // a web page saved as ".xls"
  kOpenDocument,  // .ods / .odt (a ZIP, told by its mimetype entry)
  kArchive,       // RAR, 7z, gzip
  kBinary,        // none of the above
};

FileFormat sniff_file_format(std::string_view head);

// Why a file of this format is refused, as a sentence for the officer ("Tệp này là một tài liệu
// PDF, …"), and the same in English. Only for formats loa does not read.
struct FormatRefusal {
  std::string vi;
  std::string en;
};
FormatRefusal refuse_format(FileFormat format, std::string_view head);

// The refusals the workbook readers give once they have looked inside.
FormatRefusal refuse_zip_not_workbook();
FormatRefusal refuse_ole2_not_workbook(std::string_view detail);

}  // namespace loa::campaigns
