#include "pgoutput/copy_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "pgoutput/messages.h"

namespace sluice::pgoutput {
namespace {

using ::testing::HasSubstr;

std::string U64(uint64_t v) {
  std::string s;
  for (int shift = 56; shift >= 0; shift -= 8) s.push_back(static_cast<char>(v >> shift));
  return s;
}

TEST(CopyDataTest, XLogDataParses) {
  const std::string bytes = "w" + U64(0x16B374D848) + U64(0x16B374D900) + U64(1000) + "Bpayload";
  Result<CopyDataMessage> m = ParseCopyData(bytes);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const auto& x = std::get<XLogData>(*m);
  EXPECT_EQ(x.wal_start, 0x16B374D848u);
  EXPECT_EQ(x.wal_end, 0x16B374D900u);
  EXPECT_EQ(x.send_time_us, kPostgresEpochOffsetUs + 1000);
  EXPECT_EQ(x.payload, "Bpayload");
  // A view into the input, not a copy.
  EXPECT_EQ(x.payload.data(), bytes.data() + 25);
}

TEST(CopyDataTest, XLogDataWithEmptyPayloadParses) {
  Result<CopyDataMessage> m = ParseCopyData("w" + U64(1) + U64(2) + U64(3));
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(std::get<XLogData>(*m).payload.empty());
}

TEST(CopyDataTest, KeepaliveParses) {
  Result<CopyDataMessage> m = ParseCopyData("k" + U64(0xABCDEF) + U64(0) + std::string(1, '\1'));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const auto& k = std::get<PrimaryKeepalive>(*m);
  EXPECT_EQ(k.wal_end, 0xABCDEFu);
  EXPECT_EQ(k.send_time_us, kPostgresEpochOffsetUs);
  EXPECT_TRUE(k.reply_requested);

  m = ParseCopyData("k" + U64(5) + U64(6) + std::string(1, '\0'));
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(std::get<PrimaryKeepalive>(*m).reply_requested);
}

TEST(CopyDataTest, TruncatedXLogDataHeaderIsAnError) {
  const std::string full = "w" + U64(1) + U64(2) + U64(3);
  for (size_t len = 1; len < full.size(); ++len) {
    Result<CopyDataMessage> m = ParseCopyData(full.substr(0, len));
    ASSERT_FALSE(m.ok()) << len;
    EXPECT_TRUE(m.status().IsPermanent());
    EXPECT_THAT(m.status().message(), HasSubstr("truncated XLogData header"));
  }
}

TEST(CopyDataTest, TruncatedKeepaliveIsAnError) {
  const std::string full = "k" + U64(1) + U64(2) + std::string(1, '\0');
  for (size_t len = 1; len < full.size(); ++len) {
    Result<CopyDataMessage> m = ParseCopyData(full.substr(0, len));
    ASSERT_FALSE(m.ok()) << len;
    EXPECT_THAT(m.status().message(), HasSubstr("truncated primary keepalive"));
  }
}

TEST(CopyDataTest, KeepaliveWithTrailingBytesIsAnError) {
  Result<CopyDataMessage> m = ParseCopyData("k" + U64(1) + U64(2) + std::string(2, '\0'));
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), HasSubstr("1 trailing bytes"));
}

TEST(CopyDataTest, UnknownOrEmptyMessageIsAnError) {
  Result<CopyDataMessage> m = ParseCopyData("");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), HasSubstr("empty"));
  m = ParseCopyData("r" + U64(1));
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(m.status().IsPermanent());
  EXPECT_THAT(m.status().message(), HasSubstr("unknown CopyData message type 114 'r'"));
}

TEST(CopyDataTest, SendTimeSaturatesInsteadOfOverflowing) {
  Result<CopyDataMessage> m = ParseCopyData("k" + U64(1) + U64(0x7FFFFFFFFFFFFFFF) + '\0');
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<PrimaryKeepalive>(*m).send_time_us, INT64_MAX);
}

TEST(StandbyStatusUpdateTest, LayoutIsBigEndianWithPostgresEpochClock) {
  const std::string msg =
      EncodeStandbyStatusUpdate(0x0102030405060708, 0x1112131415161718, 0x2122232425262728,
                                kPostgresEpochOffsetUs + 0x31323334, true);
  const std::string expected = "r" + U64(0x0102030405060708) + U64(0x1112131415161718) +
                               U64(0x2122232425262728) + U64(0x31323334) + std::string(1, '\1');
  EXPECT_EQ(msg, expected);
  EXPECT_EQ(msg.size(), 34u);
}

TEST(StandbyStatusUpdateTest, NoReplyRequestedAndUnixEpochZero) {
  const std::string msg = EncodeStandbyStatusUpdate(1, 2, 3, 0, false);
  EXPECT_EQ(msg.back(), '\0');
  EXPECT_EQ(msg.substr(25, 8), U64(static_cast<uint64_t>(-kPostgresEpochOffsetUs)));
}

}  // namespace
}  // namespace sluice::pgoutput
