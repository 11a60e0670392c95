#include "backfill/coordinator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "backfill/watermark.h"
#include "common/base64.h"

namespace sluice::backfill {
namespace {

using namespace std::chrono_literals;
using source::ColumnValue;

constexpr uint32_t kTable = 500;
constexpr uint64_t kRun = 777;

class FakeCatalog : public source::Catalog {
 public:
  Result<values::TypeRef> ResolveType(uint32_t type_oid) override {
    ++resolved;
    auto t = values::BuiltinType(type_oid);
    return t ? t : values::TextType();
  }
  Result<std::vector<std::string>> PrimaryKey(uint32_t) override {
    return std::vector<std::string>{"id"};
  }
  int resolved = 0;
};

// What reaches the Router: stream events and the reads routed to a sink.
struct Downstream : source::ChangeHandler {
  struct Read {
    size_t sink;
    Position position;
    std::string relation;
    std::vector<std::optional<std::string>> values;
    std::string idempotency_key;
    int64_t commit_time_us;
    std::string rendered_record;  // empty: the router renders it
  };
  void OnBegin(const source::TransactionInfo& txn) override {
    events.push_back("begin " + std::to_string(txn.commit_lsn));
  }
  Status OnChange(const source::Change& c) override {
    events.push_back("change " + std::to_string(c.position.commit_idx));
    return Status::Ok();
  }
  void OnCommit(const source::TransactionInfo& txn) override {
    events.push_back("commit " + std::to_string(txn.end_lsn));
  }
  void OnIdle(Lsn) override { events.push_back("idle"); }
  Status Emit(size_t sink, const source::Change& c) {
    EXPECT_EQ(c.action, Action::kRead);
    Read r{sink,
           c.position,
           c.relation->schema + "." + c.relation->table,
           {},
           std::string(c.idempotency_key),
           c.commit_time_us,
           std::string(c.rendered_record)};
    for (const ColumnValue& v : c.new_values) {
      if (v.kind == ColumnValue::Kind::kText) {
        r.values.emplace_back(std::string(v.text));
      } else {
        r.values.emplace_back(std::nullopt);
      }
    }
    reads.push_back(std::move(r));
    events.push_back("read");
    return emit_status;
  }
  std::vector<std::string> events;
  std::vector<Read> reads;
  Status emit_status;
};

ShapeRef Shape(uint64_t id = 1) {
  auto s = std::make_shared<TableShape>();
  s->id = id;
  s->oid = kTable;
  s->schema = "public";
  s->table = "orders";
  s->columns = {{"id", 23, -1, true}, {"status", 25, -1, false}};
  s->key_columns = {0};
  s->order_columns = {0};
  return s;
}

source::RelationRef StreamRelation(std::vector<std::pair<std::string, uint32_t>> columns,
                                   uint64_t version = 1) {
  auto r = std::make_shared<source::RelationInfo>();
  r->oid = kTable;
  r->schema = "public";
  r->table = "orders";
  r->version = version;
  for (auto& [name, type] : columns) {
    source::ColumnInfo c;
    c.name = name;
    c.type_oid = type;
    c.type = values::TextType();
    r->columns.push_back(c);
  }
  r->key_columns = {0};
  return r;
}

class CoordinatorTest : public ::testing::Test {
 protected:
  CoordinatorTest()
      : coordinator_(
            downstream_,
            [this](size_t sink, const source::Change& c) { return downstream_.Emit(sink, c); },
            catalog_, kRun, nullptr, /*checkpoint_every=*/2) {}

