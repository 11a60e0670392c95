#include "source/transaction_assembler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "pipeline/renderer.h"

namespace sluice::source {
namespace {

// Builds pgoutput messages byte by byte (protocol 2), as Postgres sends them.
class Wire {
 public:
  Wire& U8(uint8_t v) {
    b_.push_back(static_cast<char>(v));
    return *this;
  }
  Wire& U16(uint16_t v) { return U8(v >> 8).U8(v & 0xff); }
  Wire& U32(uint32_t v) { return U16(v >> 16).U16(v & 0xffff); }
  Wire& U64(uint64_t v) {
    return U32(static_cast<uint32_t>(v >> 32)).U32(static_cast<uint32_t>(v));
  }
  Wire& Str(std::string_view s) {
    b_.append(s);
    b_.push_back('\0');
    return *this;
  }
  Wire& Text(std::string_view s) {
    U8('t').U32(static_cast<uint32_t>(s.size()));
    b_.append(s);
    return *this;
  }
  std::string bytes() const { return b_; }

 private:
  std::string b_;
};

std::string Begin(uint64_t final_lsn, uint32_t xid) {
  return Wire().U8('B').U64(final_lsn).U64(0).U32(xid).bytes();
}
std::string Commit(uint64_t lsn, uint64_t end) {
  return Wire().U8('C').U8(0).U64(lsn).U64(end).U64(0).bytes();
}
std::string Relation(uint32_t oid, std::optional<uint32_t> xid = std::nullopt,
                     std::string_view second_column = "status") {
  Wire w;
  w.U8('R');
  if (xid) w.U32(*xid);
  w.U32(oid).Str("public").Str("orders").U8('d').U16(2);
  w.U8(1).Str("id").U32(23).U32(0xffffffff);
  w.U8(0).Str(second_column).U32(25).U32(0xffffffff);
  return w.bytes();
}
// An update with the old row in full (REPLICA IDENTITY FULL).
std::string Update(uint32_t oid, std::string_view id, std::string_view before,
                   std::string_view after, std::optional<uint32_t> xid = std::nullopt) {
  Wire w;
  w.U8('U');
  if (xid) w.U32(*xid);
  w.U32(oid).U8('O').U16(2).Text(id).Text(before).U8('N').U16(2).Text(id).Text(after);
  return w.bytes();
}
// A delete with the old row's key only.
std::string Delete(uint32_t oid, std::string_view id, std::optional<uint32_t> xid = std::nullopt) {
  Wire w;
  w.U8('D');
  if (xid) w.U32(*xid);
  w.U32(oid).U8('K').U16(2).Text(id).U8('n');
  return w.bytes();
}
std::string Insert(uint32_t oid, std::string_view id, std::string_view status,
                   std::optional<uint32_t> xid = std::nullopt) {
  Wire w;
  w.U8('I');
  if (xid) w.U32(*xid);
  w.U32(oid).U8('N').U16(2).Text(id).Text(status);
  return w.bytes();
}
std::string Message(std::string_view prefix, std::string_view content,
                    std::optional<uint32_t> xid = std::nullopt) {
  Wire w;
  w.U8('M');
  if (xid) w.U32(*xid);
  w.U8(1).U64(0).Str(prefix).U32(static_cast<uint32_t>(content.size()));
  return w.bytes() + std::string(content);
}
std::string StreamStart(uint32_t xid, bool first) {
  return Wire().U8('S').U32(xid).U8(first ? 1 : 0).bytes();
}
std::string StreamStop() { return Wire().U8('E').bytes(); }
std::string StreamCommit(uint32_t xid, uint64_t lsn, uint64_t end) {
  return Wire().U8('c').U32(xid).U8(0).U64(lsn).U64(end).U64(0).bytes();
}
std::string StreamAbort(uint32_t xid, uint32_t subxid) {
  return Wire().U8('A').U32(xid).U32(subxid).bytes();
}

class FakeCatalog : public Catalog {
 public:
  Result<values::TypeRef> ResolveType(uint32_t oid) override {
    auto t = values::BuiltinType(oid);
    return t ? t : values::TextType();
  }
  Result<std::vector<std::string>> PrimaryKey(uint32_t) override {
    return std::vector<std::string>{"id"};
  }
};

struct Seen {
  Action action;
  Position position;
  std::string json;
};

class RecordingHandler : public ChangeHandler {
 public:
  void OnBegin(const TransactionInfo&) override { ++begins; }
  Status OnChange(const Change& c) override {
    std::string json;
    pipeline::RenderChangePrefix(c, json);
    seen.push_back({c.action, c.position, json});
    if (!c.rendered_record.empty()) ++used_ahead;
    return Status::Ok();
  }
  bool RenderAhead(const Change& c, std::string& record, std::string& changes) override {
    if (!render_ahead) return false;
    pipeline::RenderRecordAndChanges(c, record, changes);
    return true;
  }
  bool render_ahead = false;
  int used_ahead = 0;  // changes that came with a record rendered ahead
  void OnCommit(const TransactionInfo& t) override { commits.push_back(t.end_lsn); }
  void OnIdle(Lsn wal_end) override { idle.push_back(wal_end); }
  Status OnLogicalMessage(std::string_view prefix, std::string_view content) override {
    messages.push_back(std::string(prefix) + " " + std::string(content) + " after " +
                       std::to_string(seen.size()) + " changes");
    return Status::Ok();
  }
  std::vector<std::string> messages;  // backfill watermarks
  int begins = 0;
  std::vector<Seen> seen;
  std::vector<Lsn> commits;
  std::vector<Lsn> idle;
};

class TransactionAssemblerTest : public ::testing::Test {
 protected:
  TransactionAssemblerTest()
      : dir_(std::filesystem::temp_directory_path() / ("sluice-asm-" + std::to_string(::getpid()))),
        assembler_(catalog_, handler_, dir_.string(), 1 << 20) {}
  ~TransactionAssemblerTest() override { std::filesystem::remove_all(dir_); }
  void Feed(const std::string& bytes) {
    Status st = assembler_.Process(bytes);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::filesystem::path dir_;
  FakeCatalog catalog_;
  RecordingHandler handler_;
  TransactionAssembler assembler_;
};

TEST_F(TransactionAssemblerTest, NumbersChangesWithinTheCommit) {
  Feed(Begin(500, 7));
  Feed(Relation(1));
  Feed(Insert(1, "1", "new"));
  Feed(Insert(1, "2", "new"));
  Feed(Commit(500, 520));
  ASSERT_EQ(handler_.seen.size(), 2u);
  EXPECT_EQ(handler_.seen[0].position, (Position{500, 0}));
  EXPECT_EQ(handler_.seen[1].position, (Position{500, 1}));
  EXPECT_EQ(handler_.commits, std::vector<Lsn>{520});
}

TEST_F(TransactionAssemblerTest, AnnotationsApplyToFollowingChangesUntilCleared) {
  Feed(Begin(500, 7));
  Feed(Relation(1));
  Feed(Insert(1, "1", "a"));
  Feed(Message("sluice:transaction_annotations.set", R"({"by":"ada"})"));
  Feed(Insert(1, "2", "b"));
  Feed(Message("sequin:transaction_annotations.clear", ""));
  Feed(Insert(1, "3", "c"));
  Feed(Commit(500, 520));
  ASSERT_EQ(handler_.seen.size(), 3u);
  EXPECT_NE(handler_.seen[0].json.find("\"transaction_annotations\":null"), std::string::npos);
  EXPECT_NE(handler_.seen[1].json.find(R"("transaction_annotations":{"by":"ada"})"),
            std::string::npos);
  EXPECT_NE(handler_.seen[2].json.find("\"transaction_annotations\":null"), std::string::npos);
}

TEST_F(TransactionAssemblerTest, InvalidAnnotationJsonIsIgnored) {
  Feed(Begin(500, 7));
  Feed(Relation(1));
  Feed(Message("sluice:transaction_annotations.set", "{not json"));
  Feed(Insert(1, "1", "a"));
  Feed(Commit(500, 520));
  EXPECT_NE(handler_.seen[0].json.find("\"transaction_annotations\":null"), std::string::npos);
}

TEST_F(TransactionAssemblerTest, StreamedTransactionIsEmittedAtStreamCommit) {
  Feed(Relation(1));
  Feed(StreamStart(40, true));
  Feed(Insert(1, "1", "a", 40));
  Feed(StreamStop());
  // An ordinary transaction commits between the streamed blocks.
  Feed(Begin(600, 41));
  Feed(Insert(1, "9", "other"));
  Feed(Commit(600, 610));
  Feed(StreamStart(40, false));
  Feed(Insert(1, "2", "b", 40));
  Feed(StreamStop());
  EXPECT_EQ(handler_.seen.size(), 1u);
  Feed(StreamCommit(40, 700, 720));
  ASSERT_EQ(handler_.seen.size(), 3u);
  EXPECT_EQ(handler_.seen[1].position, (Position{700, 0}));
  EXPECT_EQ(handler_.seen[2].position, (Position{700, 1}));
  EXPECT_NE(handler_.seen[2].json.find("\"status\":\"b\""), std::string::npos);
  EXPECT_EQ(handler_.commits, (std::vector<Lsn>{610, 720}));
}

TEST_F(TransactionAssemblerTest, AbortedStreamEmitsNothing) {
  Feed(Relation(1));
  Feed(StreamStart(40, true));
  Feed(Insert(1, "1", "a", 40));
  Feed(StreamStop());
  Feed(StreamAbort(40, 40));
  EXPECT_TRUE(handler_.seen.empty());
  EXPECT_EQ(assembler_.stream_buffer().open_transactions(), 0u);
}

TEST_F(TransactionAssemblerTest, AbortedSubtransactionIsSkippedButItsRelationKept) {
  Feed(StreamStart(40, true));
  Feed(Relation(1, 41));  // carried by the subtransaction that rolls back
  Feed(Insert(1, "1", "rolled-back", 41));
  Feed(Insert(1, "2", "kept", 40));
  Feed(StreamStop());
  Feed(StreamAbort(40, 41));
  Feed(StreamCommit(40, 700, 720));
  ASSERT_EQ(handler_.seen.size(), 1u);
  EXPECT_NE(handler_.seen[0].json.find("kept"), std::string::npos);
}

TEST_F(TransactionAssemblerTest, ChangeBeforeRelationIsAnError) {
  Feed(Begin(500, 7));
  EXPECT_FALSE(assembler_.Process(Insert(99, "1", "a")).ok());
}

TEST_F(TransactionAssemblerTest, KeepaliveCountsAsIdleOnlyBetweenTransactions) {
  Feed(Relation(1));
  Feed(Begin(500, 7));
  assembler_.Keepalive(450);
  EXPECT_TRUE(handler_.idle.empty());
  Feed(Commit(500, 520));
  assembler_.Keepalive(530);
  EXPECT_EQ(handler_.idle, std::vector<Lsn>{530});
}

// Runs `feed` through an assembler whose handler renders streamed changes
// on arrival and through one whose handler does not.
struct AheadAndNot {
  RecordingHandler ahead, not_ahead;
  AssemblerStats ahead_stats;
};
AheadAndNot FeedBoth(const std::filesystem::path& dir, const std::vector<std::string>& feed) {
  AheadAndNot out;
  out.ahead.render_ahead = true;
  FakeCatalog catalog;
  for (RecordingHandler* h : {&out.ahead, &out.not_ahead}) {
    TransactionAssembler assembler(catalog, *h, dir.string(), 1 << 20);
    for (const std::string& bytes : feed) {
      Status st = assembler.Process(bytes);
      EXPECT_TRUE(st.ok()) << st.ToString();
    }
    if (h == &out.ahead) out.ahead_stats = assembler.stats();
  }
  return out;
}

std::vector<std::string> Jsons(const RecordingHandler& h) {
  std::vector<std::string> out;
  for (const Seen& s : h.seen) out.push_back(s.json);
  return out;
}

TEST_F(TransactionAssemblerTest, StreamedChangesRenderedOnArrivalMakeTheSameMessages) {
  AheadAndNot run = FeedBoth(dir_, {Relation(1), StreamStart(40, true), Insert(1, "1", "a", 40),
                                    Update(1, "1", "a", "b", 40), Update(1, "1", "b", "b", 40),
                                    Delete(1, "1", 40), StreamStop(), StreamCommit(40, 700, 720)});
  ASSERT_EQ(run.ahead.seen.size(), 4u);
  EXPECT_EQ(Jsons(run.ahead), Jsons(run.not_ahead));
  EXPECT_EQ(run.ahead.used_ahead, 4);
  EXPECT_EQ(run.not_ahead.used_ahead, 0);
  EXPECT_EQ(run.ahead_stats.rendered_ahead, 4u);
  EXPECT_EQ(run.ahead_stats.rendered_ahead_used, 4u);
  EXPECT_NE(
      run.ahead.seen[1].json.find(R"("record":{"id":1,"status":"b"},"changes":{"status":"a"})"),
      std::string::npos)
      << run.ahead.seen[1].json;
  EXPECT_NE(run.ahead.seen[3].json.find(R"("record":{"id":1,"status":null},"changes":null)"),
            std::string::npos)
      << run.ahead.seen[3].json;
}

TEST_F(TransactionAssemblerTest, RenderingAheadUsesTheStreamsOwnRelationMessages) {
  // The stream's Relation message is read on arrival and again at the
  // commit (two RelationInfos with the same columns): the rendering holds.
  // Its second Relation message renames a column for the changes after it.
  AheadAndNot run =
      FeedBoth(dir_, {Relation(1, std::nullopt, "old_name"), StreamStart(40, true), Relation(1, 40),
                      Insert(1, "1", "a", 40), StreamStop(), StreamStart(40, false),
                      Relation(1, 40, "renamed"), Insert(1, "2", "b", 40), StreamStop(),
                      StreamCommit(40, 700, 720)});
  ASSERT_EQ(run.ahead.seen.size(), 2u);
  EXPECT_EQ(Jsons(run.ahead), Jsons(run.not_ahead));
  EXPECT_NE(run.ahead.seen[0].json.find(R"("status":"a")"), std::string::npos);
  EXPECT_NE(run.ahead.seen[1].json.find(R"("renamed":"b")"), std::string::npos);
  EXPECT_EQ(run.ahead_stats.rendered_ahead_used, 2u);
}

TEST_F(TransactionAssemblerTest, ColumnsChangedBeforeTheCommitAreRenderedAgain) {
  // Rendered on arrival with the cached relation; a Relation message of a
  // transaction committed in between changes the columns the stream's
  // commit sees, so the change is rendered again at the commit.
  AheadAndNot run =
      FeedBoth(dir_, {Relation(1), StreamStart(40, true), Insert(1, "1", "a", 40), StreamStop(),
                      Begin(600, 41), Relation(1, std::nullopt, "state"), Commit(600, 610),
                      StreamCommit(40, 700, 720)});
  ASSERT_EQ(run.ahead.seen.size(), 1u);
  EXPECT_EQ(Jsons(run.ahead), Jsons(run.not_ahead));
  EXPECT_NE(run.ahead.seen[0].json.find(R"("state":"a")"), std::string::npos)
      << run.ahead.seen[0].json;
  EXPECT_EQ(run.ahead_stats.rendered_ahead, 1u);
  EXPECT_EQ(run.ahead_stats.rendered_ahead_used, 0u);
  EXPECT_EQ(run.ahead.used_ahead, 0);
}

TEST_F(TransactionAssemblerTest, RenderedAheadChangesOfAbortedSubtransactionsAreSkipped) {
  AheadAndNot run = FeedBoth(dir_, {StreamStart(40, true), Relation(1, 41),
                                    Insert(1, "1", "rolled-back", 41), Insert(1, "2", "kept", 40),
                                    StreamStop(), StreamAbort(40, 41), StreamCommit(40, 700, 720)});
  ASSERT_EQ(run.ahead.seen.size(), 1u);
  EXPECT_EQ(Jsons(run.ahead), Jsons(run.not_ahead));
  EXPECT_NE(run.ahead.seen[0].json.find("kept"), std::string::npos);
  EXPECT_EQ(run.ahead_stats.rendered_ahead, 2u);
  EXPECT_EQ(run.ahead_stats.rendered_ahead_used, 1u);
}

TEST_F(TransactionAssemblerTest, RenderedAheadChangesSurviveTheSpillFile) {
  handler_.render_ahead = true;
  TransactionAssembler small(catalog_, handler_, dir_.string(), 256);
  ASSERT_TRUE(small.Process(Relation(1)).ok());
  ASSERT_TRUE(small.Process(StreamStart(40, true)).ok());
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(small.Process(Insert(1, std::to_string(i), "row-" + std::to_string(i), 40)).ok());
  }
  ASSERT_TRUE(small.Process(StreamStop()).ok());
  EXPECT_GT(small.stream_buffer().spilled_bytes(), 0u);
  ASSERT_TRUE(small.Process(StreamCommit(40, 700, 720)).ok());
  ASSERT_EQ(handler_.seen.size(), 50u);
  EXPECT_EQ(handler_.used_ahead, 50);
  EXPECT_NE(handler_.seen[49].json.find(R"("record":{"id":49,"status":"row-49"})"),
            std::string::npos);
}

// --- backfill watermarks ---

TEST_F(TransactionAssemblerTest, BackfillMessagesReachTheHandlerInPlace) {
  Feed(Begin(500, 7));
  Feed(Relation(1));
  Feed(Insert(1, "1", "a"));
  Feed(Message("sluice:backfill.high", R"({"backfill":1,"page":2,"run":3})"));
  Feed(Message("sluice:transaction_annotations.set", R"({"by":"ada"})"));
  Feed(Message("other:prefix", "x"));
  Feed(Commit(500, 520));
  EXPECT_EQ(handler_.messages,
            (std::vector<std::string>{
                R"(sluice:backfill.high {"backfill":1,"page":2,"run":3} after 1 changes)"}));
}

TEST_F(TransactionAssemblerTest, BackfillMessagesOfAStreamedTransactionArriveAtItsCommit) {
  Feed(Relation(1));
  Feed(StreamStart(40, true));
  Feed(Insert(1, "1", "a", 40));
  Feed(Message("sluice:backfill.low", "{}", 40));
  Feed(StreamStop());
  EXPECT_TRUE(handler_.messages.empty());
  Feed(StreamCommit(40, 700, 720));
  EXPECT_EQ(handler_.messages,
            (std::vector<std::string>{"sluice:backfill.low {} after 1 changes"}));
}

// --- end backfill watermarks ---

}  // namespace
}  // namespace sluice::source
