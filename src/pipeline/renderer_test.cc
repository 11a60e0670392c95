#include "pipeline/renderer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/json_writer.h"

namespace sluice::pipeline {
namespace {

using source::ColumnValue;

source::RelationRef Orders(char identity = 'd') {
  auto rel = std::make_shared<source::RelationInfo>();
  rel->oid = 16384;
  rel->schema = "public";
  rel->table = "orders";
  rel->replica_identity = identity;
  auto add = [&](const char* name, uint32_t oid) {
    source::ColumnInfo c;
    c.name = name;
    c.type_oid = oid;
    c.type = values::BuiltinType(oid);
    rel->columns.push_back(c);
  };
  add("id", 20);
  add("status", 25);
  add("note", 25);
  rel->key_columns = {0};
  return rel;
}

ColumnValue T(std::string_view s) { return ColumnValue{ColumnValue::Kind::kText, s}; }
ColumnValue Null() { return ColumnValue{ColumnValue::Kind::kNull, {}}; }
ColumnValue Toast() { return ColumnValue{ColumnValue::Kind::kUnchangedToast, {}}; }

nlohmann::json Render(const source::Change& c) {
  std::string out;
  RenderChangePrefix(c, out);
  out += RenderSinkSuffix("id-1", "orders_hook", {{"team", "billing"}}, "app");
  return nlohmann::json::parse(out);
}

TEST(RendererTest, InsertHasDesignShape) {
  source::Change c;
  c.action = Action::kInsert;
  c.position = {24023128, 3};
  c.commit_time_us = 1795255200123456;  // 2026-11-21T10:00:00.123456Z
  c.relation = Orders();
  c.new_values = {T("42"), T("paid"), Null()};
  auto j = Render(c);
  EXPECT_EQ(j["record"], nlohmann::json::parse(R"({"id":42,"status":"paid","note":null})"));
  EXPECT_TRUE(j["changes"].is_null());
  EXPECT_EQ(j["action"], "insert");
  const auto& m = j["metadata"];
  EXPECT_EQ(m["table_schema"], "public");
  EXPECT_EQ(m["table_name"], "orders");
  EXPECT_EQ(m["commit_timestamp"], "2026-11-21T10:00:00.123456Z");
  EXPECT_EQ(m["commit_lsn"], 24023128);
  EXPECT_EQ(m["commit_idx"], 3);
  EXPECT_EQ(m["idempotency_key"], "MjQwMjMxMjg6Mw==");
  EXPECT_EQ(m["record_pks"], nlohmann::json::parse(R"(["42"])"));
  EXPECT_TRUE(m["transaction_annotations"].is_null());
  EXPECT_EQ(m["sink"]["name"], "orders_hook");
  EXPECT_EQ(m["sink"]["annotations"]["team"], "billing");
  EXPECT_EQ(m["database"]["name"], "app");
  // Key order is part of the format.
  std::string out;
  RenderChangePrefix(c, out);
  EXPECT_EQ(out.rfind("{\"record\":", 0), 0u);
}

TEST(RendererTest, IdempotencyKeyIsBase64OfLsnColonIndexAndAppends) {
  EXPECT_EQ(IdempotencyKey({24023128, 3}), Base64Encode("24023128:3"));
  EXPECT_EQ(IdempotencyKey({UINT64_MAX, UINT32_MAX}),
            Base64Encode("18446744073709551615:4294967295"));
  std::string out = "key=";
  AppendIdempotencyKey(out, {0, 0});
  EXPECT_EQ(out, "key=" + Base64Encode("0:0"));
}

TEST(RendererTest, ARecordRenderedAheadIsTheOneRenderRecordGives) {
  source::Change c;
  c.action = Action::kRead;
  c.position = {24023128, 0};
  c.relation = Orders();
  c.new_values = {T("42"), T("paid"), Null()};
  std::string record;
  RenderRecord(c, record);
  EXPECT_EQ(record, R"({"id":42,"status":"paid","note":null})");
  std::string from_values;
  RenderChangePrefix(c, from_values);
  c.rendered_record = record;
  std::string ahead;
  RenderChangePrefix(c, ahead);
  EXPECT_EQ(ahead, from_values);
  // The rendered record is used as it is, whatever the values say.
  c.rendered_record = R"({"id":7})";
  EXPECT_EQ(Render(c)["record"], nlohmann::json::parse(R"({"id":7})"));
}

TEST(RendererTest, UpdateWithFullIdentityListsOldValuesOfChangedColumns) {
  source::Change c;
  c.action = Action::kUpdate;
  c.relation = Orders('f');
  c.new_values = {T("1"), T("paid"), T("same")};
  c.has_old = true;
  c.old_values = {T("1"), T("pending"), T("same")};
  auto j = Render(c);
  EXPECT_EQ(j["changes"], nlohmann::json::parse(R"({"status":"pending"})"));
}

TEST(RendererTest, ColumnNamesEscapedAheadAreWrittenAsTheNamesThemselves) {
  // A relation whose columns carry their JSON keys (as the stream's and the
  // catalog's relations do) renders exactly as one whose names the renderer
  // escapes itself; names that need escaping included.
  auto plain = std::make_shared<source::RelationInfo>(*Orders('f'));
  plain->columns[2].name = "no\"te";
  auto keyed = std::make_shared<source::RelationInfo>(*plain);
  for (auto& c : keyed->columns) c.json_key = JsonMemberKey(c.name);
  for (const source::RelationRef& rel : {source::RelationRef(plain), source::RelationRef(keyed)}) {
    source::Change c;
    c.action = Action::kUpdate;
    c.relation = rel;
    c.has_old = true;
    c.new_values = {T("1"), T("paid"), T("n2")};
    c.old_values = {T("1"), T("new"), T("n1")};
    std::string out;
    RenderChangePrefix(c, out);
    EXPECT_NE(out.find(R"({"record":{"id":1,"status":"paid","no\"te":"n2"},)"
                       R"("changes":{"status":"new","no\"te":"n1"},)"),
              std::string::npos)
        << out;
  }
}

