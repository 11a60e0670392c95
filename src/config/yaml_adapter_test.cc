#include "config/yaml_adapter.h"

#include <gtest/gtest.h>

#include <map>

namespace sluice::config {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

struct Parsed {
  Node root;
  ConfigErrors errors;
  std::string Errors() const { return FormatErrors(errors); }
};

Parsed Parse(std::string_view yaml, std::map<std::string, std::string> env = {}) {
  Parsed parsed;
  parsed.root = ParseYaml(yaml, "t.yaml", FakeEnv(std::move(env)), parsed.errors);
  return parsed;
}

TEST(YamlAdapterTest, BuildsPathsPositionsAndFileOrder) {
  Parsed p = Parse(
      "zeta: 1\n"
      "sinks:\n"
      "  - name: a\n"
      "    destination:\n"
      "      url: \"http://x\"\n"
      "alpha: [x, 'y']\n");
  ASSERT_EQ(p.Errors(), "");
  ASSERT_TRUE(p.root.IsMap());
  ASSERT_EQ(p.root.entries.size(), 3u);
  EXPECT_EQ(p.root.entries[0].first, "zeta");
  EXPECT_EQ(p.root.entries[1].first, "sinks");
  EXPECT_EQ(p.root.entries[2].first, "alpha");

  const Node& url = p.root.Find("sinks")->items[0].Find("destination")->entries[0].second;
  EXPECT_EQ(url.path, "sinks[0].destination.url");
  EXPECT_EQ(url.file, "t.yaml");
  EXPECT_EQ(url.line, 5);
  EXPECT_EQ(url.column, 12);
  EXPECT_EQ(url.key_line, 5);
  EXPECT_EQ(url.key_column, 7);
  EXPECT_TRUE(url.quoted);
  EXPECT_EQ(url.scalar, "http://x");

  const Node& alpha = *p.root.Find("alpha");
  ASSERT_TRUE(alpha.IsSequence());
  EXPECT_EQ(alpha.items[1].path, "alpha[1]");
  EXPECT_FALSE(alpha.items[0].quoted);
  EXPECT_TRUE(alpha.items[1].quoted);
}

TEST(YamlAdapterTest, EmptyTextIsANullNode) {
  Parsed p = Parse("");
  EXPECT_EQ(p.Errors(), "");
  EXPECT_TRUE(p.root.IsNull());
  EXPECT_EQ(p.root.file, "t.yaml");
}

TEST(YamlAdapterTest, EmptyValueIsNullPositionedAtItsKey) {
  Parsed p = Parse("a:\nb: 1\n");
  ASSERT_EQ(p.Errors(), "");
  const Node& a = *p.root.Find("a");
  EXPECT_TRUE(a.IsNull());
  EXPECT_EQ(a.line, 1);
  EXPECT_EQ(a.path, "a");
}

TEST(YamlAdapterTest, SyntaxErrorGivesLineAndNullRoot) {
  Parsed p = Parse("a: 1\nb: [1, 2\nc: 3\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].file, "t.yaml");
  EXPECT_GT(p.errors[0].line, 1);
  EXPECT_NE(p.errors[0].message.find("invalid YAML: "), std::string::npos);
  EXPECT_TRUE(p.root.IsNull());
}

TEST(YamlAdapterTest, TabIndentationIsASyntaxErrorNotACrash) {
  Parsed p = Parse("a:\n\t- b\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].line, 2);
}

TEST(YamlAdapterTest, DuplicateKeyIsAnError) {
  Parsed p = Parse("sinks:\n  - name: a\n    batch_size: 1\n    batch_size: 2\n");
  EXPECT_EQ(p.Errors(),
            "t.yaml:4:5: sinks[0].batch_size: duplicate key (first written at line 3)\n");
  // The first value is kept.
  EXPECT_EQ(p.root.Find("sinks")->items[0].Find("batch_size")->scalar, "1");
}

TEST(YamlAdapterTest, NonStringKeyIsAnError) {
  Parsed p = Parse("? [a, b]\n: 1\nok: 2\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].message, "a map key must be a string, not a list");
  EXPECT_EQ(p.root.entries.size(), 1u);
}

TEST(YamlAdapterTest, InterpolatesValuesButNotKeys) {
  Parsed p = Parse("${K}: ${V}\nq: \"<${V}>\"\n", {{"K", "key"}, {"V", "value"}});
  ASSERT_EQ(p.Errors(), "");
  EXPECT_EQ(p.root.entries[0].first, "${K}");
  EXPECT_EQ(p.root.entries[0].second.scalar, "value");
  EXPECT_EQ(p.root.Find("q")->scalar, "<value>");
  EXPECT_TRUE(p.root.Find("q")->quoted);
}

TEST(YamlAdapterTest, MissingEnvVarErrorHasTheLine) {
  Parsed p = Parse("a: 1\nb:\n  c: x${NOPE}y\n");
  EXPECT_EQ(p.Errors(),
            "t.yaml:3:6: b.c: environment variable NOPE is not set (write ${NOPE:-default} to "
            "give a default)\n");
}

TEST(YamlAdapterTest, ValueInterpolatedToNothingIsNull) {
  Parsed p = Parse("a: ${E:-}\nb: \"${E:-}\"\nc: ${N:-null}\nd: \"x${E:-}\"\ne: \"\"\n");
  ASSERT_EQ(p.Errors(), "");
  EXPECT_TRUE(p.root.Find("a")->IsNull());
  EXPECT_TRUE(p.root.Find("b")->IsNull());
  EXPECT_TRUE(p.root.Find("c")->IsNull());
  EXPECT_EQ(p.root.Find("d")->scalar, "x");
  EXPECT_TRUE(p.root.Find("e")->IsScalar());
}

TEST(YamlAdapterTest, AliasIsCopiedWithItsNewPath) {
  Parsed p = Parse(
      "base: &b\n"
      "  x: 1\n"
      "copies:\n"
      "  - *b\n");
  ASSERT_EQ(p.Errors(), "");
  const Node& copy = p.root.Find("copies")->items[0];
  ASSERT_TRUE(copy.IsMap());
  EXPECT_EQ(copy.Find("x")->path, "copies[0].x");
  EXPECT_EQ(copy.Find("x")->line, 2);  // where the value is written
}

TEST(YamlAdapterTest, MergeKeyAddsMissingKeys) {
  Parsed p = Parse(
      "defaults: &d {batch_size: 10, active: false}\n"
      "sink:\n"
      "  <<: *d\n"
      "  active: true\n"
      "  name: s\n");
  ASSERT_EQ(p.Errors(), "");
  const Node& sink = *p.root.Find("sink");
  EXPECT_EQ(sink.Find("<<"), nullptr);
  EXPECT_EQ(sink.Find("active")->scalar, "true");
  ASSERT_NE(sink.Find("batch_size"), nullptr);
  EXPECT_EQ(sink.Find("batch_size")->scalar, "10");
  EXPECT_EQ(sink.Find("batch_size")->path, "sink.batch_size");
}

TEST(YamlAdapterTest, MergeOfAScalarIsAnError) {
  Parsed p = Parse("a:\n  <<: 5\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].message, "a merge key (<<) takes a map or a list of maps, not \"5\"");
}

TEST(YamlAdapterTest, RecursiveAliasIsAnError) {
  Parsed p = Parse("a: &x [1, *x]\n");
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].message, "an alias may not refer to a node that contains it");
  EXPECT_EQ(p.errors[0].path, "a[1]");
}

TEST(YamlAdapterTest, AliasExpansionBombIsRejected) {
  std::string yaml = "a0: &a0 [\"" + std::string(100, 'x') + "\"]\n";
  for (int i = 1; i < 30; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + prev + ", " + prev +
            ", " + prev + ", " + prev + "]\n";
  }
  Parsed p = Parse(yaml);
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].message, "the document is too large once its aliases are expanded");
  EXPECT_TRUE(p.root.IsNull());
}

