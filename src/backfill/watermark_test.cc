#include "backfill/watermark.h"

#include <gtest/gtest.h>

namespace sluice::backfill {
namespace {

TEST(WatermarkTest, RoundTrip) {
  Watermark w{true, 12, 345, NewRunId()};
  auto parsed = ParseWatermark(kHighWatermarkPrefix, WatermarkContent(w));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_TRUE(parsed->high);
  EXPECT_EQ(parsed->backfill_id, 12);
  EXPECT_EQ(parsed->page, 345u);
  EXPECT_EQ(parsed->run, w.run);
  auto low = ParseWatermark(kLowWatermarkPrefix, WatermarkContent(w));
  ASSERT_TRUE(low.has_value());
  EXPECT_FALSE(low->high);
}

TEST(WatermarkTest, MalformedContentIsIgnored) {
  EXPECT_FALSE(ParseWatermark(kLowWatermarkPrefix, "").has_value());
  EXPECT_FALSE(ParseWatermark(kLowWatermarkPrefix, "[1]").has_value());
  EXPECT_FALSE(ParseWatermark(kLowWatermarkPrefix, "{\"backfill\":1,\"page\":2}").has_value());
  EXPECT_FALSE(
      ParseWatermark(kLowWatermarkPrefix, "{\"backfill\":\"1\",\"page\":2,\"run\":3}").has_value());
  EXPECT_FALSE(ParseWatermark("sluice:backfill.middle", "{\"backfill\":1,\"page\":2,\"run\":3}")
                   .has_value());
}

TEST(WatermarkTest, RunIdsAreExactInJson) {
  for (int i = 0; i < 100; ++i) {
    const uint64_t run = NewRunId();
    EXPECT_NE(run, 0u);
    EXPECT_LT(run, uint64_t{1} << 53);
  }
}

}  // namespace
}  // namespace sluice::backfill
