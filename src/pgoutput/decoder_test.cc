#include "pgoutput/decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace sluice::pgoutput {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// ---------------------------------------------------------------------------
// Golden data: testdata/*.hex, one XLogData payload per line, recorded by
// tools/capture_pgoutput from the SQL next to it (see README.md).

std::vector<std::string> ReadHexFile(const std::string& name) {
  std::ifstream in(std::string(SLUICE_PGOUTPUT_TESTDATA) + "/" + name);
  EXPECT_TRUE(in.good()) << "cannot open " << name;
  std::vector<std::string> messages;
  std::string line;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::string bytes;
    bytes.reserve(line.size() / 2);
    for (size_t i = 0; i + 1 < line.size(); i += 2) {
      bytes.push_back(static_cast<char>((nibble(line[i]) << 4) | nibble(line[i + 1])));
    }
    messages.push_back(std::move(bytes));
  }
  return messages;
}

// A capture decoded in order with one Decoder, as the replication stream
// would be. `in_stream[i]` is the decoder state before message i.
struct Capture {
  std::vector<std::string> bytes;
  std::vector<Message> messages;
  std::vector<bool> in_stream;
};

Capture DecodeCapture(const std::string& name) {
  Capture c;
  c.bytes = ReadHexFile(name);
  Decoder decoder;
  for (size_t i = 0; i < c.bytes.size(); ++i) {
    c.in_stream.push_back(decoder.in_stream());
    Result<Message> m = decoder.Decode(c.bytes[i]);
    EXPECT_TRUE(m.ok()) << name << " message " << i << ": " << m.status().ToString();
    if (!m.ok()) break;
    c.messages.push_back(std::move(m).value());
  }
  EXPECT_FALSE(decoder.in_stream()) << name << " ends inside a streamed block";
  return c;
}

template <typename T>
std::vector<const T*> All(const Capture& c) {
  std::vector<const T*> out;
  for (const Message& m : c.messages) {
    if (const T* t = std::get_if<T>(&m)) out.push_back(t);
  }
  return out;
}

// Column values, with "<null>" and "<unchanged>" for the kinds without one.
std::vector<std::string_view> Texts(const TupleData& tuple) {
  std::vector<std::string_view> out;
  for (const TupleColumn& col : tuple.columns) {
    switch (col.kind) {
      case TupleColumn::Kind::kNull:
        out.push_back("<null>");
        break;
      case TupleColumn::Kind::kUnchangedToast:
        out.push_back("<unchanged>");
        break;
      default:
        out.push_back(col.value);
    }
  }
  return out;
}

// 2026-11-21T10:00:00Z, the commit time the origin transaction sets.
constexpr int64_t kOriginCommitTimeUs = 1795255200000000LL;
// Any commit recorded while writing these tests is after 2020-01-01.
constexpr int64_t k2020Us = 1577836800000000LL;

class DmlCaptureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { capture_ = new Capture(DecodeCapture("dml.hex")); }
  static void TearDownTestSuite() {
    delete capture_;
    capture_ = nullptr;
  }
  const Capture& c() { return *capture_; }
  const Message& at(size_t i) {
    EXPECT_LT(i, c().messages.size());
    return c().messages.at(i);
  }
  template <typename T>
  const T& As(size_t i) {
    const T* t = std::get_if<T>(&at(i));
    EXPECT_NE(t, nullptr) << "message " << i << " has variant index " << at(i).index();
    static const T kEmpty{};
    return t != nullptr ? *t : kEmpty;
  }
  static Capture* capture_;
};
Capture* DmlCaptureTest::capture_ = nullptr;

TEST_F(DmlCaptureTest, EveryMessageDecodesOutsideAStream) {
  ASSERT_EQ(c().messages.size(), 65u);
  for (bool s : c().in_stream) EXPECT_FALSE(s);
  EXPECT_EQ(All<Begin>(c()).size(), 15u);
  EXPECT_EQ(All<Commit>(c()).size(), 15u);
  EXPECT_EQ(All<Insert>(c()).size(), 10u);
  EXPECT_EQ(All<Update>(c()).size(), 3u);
  EXPECT_EQ(All<Delete>(c()).size(), 2u);
  EXPECT_EQ(All<Truncate>(c()).size(), 2u);
  EXPECT_EQ(All<Relation>(c()).size(), 9u);
  EXPECT_EQ(All<Type>(c()).size(), 5u);
  EXPECT_EQ(All<Origin>(c()).size(), 1u);
  EXPECT_EQ(All<LogicalMessage>(c()).size(), 3u);
  for (const Message& m : c().messages) {
    std::visit(
        [](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, Relation> || std::is_same_v<T, Insert> ||
                        std::is_same_v<T, Update> || std::is_same_v<T, Delete> ||
                        std::is_same_v<T, Truncate> || std::is_same_v<T, Type> ||
                        std::is_same_v<T, LogicalMessage>) {
            EXPECT_FALSE(v.xid.has_value());
          }
        },
        m);
  }
}

