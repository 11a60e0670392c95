#include "filter/filter.h"

#include <gtest/gtest.h>

#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace sluice::filter {
namespace {

using source::Change;
using source::ColumnValue;

constexpr uint32_t kBoolOid = 16, kInt8Oid = 20, kInt4Oid = 23, kTextOid = 25, kJsonbOid = 3802,
                   kNumericOid = 1700, kIntervalOid = 1186, kTimestampTzOid = 1184;

struct Col {
  std::string name;
  uint32_t oid;
};

source::RelationRef Relation(const std::vector<Col>& cols) {
  auto rel = std::make_shared<source::RelationInfo>();
  rel->oid = 16384;
  rel->schema = "public";
  rel->table = "t";
  for (const Col& c : cols) {
    source::ColumnInfo info;
    info.name = c.name;
    info.type_oid = c.oid;
    info.type = values::BuiltinType(c.oid);
    if (info.type == nullptr) info.type = values::TextType();
    rel->columns.push_back(info);
  }
  return rel;
}

// Values: nullopt is NULL, kToast stands for unchanged TOAST.
const std::optional<std::string> kToast = std::string("\x01toast");

class Rows {
 public:
  std::vector<ColumnValue> Values(const std::vector<std::optional<std::string>>& values) {
    std::vector<ColumnValue> out;
    for (const auto& v : values) {
      ColumnValue cv;
      if (!v.has_value()) {
        cv.kind = ColumnValue::Kind::kNull;
      } else if (v == kToast) {
        cv.kind = ColumnValue::Kind::kUnchangedToast;
      } else {
        cv.kind = ColumnValue::Kind::kText;
        cv.text = storage_.emplace_back(*v);
      }
      out.push_back(cv);
    }
    return out;
  }

