#include "tests/support/list_formats.hpp"

#include <iconv.h>
#include <xlsxwriter.h>
#include <zip.h>

#include <fstream>
#include <stdexcept>

#include "campaigns/csv_reader.hpp"

namespace loa::test {

ListTable read_csv_table(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  campaigns::CsvReader reader(in);
  campaigns::CsvRecord record;
  campaigns::CsvError error;
  ListTable table;
  while (reader.next(record, error)) {
    if (error) throw std::runtime_error(error.message);
    std::vector<std::string> row;
    for (auto f : record.fields()) row.emplace_back(f);
    if (table.rows.empty() && !row.empty() && row[0].rfind("\xEF\xBB\xBF", 0) == 0)
      row[0].erase(0, 3);
    table.rows.push_back(std::move(row));
  }
  return table;
}

namespace {

std::string text_line(const std::vector<std::string>& row, char delimiter) {
  std::string line;
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (i) line += delimiter;
    const std::string& c = row[i];
    if (c.find_first_of(std::string("\"\r\n") + delimiter) != std::string::npos) {
      line += '"';
      for (char ch : c) line += ch == '"' ? std::string("\"\"") : std::string(1, ch);
      line += '"';
    } else {
      line += c;
    }
  }
  return line + "\r\n";
}

// The line in `encoding`, or false when the encoding cannot hold it.
bool encode(const std::string& utf8, const std::string& encoding, std::string& out) {
  iconv_t cd = iconv_open(encoding.c_str(), "UTF-8");
  if (cd == reinterpret_cast<iconv_t>(-1)) throw std::runtime_error("iconv " + encoding);
  out.assign(utf8.size() * 4 + 8, '\0');
  char* in = const_cast<char*>(utf8.data());
  std::size_t in_left = utf8.size();
  char* o = out.data();
  std::size_t o_left = out.size();
  const bool ok = iconv(cd, &in, &in_left, &o, &o_left) != static_cast<std::size_t>(-1) &&
                  iconv(cd, nullptr, nullptr, &o, &o_left) != static_cast<std::size_t>(-1);
  iconv_close(cd);
  out.resize(out.size() - o_left);
  if (!ok) return false;
  if (encoding == "TCVN5712-1") {  // TCVN3 (ABC) proper: nothing in 0x01-0x1F or 0x80-0xA0
    for (char ch : out) {
      const auto c = static_cast<unsigned char>(ch);
      if ((c < 0x20 && c != '\r' && c != '\n') || (c >= 0x80 && c <= 0xA0)) return false;
    }
  }
  return true;
}

}  // namespace

void write_text(const ListTable& table, const std::filesystem::path& path, char delimiter) {
  std::ofstream out(path, std::ios::binary);
  for (const auto& row : table.rows) out << text_line(row, delimiter);
}

void write_encoded(const ListTable& table, const std::filesystem::path& path,
                   const std::string& encoding, char delimiter, ListTable& kept) {
  std::ofstream out(path, std::ios::binary);
  if (encoding == "UTF-16LE") out << "\xFF\xFE";
  kept.rows.clear();
  std::string bytes;
  for (const auto& row : table.rows) {
    if (!encode(text_line(row, delimiter), encoding, bytes)) continue;
    out << bytes;
    kept.rows.push_back(row);
  }
}

void write_xlsx(const ListTable& table, const std::filesystem::path& path,
                const XlsxLayout& layout) {
  lxw_workbook_options options{};
  options.constant_memory = layout.constant_memory ? LXW_TRUE : LXW_FALSE;
  lxw_workbook* wb = workbook_new_opt(path.c_str(), &options);
  lxw_worksheet* ws = workbook_add_worksheet(wb, "Danh sách hộ");
  lxw_row_t r = 0;
  for (const auto& title : layout.titles)
    worksheet_write_string(ws, r++, 0, title.c_str(), nullptr);
  for (std::size_t i = 0; i < table.rows.size(); ++i, ++r) {
    const auto& row = table.rows[i];
    for (std::size_t c = 0; c < row.size(); ++c) {
      const std::string& v = row[c];
      const bool digits =
          !v.empty() && v.size() < 16 && v.find_first_not_of("0123456789") == std::string::npos;
      const bool number = i > 0 && digits &&
                          ((static_cast<int>(c) == layout.phone_column && v[0] != '0') ||
                           (c == 0 && layout.numbers_in_first_column));
      if (number)
        worksheet_write_number(ws, r, static_cast<lxw_col_t>(c), std::stod(v), nullptr);
      else if (!v.empty())
        worksheet_write_string(ws, r, static_cast<lxw_col_t>(c), v.c_str(), nullptr);
    }
  }
  if (workbook_close(wb) != LXW_NO_ERROR)
    throw std::runtime_error("libxlsxwriter: " + path.string());
}

void write_raw_workbook(const std::filesystem::path& path, const std::string& rows,
                        const std::string& prolog, const std::string& shared) {
  std::vector<std::pair<std::string, std::string>> parts = {
      {"xl/workbook.xml",
       "<workbook xmlns:r=\"r\"><sheets><sheet name=\"Danh sách\" sheetId=\"1\" "
       "r:id=\"rId1\"/></sheets></workbook>"},
      {"xl/_rels/workbook.xml.rels",
       "<Relationships><Relationship Id=\"rId1\" "
       "Target=\"worksheets/sheet1.xml\"/></Relationships>"},
      {"xl/styles.xml",
       "<styleSheet><cellXfs><xf numFmtId=\"0\"/><xf numFmtId=\"14\"/></cellXfs></styleSheet>"},
      {"xl/worksheets/sheet1.xml",
       prolog + "<worksheet><sheetData>" + rows + "</sheetData></worksheet>"}};
  if (!shared.empty()) parts.emplace_back("xl/sharedStrings.xml", shared);
  int error = 0;
  zip_t* zip = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &error);
  if (!zip) throw std::runtime_error("libzip: " + path.string());
  for (const auto& [name, text] : parts) {  // libzip reads the buffers at zip_close()
    zip_source_t* src = zip_source_buffer(zip, text.data(), text.size(), 0);
    zip_file_add(zip, name.c_str(), src, ZIP_FL_OVERWRITE);
  }
  if (zip_close(zip) != 0) throw std::runtime_error("libzip: " + path.string());
}

}  // namespace loa::test