  // A transaction that holds only a watermark, as the worker writes it.
  void Watermark(bool high, int64_t id, uint64_t page, Lsn lsn, uint64_t run = kRun) {
    source::TransactionInfo txn{1, lsn, 0, 1700000000000000};
    coordinator_.OnBegin(txn);
    const std::string content = WatermarkContent({high, id, page, run});
    ASSERT_TRUE(
        coordinator_.OnLogicalMessage(high ? kHighWatermarkPrefix : kLowWatermarkPrefix, content)
            .ok());
    txn.end_lsn = lsn + 8;
    coordinator_.OnCommit(txn);
  }
  // A transaction with one change to the table.
  void Change(Action action, std::optional<std::string> new_id, std::optional<std::string> old_id,
              Lsn lsn, source::RelationRef rel = nullptr, uint32_t xid = 2) {
    if (!rel) rel = relation_;
    source::TransactionInfo txn{xid, lsn, 0, 0};
    coordinator_.OnBegin(txn);
    source::Change c;
    c.action = action;
    c.position = {lsn, 0};
    c.relation = rel;
    if (new_id) {
      c.new_values = {ColumnValue{ColumnValue::Kind::kText, *new_id},
                      ColumnValue{ColumnValue::Kind::kText, "x"}};
    }
    if (old_id) {
      c.has_old = true;
      c.old_values = {ColumnValue{ColumnValue::Kind::kText, *old_id},
                      ColumnValue{ColumnValue::Kind::kNull, {}}};
    }
    ASSERT_TRUE(coordinator_.OnChange(c).ok());
    txn.end_lsn = lsn + 8;
    coordinator_.OnCommit(txn);
  }
  Page MakePage(int64_t id, uint64_t page, std::vector<std::string> ids) {
    Page p;
    p.backfill_id = id;
    p.page = page;
    p.shape = shape_;
    p.rows = source::TextRows(2);
    for (const auto& i : ids) {
      const std::string status = "s" + i;
      p.rows.AddValue(i);
      p.rows.AddValue(status);
    }
    return p;
  }
  // Low watermark of `page` at `low`, then offers its rows read with
  // pg_current_snapshot() `snapshot`.
  void OpenSnapshotPage(int64_t id, uint64_t page, std::vector<std::string> ids,
                        const char* snapshot, Lsn low) {
    Watermark(false, id, page, low);
    Page p = MakePage(id, page, std::move(ids));
    p.snapshot = ParsePageSnapshot(snapshot);
    coordinator_.Offer(std::move(p));
  }
  // High watermark of `page` at `high`, then its result.
  std::optional<PageResult> ClosePage(int64_t id, uint64_t page, Lsn high) {
    Watermark(true, id, page, high);
    return coordinator_.WaitForResult(id, page, 0ms);
  }
  std::vector<std::string> ReadIds() const {
    std::vector<std::string> out;
    for (const auto& r : downstream_.reads) out.push_back(r.values[0].value_or("NULL"));
    return out;
  }

  FakeCatalog catalog_;
  Downstream downstream_;
  BackfillCoordinator coordinator_;
  ShapeRef shape_ = Shape();
  source::RelationRef relation_ = StreamRelation({{"id", 23}, {"status", 25}});
};

TEST_F(CoordinatorTest, ForwardsTheStreamUnchanged) {
  Change(Action::kInsert, "1", std::nullopt, 100);
  coordinator_.OnIdle(200);
  EXPECT_EQ(downstream_.events,
            (std::vector<std::string>{"begin 100", "change 0", "commit 108", "idle"}));
}

TEST_F(CoordinatorTest, EmitsPageAtHighWatermarkWithPositionsAndKeys) {
  coordinator_.Register(7, 3, kTable);
  Watermark(false, 7, 1, 1000);
  EXPECT_TRUE(coordinator_.WaitForLow(7, 1, 0ms));
  coordinator_.Offer(MakePage(7, 1, {"1", "2", "3"}));
  EXPECT_FALSE(coordinator_.WaitForResult(7, 1, 0ms).has_value());
  Watermark(true, 7, 1, 2000);
  auto result = coordinator_.WaitForResult(7, 1, 0ms);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->kind, PageResult::Kind::kEmitted);
  EXPECT_EQ(result->read, 3u);
  EXPECT_EQ(result->emitted, 3u);
  EXPECT_EQ(result->last_position, (Position{2000, 2}));
  ASSERT_EQ(downstream_.reads.size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    const auto& r = downstream_.reads[i];
    EXPECT_EQ(r.sink, 3u);
    EXPECT_EQ(r.position, (Position{2000, i}));
    EXPECT_EQ(r.relation, "public.orders");
    EXPECT_EQ(r.commit_time_us, 1700000000000000);
    EXPECT_EQ(Base64Decode(r.idempotency_key).value_or(""),
              "7:[\"" + std::to_string(i + 1) + "\"]");
  }
  EXPECT_EQ(downstream_.reads[1].values, (std::vector<std::optional<std::string>>{"2", "s2"}));
  // The reads sit inside the watermark's transaction.
  EXPECT_EQ(downstream_.events, (std::vector<std::string>{"begin 1000", "commit 1008", "begin 2000",
                                                          "read", "read", "read", "commit 2008"}));
}

TEST_F(CoordinatorTest, DropsRowsWhoseKeyChangedBetweenWatermarks) {
  coordinator_.Register(7, 0, kTable);
  Watermark(false, 7, 1, 1000);
  coordinator_.Offer(MakePage(7, 1, {"1", "2", "3", "4", "5", "6"}));
  Change(Action::kUpdate, "2", std::nullopt, 1100);  // default identity: no old row
  Change(Action::kDelete, std::nullopt, "3", 1200);
  Change(Action::kUpdate, "60", "5", 1300);  // key moved away from 5
  Change(Action::kInsert, "4", std::nullopt, 1400);
  Watermark(true, 7, 1, 2000);
  auto result = coordinator_.WaitForResult(7, 1, 0ms);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->dropped, 4u);
  EXPECT_EQ(result->emitted, 2u);
  EXPECT_EQ(ReadIds(), (std::vector<std::string>{"1", "6"}));
  // Positions count only what was emitted.
  EXPECT_EQ(downstream_.reads[1].position, (Position{2000, 1}));
}