 private:
  std::deque<std::string> storage_;
};

std::unique_ptr<Filter> MustCompile(const std::string& sql) {
  auto f = Filter::Compile(sql);
  EXPECT_TRUE(f.ok()) << sql << ": " << f.status().ToString();
  return f.ok() ? std::move(f).value() : nullptr;
}

std::string CompileError(const std::string& sql) {
  auto f = Filter::Compile(sql);
  EXPECT_FALSE(f.ok()) << sql << " compiled";
  if (f.ok()) return "";
  EXPECT_TRUE(f.status().IsPermanent()) << sql;
  return f.status().message();
}

// ---------------------------------------------------------------------------
// Compile errors: the construct and its 1-based character position.

TEST(FilterCompileTest, FunctionCallNamesItAndItsPosition) {
  EXPECT_EQ(CompileError("status = 'x' AND now() > created_at"),
            "filter: unsupported construct FuncCall `now()` at position 18 (function calls are "
            "not supported)");
}

TEST(FilterCompileTest, AggregatesAndWindowFunctionsAreFunctionCalls) {
  EXPECT_NE(CompileError("count(*) > 1").find("FuncCall `count(*)` at position 1"),
            std::string::npos);
  std::string window = CompileError("id = 1 OR row_number() OVER () = 1");
  EXPECT_NE(window.find("FuncCall `row_number() OVER` at position 11"), std::string::npos)
      << window;
  EXPECT_NE(window.find("window functions"), std::string::npos);
  EXPECT_NE(CompileError("lower(name) = 'x'").find("FuncCall `lower(...)` at position 1"),
            std::string::npos);
}

TEST(FilterCompileTest, SubqueriesAreRejected) {
  std::string in = CompileError("id IN (SELECT id FROM t)");
  EXPECT_NE(in.find("SubLink `IN (SELECT ...)` at position 4"), std::string::npos) << in;
  std::string exists = CompileError("x = 1 AND EXISTS (SELECT 1)");
  EXPECT_NE(exists.find("SubLink `EXISTS (SELECT ...)` at position 11"), std::string::npos)
      << exists;
  std::string scalar = CompileError("x = (SELECT 1)");
  EXPECT_NE(scalar.find("SubLink `(SELECT ...)` at position 5"), std::string::npos) << scalar;
}

TEST(FilterCompileTest, ParametersAreRejected) {
  EXPECT_NE(CompileError("id = $1").find("ParamRef `$1` at position 6"), std::string::npos);
}

TEST(FilterCompileTest, ColumnReferencesWithThreePartsOrOtherQualifiersAreRejected) {
  EXPECT_NE(CompileError("a.b.c = 1").find("ColumnRef `a.b.c` at position 1"), std::string::npos);
  EXPECT_NE(CompileError("x = 1 AND orders.id = 1").find("ColumnRef `orders.id` at position 11"),
            std::string::npos);
  EXPECT_NE(CompileError("record.* IS NULL").find("ColumnRef `record.*` at position 1"),
            std::string::npos);
}

TEST(FilterCompileTest, UnknownOperatorsAreRejected) {
  EXPECT_NE(CompileError("name ~ 'x'").find("operator `~` at position 6"), std::string::npos);
  EXPECT_NE(CompileError("name || 'x' = 'ax'").find("operator `||` at position 6"),
            std::string::npos);
  EXPECT_NE(CompileError("tags @> '{}'").find("operator `@>` at position 6"), std::string::npos);
  EXPECT_NE(CompileError("a = ANY(b)").find("ANY `=` at position 3"), std::string::npos);
  EXPECT_NE(CompileError("a SIMILAR TO 'x'").find("SIMILAR TO"), std::string::npos);
}

TEST(FilterCompileTest, CastsToUnsupportedTypesAreRejected) {
  EXPECT_NE(CompileError("d::interval > '1 day'")
                .find("TypeCast `::pg_catalog.interval` at "
                      "position 4"),
            std::string::npos);
  EXPECT_NE(CompileError("x::int[] IS NULL").find("TypeCast `::pg_catalog.int4` at position 4"),
            std::string::npos);
  EXPECT_NE(CompileError("x::timestamp(3) IS NULL").find("type modifier"), std::string::npos);
  EXPECT_NE(CompileError("x::citext = 'a'").find("TypeCast `::citext`"), std::string::npos);
}

TEST(FilterCompileTest, OtherNodesAreRejectedByName) {
  EXPECT_NE(CompileError("CASE WHEN a THEN true END").find("CaseExpr `CASE` at position 1"),
            std::string::npos);
  EXPECT_NE(CompileError("COALESCE(a, b) = 1").find("CoalesceExpr"), std::string::npos);
  EXPECT_NE(CompileError("a[1] = 1").find("A_Indirection"), std::string::npos);
  EXPECT_NE(CompileError("x = ARRAY[1]").find("A_ArrayExpr"), std::string::npos);
  EXPECT_NE(CompileError("x = CURRENT_DATE").find("SQLValueFunction"), std::string::npos);
  EXPECT_NE(CompileError("x = B'101'").find("bit string literal"), std::string::npos);
  EXPECT_NE(CompileError("name COLLATE \"de_DE\" = 'x'").find("COLLATE `de_DE`"),
            std::string::npos);
}

TEST(FilterCompileTest, ClausesOfTheWrappingSelectAreRejected) {
  EXPECT_NE(CompileError("1 = 1 FROM pg_class").find("FROM clause"), std::string::npos);
  EXPECT_NE(CompileError("true WHERE false").find("WHERE clause"), std::string::npos);
  EXPECT_NE(CompileError("true ORDER BY 1").find("ORDER BY clause"), std::string::npos);
  EXPECT_NE(CompileError("true UNION SELECT false").find("set operation"), std::string::npos);
  EXPECT_NE(CompileError("true LIMIT 1").find("LIMIT clause"), std::string::npos);
  EXPECT_NE(CompileError("a = 1 AS x").find("alias `x`"), std::string::npos);
}

TEST(FilterCompileTest, OneExpressionOnly) {
  EXPECT_NE(CompileError("a = 1, b = 2").find("second expression at position 8"),
            std::string::npos);
  EXPECT_NE(CompileError("a = 1; DROP TABLE t").find("multiple statements at position"),
            std::string::npos);
  EXPECT_NE(CompileError("").find("empty filter"), std::string::npos);
  EXPECT_NE(CompileError("   ").find("empty filter"), std::string::npos);
}

TEST(FilterCompileTest, SyntaxErrorsReportTheirPosition) {
  EXPECT_EQ(CompileError("a = = 1"), "filter: syntax error at or near \"=\" at position 5");
  EXPECT_EQ(CompileError("status = 'paid' AND (a"),
            "filter: syntax error at end of input at position 23");
  // Postgres reads a trailing keyword as a column label.
  EXPECT_NE(CompileError("status = 'paid' AND").find("alias `and` at position 17"),
            std::string::npos);
  EXPECT_NE(CompileError("status = 'paid")
                .find("unterminated quoted string at or near "
                      "\"'paid\" at position 10"),
            std::string::npos);
}

TEST(FilterCompileTest, PositionsCountCharactersNotBytes) {
  // "é" and "ü" are two bytes each in UTF-8.
  EXPECT_NE(CompileError("\"é\" = 'ü' AND now()").find("FuncCall `now()` at position 15"),
            std::string::npos);
  EXPECT_NE(CompileError("'ü' = = 1").find("at position 7"), std::string::npos);
}

TEST(FilterCompileTest, NonBooleanExpressionsAreRejected) {
  EXPECT_NE(CompileError("1 + 2").find("must be type boolean, not type integer at position 3"),
            std::string::npos);
  EXPECT_NE(CompileError("a = 1 AND 5")
                .find("argument of AND must be type boolean, not type "
                      "integer at position 11"),
            std::string::npos);
  EXPECT_NE(CompileError("data->>'x'").find("not type text"), std::string::npos);
  EXPECT_NE(CompileError("NOT 'x'::text").find("argument of NOT"), std::string::npos);
  EXPECT_NE(CompileError("action").find("not type text"), std::string::npos);
}

TEST(FilterCompileTest, LiteralCastsAreCheckedAtCompileTime) {
  std::string e = CompileError("x = 'abc'::int");
  EXPECT_NE(e.find("invalid input syntax for type integer: \"abc\" (at position 12)"),
            std::string::npos)
      << e;
  EXPECT_NE(CompileError("t > '2024-13-01'::date").find("out of range"), std::string::npos);
  EXPECT_NE(CompileError("j = '{bad'::jsonb").find("invalid input syntax for type jsonb"),
            std::string::npos);
  EXPECT_NE(CompileError("x = 1/0").find("division by zero"), std::string::npos);
  EXPECT_NE(CompileError("x = 2147483647 + 1").find("integer out of range"), std::string::npos);
  EXPECT_NE(CompileError("'{}'->>'a' = 'x'").find("operator is not unique"), std::string::npos);
  EXPECT_NE(CompileError("x LIKE 'a' ESCAPE 'ab'").find("invalid escape string"),
            std::string::npos);
}

TEST(FilterCompileTest, SupportedConstructsCompile) {
  for (const char* sql : {
           "status = 'paid' AND total > 100 AND customer->>'tier' IN ('gold','vip')",
           "a <> 1 OR a != 2 OR a < 3 OR a <= 4 OR a > 5 OR a >= 6",
           "NOT (a IS NULL) AND b IS NOT NULL",
           "a BETWEEN 1 AND 2 AND a NOT BETWEEN 5 AND 6 AND a BETWEEN SYMMETRIC 3 AND 1",
           "a IS TRUE OR a IS NOT TRUE OR a IS FALSE OR a IS NOT FALSE OR a IS UNKNOWN",
           "a IS DISTINCT FROM b AND a IS NOT DISTINCT FROM 3",
           "s LIKE 'a%' AND s NOT LIKE '_b' AND s ILIKE 'X%' AND s NOT ILIKE 'y' AND s LIKE "
           "'a#%' ESCAPE '#'",
           "j->'a'->0->>'b' = 'x' AND j->>-1 IS NULL",
           "created_at > '2024-01-01'::timestamptz AND CAST('5' AS int) = 5 AND "
           "'{\"a\":1}'::jsonb->>'a' = '1'",
           "timestamptz '2024-01-01 00:00:00+00' < created_at AND date '2024-01-01' <= d",
           "-a = 1 AND +a = -1 AND (a + 1) * 2 / 3 % 4 = 1",
           "record.action = 'x' AND action = 'insert' AND changes.status = 'pending'",
           "\"Hostile Col\" = 1 AND \"with \"\"quote\"\"\" = 2 AND \"ünï\" = 3",
           "name COLLATE \"C\" < 'b'",
           "x::numeric(10,2) = 1.5 AND y::varchar(3) = 'abc' AND z::char(2) = 'ab'",
       }) {
    EXPECT_NE(MustCompile(sql), nullptr) << sql;
  }
}

TEST(FilterCompileTest, TextIsKept) {
  auto f = MustCompile("a = 1");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->text(), "a = 1");
}