TEST(RendererTest, UpdateWithoutOldTupleHasEmptyChanges) {
  source::Change c;
  c.action = Action::kUpdate;
  c.relation = Orders();
  c.new_values = {T("1"), T("paid"), Null()};
  EXPECT_EQ(Render(c)["changes"], nlohmann::json::object());
}

TEST(RendererTest, UnchangedToastTakesOldValueWhenFull) {
  source::Change c;
  c.action = Action::kUpdate;
  c.relation = Orders('f');
  c.new_values = {T("1"), T("paid"), Toast()};
  c.has_old = true;
  c.old_values = {T("1"), T("pending"), T("big text")};
  auto j = Render(c);
  EXPECT_EQ(j["record"]["note"], "big text");
  EXPECT_FALSE(j["changes"].contains("note"));
}

TEST(RendererTest, UnchangedToastWithoutFullIsMarked) {
  source::Change c;
  c.action = Action::kUpdate;
  c.relation = Orders();
  c.new_values = {T("1"), T("paid"), Toast()};
  EXPECT_EQ(Render(c)["record"]["note"], "unchanged_toast");
}

TEST(RendererTest, DeleteRendersOldKeyTuple) {
  source::Change c;
  c.action = Action::kDelete;
  c.relation = Orders();
  c.has_old = true;
  c.old_is_key_only = true;
  c.old_values = {T("7"), Null(), Null()};
  auto j = Render(c);
  EXPECT_EQ(j["record"]["id"], 7);
  EXPECT_EQ(j["metadata"]["record_pks"], nlohmann::json::parse(R"(["7"])"));
  EXPECT_TRUE(j["changes"].is_null());
}

TEST(RendererTest, AnnotationsAreEmbedded) {
  source::Change c;
  c.action = Action::kInsert;
  c.relation = Orders();
  c.new_values = {T("1"), T("x"), Null()};
  c.annotations = R"({"user":"ada"})";
  EXPECT_EQ(Render(c)["metadata"]["transaction_annotations"]["user"], "ada");
}

TEST(RendererTest, TruncateHasNullRecordAndTableList) {
  source::Change c;
  c.action = Action::kTruncate;
  c.relation = Orders();
  c.truncated = {Orders()};
  auto j = Render(c);
  EXPECT_TRUE(j["record"].is_null());
  EXPECT_EQ(j["action"], "truncate");
  EXPECT_EQ(j["metadata"]["truncated_tables"][0]["table_name"], "orders");
}

TEST(RendererTest, CommitTimestampBeforeEpochAndSinkIdStable) {
  EXPECT_EQ(FormatCommitTimestamp(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatCommitTimestamp(0), "1970-01-01T00:00:00.000000Z");
  // Leap days, century rules, the end of a year, the far past and future.
  EXPECT_EQ(FormatCommitTimestamp(951782400000000), "2000-02-29T00:00:00.000000Z");
  EXPECT_EQ(FormatCommitTimestamp(4107542399999999), "2100-02-28T23:59:59.999999Z");
  EXPECT_EQ(FormatCommitTimestamp(1798761599123456), "2026-12-31T23:59:59.123456Z");
  EXPECT_EQ(FormatCommitTimestamp(-62135596800000000), "0001-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatCommitTimestamp(253402300799999999), "9999-12-31T23:59:59.999999Z");
  // Every day of 1899-2101 against the C library.
  for (int64_t day = -25567; day <= 47847; ++day) {
    const int64_t us = day * 86400000000 + 45296789012;  // 12:34:56.789012
    time_t t = static_cast<time_t>(day * 86400 + 45296);
    struct tm tm;
    ASSERT_NE(gmtime_r(&t, &tm), nullptr);
    char want[64];
    std::snprintf(want, sizeof(want), "%04d-%02d-%02dT12:34:56.789012Z", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday);
    ASSERT_EQ(FormatCommitTimestamp(us), want) << day;
  }
  EXPECT_EQ(SinkId("a"), SinkId("a"));
  EXPECT_NE(SinkId("a"), SinkId("b"));
  EXPECT_EQ(SinkId("a").size(), 36u);
}

}  // namespace
}  // namespace sluice::pipeline