TEST_F(DmlCaptureTest, BeginAndCommitAgree) {
  std::vector<const Begin*> begins = All<Begin>(c());
  std::vector<const Commit*> commits = All<Commit>(c());
  ASSERT_EQ(begins.size(), commits.size());
  for (size_t i = 0; i < begins.size(); ++i) {
    EXPECT_EQ(begins[i]->final_lsn, commits[i]->commit_lsn) << i;
    EXPECT_GT(commits[i]->end_lsn, commits[i]->commit_lsn) << i;
    EXPECT_EQ(begins[i]->commit_time_us, commits[i]->commit_time_us) << i;
    EXPECT_EQ(commits[i]->flags, 0) << i;
    if (i > 0) {
      EXPECT_GT(begins[i]->xid, begins[i - 1]->xid) << i;
      EXPECT_GT(commits[i]->commit_lsn, commits[i - 1]->end_lsn - 1) << i;
    }
    EXPECT_GT(begins[i]->commit_time_us, k2020Us) << "Unix epoch expected, message " << i;
  }
}

TEST_F(DmlCaptureTest, EnumColumnSendsTypeBeforeRelation) {
  const Type& type = As<Type>(1);
  EXPECT_EQ(type.schema, "public");
  EXPECT_EQ(type.name, "mood");
  const Relation& rel = As<Relation>(2);
  ASSERT_EQ(rel.columns.size(), 10u);
  EXPECT_EQ(rel.columns[8].name, "feeling");
  EXPECT_EQ(rel.columns[8].type_oid, type.oid);
  EXPECT_GE(type.oid, 16384u);
}

TEST_F(DmlCaptureTest, RelationDescribesColumns) {
  const Relation& rel = As<Relation>(2);
  EXPECT_EQ(rel.schema, "public");
  EXPECT_EQ(rel.name, "orders");
  EXPECT_EQ(rel.replica_identity, 'd');
  struct Expected {
    std::string_view name;
    uint32_t type_oid;
    int32_t typmod;
    bool key;
  };
  const Expected expected[] = {{"id", 23, -1, true},           {"status", 25, -1, false},
                               {"total", 1700, 655366, false}, {"paid", 16, -1, false},
                               {"tags", 1009, -1, false},      {"meta", 3802, -1, false},
                               {"payload", 17, -1, false},     {"created_at", 1184, -1, false}};
  for (size_t i = 0; i < std::size(expected); ++i) {
    EXPECT_EQ(rel.columns[i].name, expected[i].name) << i;
    EXPECT_EQ(rel.columns[i].type_oid, expected[i].type_oid) << i;
    EXPECT_EQ(rel.columns[i].type_modifier, expected[i].typmod) << i;
    EXPECT_EQ(rel.columns[i].IsKey(), expected[i].key) << i;
  }
}

TEST_F(DmlCaptureTest, InsertCarriesTextValues) {
  const Relation& rel = As<Relation>(2);
  const Insert& ins = As<Insert>(3);
  EXPECT_EQ(ins.relation_oid, rel.oid);
  ASSERT_EQ(ins.new_tuple.columns.size(), 10u);
  const std::string_view expected[] = {"1",
                                       "pending",
                                       "19.90",
                                       "f",
                                       R"({"a b","c\"d",NULL,"NULL"})",
                                       R"({"n": [1, 2], "tier": "gold"})",
                                       R"(\x00ff10)",
                                       "2026-11-21 10:00:00.123+00"};
  for (size_t i = 0; i < std::size(expected); ++i) {
    EXPECT_EQ(ins.new_tuple.columns[i].kind, TupleColumn::Kind::kText) << i;
    EXPECT_EQ(ins.new_tuple.columns[i].value, expected[i]) << i;
  }
  EXPECT_EQ(ins.new_tuple.columns[8].value, "happy");
  std::string note;
  for (int i = 0; i < 1000; ++i) note += "toast-me ";
  EXPECT_EQ(ins.new_tuple.columns[9].value, note);
}

TEST_F(DmlCaptureTest, UnchangedToastColumnIsMarked) {
  const Update& upd = As<Update>(6);
  EXPECT_FALSE(upd.old_tuple.has_value());
  ASSERT_EQ(upd.new_tuple.columns.size(), 10u);
  EXPECT_EQ(upd.new_tuple.columns[1].value, "paid");
  EXPECT_EQ(upd.new_tuple.columns[3].value, "t");
  EXPECT_EQ(upd.new_tuple.columns[9].kind, TupleColumn::Kind::kUnchangedToast);
  EXPECT_TRUE(upd.new_tuple.columns[9].value.empty());
}

TEST_F(DmlCaptureTest, KeyUpdateSendsOldKey) {
  const Update& upd = As<Update>(9);
  ASSERT_TRUE(upd.old_tuple.has_value());
  EXPECT_TRUE(upd.old_is_key_only);
  ASSERT_EQ(upd.old_tuple->columns.size(), 10u);
  EXPECT_EQ(upd.old_tuple->columns[0].value, "1");
  for (size_t i = 1; i < 10; ++i) {
    EXPECT_EQ(upd.old_tuple->columns[i].kind, TupleColumn::Kind::kNull) << i;
  }
  EXPECT_EQ(upd.new_tuple.columns[0].value, "2");
}

