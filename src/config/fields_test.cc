#include "config/fields.h"

#include <gtest/gtest.h>

#include "config/config_loader.h"
#include "config/yaml_adapter.h"

namespace sluice::config {
namespace {

// Parses `yaml` (no environment) and keeps the tree alive for readers.
class FieldsTest : public ::testing::Test {
 protected:
  const Node& Parse(std::string_view yaml) {
    ConfigErrors parse_errors;
    root_ = ParseYaml(yaml, "f.yaml", EnvLookup(), parse_errors);
    EXPECT_EQ(FormatErrors(parse_errors), "");
    return root_;
  }
  std::string Errors() const { return FormatErrors(errors_); }

  Node root_;
  ConfigErrors errors_;
};

TEST_F(FieldsTest, IntegerTypeErrorSaysExpectedAndFound) {
  MapReader reader(Parse("batch_size: ten\n"), errors_);
  EXPECT_EQ(reader.Int("batch_size", false, 1, 10000), std::nullopt);
  EXPECT_EQ(Errors(),
            "f.yaml:1:13: batch_size: expected an integer between 1 and 10000, got \"ten\"\n");
}

TEST_F(FieldsTest, IntegerOutOfRangeShowsTheValue) {
  MapReader reader(Parse("a: 20000\nb: -1\nc: 99999999999999999999\n"), errors_);
  EXPECT_EQ(reader.Int("a", false, 1, 10000), std::nullopt);
  EXPECT_EQ(reader.Int("b", false, 0), std::nullopt);
  EXPECT_EQ(reader.Int("c"), std::nullopt);
  EXPECT_EQ(Errors(),
            "f.yaml:1:4: a: expected an integer between 1 and 10000, got 20000\n"
            "f.yaml:2:4: b: expected an integer >= 0, got -1\n"
            "f.yaml:3:4: c: expected an integer, got 99999999999999999999\n");
}

TEST_F(FieldsTest, QuotedNumberIsAStringNotAnInteger) {
  MapReader reader(Parse("port: \"5432\"\n"), errors_);
  EXPECT_EQ(reader.Int("port"), std::nullopt);
  EXPECT_EQ(Errors(), "f.yaml:1:7: port: expected an integer, got the quoted string \"5432\"\n");
}

TEST_F(FieldsTest, IntegersArePlainDecimal) {
  MapReader reader(Parse("a: 42\nb: -7\nc: 0x10\nd: 1e3\ne: 1_000\nf: 1.0\n"), errors_);
  EXPECT_EQ(reader.Int("a"), 42);
  EXPECT_EQ(reader.Int("b"), -7);
  EXPECT_EQ(reader.Int("c"), std::nullopt);
  EXPECT_EQ(reader.Int("d"), std::nullopt);
  EXPECT_EQ(reader.Int("e"), std::nullopt);
  EXPECT_EQ(reader.Int("f"), std::nullopt);
  EXPECT_EQ(errors_.size(), 4u);
}

TEST_F(FieldsTest, BooleansAreOnlyTrueAndFalse) {
  MapReader reader(Parse("a: true\nb: false\nc: yes\nd: \"true\"\ne: True\n"), errors_);
  EXPECT_EQ(reader.Bool("a"), true);
  EXPECT_EQ(reader.Bool("b"), false);
  EXPECT_EQ(reader.Bool("c"), std::nullopt);
  EXPECT_EQ(reader.Bool("d"), std::nullopt);
  EXPECT_EQ(reader.Bool("e"), std::nullopt);
  EXPECT_EQ(Errors(),
            "f.yaml:3:4: c: expected true or false, got \"yes\"\n"
            "f.yaml:4:4: d: expected true or false, got the quoted string \"true\"\n"
            "f.yaml:5:4: e: expected true or false, got \"True\"\n");
}

TEST_F(FieldsTest, StringAcceptsQuotedAndBareScalarsKeepingTheirText) {
  MapReader reader(Parse("a: \"x\"\nb: 007\nc: true\nd: [x]\n"), errors_);
  EXPECT_EQ(reader.String("a"), "x");
  EXPECT_EQ(reader.String("b"), "007");
  EXPECT_EQ(reader.String("c"), "true");
  EXPECT_EQ(reader.String("d"), std::nullopt);
  EXPECT_EQ(Errors(), "f.yaml:4:4: d: expected a string, got a list\n");
}

TEST_F(FieldsTest, MissingRequiredKeyIsReportedAtTheMap) {
  MapReader reader(Parse("outer:\n  other: 1\n").entries[0].second, errors_);
  EXPECT_EQ(reader.String("name", true), std::nullopt);
  EXPECT_EQ(reader.String("optional"), std::nullopt);
  EXPECT_EQ(Errors(), "f.yaml:2:3: outer: missing required key \"name\"\n");
}

TEST_F(FieldsTest, NullValueOfRequiredKeyIsReported) {
  MapReader reader(Parse("name:\nopt:\n"), errors_);
  EXPECT_EQ(reader.String("name", true), std::nullopt);
  EXPECT_EQ(reader.Int("opt"), std::nullopt);
  EXPECT_EQ(Errors(), "f.yaml:1:1: name: a value is required\n");
}

TEST_F(FieldsTest, NullNodeReadsAsAnEmptyMap) {
  Node null_node;
  MapReader reader(null_node, errors_);
  EXPECT_EQ(reader.String("a"), std::nullopt);
  reader.Finish();
  EXPECT_EQ(Errors(), "");
}

TEST_F(FieldsTest, NonMapIsReportedOnceAndReadsNothing) {
  MapReader reader(Parse("slot: my_slot\n").entries[0].second, errors_);
  EXPECT_EQ(reader.String("name", true), std::nullopt);
  reader.Finish();
  EXPECT_EQ(Errors(), "f.yaml:1:7: slot: expected a map, got \"my_slot\"\n");
}

TEST_F(FieldsTest, UnknownKeyNamesAllowedKeysInReadOrder) {
  MapReader reader(Parse("name: a\nslott: b\nport: 1\nzzz: 2\n"), errors_);
  (void)reader.String("name");
  (void)reader.String("slot");
  (void)reader.Int("port");
  (void)reader.Child("publication");
  reader.Finish();
  EXPECT_EQ(Errors(),
            "f.yaml:2:1: slott: unknown key; allowed: name, slot, port, publication\n"
            "f.yaml:4:1: zzz: unknown key; allowed: name, slot, port, publication\n");
}

TEST_F(FieldsTest, UnknownKeyPointsAtTheKeyNotItsValue) {
  MapReader reader(Parse("known: 1\nunknown:\n  nested: 1\n"), errors_);
  (void)reader.Int("known");
  reader.Finish();
  EXPECT_EQ(Errors(), "f.yaml:2:1: unknown: unknown key; allowed: known\n");
}

TEST_F(FieldsTest, MillisHonoursItsRange) {
  MapReader reader(Parse("a: 250\nb: 5\n"), errors_);
  EXPECT_EQ(reader.Millis("a"), std::chrono::milliseconds(250));
  EXPECT_EQ(reader.Millis("b", false, 100, 600000), std::nullopt);
  EXPECT_EQ(Errors(),
            "f.yaml:2:4: b: expected a number of milliseconds between 100 and 600000, got 5\n");
}

TEST_F(FieldsTest, EnumListsTheAllowedValues) {
  MapReader reader(Parse("level: verbose\nformat: text\n"), errors_);
  EXPECT_EQ(reader.Enum("level", {"debug", "info"}), std::nullopt);
  EXPECT_EQ(reader.Enum("format", {"json", "text"}), "text");
  EXPECT_EQ(Errors(), "f.yaml:1:8: level: expected one of debug, info, got \"verbose\"\n");
}

TEST_F(FieldsTest, StringListReportsEachBadItemWithItsIndex) {
  MapReader reader(Parse("cols: [a, {b: 1}, c, [d]]\nnot_list: a\nok: [x, 'y', 3]\n"), errors_);
  EXPECT_EQ(reader.StringList("cols"), std::nullopt);
  EXPECT_EQ(reader.StringList("not_list"), std::nullopt);
  EXPECT_EQ(reader.StringList("ok"), (std::vector<std::string>{"x", "y", "3"}));
  EXPECT_EQ(Errors(),
            "f.yaml:1:11: cols[1]: expected a string, got a map\n"
            "f.yaml:1:22: cols[3]: expected a string, got a list\n"
            "f.yaml:2:11: not_list: expected a list of strings, got \"a\"\n");
}

TEST_F(FieldsTest, StringMapKeepsFileOrderAndScalarText) {
  MapReader reader(Parse("headers: {X-B: 2, X-A: true, X-C: \"c\"}\nbad: {k: [1]}\n"), errors_);
  auto headers = reader.StringMap("headers");
  ASSERT_TRUE(headers.has_value());
  EXPECT_EQ(*headers, (std::vector<std::pair<std::string, std::string>>{
                          {"X-B", "2"}, {"X-A", "true"}, {"X-C", "c"}}));
  EXPECT_EQ(reader.StringMap("bad"), std::nullopt);
  EXPECT_EQ(Errors(), "f.yaml:2:10: bad.k: expected a string, got a list\n");
}

TEST_F(FieldsTest, SequenceRejectsAMap) {
  MapReader reader(Parse("sinks: {name: a}\n"), errors_);
  EXPECT_EQ(reader.Sequence("sinks"), nullptr);
  EXPECT_EQ(Errors(), "f.yaml:1:8: sinks: expected a list, got a map\n");
}

TEST_F(FieldsTest, DescribeNodeEscapesAndShortens) {
  Node node;
  node.kind = Node::Kind::kScalar;
  node.scalar = "a\"b\\c\n\x01";
  EXPECT_EQ(DescribeNode(node), "\"a\\\"b\\\\c\\n\\x01\"");
  node.scalar = std::string(100, 'x');
  EXPECT_EQ(DescribeNode(node), "\"" + std::string(60, 'x') + "...\"");
}

TEST(ConfigErrorTest, ToStringOmitsWhatIsUnknown) {
  EXPECT_EQ((ConfigError{"s.yaml", 3, 5, "sinks[0].name", "bad"}).ToString(),
            "s.yaml:3:5: sinks[0].name: bad");
  EXPECT_EQ((ConfigError{"s.yaml", 3, 5, "", "bad"}).ToString(), "s.yaml:3:5: bad");
  EXPECT_EQ((ConfigError{"s.yaml", 0, 0, "", "unreadable"}).ToString(), "s.yaml: unreadable");
  EXPECT_EQ((ConfigError{"", 0, 0, "env X", "bad"}).ToString(), "env X: bad");
}

}  // namespace
}  // namespace sluice::config