// ---------------------------------------------------------------------------
// Evaluation against a Change (cases that Postgres cannot check: action,
// changes.col, TOAST, missing columns, several relations).

class FilterEvalTest : public ::testing::Test {
 protected:
  Change Insert(source::RelationRef rel, const std::vector<std::optional<std::string>>& values) {
    Change c;
    c.action = Action::kInsert;
    c.relation = std::move(rel);
    c.new_values = rows_.Values(values);
    return c;
  }

  Change Update(source::RelationRef rel, const std::vector<std::optional<std::string>>& now,
                const std::vector<std::optional<std::string>>& before, bool key_only = false) {
    Change c;
    c.action = Action::kUpdate;
    c.relation = std::move(rel);
    c.new_values = rows_.Values(now);
    if (!before.empty()) {
      c.old_values = rows_.Values(before);
      c.has_old = true;
      c.old_is_key_only = key_only;
    }
    return c;
  }

  std::optional<bool> Eval(const std::string& sql, const Change& change) {
    auto f = MustCompile(sql);
    if (f == nullptr) return std::nullopt;
    auto r = f->Evaluate(change);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? *r : std::nullopt;
  }

  std::string EvalError(const std::string& sql, const Change& change) {
    auto f = MustCompile(sql);
    if (f == nullptr) return "";
    auto r = f->Matches(change);
    EXPECT_FALSE(r.ok()) << sql;
    if (r.ok()) return "";
    EXPECT_TRUE(r.status().IsPermanent());
    return r.status().message();
  }