TEST_F(DmlCaptureTest, DeleteWithDefaultIdentitySendsKeyOnly) {
  const Delete& del = As<Delete>(12);
  EXPECT_TRUE(del.old_is_key_only);
  ASSERT_EQ(del.old_tuple.columns.size(), 10u);
  EXPECT_EQ(del.old_tuple.columns[0].value, "2");
  EXPECT_EQ(del.old_tuple.columns[1].kind, TupleColumn::Kind::kNull);
}

TEST_F(DmlCaptureTest, FullIdentitySendsWholeOldRow) {
  const Relation& rel = As<Relation>(15);
  EXPECT_EQ(rel.name, "audit");
  EXPECT_EQ(rel.replica_identity, 'f');
  for (const RelationColumn& col : rel.columns) EXPECT_TRUE(col.IsKey()) << col.name;
  std::string big;
  for (int i = 0; i < 2000; ++i) big += "big ";

  const Update& upd = As<Update>(19);
  ASSERT_TRUE(upd.old_tuple.has_value());
  EXPECT_FALSE(upd.old_is_key_only);
  ASSERT_EQ(upd.old_tuple->columns.size(), 3u);
  EXPECT_EQ(upd.old_tuple->columns[1].value, "first");
  // The old row has the TOASTed value that the new row marks unchanged.
  EXPECT_EQ(upd.old_tuple->columns[2].value, big);
  EXPECT_EQ(upd.new_tuple.columns[1].value, "second");
  EXPECT_EQ(upd.new_tuple.columns[2].kind, TupleColumn::Kind::kUnchangedToast);

  const Delete& del = As<Delete>(22);
  EXPECT_FALSE(del.old_is_key_only);
  EXPECT_EQ(del.old_tuple.columns[0].value, "10");
  EXPECT_EQ(del.old_tuple.columns[1].value, "second");
  EXPECT_EQ(del.old_tuple.columns[2].value, big);
}

TEST_F(DmlCaptureTest, ScalarAndArrayTextForms) {
  const Insert& ins = As<Insert>(26);
  const std::string_view expected[] = {"7",
                                       "9223372036854775807",
                                       "NaN",
                                       "1.5",
                                       "2026-11-21 10:00:00",
                                       "0044-03-15 BC",
                                       "1 day 02:03:04",
                                       "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                                       "{1,2,3}",
                                       R"({"{\"a\": 1}","null"})",
                                       "[0:1][1:2]={{1,2},{3,4}}"};
  ASSERT_EQ(ins.new_tuple.columns.size(), std::size(expected));
  for (size_t i = 0; i < std::size(expected); ++i) {
    EXPECT_EQ(ins.new_tuple.columns[i].value, expected[i]) << i;
  }
  EXPECT_EQ(As<Insert>(29).new_tuple.columns[2].value, "-Infinity");
  EXPECT_EQ(As<Insert>(29).new_tuple.columns[3].value, "1e+30");
  EXPECT_EQ(As<Insert>(29).new_tuple.columns[1].kind, TupleColumn::Kind::kNull);
  EXPECT_EQ(As<Insert>(30).new_tuple.columns[2].value, "1.5e-07");
}

TEST_F(DmlCaptureTest, TransactionalMessageInsideTransaction) {
  const LogicalMessage& m = As<LogicalMessage>(34);
  EXPECT_TRUE(m.transactional);
  EXPECT_EQ(m.prefix, "sluice:transaction_annotations.set");
  EXPECT_EQ(m.content, R"({"user": "ann"})");
  const Begin& begin = As<Begin>(32);
  EXPECT_GT(m.lsn, 0u);
  EXPECT_LT(m.lsn, begin.final_lsn);
  EXPECT_EQ(As<Insert>(33).new_tuple.columns[0].value, "3");
  EXPECT_EQ(As<Insert>(35).new_tuple.columns[0].value, "4");
}

TEST_F(DmlCaptureTest, NonTransactionalMessageOutsideTransaction) {
  const LogicalMessage& m = As<LogicalMessage>(37);
  EXPECT_FALSE(m.transactional);
  EXPECT_EQ(m.prefix, "capture.nontransactional");
  EXPECT_EQ(m.content, "hello");
  EXPECT_TRUE(std::holds_alternative<Commit>(at(36)));
  EXPECT_TRUE(std::holds_alternative<Begin>(at(38)));
}

TEST_F(DmlCaptureTest, AddAndDropColumnSendNewRelation) {
  const Relation& added = As<Relation>(40);
  ASSERT_EQ(added.columns.size(), 11u);
  EXPECT_EQ(added.columns[10].name, "extra");
  EXPECT_EQ(added.columns[10].type_oid, 23u);
  const Insert& ins = As<Insert>(41);
  ASSERT_EQ(ins.new_tuple.columns.size(), 11u);
  EXPECT_EQ(ins.new_tuple.columns[10].value, "42");

  const Relation& dropped = As<Relation>(45);
  EXPECT_EQ(dropped.oid, added.oid);
  ASSERT_EQ(dropped.columns.size(), 10u);
  for (const RelationColumn& col : dropped.columns) EXPECT_NE(col.name, "paid");
  EXPECT_EQ(dropped.columns[3].name, "tags");
  const Insert& after = As<Insert>(46);
  ASSERT_EQ(after.new_tuple.columns.size(), 10u);
  EXPECT_EQ(after.new_tuple.columns[9].value, "43");
}

