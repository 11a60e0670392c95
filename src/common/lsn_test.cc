#include "common/lsn.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(LsnTest, FormatsAndParsesLikePostgres) {
  EXPECT_EQ(FormatLsn(0x16B374D848ull), "16/B374D848");
  EXPECT_EQ(*ParseLsn("16/B374D848"), 0x16B374D848ull);
  EXPECT_EQ(*ParseLsn("0/0"), 0u);
}

TEST(LsnTest, MalformedIsNullopt) {
  EXPECT_FALSE(ParseLsn("").has_value());
  EXPECT_FALSE(ParseLsn("16").has_value());
  EXPECT_FALSE(ParseLsn("/1").has_value());
  EXPECT_FALSE(ParseLsn("1/").has_value());
  EXPECT_FALSE(ParseLsn("1/G").has_value());
}

TEST(PositionTest, OrdersByLsnThenIndex) {
  EXPECT_LT((Position{1, 9}), (Position{2, 0}));
  EXPECT_LT((Position{2, 0}), (Position{2, 1}));
}

}  // namespace
}  // namespace sluice
