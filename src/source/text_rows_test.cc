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

TEST(TextRowsTest, RowsAddedInChunksAndClearedForTheNextPage) {
  TextRows rows(2);
  rows.Reserve(1, 4);
  rows.AddValue("a");
  rows.AddValue("bb");
  rows.Reserve(2, 1000);  // grows: the values before stay
  rows.AddValue(std::nullopt);
  rows.AddValue("ccc");
  rows.AddValue("d");
  rows.AddValue("");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows.Value(0, 1), "bb");
  EXPECT_EQ(rows.Value(1, 0), std::nullopt);
  EXPECT_EQ(rows.Value(2, 0), "d");
  rows.Clear(3);
  EXPECT_TRUE(rows.empty());
  EXPECT_EQ(rows.columns(), 3u);
  rows.AddValue("x");
  rows.AddValue("y");
  rows.AddValue("z");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.Value(0, 0), "x");
  EXPECT_EQ(rows.Value(0, 2), "z");
}

}  // namespace
}  // namespace sluice::source