TEST_F(DmlCaptureTest, TruncateListsRelationsAndOptions) {
  const Truncate& one = As<Truncate>(50);
  EXPECT_EQ(one.options, 0);
  EXPECT_EQ(one.relation_oids, std::vector<uint32_t>{As<Relation>(49).oid});

  const Truncate& two = As<Truncate>(56);
  EXPECT_EQ(two.options, 3);  // CASCADE | RESTART IDENTITY
  EXPECT_EQ(two.relation_oids, (std::vector<uint32_t>{As<Relation>(54).oid, As<Relation>(55).oid}));
  EXPECT_EQ(As<Relation>(54).name, "orders");
  EXPECT_EQ(As<Relation>(55).name, "kinds");
}

TEST_F(DmlCaptureTest, OriginFollowsBeginOfReplicatedTransaction) {
  const Begin& begin = As<Begin>(58);
  EXPECT_EQ(begin.commit_time_us, kOriginCommitTimeUs);
  const Origin& origin = As<Origin>(59);
  EXPECT_EQ(origin.name, "capture_origin");
  EXPECT_EQ(origin.commit_lsn, 0xAB12CDu);
  EXPECT_EQ(As<Insert>(62).new_tuple.columns[1].value, "replicated");
  EXPECT_EQ(As<Commit>(63).commit_time_us, kOriginCommitTimeUs);
}

TEST_F(DmlCaptureTest, CaptureEndsWithMarkerMessage) {
  const LogicalMessage& m = As<LogicalMessage>(64);
  EXPECT_FALSE(m.transactional);
  EXPECT_EQ(m.prefix, "capture_pgoutput.end");
  EXPECT_EQ(m.content, "done");
}

// ---------------------------------------------------------------------------
// Streamed transactions.

class StreamCaptureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { capture_ = new Capture(DecodeCapture("stream.hex")); }
  static void TearDownTestSuite() {
    delete capture_;
    capture_ = nullptr;
  }
  const Capture& c() { return *capture_; }
  static Capture* capture_;
};
Capture* StreamCaptureTest::capture_ = nullptr;

std::optional<uint32_t> DataXid(const Message& m) {
  return std::visit(
      [](const auto& v) -> std::optional<uint32_t> {
        if constexpr (requires { v.xid.has_value(); }) {
          return v.xid;
        } else {
          (void)v;
          return std::nullopt;
        }
      },
      m);
}

TEST_F(StreamCaptureTest, StreamStateFollowsStartAndStop) {
  ASSERT_EQ(c().messages.size(), c().bytes.size());
  for (size_t i = 0; i < c().messages.size(); ++i) {
    const Message& m = c().messages[i];
    bool after = i + 1 < c().in_stream.size() ? c().in_stream[i + 1] : false;
    if (std::holds_alternative<StreamStart>(m)) {
      EXPECT_FALSE(c().in_stream[i]) << i;
      EXPECT_TRUE(after) << i;
    } else if (std::holds_alternative<StreamStop>(m)) {
      EXPECT_TRUE(c().in_stream[i]) << i;
      EXPECT_FALSE(after) << i;
    } else {
      EXPECT_EQ(c().in_stream[i], after) << i;
    }
  }
  EXPECT_EQ(All<StreamStart>(c()).size(), 6u);
  EXPECT_EQ(All<StreamStop>(c()).size(), 6u);
  EXPECT_EQ(All<StreamCommit>(c()).size(), 2u);
  EXPECT_EQ(All<StreamAbort>(c()).size(), 2u);
  EXPECT_TRUE(All<Begin>(c()).empty());
}