TEST_F(CoordinatorTest, RecordsRenderedByTheWorkerAreEmittedWithTheRelationTheyWereRenderedFor) {
  coordinator_.Register(7, 0, kTable);
  // No relation known yet: the reader thread renders page 1, with the
  // catalog's columns.
  EXPECT_EQ(coordinator_.RenderRecords(*shape_, source::TextRows(2, {{"1", "a"}}), false).relation,
            nullptr);
  Watermark(false, 7, 1, 1000);
  coordinator_.Offer(MakePage(7, 1, {"1"}));
  auto first = ClosePage(7, 1, 2000);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(downstream_.reads.size(), 1u);
  EXPECT_EQ(downstream_.reads[0].rendered_record, "");
  // Emitted pages come back to the worker, which frees them.
  ASSERT_NE(first->page, nullptr);
  EXPECT_EQ(first->page->rows.size(), 1u);

  // From then on the worker renders with that relation, as the reader thread
  // would (the catalog types: int4 is a JSON number).
  Page p = MakePage(7, 2, {"2", "3"});
  p.records = coordinator_.RenderRecords(*shape_, p.rows, false);
  ASSERT_NE(p.records.relation, nullptr);
  EXPECT_EQ(p.records.Record(0), R"({"id":2,"status":"s2"})");
  EXPECT_EQ(p.records.Record(1), R"({"id":3,"status":"s3"})");
  coordinator_.Offer(std::move(p));
  ASSERT_TRUE(ClosePage(7, 2, 3000).has_value());
  ASSERT_EQ(downstream_.reads.size(), 3u);
  EXPECT_EQ(downstream_.reads[1].rendered_record, R"({"id":2,"status":"s2"})");
  EXPECT_EQ(downstream_.reads[2].rendered_record, R"({"id":3,"status":"s3"})");

  // The stream describes the table: that relation wins over the catalog's.
  Change(Action::kInsert, "99", std::nullopt, 3100);
  Page q = MakePage(7, 3, {"4"});
  q.records = coordinator_.RenderRecords(*shape_, q.rows, false);
  EXPECT_EQ(q.records.relation, relation_);
  EXPECT_EQ(q.records.Record(0), R"({"id":"4","status":"s4"})");  // its types are text
  // ... and a Relation message between rendering and emitting makes the
  // rendered records stale: the reader thread renders with the new one.
  Change(Action::kInsert, "98", std::nullopt, 3200,
         StreamRelation({{"id", 23}, {"status", 25}}, /*version=*/2));
  coordinator_.Offer(std::move(q));
  ASSERT_TRUE(ClosePage(7, 3, 4000).has_value());
  ASSERT_EQ(downstream_.reads.size(), 4u);
  EXPECT_EQ(downstream_.reads[3].values, (std::vector<std::optional<std::string>>{"4", "s4"}));
  EXPECT_EQ(downstream_.reads[3].rendered_record, "");
}