  Rows rows_;
};

TEST_F(FilterEvalTest, ActionIsTheMessageAction) {
  auto rel = Relation({{"id", kInt4Oid}});
  Change insert = Insert(rel, {"1"});
  Change update = Update(rel, {"1"}, {});
  Change del;
  del.action = Action::kDelete;
  del.relation = rel;
  del.old_values = rows_.Values({"1"});
  del.has_old = true;
  Change read = Insert(rel, {"1"});
  read.action = Action::kRead;

  EXPECT_EQ(Eval("action = 'insert'", insert), true);
  EXPECT_EQ(Eval("action = 'insert'", update), false);
  EXPECT_EQ(Eval("action = 'update'", update), true);
  EXPECT_EQ(Eval("action = 'delete' AND id = 1", del), true);
  EXPECT_EQ(Eval("action IN ('insert', 'read')", read), true);
  EXPECT_EQ(Eval("action <> 'read'", read), false);
}

TEST_F(FilterEvalTest, ColumnNamedActionIsRecordAction) {
  auto rel = Relation({{"action", kTextOid}});
  Change c = Insert(rel, {"refund"});
  EXPECT_EQ(Eval("record.action = 'refund'", c), true);
  EXPECT_EQ(Eval("action = 'refund'", c), false);
  EXPECT_EQ(Eval("action = 'insert' AND record.action LIKE 'ref%'", c), true);
}

TEST_F(FilterEvalTest, ChangesColIsTheOldValueOfAChangedColumn) {
  auto rel = Relation({{"id", kInt4Oid}, {"status", kTextOid}, {"total", kNumericOid}});
  Change c = Update(rel, {"1", "paid", "20.00"}, {"1", "pending", "20.00"});
  EXPECT_EQ(Eval("changes.status = 'pending'", c), true);
  EXPECT_EQ(Eval("changes.status = 'pending' AND status = 'paid'", c), true);
  // Unchanged columns are not in `changes`.
  EXPECT_EQ(Eval("changes.total IS NULL", c), true);
  EXPECT_EQ(Eval("changes.id IS NULL", c), true);
  // Typed like the column.
  Change price = Update(rel, {"1", "paid", "25.50"}, {"1", "paid", "9.5"});
  EXPECT_EQ(Eval("changes.total < total", price), true);
  EXPECT_EQ(Eval("changes.total = 9.50", price), true);
}

TEST_F(FilterEvalTest, ChangesColIsNullWithoutAFullOldRow) {
  auto rel = Relation({{"id", kInt4Oid}, {"status", kTextOid}});
  EXPECT_EQ(Eval("changes.status IS NULL", Update(rel, {"1", "paid"}, {})), true);
  EXPECT_EQ(Eval("changes.status IS NULL",
                 Update(rel, {"1", "paid"}, {"1", std::nullopt}, /*key_only=*/true)),
            true);
  EXPECT_EQ(Eval("changes.status IS NULL", Insert(rel, {"1", "paid"})), true);
  // A column that changed from NULL: the old value is NULL.
  EXPECT_EQ(Eval("changes.status IS NULL", Update(rel, {"1", "paid"}, {"1", std::nullopt})), true);
  // A column that changed to NULL: the old value.
  EXPECT_EQ(Eval("changes.status = 'paid'", Update(rel, {"1", std::nullopt}, {"1", "paid"})), true);
}