// Inside a Stream Start (xid X) .. Stream Stop block every data message
// carries an xid: X itself or one of X's subtransactions. Stream Abort names
// X and the (sub)transaction; Stream Commit names X.
TEST_F(StreamCaptureTest, StreamedInsertCarriesXid) {
  std::map<uint32_t, std::set<uint32_t>> xids_by_top;  // Top xid -> xids seen in its blocks.
  std::map<uint32_t, int> inserts_by_top;
  std::optional<uint32_t> current;
  for (size_t i = 0; i < c().messages.size(); ++i) {
    const Message& m = c().messages[i];
    if (const auto* s = std::get_if<StreamStart>(&m)) {
      EXPECT_EQ(s->first_segment, !xids_by_top.contains(s->xid)) << i;
      current = s->xid;
      xids_by_top[s->xid];
      continue;
    }
    if (std::holds_alternative<StreamStop>(m)) {
      current.reset();
      continue;
    }
    std::optional<uint32_t> xid = DataXid(m);
    if (!current.has_value()) {
      EXPECT_FALSE(xid.has_value()) << i;
      continue;
    }
    ASSERT_TRUE(xid.has_value()) << "data message " << i << " in a stream has no xid";
    EXPECT_GE(*xid, *current) << i;
    xids_by_top[*current].insert(*xid);
    if (std::holds_alternative<Insert>(m)) inserts_by_top[*current]++;
  }
  ASSERT_EQ(xids_by_top.size(), 3u);
  auto it = xids_by_top.begin();
  const uint32_t committed = it->first;
  const uint32_t rolled_back = (++it)->first;
  const uint32_t with_savepoint = (++it)->first;
  EXPECT_EQ(xids_by_top[committed], std::set<uint32_t>{committed});
  EXPECT_EQ(inserts_by_top[committed], 800);
  EXPECT_EQ(xids_by_top[rolled_back], std::set<uint32_t>{rolled_back});
  EXPECT_GT(inserts_by_top[rolled_back], 0);
  // The savepoint's subtransaction and the one after ROLLBACK TO.
  EXPECT_EQ(xids_by_top[with_savepoint].size(), 3u);

  std::vector<const StreamCommit*> commits = All<StreamCommit>(c());
  ASSERT_EQ(commits.size(), 2u);
  EXPECT_EQ(commits[0]->xid, committed);
  EXPECT_EQ(commits[1]->xid, with_savepoint);
  for (const StreamCommit* commit : commits) {
    EXPECT_EQ(commit->flags, 0);
    EXPECT_GT(commit->end_lsn, commit->commit_lsn);
    EXPECT_GT(commit->commit_time_us, k2020Us);
  }

  std::vector<const StreamAbort*> aborts = All<StreamAbort>(c());
  ASSERT_EQ(aborts.size(), 2u);
  EXPECT_EQ(aborts[0]->xid, rolled_back);
  EXPECT_EQ(aborts[0]->subxid, rolled_back);
  EXPECT_FALSE(aborts[0]->abort_lsn.has_value());
  EXPECT_EQ(aborts[1]->xid, with_savepoint);
  EXPECT_NE(aborts[1]->subxid, with_savepoint);
  EXPECT_TRUE(xids_by_top[with_savepoint].contains(aborts[1]->subxid));
}

TEST_F(StreamCaptureTest, StreamedChangesOfEveryKind) {
  // The first streamed transaction: message, type, relation, inserts, two
  // updates, a delete, a relation for the truncated table and the truncate.
  const auto& m = c().messages;
  const auto* msg = std::get_if<LogicalMessage>(&m[1]);
  ASSERT_NE(msg, nullptr);
  EXPECT_TRUE(msg->transactional);
  EXPECT_EQ(msg->prefix, "capture.in_stream");
  EXPECT_EQ(msg->content, "streamed message");
  const auto* type = std::get_if<Type>(&m[2]);
  ASSERT_NE(type, nullptr);
  EXPECT_EQ(type->name, "mood");
  const auto* rel = std::get_if<Relation>(&m[3]);
  ASSERT_NE(rel, nullptr);
  EXPECT_EQ(rel->name, "big");
  ASSERT_EQ(rel->columns.size(), 3u);
  EXPECT_EQ(rel->columns[2].type_oid, type->oid);
  const auto* first = std::get_if<Insert>(&m[4]);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->relation_oid, rel->oid);
  EXPECT_EQ(Texts(first->new_tuple), (std::vector<std::string_view>{"1", "row 1", "ok"}));

  std::vector<const Update*> updates = All<Update>(c());
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[0]->new_tuple.columns[1].value, "updated");
  EXPECT_EQ(updates[0]->xid, msg->xid);
  std::vector<const Delete*> deletes = All<Delete>(c());
  ASSERT_EQ(deletes.size(), 1u);
  EXPECT_EQ(deletes[0]->old_tuple.columns[0].value, "3");
  EXPECT_EQ(deletes[0]->xid, msg->xid);
  std::vector<const Truncate*> truncates = All<Truncate>(c());
  ASSERT_EQ(truncates.size(), 1u);
  EXPECT_EQ(truncates[0]->xid, msg->xid);
  ASSERT_EQ(truncates[0]->relation_oids.size(), 1u);
  bool side_described = false;
  for (const Relation* r : All<Relation>(c())) {
    if (r->oid == truncates[0]->relation_oids[0]) {
      EXPECT_EQ(r->name, "side");
      EXPECT_EQ(r->xid, msg->xid);
      side_described = true;
    }
  }
  EXPECT_TRUE(side_described);
}

TEST_F(StreamCaptureTest, StreamedInsertWithoutStreamStateIsAnError) {
  // Without the leading xid the decoder would misread the message; a decoder
  // that missed Stream Start must say so, not return garbage.
  size_t insert = 4;
  ASSERT_TRUE(c().in_stream[insert]);
  Decoder fresh;
  Result<Message> m = fresh.Decode(c().bytes[insert]);
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(m.status().IsPermanent());
  EXPECT_THAT(m.status().message(), HasSubstr("Insert"));
}

TEST_F(StreamCaptureTest, SetInStreamReplaysBufferedMessages) {
  Decoder replay;
  replay.set_in_stream(true);
  for (size_t i = 1; i < 10; ++i) {
    Result<Message> m = replay.Decode(c().bytes[i]);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_TRUE(DataXid(*m).has_value());
  }
}

