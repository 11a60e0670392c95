#include "source/stream_buffer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

namespace sluice::source {
namespace {

class StreamBufferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice-spill-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::vector<std::string> ReplayAll(StreamBuffer& b, uint32_t xid) {
    std::vector<std::string> out;
    // A record with an annex reads "bytes|annex".
    EXPECT_TRUE(b.Replay(xid, [&](std::string_view v, std::string_view annex) {
                   out.emplace_back(v);
                   if (!annex.empty()) out.back().append("|").append(annex);
                   return Status::Ok();
                 }).ok());
    return out;
  }
  size_t FilesInDir() const {
    if (!std::filesystem::exists(dir_)) return 0;
    size_t n = 0;
    for (auto& e : std::filesystem::directory_iterator(dir_)) n += e.is_regular_file() ? 1 : 0;
    return n;
  }
  std::filesystem::path dir_;
};

TEST_F(StreamBufferTest, ReplaysInArrivalOrderPerTransaction) {
  StreamBuffer b(dir_.string(), 1 << 20);
  ASSERT_TRUE(b.Append(1, 1, "a").ok());
  ASSERT_TRUE(b.Append(2, 2, "x").ok());
  ASSERT_TRUE(b.Append(1, 1, "b").ok());
  EXPECT_EQ(ReplayAll(b, 1), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ReplayAll(b, 2), (std::vector<std::string>{"x"}));
  EXPECT_EQ(b.open_transactions(), 0u);
  EXPECT_EQ(b.memory_bytes(), 0u);
}

TEST_F(StreamBufferTest, SpillsPastTheMemoryCapAndReplaysEverything) {
  StreamBuffer b(dir_.string(), 1000);
  std::vector<std::string> expected;
  for (int i = 0; i < 500; ++i) {
    expected.push_back("record-" + std::to_string(i));
    ASSERT_TRUE(b.Append(7, 7, expected.back()).ok());
  }
  EXPECT_LE(b.memory_bytes(), 1000u);
  EXPECT_GT(b.spilled_bytes(), 0u);
  EXPECT_EQ(FilesInDir(), 1u);
  EXPECT_EQ(ReplayAll(b, 7), expected);
  EXPECT_EQ(FilesInDir(), 0u);
}

TEST_F(StreamBufferTest, AnnexesComeBackWithTheirRecordsFromMemoryAndSpillFile) {
  StreamBuffer in_memory(dir_.string(), 1 << 20);
  ASSERT_TRUE(in_memory.Append(3, 3, "a", "rendered-a").ok());
  ASSERT_TRUE(in_memory.Append(3, 3, "b").ok());
  ASSERT_TRUE(in_memory.Append(3, 3, "", "annex-only").ok());
  EXPECT_EQ(in_memory.memory_bytes(), 3 * 12 + 2 + 10 + 10u);
  EXPECT_EQ(ReplayAll(in_memory, 3),
            (std::vector<std::string>{"a|rendered-a", "b", "|annex-only"}));

  StreamBuffer spilled(dir_.string(), 200);
  std::vector<std::string> expected;
  for (int i = 0; i < 100; ++i) {
    const std::string annex = i % 3 ? "annex-" + std::to_string(i) : "";
    ASSERT_TRUE(spilled.Append(4, i % 5 ? 4 : 5, "msg-" + std::to_string(i), annex).ok());
    if (i % 5 != 0)
      expected.push_back("msg-" + std::to_string(i) + (annex.empty() ? "" : "|" + annex));
  }
  EXPECT_GT(spilled.spilled_bytes(), 0u);
  spilled.Abort(4, 5);
  EXPECT_EQ(ReplayAll(spilled, 4), expected);
}

TEST_F(StreamBufferTest, AbortDiscardsTransactionAndItsSpillFile) {
  StreamBuffer b(dir_.string(), 100);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(b.Append(9, 9, "0123456789").ok());
  EXPECT_EQ(FilesInDir(), 1u);
  b.Abort(9, 9);
  EXPECT_EQ(FilesInDir(), 0u);
  EXPECT_EQ(b.open_transactions(), 0u);
  EXPECT_TRUE(ReplayAll(b, 9).empty());
}

TEST_F(StreamBufferTest, SubtransactionAbortSkipsOnlyItsRecords) {
  StreamBuffer b(dir_.string(), 1 << 20);
  ASSERT_TRUE(b.Append(10, 10, "top").ok());
  ASSERT_TRUE(b.Append(10, 11, "sub-rolled-back").ok());
  ASSERT_TRUE(b.Append(10, 12, "sub-kept").ok());
  b.Abort(10, 11);
  EXPECT_EQ(ReplayAll(b, 10), (std::vector<std::string>{"top", "sub-kept"}));
}

TEST_F(StreamBufferTest, SubtransactionAbortAppliesToSpilledRecords) {
  StreamBuffer b(dir_.string(), 64);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(b.Append(10, i % 2 ? 11 : 10, std::to_string(i)).ok());
  b.Abort(10, 11);
  auto out = ReplayAll(b, 10);
  ASSERT_EQ(out.size(), 10u);
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], std::to_string(i * 2));
}

TEST_F(StreamBufferTest, ReplayErrorStopsAndForgets) {
  StreamBuffer b(dir_.string(), 1 << 20);
  ASSERT_TRUE(b.Append(1, 1, "a").ok());
  ASSERT_TRUE(b.Append(1, 1, "b").ok());
  int calls = 0;
  Status st = b.Replay(1, [&](std::string_view, std::string_view) {
    ++calls;
    return Status::Retryable("sink queue closed");
  });
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(b.open_transactions(), 0u);
}

}  // namespace
}  // namespace sluice::source