TEST_F(FilterEvalTest, ChangesColIgnoresUnchangedToast) {
  auto rel = Relation({{"id", kInt4Oid}, {"body", kTextOid}});
  // New value unchanged TOAST, old row full: the value is the old one, so
  // the column did not change.
  Change c = Update(rel, {"2", kToast}, {"1", "long text"});
  EXPECT_EQ(Eval("changes.body IS NULL AND body = 'long text'", c), true);
  EXPECT_EQ(Eval("changes.id = 1", c), true);
}

TEST_F(FilterEvalTest, UnchangedToastWithoutOldValueIsNull) {
  auto rel = Relation({{"id", kInt4Oid}, {"body", kTextOid}});
  Change c = Update(rel, {"1", kToast}, {});
  EXPECT_EQ(Eval("body IS NULL", c), true);
  EXPECT_EQ(Eval("body = 'x'", c), std::nullopt);
}

TEST_F(FilterEvalTest, DeleteEvaluatesTheOldRow) {
  auto rel = Relation({{"id", kInt4Oid}, {"status", kTextOid}});
  Change c;
  c.action = Action::kDelete;
  c.relation = rel;
  c.old_values = rows_.Values({"7", std::nullopt});
  c.has_old = true;
  c.old_is_key_only = true;
  EXPECT_EQ(Eval("id = 7", c), true);
  EXPECT_EQ(Eval("status IS NULL", c), true);
}

TEST_F(FilterEvalTest, TruncateHasNoRow) {
  Change c;
  c.action = Action::kTruncate;
  c.truncated.push_back(Relation({{"id", kInt4Oid}}));
  EXPECT_EQ(Eval("id IS NULL AND action = 'truncate'", c), true);
  EXPECT_EQ(Eval("id = 1", c), std::nullopt);
  auto f = MustCompile("id = 1 OR id IS NULL");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->Matches(c).value(), true);
}

TEST_F(FilterEvalTest, ColumnsNotInTheTableAreNull) {
  auto rel = Relation({{"id", kInt4Oid}});
  Change c = Insert(rel, {"1"});
  EXPECT_EQ(Eval("missing IS NULL", c), true);
  EXPECT_EQ(Eval("missing = 1", c), std::nullopt);
  EXPECT_EQ(Eval("missing->>'a' IS NULL", c), true);
  EXPECT_EQ(Eval("missing LIKE 'a%' OR id = 1", c), true);
  EXPECT_EQ(Eval("changes.missing IS NULL", c), true);
}

TEST_F(FilterEvalTest, MatchesIsFalseForFalseAndNull) {
  auto rel = Relation({{"id", kInt4Oid}, {"flag", kBoolOid}});
  auto f = MustCompile("flag");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->Matches(Insert(rel, {"1", "t"})).value(), true);
  EXPECT_EQ(f->Matches(Insert(rel, {"1", "f"})).value(), false);
  EXPECT_EQ(f->Matches(Insert(rel, {"1", std::nullopt})).value(), false);
  EXPECT_EQ(f->Evaluate(Insert(rel, {"1", std::nullopt})).value(), std::nullopt);
}

TEST_F(FilterEvalTest, SeveralRelationsKeepTheirOwnColumnLookups) {
  auto orders = Relation({{"id", kInt4Oid}, {"status", kTextOid}});
  auto users = Relation({{"status", kInt4Oid}, {"name", kTextOid}, {"id", kInt8Oid}});
  auto f = MustCompile("status = '1' OR id = 99");
  ASSERT_NE(f, nullptr);
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(f->Evaluate(Insert(orders, {"99", "x"})).value(), true);
    EXPECT_EQ(f->Evaluate(Insert(orders, {"1", "1"})).value(), true);
    EXPECT_EQ(f->Evaluate(Insert(orders, {"1", "2"})).value(), false);
    EXPECT_EQ(f->Evaluate(Insert(users, {"1", "bob", "5"})).value(), true);
    // users.status is an integer column: '1' is read as an integer there.
    EXPECT_EQ(f->Evaluate(Insert(users, {"2", "bob", "99"})).value(), true);
    EXPECT_EQ(f->Evaluate(Insert(users, {"2", "bob", "5"})).value(), false);
  }
  // A new Relation message (new RelationInfo) for the same table.
  auto orders2 = Relation({{"status", kTextOid}, {"id", kInt4Oid}});
  EXPECT_EQ(f->Evaluate(Insert(orders2, {"x", "99"})).value(), true);
}

