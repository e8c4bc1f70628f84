#include "campaigns/row_source.hpp"

#include <algorithm>
#include <charconv>

namespace loa::campaigns {

std::string_view SourceRow::stored_number(std::size_t i) const {
  if (i >= ends_.size()) return {};
  return std::string_view(data_).substr(ends_[i], numbers_[i] - ends_[i]);
}

bool SourceRow::blank() const {
  return std::all_of(fields_.begin(), fields_.end(), [](std::string_view f) {
    return f.find_first_not_of(" \t\r\n") == std::string_view::npos;
  });
}

void SourceRow::clear(std::uint64_t line) {
  data_.clear();
  ends_.clear();
  numbers_.clear();
  fields_.clear();
  line_ = line;
}

void SourceRow::add(std::string_view cell, std::string_view stored_number) {
  data_.append(cell);
  ends_.push_back(data_.size());
  data_.append(stored_number);
  numbers_.push_back(data_.size());
}

void SourceRow::pad_to(std::size_t cells) {
  while (ends_.size() < cells) add({});
}

void SourceRow::finish() {
  fields_.clear();
  std::size_t begin = 0;
  for (std::size_t i = 0; i < ends_.size(); ++i) {
    fields_.emplace_back(data_.data() + begin, ends_[i] - begin);
    begin = numbers_[i];
  }
}

std::optional<std::size_t> choose_sheet(const std::vector<std::string>& names,
                                        std::string_view wanted, RowError& error) {
  if (names.empty()) return std::nullopt;
  if (wanted.empty()) return 0;
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == wanted) return i;
  std::size_t position = 0;
  auto [p, ec] = std::from_chars(wanted.data(), wanted.data() + wanted.size(), position);
  if (ec == std::errc() && p == wanted.data() + wanted.size() && position >= 1 &&
      position <= names.size())
    return position - 1;
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "'" : ", '") + n + "'";
  error = RowError::refusal(
      "unknown_sheet",
      "Không có trang tính '" + std::string(wanted) + "' (các trang: " + list + ").",
      "No sheet '" + std::string(wanted) + "' (sheets: " + list + ").");
  return std::nullopt;
}

}  // namespace loa::campaigns
