#include "backfill/keyset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/base64.h"

namespace sluice::backfill {
namespace {

using ::testing::HasSubstr;

TableShape Orders() {
  TableShape s;
  s.oid = 42;
  s.schema = "public";
  s.table = "orders";
  s.columns = {{"id", 20, -1, true}, {"status", 25, -1, false}, {"created", 1184, -1, true}};
  s.key_columns = {0};
  return s;
}

TEST(KeysetTest, PrimaryKeyOrderWithoutCursor) {
  TableShape s = Orders();
  ASSERT_TRUE(SetKeysetOrder(s, "").ok());
  PageQuery q = BuildPageQuery(s, false, false, 1000);
  EXPECT_EQ(q.sql,
            "SELECT \"id\", \"status\", \"created\" FROM \"public\".\"orders\" ORDER BY \"id\" "
            "LIMIT 1000");
  EXPECT_TRUE(q.param_types.empty());
}

TEST(KeysetTest, SortColumnThenKeyWithCursorAndStart) {
  TableShape s = Orders();
  ASSERT_TRUE(SetKeysetOrder(s, "created").ok());
  EXPECT_EQ(s.order_columns, (std::vector<size_t>{2, 0}));
  PageQuery q = BuildPageQuery(s, true, true, 50);
  EXPECT_EQ(q.sql,
            "SELECT \"id\", \"status\", \"created\" FROM \"public\".\"orders\" WHERE "
            "(\"created\", \"id\") > ($1, $2) AND \"created\" >= $3 ORDER BY \"created\", \"id\" "
            "LIMIT 50");
  EXPECT_EQ(q.param_types, (std::vector<uint32_t>{1184, 20, 1184}));
}

TEST(KeysetTest, SortColumnInsideACompositeKeyComesFirstOnce) {
  TableShape s = Orders();
  s.key_columns = {0, 2};
  ASSERT_TRUE(SetKeysetOrder(s, "created").ok());
  EXPECT_EQ(s.order_columns, (std::vector<size_t>{2, 0}));
}

TEST(KeysetTest, HostileIdentifiersAreQuoted) {
  TableShape s;
  s.schema = "My \"Schema\"";
  s.table = "Weird \"Tbl\" ü";
  s.columns = {{"ID", 23, -1, true}, {"Sort Col", 25, -1, true}};
  s.key_columns = {0};
  ASSERT_TRUE(SetKeysetOrder(s, "Sort Col").ok());
  PageQuery q = BuildPageQuery(s, true, false, 10);
  EXPECT_EQ(q.sql,
            "SELECT \"ID\", \"Sort Col\" FROM \"My \"\"Schema\"\"\".\"Weird \"\"Tbl\"\" ü\" WHERE "
            "(\"Sort Col\", \"ID\") > ($1, $2) ORDER BY \"Sort Col\", \"ID\" LIMIT 10");
}

TEST(KeysetTest, NullableSortColumnOutsideTheKeyIsRefused) {
  TableShape s = Orders();
  Status st = SetKeysetOrder(s, "status");
  EXPECT_TRUE(st.IsPermanent());
  EXPECT_THAT(st.message(), HasSubstr("may be NULL"));
}

TEST(KeysetTest, UnknownSortColumnIsRefused) {
  TableShape s = Orders();
  EXPECT_THAT(SetKeysetOrder(s, "Status").message(), HasSubstr("no column \"Status\""));
}

TEST(KeysetTest, TableWithoutPrimaryKeyIsRefused) {
  TableShape s = Orders();
  s.key_columns.clear();
  EXPECT_THAT(SetKeysetOrder(s, "").message(), HasSubstr("no primary key"));
}

TEST(KeysetTest, CursorRoundTrip) {
  TableShape s = Orders();
  ASSERT_TRUE(SetKeysetOrder(s, "created").ok());
  const source::TextRows rows(3, {{"7", std::nullopt, "2024-01-02 03:04:05+00"}});
  auto cursor = CursorAfter(s, rows, 0);
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(*cursor, "[\"2024-01-02 03:04:05+00\",\"7\"]");
  auto values = ParseCursor(s, *cursor);
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(*values, (std::vector<std::string>{"2024-01-02 03:04:05+00", "7"}));
}

TEST(KeysetTest, CursorOfAnotherShapeIsAnError) {
  TableShape s = Orders();
  ASSERT_TRUE(SetKeysetOrder(s, "").ok());
  EXPECT_FALSE(ParseCursor(s, "[\"1\",\"2\"]").ok());
  EXPECT_FALSE(ParseCursor(s, "{}").ok());
  EXPECT_FALSE(ParseCursor(s, "[1]").ok());
  EXPECT_FALSE(ParseCursor(s, "not json").ok());
}

TEST(KeysetTest, KeyPartsAreUnambiguous) {
  std::string a, b;
  AppendKeyPart(a, "1:2");
  AppendKeyPart(a, "3");
  AppendKeyPart(b, "1");
  AppendKeyPart(b, "2:3");
  EXPECT_NE(a, b);
}

TEST(KeysetTest, ReadIdempotencyKeyIsBackfillIdAndKeyArray) {
  auto key = ReadIdempotencyKey(7, {"42", "a\"b"});
  EXPECT_EQ(Base64Decode(key).value_or(""), "7:[\"42\",\"a\\\"b\"]");
  // The same text as a JSON library writes for the array (the keys of
  // backfills persisted by earlier versions stay the same).
  const std::vector<std::string> values = {
      "",      "plain", "quo\"te", "back\\slash", "tab\tnl\n", std::string("ctl\x01\x1f", 5),
      "ünï €", "𝄞"};
  std::vector<std::string_view> views(values.begin(), values.end());
  nlohmann::json array = nlohmann::json::array();
  for (const auto& v : values) array.push_back(v);
  EXPECT_EQ(Base64Decode(ReadIdempotencyKey(12, views)).value_or(""), "12:" + array.dump());
}

TEST(KeysetTest, ReadIdempotencyKeyWrittenIntoReusedBuffers) {
  std::string out;
  std::string raw;
  WriteReadIdempotencyKey(out, raw, 123456789, {"a long first key value", "x"});
  EXPECT_EQ(out, ReadIdempotencyKey(123456789, {"a long first key value", "x"}));
  WriteReadIdempotencyKey(out, raw, -2, {"b"});
  EXPECT_EQ(out, ReadIdempotencyKey(-2, {"b"}));
  EXPECT_EQ(Base64Decode(out).value_or(""), "-2:[\"b\"]");
}

TEST(KeysetTest, PageSizeAdaptsWithinBounds) {
  PageSizer sizer(1000, 100, 4000);
  sizer.Observe(0.01);
  EXPECT_EQ(sizer.size(), 2000u);
  sizer.Observe(0.01);
  sizer.Observe(0.01);
  EXPECT_EQ(sizer.size(), 4000u);
  sizer.Observe(0.5);
  EXPECT_EQ(sizer.size(), 4000u);
  for (int i = 0; i < 10; ++i) sizer.Observe(2.0);
  EXPECT_EQ(sizer.size(), 100u);
}

}  // namespace
}  // namespace sluice::backfill