TEST_F(FilterEvalTest, EnumsDomainsAndExtensionTypesUseTheResolvedKind) {
  auto rel = std::make_shared<source::RelationInfo>();
  source::ColumnInfo amount;  // a domain over int8
  amount.name = "amount";
  amount.type_oid = 70001;
  amount.type = values::BuiltinType(kInt8Oid);
  source::ColumnInfo mood;  // an enum
  mood.name = "mood";
  mood.type_oid = 70002;
  mood.type = values::TextType();
  rel->columns = {amount, mood};
  Change c = Insert(rel, {"10", "happy"});
  EXPECT_EQ(Eval("amount > 9 AND amount < 10.5", c), true);
  EXPECT_EQ(Eval("mood = 'happy'", c), true);
}

TEST_F(FilterEvalTest, UninterpretedTypesCompareOnlyAsText) {
  auto rel = Relation({{"wait", kIntervalOid}});
  Change c = Insert(rel, {"1 day"});
  EXPECT_EQ(Eval("wait::text = '1 day'", c), true);
  EXPECT_EQ(Eval("wait IS NOT NULL", c), true);
  std::string e = EvalError("wait = '1 day'", c);
  EXPECT_NE(e.find("operator does not exist"), std::string::npos) << e;
  EXPECT_NE(e.find("col::text"), std::string::npos) << e;
}

// ---------------------------------------------------------------------------
// Runtime errors: values that do not convert are errors, not crashes.

TEST_F(FilterEvalTest, CastOfABadRowValueIsAnError) {
  auto rel = Relation({{"code", kTextOid}});
  std::string e = EvalError("code::int > 1", Insert(rel, {"abc"}));
  EXPECT_EQ(e, "filter: invalid input syntax for type integer: \"abc\" (at position 7)");
  EXPECT_EQ(Eval("code::int > 1", Insert(rel, {" 12 "})), true);
}

TEST_F(FilterEvalTest, TypeMismatchIsAnError) {
  auto rel = Relation({{"code", kTextOid}, {"n", kInt4Oid}, {"j", kJsonbOid}});
  Change c = Insert(rel, {"abc", "5", "{\"a\": 1}"});
  EXPECT_NE(EvalError("code = 5", c).find("operator does not exist: text = integer"),
            std::string::npos);
  EXPECT_NE(EvalError("n = 'five'", c).find("invalid input syntax for type integer: \"five\""),
            std::string::npos);
  EXPECT_NE(EvalError("code->>'a' = '1'", c).find("operator does not exist: text ->> unknown"),
            std::string::npos);
  EXPECT_NE(EvalError("n LIKE '5'", c).find("operator does not exist: integer ~~"),
            std::string::npos);
  EXPECT_NE(EvalError("n AND true", c).find("argument of AND must be type boolean"),
            std::string::npos);
  EXPECT_NE(EvalError("n", c).find("argument of the filter must be type boolean"),
            std::string::npos);
  EXPECT_NE(EvalError("(j->'a')::int / 0 = 1", c).find("division by zero"), std::string::npos);
  EXPECT_NE(EvalError("j < '{}'", c).find("operator does not exist: jsonb < jsonb"),
            std::string::npos);
  EXPECT_NE(EvalError("(j->>'a')::int + 2147483647 > 0", c).find("out of range"),
            std::string::npos);
  EXPECT_EQ(Eval("(j->>'a')::int8 * 2147483647 > 0", c), true);
}

TEST_F(FilterEvalTest, TimestamptzColumnAgainstUntypedLiteral) {
  auto rel = Relation({{"created_at", kTimestampTzOid}});
  Change c = Insert(rel, {"2024-03-01 10:00:00.5+00"});
  EXPECT_EQ(Eval("created_at > '2024-01-01'", c), true);
  EXPECT_EQ(Eval("created_at = '2024-03-01T12:00:00.5+02:00'", c), true);
  EXPECT_NE(EvalError("created_at > 'now'", c).find("relative to the current time"),
            std::string::npos);
}

}  // namespace
}  // namespace sluice::filter