TEST_F(CoordinatorTest, RecordsRenderedChunkByChunkAreThoseOfTheWholePage) {
  coordinator_.Register(7, 0, kTable);
  Change(Action::kInsert, "99", std::nullopt, 100);  // the stream describes the table
  const source::TextRows rows(2, {{"1", "a"}, {"2", std::nullopt}, {"3", "c\"q"}, {"4", "d"}});
  const RenderedRecords whole = coordinator_.RenderRecords(*shape_, rows, false);
  ASSERT_EQ(whole.relation, relation_);

  // Reused buffers of an earlier page, rendered again in chunks of 1, 2, 1.
  RenderedRecords chunked = coordinator_.RenderRecords(*shape_, rows, false);
  coordinator_.RenderRecords(*shape_, rows, 0, 1, false, 4, chunked);
  coordinator_.RenderRecords(*shape_, rows, 1, 3, false, 4, chunked);
  coordinator_.RenderRecords(*shape_, rows, 3, 4, false, 4, chunked);
  EXPECT_EQ(chunked.relation, whole.relation);
  EXPECT_EQ(chunked.text, whole.text);
  EXPECT_EQ(chunked.ends, whole.ends);

  // A chunk that does not follow the last one rendered renders nothing: the
  // page's records then do not cover its rows, and the reader thread
  // renders them.
  RenderedRecords gap;
  coordinator_.RenderRecords(*shape_, rows, 0, 1, false, 4, gap);
  coordinator_.RenderRecords(*shape_, rows, 2, 4, false, 4, gap);
  EXPECT_EQ(gap.ends.size(), 1u);
}

TEST_F(CoordinatorTest, IdempotencyKeysWrittenByTheWorkerAreTheOnesTheReaderWouldWrite) {
  coordinator_.Register(7, 0, kTable);
  Watermark(false, 7, 1, 1000);
  Page p = MakePage(7, 1, {"1", "2", "3"});
  p.rows.AddValue(std::nullopt);  // a row without its key: dropped
  p.rows.AddValue("none");
  // In two chunks, after the keys of an earlier page.
  RenderIdempotencyKeys(7, *shape_, p.rows, 0, 4, p.records);
  RenderIdempotencyKeys(7, *shape_, p.rows, 0, 1, p.records);
  RenderIdempotencyKeys(7, *shape_, p.rows, 1, 4, p.records);
  ASSERT_EQ(p.records.key_ends.size(), 4u);
  EXPECT_EQ(p.records.Key(1), ReadIdempotencyKey(7, {"2"}));
  EXPECT_EQ(p.records.Key(3), "");
  coordinator_.Offer(std::move(p));
  Change(Action::kUpdate, "2", std::nullopt, 1100);  // row 2 changed meanwhile: dropped
  auto result = ClosePage(7, 1, 2000);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->emitted, 2u);
  EXPECT_EQ(result->dropped, 2u);
  EXPECT_EQ(ReadIds(), (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(downstream_.reads[0].idempotency_key, ReadIdempotencyKey(7, {"1"}));
  EXPECT_EQ(downstream_.reads[1].idempotency_key, ReadIdempotencyKey(7, {"3"}));
  // Keys of another chunk than the next one are not taken: the reader
  // thread writes them itself.
  RenderedRecords gap;
  RenderIdempotencyKeys(7, *shape_, source::TextRows(2, {{"1", "a"}, {"2", "b"}}), 1, 2, gap);
  EXPECT_TRUE(gap.key_ends.empty());
}

TEST_F(CoordinatorTest, RecordsAreNotRenderedForARelationThatDoesNotFitTheShape) {
  coordinator_.Register(7, 0, kTable);
  Change(Action::kInsert, "1", std::nullopt, 100,
         StreamRelation({{"id", 23}, {"status", 25}, {"added", 25}}));
  EXPECT_EQ(coordinator_.RenderRecords(*shape_, source::TextRows(2, {{"1", "a"}}), false).relation,
            nullptr);
  // A page read again to be emitted with the catalog's columns: rendered
  // once the catalog relation exists (the reader thread builds it).
  EXPECT_EQ(coordinator_.RenderRecords(*shape_, source::TextRows(2, {{"1", "a"}}), true).relation,
            nullptr);
}

TEST(PageSnapshotTest, ParsesPgCurrentSnapshot) {
  auto s = ParsePageSnapshot("10:20:12,15");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->xmin, 10u);
  EXPECT_EQ(s->xmax, 20u);
  EXPECT_EQ(s->xip, (std::vector<uint64_t>{12, 15}));
  s = ParsePageSnapshot("4294967300:4294967310:");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->xmax, 4294967310u);
  EXPECT_TRUE(s->xip.empty());
  for (const char* bad : {"", "10", "10:20", "a:20:", "10:20:12,", "10:20:,12", "1:2:3x"}) {
    EXPECT_FALSE(ParsePageSnapshot(bad).has_value()) << bad;
  }
}

