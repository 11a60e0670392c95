#include "source/text_rows.h"

#include <gtest/gtest.h>

namespace sluice::source {
namespace {

TEST(TextRowsTest, HoldsValuesNullsAndEmptyStringsByRowAndColumn) {
  TextRows rows(3);
  EXPECT_TRUE(rows.empty());
  rows.AddValue("1");
  rows.AddValue(std::nullopt);
  rows.AddValue("");
  EXPECT_EQ(rows.size(), 1u);
  rows.AddValue("22");
  rows.AddValue("b");
  rows.AddValue(std::nullopt);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.columns(), 3u);
  EXPECT_EQ(rows.Value(0, 0), "1");
  EXPECT_EQ(rows.Value(0, 1), std::nullopt);
  ASSERT_TRUE(rows.Value(0, 2).has_value());  // empty, not NULL
  EXPECT_EQ(*rows.Value(0, 2), "");
  EXPECT_EQ(rows.Value(1, 0), "22");
  EXPECT_EQ(rows.Value(1, 1), "b");
  EXPECT_EQ(rows.Value(1, 2), std::nullopt);
  EXPECT_EQ(rows.Value(1, 3), std::nullopt);  // no such column
}

TEST(TextRowsTest, BuildsFromLists) {
  const TextRows rows(2, {{"a", "b"}, {std::nullopt, "d"}});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.Value(0, 1), "b");
  EXPECT_EQ(rows.Value(1, 0), std::nullopt);
  EXPECT_EQ(rows.Value(1, 1), "d");
}

}  // namespace
}  // namespace sluice::source
