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