TEST(YamlAdapterTest, DeepNestingIsRejected) {
  Parsed p = Parse("a: " + std::string(500, '[') + std::string(500, ']'));
  EXPECT_EQ(
      p.Errors(), "t.yaml:1:67: a" + [] {
        std::string path;
        for (int i = 0; i < 63; ++i) path += "[0]";
        return path;
      }() + ": nested more than 64 levels deep\n");
  EXPECT_TRUE(p.root.IsNull());
}

TEST(YamlAdapterTest, SecondDocumentIsAnError) {
  Parsed p = Parse("a: 1\n---\nb: 2\n");
  EXPECT_EQ(p.Errors(),
            "t.yaml:2:1: a config file holds one YAML document; found a second one here\n");
  EXPECT_NE(p.root.Find("a"), nullptr);
  EXPECT_EQ(p.root.Find("b"), nullptr);
}

TEST(YamlAdapterTest, LoneQuotedReferenceTakesTheTypeOfItsValue) {
  Parsed p = Parse("a: \"${N}\"\nb: \"x${N}\"\nc: '${E:-}'\n", {{"N", "5"}});
  ASSERT_EQ(p.Errors(), "");
  EXPECT_FALSE(p.root.Find("a")->quoted);
  EXPECT_EQ(p.root.Find("a")->scalar, "5");
  EXPECT_TRUE(p.root.Find("b")->quoted);
  EXPECT_TRUE(p.root.Find("c")->IsNull());
}

TEST(YamlAdapterTest, ExplicitStringTagIsQuoted) {
  Parsed p = Parse("a: !!str 5\nb: |\n  text\n");
  ASSERT_EQ(p.Errors(), "");
  EXPECT_TRUE(p.root.Find("a")->quoted);
  EXPECT_TRUE(p.root.Find("b")->quoted);
  EXPECT_EQ(p.root.Find("b")->scalar, "text\n");
}

}  // namespace
}  // namespace sluice::config
