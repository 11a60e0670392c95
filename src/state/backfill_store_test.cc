// The backfill part of the SQLite state store.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "state/sqlite_state_store.h"

namespace sluice::state {
namespace {

class BackfillStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sluice-backfill-store-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path() const { return (dir_ / "state.db").string(); }
  static BackfillRecord Record(const std::string& sink, const std::string& table) {
    BackfillRecord r;
    r.sink = sink;
    r.table_schema = "public";
    r.table_name = table;
    r.created_at_ms = r.updated_at_ms = 1700000000000;
    return r;
  }
  std::filesystem::path dir_;
};

TEST_F(BackfillStoreTest, CreateAssignsIncreasingIds) {
  auto store = SqliteStateStore::Open(Path());
  ASSERT_TRUE(store.ok());
  auto a = (*store)->CreateBackfill(Record("hook", "orders"));
  auto b = (*store)->CreateBackfill(Record("hook", "items"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_GT(a->id, 0);
  EXPECT_GT(b->id, a->id);
}

TEST_F(BackfillStoreTest, EveryFieldSurvivesReopen) {
  int64_t id = 0;
  {
    auto store = SqliteStateStore::Open(Path());
    ASSERT_TRUE(store.ok());
    BackfillRecord r = Record("hook", "Weird \"Tbl\" ü");
    r.sort_column = "Sort Col";
    r.start_position = "2024-01-01";
    r.filter = "status = 'paid'";
    r.initial = true;
    auto created = (*store)->CreateBackfill(r);
    ASSERT_TRUE(created.ok());
    id = created->id;
    BackfillRecord u = *created;
    u.state = BackfillState::kCompleted;
    u.cursor = "[\"2024-02-01 00:00:00+00\",\"7\"]";
    u.rows_read = 200000;
    u.rows_emitted = 199000;
    u.estimated_total = 200000;
    u.updated_at_ms = 1700000005000;
    u.completed_at_ms = 1700000006000;
    u.last_error = "connection lost";
    ASSERT_TRUE((*store)->UpdateBackfill(u).ok());
  }
  auto store = SqliteStateStore::Open(Path());
  ASSERT_TRUE(store.ok());
  auto all = (*store)->LoadBackfills("hook");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  const BackfillRecord& r = all->front();
  EXPECT_EQ(r.id, id);
  EXPECT_EQ(r.table_name, "Weird \"Tbl\" ü");
  EXPECT_EQ(r.sort_column, "Sort Col");
  EXPECT_EQ(r.start_position, "2024-01-01");
  EXPECT_EQ(r.filter, "status = 'paid'");
  EXPECT_TRUE(r.initial);
  EXPECT_EQ(r.state, BackfillState::kCompleted);
  EXPECT_EQ(r.cursor, "[\"2024-02-01 00:00:00+00\",\"7\"]");
  EXPECT_EQ(r.rows_read, 200000u);
  EXPECT_EQ(r.rows_emitted, 199000u);
  EXPECT_EQ(r.estimated_total, 200000);
  EXPECT_EQ(r.created_at_ms, 1700000000000);
  EXPECT_EQ(r.updated_at_ms, 1700000005000);
  EXPECT_EQ(r.completed_at_ms, 1700000006000);
  EXPECT_EQ(r.last_error, "connection lost");
}

TEST_F(BackfillStoreTest, AbsentCursorAndStartPositionStayAbsent) {
  auto store = SqliteStateStore::Open(Path());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->CreateBackfill(Record("hook", "orders")).ok());
  auto all = (*store)->LoadBackfills("hook");
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(all->front().cursor.has_value());
  EXPECT_FALSE(all->front().start_position.has_value());
  EXPECT_FALSE(all->front().completed_at_ms.has_value());
  EXPECT_EQ(all->front().state, BackfillState::kRunning);
}

TEST_F(BackfillStoreTest, LoadBySinkOrAll) {
  auto store = SqliteStateStore::Open(Path());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->CreateBackfill(Record("a", "t1")).ok());
  ASSERT_TRUE((*store)->CreateBackfill(Record("b", "t2")).ok());
  ASSERT_TRUE((*store)->CreateBackfill(Record("a", "t3")).ok());
  EXPECT_EQ((*store)->LoadBackfills("a")->size(), 2u);
  EXPECT_EQ((*store)->LoadBackfills("b")->size(), 1u);
  EXPECT_EQ((*store)->LoadBackfills("")->size(), 3u);
  EXPECT_EQ((*store)->LoadBackfills("c")->size(), 0u);
}

TEST_F(BackfillStoreTest, UpdatingAnUnknownBackfillIsAnError) {
  auto store = SqliteStateStore::Open(Path());
  ASSERT_TRUE(store.ok());
  BackfillRecord r = Record("hook", "orders");
  r.id = 42;
  EXPECT_FALSE((*store)->UpdateBackfill(r).ok());
}

}  // namespace
}  // namespace sluice::state
