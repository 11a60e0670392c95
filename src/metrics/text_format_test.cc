#include "metrics/text_format.h"

#include <gtest/gtest.h>

#include <limits>

namespace sluice::metrics {
namespace {

std::string EscapedLabelValue(std::string_view value) {
  std::string out;
  AppendEscapedLabelValue(value, out);
  return out;
}

std::string EscapedHelp(std::string_view help) {
  std::string out;
  AppendEscapedHelp(help, out);
  return out;
}

TEST(TextFormatTest, LabelValueEscapesBackslashQuoteAndNewline) {
  EXPECT_EQ(EscapedLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapedLabelValue("plain ünïcode"), "plain ünïcode");
}

TEST(TextFormatTest, HelpEscapesBackslashAndNewlineButNotQuotes) {
  EXPECT_EQ(EscapedHelp("say \"hi\"\\\n"), "say \"hi\"\\\\\\n");
}

TEST(TextFormatTest, SpecialValuesUsePrometheusSpelling) {
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(TextFormatTest, ValuesAreShortestRoundTrip) {
  EXPECT_EQ(FormatValue(42), "42");
  EXPECT_EQ(FormatValue(0.001), "0.001");
  EXPECT_EQ(FormatValue(2.5), "2.5");
  EXPECT_EQ(FormatValue(-3), "-3");
  EXPECT_EQ(FormatValue(0.1 + 0.2), "0.30000000000000004");
}

TEST(TextFormatTest, MetricNamesAllowColonsButNoLeadingDigit) {
  EXPECT_TRUE(IsValidMetricName("sluice_messages_total"));
  EXPECT_TRUE(IsValidMetricName("job:rate5m"));
  EXPECT_FALSE(IsValidMetricName("5xx_total"));
  EXPECT_FALSE(IsValidMetricName("sluice-messages"));
  EXPECT_FALSE(IsValidMetricName(""));
}

TEST(TextFormatTest, LabelNamesRejectColonsAndReservedPrefix) {
  EXPECT_TRUE(IsValidLabelName("sink"));
  EXPECT_TRUE(IsValidLabelName("_private"));
  EXPECT_FALSE(IsValidLabelName("__name__"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_FALSE(IsValidLabelName("1a"));
  EXPECT_FALSE(IsValidLabelName(""));
}

}  // namespace
}  // namespace sluice::metrics
