#include "source/text_rows.h"

namespace sluice::source {

TextRows::TextRows(size_t columns,
                   const std::vector<std::vector<std::optional<std::string_view>>>& rows)
    : columns_(columns) {
  for (const auto& row : rows) {
    for (size_t c = 0; c < columns_; ++c) AddValue(c < row.size() ? row[c] : std::nullopt);
  }
}

}  // namespace sluice::source