TEST(PageSnapshotTest, SeesCommittedTransactionsBeforeXmaxNotInProgress) {
  const PageSnapshot s = *ParsePageSnapshot("10:20:12,15");
  EXPECT_TRUE(s.Sees(9));
  EXPECT_TRUE(s.Sees(11));
  EXPECT_FALSE(s.Sees(12));
  EXPECT_FALSE(s.Sees(15));
  EXPECT_TRUE(s.Sees(19));
  EXPECT_FALSE(s.Sees(20));
  EXPECT_FALSE(s.Sees(25));
  // The stream's xids are 32 bits; the snapshot's carry an epoch. Across a
  // wraparound they are compared modulo 2^32.
  const PageSnapshot wrapped = *ParsePageSnapshot("4294967290:4294967306:4294967301");
  EXPECT_TRUE(wrapped.Sees(0xFFFFFFFBu));
  EXPECT_TRUE(wrapped.Sees(3));
  EXPECT_FALSE(wrapped.Sees(5));   // in progress (epoch 1, xid 5)
  EXPECT_FALSE(wrapped.Sees(10));  // after xmax
}

TEST_F(CoordinatorTest, DropsRowsOfATransactionThePageSnapshotDoesNotSee) {
  // Transaction 50 is streamed in page 1's window but, like a commit that
  // waits for a synchronous standby, stays invisible for pages 2 and 3.
  coordinator_.Register(7, 0, kTable);
  OpenSnapshotPage(7, 1, {"1", "2"}, "40:45:", 1000);
  Change(Action::kUpdate, "8", std::nullopt, 1100, nullptr, 50);
  Change(Action::kUpdate, "9", std::nullopt, 1150, nullptr, 46);  // seen by page 2
  ASSERT_TRUE(ClosePage(7, 1, 2000).has_value());
  EXPECT_EQ(coordinator_.PendingTransactions(7), 2u);

  OpenSnapshotPage(7, 2, {"8", "9", "10"}, "44:60:50", 3000);
  auto r2 = ClosePage(7, 2, 4000);
  ASSERT_TRUE(r2.has_value());
  // Row 8 was read without transaction 50's update, which the sink already
  // has: dropped, although it was streamed before this page's window.
  EXPECT_EQ(r2->dropped, 1u);
  EXPECT_EQ(ReadIds(), (std::vector<std::string>{"1", "2", "9", "10"}));
  EXPECT_EQ(coordinator_.PendingTransactions(7), 1u);

  // Once a page's snapshot sees it, it is forgotten.
  OpenSnapshotPage(7, 3, {"8"}, "60:61:", 5000);
  auto r3 = ClosePage(7, 3, 6000);
  ASSERT_TRUE(r3.has_value());
  EXPECT_EQ(r3->emitted, 1u);
  EXPECT_EQ(coordinator_.PendingTransactions(7), 0u);
}

TEST_F(CoordinatorTest, KnowsWhichTransactionsTheStreamBrought) {
  Change(Action::kInsert, "1", std::nullopt, 100, nullptr, 70);
  Change(Action::kInsert, "2", std::nullopt, 200, nullptr, 71);
  Change(Action::kInsert, "3", std::nullopt, 300, nullptr, 70);
  // Without any backfill registered: a backfill that starts later needs it.
  EXPECT_EQ(coordinator_.StreamedAmong({72, 70, 5}), (std::vector<uint32_t>{70}));
  EXPECT_EQ(coordinator_.StreamedAmong({71, 70}), (std::vector<uint32_t>{70, 71}));
  EXPECT_TRUE(coordinator_.StreamedAmong({}).empty());
}

