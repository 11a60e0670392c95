// Rows of text values held in one block: a query's result without an
// allocation per value (a backfill page has tens of thousands of rows).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::source {

class TextRows {
 public:
  TextRows() = default;
  explicit TextRows(size_t columns) : columns_(columns) {}
  // For tests: rows given as lists of values (nullopt is SQL NULL).
  TextRows(size_t columns, const std::vector<std::vector<std::optional<std::string_view>>>& rows);

  size_t size() const { return rows_; }
  bool empty() const { return rows_ == 0; }
  size_t columns() const { return columns_; }

  // The value of `column` in `row`; nullopt for NULL or a column out of
  // range.
  std::optional<std::string_view> Value(size_t row, size_t column) const {
    if (column >= columns_) return std::nullopt;
    const size_t i = row * columns_ + column;
    const uint64_t end = ends_[i];
    if ((end & kNull) != 0) return std::nullopt;
    const size_t begin = i == 0 ? 0 : static_cast<size_t>(ends_[i - 1] & ~kNull);
    return std::string_view(text_).substr(begin, static_cast<size_t>(end) - begin);
  }

  // No rows, of `columns` columns; the buffers are kept for the next ones.
  void Clear(size_t columns) {
    columns_ = columns;
    rows_ = 0;
    text_.clear();
    ends_.clear();
  }
  // Room for `rows` more rows holding `text_bytes` more bytes; growing at
  // least twofold, so that rows added in chunks are copied once on average.
  void Reserve(size_t rows, size_t text_bytes) {
    Grow(ends_, ends_.size() + rows * columns_);
    Grow(text_, text_.size() + text_bytes);
  }
  // Appends the next value of the row being added (columns() values make a
  // row).
  void AddValue(std::optional<std::string_view> value) {
    if (value) text_.append(*value);
    ends_.push_back(text_.size() | (value ? 0 : kNull));
    if (columns_ != 0 && ends_.size() % columns_ == 0) ++rows_;
  }

 private:
  static constexpr uint64_t kNull = uint64_t{1} << 63;

  template <typename Container>
  static void Grow(Container& c, size_t needed) {
    if (needed > c.capacity()) c.reserve(std::max(needed, 2 * c.capacity()));
  }

  size_t columns_ = 0;
  size_t rows_ = 0;
  std::string text_;
  // Per value, in row order: the offset in text_ where it ends, with kNull
  // set for NULL (whose length is 0).
  std::vector<uint64_t> ends_;
};

}  // namespace sluice::source