TEST(Proto1CaptureTest, LargeTransactionIsNotStreamed) {
  Capture c = DecodeCapture("proto1.hex");
  ASSERT_EQ(c.messages.size(), c.bytes.size());
  for (bool s : c.in_stream) EXPECT_FALSE(s);
  EXPECT_TRUE(All<StreamStart>(c).empty());
  EXPECT_EQ(All<Begin>(c).size(), 4u);
  EXPECT_EQ(All<Insert>(c).size(), 400u);
  // The third transaction holds the 399 inserts of one statement.
  size_t begin = 0;
  int begins = 0;
  for (size_t i = 0; i < c.messages.size(); ++i) {
    if (std::holds_alternative<Begin>(c.messages[i]) && ++begins == 3) begin = i;
  }
  ASSERT_GT(begin, 0u);
  for (size_t i = begin + 1; i < begin + 400; ++i) {
    const auto* ins = std::get_if<Insert>(&c.messages[i]);
    ASSERT_NE(ins, nullptr) << i;
    EXPECT_EQ(ins->new_tuple.columns[0].value, std::to_string(i - begin + 1));
  }
  EXPECT_TRUE(std::holds_alternative<Commit>(c.messages[begin + 400]));
}

// ---------------------------------------------------------------------------
// Malformed input: every truncation and extension of every captured message.

struct Recorded {
  std::string bytes;
  bool in_stream;
};

std::vector<Recorded> AllRecorded() {
  std::vector<Recorded> out;
  for (const char* name : {"dml.hex", "stream.hex", "proto1.hex"}) {
    std::vector<std::string> bytes = ReadHexFile(name);
    Decoder d;
    for (std::string& b : bytes) {
      bool in_stream = d.in_stream();
      EXPECT_TRUE(d.Decode(b).ok());
      out.push_back({std::move(b), in_stream});
    }
  }
  return out;
}

TEST(MalformedTest, TruncationAtEveryOffsetIsAnError) {
  size_t checked = 0;
  for (const Recorded& r : AllRecorded()) {
    for (size_t len = 0; len < r.bytes.size(); ++len) {
      // A copy, so that ASan catches any read past the truncated end.
      const std::string prefix = r.bytes.substr(0, len);
      Decoder d;
      d.set_in_stream(r.in_stream);
      Result<Message> m = d.Decode(prefix);
      ASSERT_FALSE(m.ok()) << "prefix of " << len << " bytes of a '" << r.bytes[0]
                           << "' message decoded";
      EXPECT_TRUE(m.status().IsPermanent());
      EXPECT_THAT(m.status().message(), StartsWith("pgoutput: "));
      EXPECT_EQ(d.in_stream(), r.in_stream) << "a failed decode changed the stream state";
      ++checked;
    }
  }
  EXPECT_GT(checked, 100000u);
}

TEST(MalformedTest, TrailingGarbageIsAnError) {
  for (const Recorded& r : AllRecorded()) {
    Decoder d;
    d.set_in_stream(r.in_stream);
    Result<Message> m = d.Decode(r.bytes + '\0');
    ASSERT_FALSE(m.ok()) << "'" << r.bytes[0] << "' message with a trailing byte decoded";
    EXPECT_TRUE(m.status().IsPermanent());
  }
}

// Hand-built messages.