TEST_F(CoordinatorTest, AnUnseenTruncateDropsTheWholePage) {
  coordinator_.Register(7, 0, kTable);
  OpenSnapshotPage(7, 1, {"1"}, "40:45:", 1000);
  Change(Action::kTruncate, std::nullopt, std::nullopt, 1100, nullptr, 50);
  auto r1 = ClosePage(7, 1, 2000);
  ASSERT_TRUE(r1.has_value());
  EXPECT_EQ(r1->dropped, 1u);

  OpenSnapshotPage(7, 2, {"2", "3"}, "44:60:50", 3000);
  auto r2 = ClosePage(7, 2, 4000);
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(r2->dropped, 2u);
  EXPECT_EQ(r2->emitted, 0u);
}

TEST_F(CoordinatorTest, LargePagesCarryCheckpointsEveryFewReads) {
  coordinator_.Register(7, 0, kTable);
  coordinator_.Offer(MakePage(7, 1, {"1", "2", "3", "4", "5", "6"}));
  Change(Action::kUpdate, "2", std::nullopt, 1100);
  Watermark(true, 7, 1, 2000);
  auto result = coordinator_.WaitForResult(7, 1, 0ms);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->emitted, 5u);
  // After the 2nd read (row 3, the 3rd row of the page) and the 4th (row
  // 5); none at the page's end.
  ASSERT_EQ(result->checkpoints.size(), 2u);
  EXPECT_EQ(result->checkpoints[0].rows_read, 3u);
  EXPECT_EQ(result->checkpoints[0].emitted, 2u);
  EXPECT_EQ(result->checkpoints[0].position, (Position{2000, 1}));
  EXPECT_EQ(result->checkpoints[0].cursor, "[\"3\"]");
  EXPECT_EQ(result->checkpoints[1].rows_read, 5u);
  EXPECT_EQ(result->checkpoints[1].cursor, "[\"5\"]");
}

TEST_F(CoordinatorTest, ChangesAfterTheHighWatermarkBelongToTheNextPage) {
  coordinator_.Register(7, 0, kTable);
  Watermark(false, 7, 1, 1000);
  coordinator_.Offer(MakePage(7, 1, {"1", "2"}));
  Watermark(true, 7, 1, 2000);
  ASSERT_TRUE(coordinator_.WaitForResult(7, 1, 0ms).has_value());
  Change(Action::kUpdate, "1", std::nullopt, 2100);
  EXPECT_EQ(coordinator_.RecordedKeys(7), 1u);
  Watermark(false, 7, 2, 2200);
  coordinator_.Offer(MakePage(7, 2, {"3", "4"}));
  Watermark(true, 7, 2, 2300);
  auto second = coordinator_.WaitForResult(7, 2, 0ms);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->emitted, 2u);
  EXPECT_EQ(coordinator_.RecordedKeys(7), 0u);
  EXPECT_EQ(ReadIds(), (std::vector<std::string>{"1", "2", "3", "4"}));
}

TEST_F(CoordinatorTest, ChangesToOtherTablesDropNothing) {
  coordinator_.Register(7, 0, kTable);
  auto other = StreamRelation({{"id", 23}, {"status", 25}});
  auto other_mut = std::const_pointer_cast<source::RelationInfo>(other);
  other_mut->oid = kTable + 1;
  Watermark(false, 7, 1, 1000);
  coordinator_.Offer(MakePage(7, 1, {"1", "2"}));
  Change(Action::kUpdate, "1", std::nullopt, 1100, other);
  Watermark(true, 7, 1, 2000);
  EXPECT_EQ(coordinator_.WaitForResult(7, 1, 0ms)->emitted, 2u);
}

TEST_F(CoordinatorTest, WatermarksOfAnotherRunAreIgnored) {
  coordinator_.Register(7, 0, kTable);
  Watermark(false, 7, 1, 1000, /*run=*/kRun + 1);
  EXPECT_FALSE(coordinator_.WaitForLow(7, 1, 0ms));
  coordinator_.Offer(MakePage(7, 1, {"1"}));
  Watermark(true, 7, 1, 2000, /*run=*/kRun + 1);
  EXPECT_FALSE(coordinator_.WaitForResult(7, 1, 0ms).has_value());
  EXPECT_TRUE(downstream_.reads.empty());
  // The page is still waiting for its own high watermark.
  Watermark(true, 7, 1, 3000);
  EXPECT_EQ(coordinator_.WaitForResult(7, 1, 0ms)->emitted, 1u);
  EXPECT_EQ(downstream_.reads[0].position, (Position{3000, 0}));
}

