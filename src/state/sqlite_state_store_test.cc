#include "state/sqlite_state_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace sluice::state {
namespace {

class SqliteStateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice-state-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path() const { return (dir_ / "state.db").string(); }
  std::filesystem::path dir_;
};

TEST_F(SqliteStateStoreTest, MissingCheckpointsAreEmpty) {
  auto store = SqliteStateStore::Open(Path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto slot = (*store)->LoadSlotCheckpoint("app/slot");
  ASSERT_TRUE(slot.ok());
  EXPECT_FALSE(slot->has_value());
  auto sink = (*store)->LoadSinkCheckpoint("orders");
  ASSERT_TRUE(sink.ok());
  EXPECT_FALSE(sink->has_value());
}

TEST_F(SqliteStateStoreTest, CheckpointSurvivesReopen) {
  {
    auto store = SqliteStateStore::Open(Path());
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(
        (*store)->SaveCheckpoint("app/slot", 1000, {{"a", {900, 3}}, {"b", {950, 0}}}).ok());
    ASSERT_TRUE((*store)->SaveCheckpoint("app/slot", 2000, {{"a", {1900, 1}}}).ok());
  }
  auto store = SqliteStateStore::Open(Path());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(**(*store)->LoadSlotCheckpoint("app/slot"), 2000u);
  EXPECT_EQ(**(*store)->LoadSinkCheckpoint("a"), (Position{1900, 1}));
  EXPECT_EQ(**(*store)->LoadSinkCheckpoint("b"), (Position{950, 0}));
}

TEST_F(SqliteStateStoreTest, UnwritableDirectoryIsAClearError) {
  auto store = SqliteStateStore::Open("/nonexistent-dir/for/sure/state.db");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("/nonexistent-dir/for/sure/state.db"), std::string::npos);
  EXPECT_TRUE(store.status().IsFatal());
}

}  // namespace
}  // namespace sluice::state

namespace sluice::state {
namespace {

TEST_F(SqliteStateStoreTest, StreamMessagesRoundTripAndSurviveReopen) {
  {
    auto store = SqliteStateStore::Open(Path());
    ASSERT_TRUE(store.ok());
    std::vector<StreamMessage> ms(3);
    for (uint64_t i = 0; i < 3; ++i) {
      ms[i].seq = i + 1;
      ms[i].group_key = std::string("g\x1f", 2) + std::to_string(i % 2);
      ms[i].position = {100 + i, static_cast<uint32_t>(i)};
      ms[i].json = "{\"n\":" + std::to_string(i) + "}";
    }
    ASSERT_TRUE((*store)->AppendStreamMessages("s", ms).ok());
    ASSERT_TRUE((*store)->AppendStreamMessages("other", {ms[0]}).ok());
    ms[1].deliver_count = 2;
    ms[1].visible_at_ms = 12345;
    ms[1].ack_token = "tok";
    ASSERT_TRUE((*store)->UpdateStreamDeliveries("s", {ms[1]}).ok());
    ASSERT_TRUE((*store)->DeleteStreamMessages("s", {1}).ok());
  }
  auto store = SqliteStateStore::Open(Path());
  ASSERT_TRUE(store.ok());
  auto index = (*store)->LoadStreamIndex("s");
  ASSERT_TRUE(index.ok());
  ASSERT_EQ(index->size(), 2u);
  EXPECT_EQ((*index)[0].seq, 2u);
  EXPECT_EQ((*index)[0].deliver_count, 2u);
  EXPECT_EQ((*index)[0].visible_at_ms, 12345);
  EXPECT_EQ((*index)[0].ack_token, "tok");
  EXPECT_EQ((*index)[0].group_key, std::string("g\x1f", 2) + "1");
  EXPECT_TRUE((*index)[0].json.empty());
  auto bodies = (*store)->LoadStreamBodies("s", {3, 2, 1});
  ASSERT_TRUE(bodies.ok());
  ASSERT_EQ(bodies->size(), 2u);
  EXPECT_EQ((*bodies)[0], (std::pair<uint64_t, std::string>{3, "{\"n\":2}"}));
  EXPECT_EQ((*bodies)[1].first, 2u);
  EXPECT_EQ((*store)->LoadStreamIndex("other")->size(), 1u);
}

}  // namespace
}  // namespace sluice::state