class Bytes {
 public:
  Bytes& U8(uint8_t v) {
    s_.push_back(static_cast<char>(v));
    return *this;
  }
  Bytes& U16(uint16_t v) { return U8(v >> 8).U8(v & 0xFF); }
  Bytes& U32(uint32_t v) { return U16(v >> 16).U16(v & 0xFFFF); }
  Bytes& U64(uint64_t v) { return U32(v >> 32).U32(v & 0xFFFFFFFF); }
  Bytes& Str(std::string_view v) {
    s_.append(v);
    return U8(0);
  }
  Bytes& Raw(std::string_view v) {
    s_.append(v);
    return *this;
  }
  Bytes& TextCol(std::string_view v) { return U8('t').U32(static_cast<uint32_t>(v.size())).Raw(v); }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

// The message's views point into `b`: keep it alive while using the result.
Result<Message> DecodeOne(const Bytes& b, bool in_stream = false) {
  Decoder d;
  d.set_in_stream(in_stream);
  return d.Decode(b.str());
}

std::string ErrorOf(const Bytes& b, bool in_stream = false) {
  Result<Message> m = DecodeOne(b, in_stream);
  EXPECT_FALSE(m.ok());
  if (m.ok()) return "";
  EXPECT_TRUE(m.status().IsPermanent());
  return m.status().message();
}

TEST(MalformedTest, TruncatedTupleIsAnError) {
  Bytes b;
  b.U8('I').U32(16384).U8('N').U16(3).TextCol("1").U8('t').U32(12).Raw("abc");
  EXPECT_EQ(ErrorOf(b),
            "pgoutput: truncated Insert at offset 19: tuple column 1 needs 12 bytes, 3 left");
}

TEST(MalformedTest, TruncatedInsertNamesTheField) {
  EXPECT_EQ(ErrorOf(Bytes().U8('I').U16(1)),
            "pgoutput: truncated Insert at offset 1: relation oid needs 4 bytes, 2 left");
  EXPECT_EQ(ErrorOf(Bytes().U8('I').U32(1).U8('N').U16(2).TextCol("x")),
            "pgoutput: truncated Insert at offset 14: tuple column 1 needs 1 bytes, 0 left");
}

TEST(MalformedTest, EmptyMessageIsAnError) { EXPECT_THAT(ErrorOf(Bytes()), HasSubstr("empty")); }

TEST(MalformedTest, UnknownMessageTypeIsAnError) {
  EXPECT_EQ(ErrorOf(Bytes().U8('Z').U32(0)), "pgoutput: unknown message type 0x5a 'Z' at offset 0");
  EXPECT_THAT(ErrorOf(Bytes().U8(0)), HasSubstr("unknown message type 0x00"));
  // Protocol 3 (two-phase) messages are not requested, so not expected.
  EXPECT_THAT(ErrorOf(Bytes().U8('b').U64(1).U64(2).U64(3).U32(4).Str("gid")),
              HasSubstr("unknown message type 0x62 'b'"));
}

TEST(MalformedTest, UnknownTupleColumnKindIsAnError) {
  EXPECT_EQ(ErrorOf(Bytes().U8('I').U32(1).U8('N').U16(2).U8('n').U8('x')),
            "pgoutput: malformed Insert at offset 9: tuple column 1 has unknown kind byte 120");
}

TEST(MalformedTest, NegativeColumnLengthIsAnError) {
  EXPECT_EQ(ErrorOf(Bytes().U8('I').U32(1).U8('N').U16(1).U8('t').U32(0xFFFFFFFF)),
            "pgoutput: malformed Insert at offset 9: tuple column 0 has negative length -1");
}

TEST(MalformedTest, ColumnCountBeyondMessageIsAnError) {
  EXPECT_THAT(ErrorOf(Bytes().U8('I').U32(1).U8('N').U16(65535).U8('n')),
              HasSubstr("truncated Insert at offset 9: tuple column 1 needs 1 bytes, 0 left"));
  EXPECT_THAT(ErrorOf(Bytes().U8('R').U32(1).Str("s").Str("t").U8('d').U16(65535)),
              HasSubstr("truncated Relation"));
}

TEST(MalformedTest, HugeTruncateCountIsAnErrorNotAnAllocation) {
  EXPECT_EQ(ErrorOf(Bytes().U8('T').U32(0x7FFFFFFF).U8(0).U32(1)),
            "pgoutput: malformed Truncate at offset 6: 2147483647 relation oids need 8589934588 "
            "bytes, 4 left");
  EXPECT_THAT(ErrorOf(Bytes().U8('T').U32(0x80000000).U8(0)), HasSubstr("negative relation count"));
}

TEST(MalformedTest, WrongTupleTagsAreErrors) {
  EXPECT_THAT(ErrorOf(Bytes().U8('I').U32(1).U8('K').U16(0)),
              HasSubstr("malformed Insert at offset 5: expected tuple tag 'N'"));
  EXPECT_THAT(
      ErrorOf(Bytes().U8('U').U32(1).U8('K').U16(0).U8('K').U16(0)),
      HasSubstr("malformed Update at offset 8: expected tuple tag 'K', 'O' or 'N', got byte 75"));
  EXPECT_THAT(ErrorOf(Bytes().U8('U').U32(1).U8('X')), HasSubstr("malformed Update"));
  EXPECT_THAT(ErrorOf(Bytes().U8('D').U32(1).U8('N').U16(0)),
              HasSubstr("malformed Delete at offset 5: expected tuple tag 'K' or 'O'"));
}

TEST(MalformedTest, MissingNulInStringIsAnError) {
  EXPECT_EQ(ErrorOf(Bytes().U8('R').U32(1).Str("public").Raw("orders")),
            "pgoutput: truncated Relation at offset 12: relation name has no terminating NUL, 6 "
            "bytes left");
  EXPECT_THAT(ErrorOf(Bytes().U8('O').U64(1).Raw("origin")), HasSubstr("truncated Origin"));
}

TEST(MalformedTest, StreamFramingOutOfPlaceIsAnError) {
  EXPECT_THAT(ErrorOf(Bytes().U8('E')), HasSubstr("Stream Stop outside a streamed block"));
  EXPECT_THAT(ErrorOf(Bytes().U8('S').U32(5).U8(1), /*in_stream=*/true),
              HasSubstr("unexpected Stream Start inside a streamed block"));
  EXPECT_THAT(ErrorOf(Bytes().U8('B').U64(1).U64(2).U32(3), /*in_stream=*/true),
              HasSubstr("unexpected Begin inside"));
  EXPECT_THAT(ErrorOf(Bytes().U8('c').U32(1).U8(0).U64(1).U64(2).U64(3), /*in_stream=*/true),
              HasSubstr("unexpected Stream Commit inside"));
}

TEST(MalformedTest, FailedStreamStartKeepsStateOutsideStream) {
  Decoder d;
  EXPECT_FALSE(d.Decode(Bytes().U8('S').U32(5).str()).ok());
  EXPECT_FALSE(d.in_stream());
  EXPECT_TRUE(d.Decode(Bytes().U8('S').U32(5).U8(1).str()).ok());
  EXPECT_TRUE(d.in_stream());
  EXPECT_FALSE(d.Decode(Bytes().U8('E').U8(0).str()).ok());
  EXPECT_TRUE(d.in_stream());
  EXPECT_TRUE(d.Decode(Bytes().U8('E').str()).ok());
  EXPECT_FALSE(d.in_stream());
}

// Well-formed hand-built messages for what the captures cannot produce.

TEST(HandBuiltTest, BinaryColumnIsDecoded) {
  const Bytes b = Bytes().U8('I').U32(7).U8('N').U16(2).U8('b').U32(4).U32(42).U8('u');
  Result<Message> m = DecodeOne(b);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const auto& ins = std::get<Insert>(*m);
  EXPECT_EQ(ins.relation_oid, 7u);
  ASSERT_EQ(ins.new_tuple.columns.size(), 2u);
  EXPECT_EQ(ins.new_tuple.columns[0].kind, TupleColumn::Kind::kBinary);
  EXPECT_EQ(ins.new_tuple.columns[0].value, std::string("\0\0\0\x2a", 4));
  EXPECT_EQ(ins.new_tuple.columns[1].kind, TupleColumn::Kind::kUnchangedToast);
}

TEST(HandBuiltTest, EmptyTupleAndEmptyText) {
  const Bytes b = Bytes().U8('I').U32(7).U8('N').U16(1).TextCol("");
  Result<Message> m = DecodeOne(b);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<Insert>(*m).new_tuple.columns[0].kind, TupleColumn::Kind::kText);
  EXPECT_EQ(std::get<Insert>(*m).new_tuple.columns[0].value, "");
  ASSERT_TRUE(DecodeOne(Bytes().U8('I').U32(7).U8('N').U16(0)).ok());
}