TEST_F(CoordinatorTest, HighWatermarkOfAnotherPageEmitsNothing) {
  coordinator_.Register(7, 0, kTable);
  coordinator_.Offer(MakePage(7, 2, {"1"}));
  Watermark(true, 7, 1, 2000);  // an earlier page's, streamed again
  EXPECT_TRUE(downstream_.reads.empty());
  Watermark(true, 7, 2, 2100);
  EXPECT_EQ(ReadIds(), (std::vector<std::string>{"1"}));
}

TEST_F(CoordinatorTest, TruncateDropsTheWholePage) {
  coordinator_.Register(7, 0, kTable);
  Watermark(false, 7, 1, 1000);
  coordinator_.Offer(MakePage(7, 1, {"1", "2", "3"}));
  {
    source::TransactionInfo txn{3, 1500, 0, 0};
    coordinator_.OnBegin(txn);
    source::Change c;
    c.action = Action::kTruncate;
    c.relation = relation_;
    c.truncated = {relation_};
    ASSERT_TRUE(coordinator_.OnChange(c).ok());
    coordinator_.OnCommit(txn);
  }
  Watermark(true, 7, 1, 2000);
  auto result = coordinator_.WaitForResult(7, 1, 0ms);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->kind, PageResult::Kind::kEmitted);
  EXPECT_EQ(result->dropped, 3u);
  EXPECT_EQ(result->emitted, 0u);
  EXPECT_TRUE(downstream_.reads.empty());
}

TEST_F(CoordinatorTest, WithdrawnPageIsNotEmitted) {
  coordinator_.Register(7, 0, kTable);
  coordinator_.Offer(MakePage(7, 1, {"1"}));
  EXPECT_TRUE(coordinator_.Withdraw(7));
  Watermark(true, 7, 1, 2000);
  EXPECT_TRUE(downstream_.reads.empty());
  EXPECT_FALSE(coordinator_.WaitForResult(7, 1, 0ms).has_value());
}

TEST_F(CoordinatorTest, APageTakenByItsHighWatermarkCannotBeWithdrawn) {
  coordinator_.Register(7, 0, kTable);
  coordinator_.Offer(MakePage(7, 1, {"1"}));
  Watermark(true, 7, 1, 2000);
  EXPECT_FALSE(coordinator_.Withdraw(7));
  EXPECT_EQ(coordinator_.WaitForResult(7, 1, 0ms)->emitted, 1u);
}

TEST_F(CoordinatorTest, UnregisteredBackfillIsIgnored) {
  coordinator_.Register(7, 0, kTable);
  coordinator_.Offer(MakePage(7, 1, {"1"}));
  coordinator_.Unregister(7);
  Change(Action::kUpdate, "1", std::nullopt, 1100);
  Watermark(true, 7, 1, 2000);
  EXPECT_TRUE(downstream_.reads.empty());
  EXPECT_EQ(coordinator_.RecordedKeys(7), 0u);
}

TEST_F(CoordinatorTest, UsesTheStreamRelationInItsColumnOrder) {
  // The stream knows the table with its columns in another order (as after
  // a dump and restore): the read follows the stream's relation.
  auto rel = StreamRelation({{"status", 25}, {"id", 23}});
  std::const_pointer_cast<source::RelationInfo>(rel)->key_columns = {1};
  Change(Action::kInsert, "x", std::nullopt, 500, rel);
  coordinator_.Register(7, 0, kTable);
  coordinator_.Offer(MakePage(7, 1, {"1"}));
  Watermark(true, 7, 1, 2000);
  ASSERT_EQ(downstream_.reads.size(), 1u);
  EXPECT_EQ(downstream_.reads[0].values, (std::vector<std::optional<std::string>>{"s1", "1"}));
  EXPECT_EQ(catalog_.resolved, 0);
}

