#include "config/interpolation.h"

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

TEST(InterpolationTest, ReplacesSetVariables) {
  Interpolated out =
      Interpolate("postgres://u:${PW}@${HOST}/db", FakeEnv({{"PW", "s3"}, {"HOST", "h"}}));
  EXPECT_EQ(out.error, "");
  EXPECT_EQ(out.text, "postgres://u:s3@h/db");
  EXPECT_TRUE(out.substituted);
}

TEST(InterpolationTest, TextWithoutReferencesIsUnchanged) {
  Interpolated out = Interpolate("price $5 and 100%", FakeEnv({}));
  EXPECT_EQ(out.error, "");
  EXPECT_EQ(out.text, "price $5 and 100%");
  EXPECT_FALSE(out.substituted);
}

TEST(InterpolationTest, DollarDollarIsALiteralDollar) {
  Interpolated out = Interpolate("a$$b $${NOT_A_VAR} $$$", FakeEnv({}));
  EXPECT_EQ(out.error, "");
  EXPECT_EQ(out.text, "a$b ${NOT_A_VAR} $$");
}

TEST(InterpolationTest, DefaultUsedWhenUnsetOrEmpty) {
  const EnvLookup env = FakeEnv({{"EMPTY", ""}, {"SET", "v"}});
  EXPECT_EQ(Interpolate("${UNSET:-d1}", env).text, "d1");
  EXPECT_EQ(Interpolate("${EMPTY:-d2}", env).text, "d2");
  EXPECT_EQ(Interpolate("${SET:-d3}", env).text, "v");
  EXPECT_EQ(Interpolate("${UNSET:-}", env).text, "");
  EXPECT_EQ(Interpolate("${UNSET:-a:b-c $x}", env).text, "a:b-c $x");
}

TEST(InterpolationTest, SetButEmptyVariableWithoutDefaultIsEmpty) {
  Interpolated out = Interpolate("[${EMPTY}]", FakeEnv({{"EMPTY", ""}}));
  EXPECT_EQ(out.error, "");
  EXPECT_EQ(out.text, "[]");
}

TEST(InterpolationTest, UnsetVariableWithoutDefaultNamesTheVariable) {
  Interpolated out = Interpolate("x ${DB_PASSWORD} y", FakeEnv({}));
  EXPECT_EQ(out.error,
            "environment variable DB_PASSWORD is not set (write ${DB_PASSWORD:-default} to give a "
            "default)");
}

TEST(InterpolationTest, UnterminatedReferenceIsAnError) {
  EXPECT_EQ(Interpolate("abc ${HOME", FakeEnv({{"HOME", "/h"}})).error,
            "unterminated \"${\" (missing \"}\"; write $$ for a literal $)");
}

TEST(InterpolationTest, InvalidNamesAreErrors) {
  const EnvLookup env = FakeEnv({});
  EXPECT_NE(Interpolate("${}", env).error, "");
  EXPECT_NE(Interpolate("${1ABC}", env).error, "");
  EXPECT_NE(Interpolate("${A B}", env).error, "");
  EXPECT_NE(Interpolate("${A-default}", env).error, "");
  EXPECT_EQ(Interpolate("${A:-${B}}", env).error,
            "nested \"${\" in the default of ${A} is not supported");
}

TEST(InterpolationTest, TrailingDollarIsKept) {
  EXPECT_EQ(Interpolate("cost$", FakeEnv({})).text, "cost$");
}

}  // namespace
}  // namespace sluice::config