TEST(HandBuiltTest, TimestampsConvertToUnixEpoch) {
  Result<Message> m = DecodeOne(Bytes().U8('B').U64(0x100).U64(0).U32(9));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<Begin>(*m).commit_time_us, kPostgresEpochOffsetUs);
  EXPECT_EQ(std::get<Begin>(*m).final_lsn, 0x100u);
  EXPECT_EQ(std::get<Begin>(*m).xid, 9u);
  // Postgres' "infinity" (INT64_MAX) saturates instead of overflowing.
  m = DecodeOne(Bytes().U8('C').U8(0).U64(1).U64(2).U64(0x7FFFFFFFFFFFFFFF));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<Commit>(*m).commit_time_us, INT64_MAX);
  m = DecodeOne(Bytes().U8('C').U8(0).U64(1).U64(2).U64(0x8000000000000000));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<Commit>(*m).commit_time_us, INT64_MIN + kPostgresEpochOffsetUs);
}

TEST(HandBuiltTest, StreamAbortAcceptsProtocol4Fields) {
  Result<Message> m = DecodeOne(Bytes().U8('A').U32(10).U32(11).U64(0xABC).U64(1000));
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const auto& abort = std::get<StreamAbort>(*m);
  EXPECT_EQ(abort.xid, 10u);
  EXPECT_EQ(abort.subxid, 11u);
  EXPECT_EQ(abort.abort_lsn, 0xABCu);
  EXPECT_EQ(abort.abort_time_us, kPostgresEpochOffsetUs + 1000);
  EXPECT_THAT(ErrorOf(Bytes().U8('A').U32(10).U32(11).U64(0xABC)),
              HasSubstr("truncated Stream Abort at offset 17: abort timestamp needs 8 bytes"));
}

TEST(HandBuiltTest, StreamedMessagesReadTheirXid) {
  Result<Message> m = DecodeOne(Bytes().U8('T').U32(77).U32(2).U8(1).U32(5).U32(6), true);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(std::get<Truncate>(*m).xid, 77u);
  EXPECT_EQ(std::get<Truncate>(*m).relation_oids, (std::vector<uint32_t>{5, 6}));
  const Bytes type = Bytes().U8('Y').U32(77).U32(16400).Str("").Str("t");
  m = DecodeOne(type, true);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<Type>(*m).xid, 77u);
  EXPECT_EQ(std::get<Type>(*m).schema, "");  // pg_catalog
  const Bytes message = Bytes().U8('M').U32(77).U8(1).U64(5).Str("p").U32(2).Raw("hi");
  m = DecodeOne(message, true);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<LogicalMessage>(*m).xid, 77u);
  EXPECT_EQ(std::get<LogicalMessage>(*m).content, "hi");
  m = DecodeOne(Bytes().U8('D').U32(77).U32(5).U8('K').U16(1).TextCol("k"), true);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<Delete>(*m).xid, 77u);
  // Origin follows Stream Start without an xid.
  const Bytes origin = Bytes().U8('O').U64(5).Str("o");
  m = DecodeOne(origin, true);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<Origin>(*m).name, "o");
}

TEST(HandBuiltTest, LogicalMessageContentMayHoldNul) {
  const Bytes b = Bytes().U8('M').U8(0).U64(5).Str("p").U32(3).Raw(std::string("a\0b", 3));
  Result<Message> m = DecodeOne(b);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<LogicalMessage>(*m).content, std::string("a\0b", 3));
  EXPECT_FALSE(std::get<LogicalMessage>(*m).transactional);
}

}  // namespace
}  // namespace sluice::pgoutput