TEST_F(CoordinatorTest, ColumnsChangedBetweenQueryAndHighWatermarkMeanReadAgain) {
  coordinator_.Register(7, 0, kTable);
  Watermark(false, 7, 1, 1000);
  coordinator_.Offer(MakePage(7, 1, {"1"}));
  // ALTER TABLE ... ADD COLUMN, seen through the next change's relation.
  Change(Action::kInsert, "9", std::nullopt, 1500,
         StreamRelation({{"id", 23}, {"status", 25}, {"note", 25}}, 2));
  Watermark(true, 7, 1, 2000);
  auto result = coordinator_.WaitForResult(7, 1, 0ms);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->kind, PageResult::Kind::kReread);
  EXPECT_TRUE(downstream_.reads.empty());
  // Read again (still without the column, say): emitted with the catalog's
  // columns rather than loop forever.
  Page again = MakePage(7, 2, {"1"});
  again.accept_catalog_columns = true;
  coordinator_.Offer(std::move(again));
  Watermark(true, 7, 2, 3000);
  result = coordinator_.WaitForResult(7, 2, 0ms);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->kind, PageResult::Kind::kEmitted);
  ASSERT_EQ(downstream_.reads.size(), 1u);
  EXPECT_EQ(downstream_.reads[0].values, (std::vector<std::optional<std::string>>{"1", "s1"}));
}

TEST_F(CoordinatorTest, FilterDecidesWhichRowsAreEmitted) {
  coordinator_.Register(7, 0, kTable, [](const source::Change& c) -> Result<bool> {
    return c.new_values[0].text != "2";
  });
  coordinator_.Offer(MakePage(7, 1, {"1", "2", "3"}));
  Watermark(true, 7, 1, 2000);
  auto result = coordinator_.WaitForResult(7, 1, 0ms);
  EXPECT_EQ(result->filtered, 1u);
  EXPECT_EQ(ReadIds(), (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(downstream_.reads[1].position, (Position{2000, 1}));
}

TEST_F(CoordinatorTest, FilterErrorFailsThePage) {
  coordinator_.Register(7, 0, kTable, [](const source::Change&) -> Result<bool> {
    return Status::Permanent("column \"nope\" does not exist");
  });
  coordinator_.Offer(MakePage(7, 1, {"1"}));
  Watermark(true, 7, 1, 2000);
  auto result = coordinator_.WaitForResult(7, 1, 0ms);
  EXPECT_EQ(result->kind, PageResult::Kind::kFailed);
  EXPECT_THAT(result->error, ::testing::HasSubstr("nope"));
}

TEST_F(CoordinatorTest, ChangesASinkDoesNotReceiveDropNothing) {
  BackfillCoordinator coordinator(
      downstream_, [this](size_t s, const source::Change& c) { return downstream_.Emit(s, c); },
      catalog_, kRun,
      [](size_t, const source::RelationInfo&, Action action) { return action != Action::kUpdate; });
  coordinator.Register(7, 0, kTable);
  source::Change c;
  c.action = Action::kUpdate;
  c.relation = relation_;
  c.new_values = {ColumnValue{ColumnValue::Kind::kText, "1"}, ColumnValue{}};
  ASSERT_TRUE(coordinator.OnChange(c).ok());
  EXPECT_EQ(coordinator.RecordedKeys(7), 0u);
  c.action = Action::kInsert;
  ASSERT_TRUE(coordinator.OnChange(c).ok());
  EXPECT_EQ(coordinator.RecordedKeys(7), 1u);
}

TEST_F(CoordinatorTest, EmitErrorStopsTheStreamAndAsksForARead) {
  coordinator_.Register(7, 0, kTable);
  coordinator_.Offer(MakePage(7, 1, {"1", "2"}));
  downstream_.emit_status = Status::Retryable("stopping: sink queue full");
  source::TransactionInfo txn{1, 2000, 0, 0};
  coordinator_.OnBegin(txn);
  Status st =
      coordinator_.OnLogicalMessage(kHighWatermarkPrefix, WatermarkContent({true, 7, 1, kRun}));
  EXPECT_TRUE(st.IsRetryable());
  auto result = coordinator_.WaitForResult(7, 1, 0ms);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->kind, PageResult::Kind::kReread);
}

}  // namespace
}  // namespace sluice::backfill
