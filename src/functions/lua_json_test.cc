#include "functions/lua_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <lua.hpp>
#include <string>

namespace sluice::functions {
namespace {

// A bare state with the array marker metatable at index 1.
class LuaJsonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    L_ = luaL_newstate();
    lua_newtable(L_);
  }
  void TearDown() override { lua_close(L_); }

  static int Decode(lua_State* L) {
    size_t size = 0;
    const char* text = lua_tolstring(L, lua_upvalueindex(1), &size);
    PushJson(L, text, size, 1, "test");
    return 1;
  }

  // Decodes `text` (protected) and encodes the result again, or "error: ...".
  std::string RoundTrip(const std::string& text) {
    lua_settop(L_, 1);
    lua_pushvalue(L_, 1);  // the protected function gets it as argument 1
    lua_pushlstring(L_, text.data(), text.size());
    lua_pushcclosure(L_, Decode, 1);
    lua_insert(L_, 2);
    if (lua_pcall(L_, 1, 1, 0) != LUA_OK) return std::string("error: ") + lua_tostring(L_, -1);
    return Encode(-1);
  }

  std::string Encode(int index) {
    JsonEncoder encoder(L_, 1);
    std::string out;
    if (!encoder.Encode(index, out)) return "error: " + encoder.error();
    return out;
  }

  lua_State* L_ = nullptr;
};

TEST_F(LuaJsonTest, ScalarsAndContainersRoundTrip) {
  for (const char* text :
       {"null", "true", "false", "0", "-1", "9223372036854775807", "-9223372036854775808", "0.5",
        "-0.0", "1e+300", "\"\"", "[]", "{}", "[[],{}]", "{\"a\":[1,{\"b\":null}]}",
        "\"\\u0000\\u001f\"", "[1,2.5,\"x\",true,null]"}) {
    EXPECT_EQ(RoundTrip(text), text);
  }
}

TEST_F(LuaJsonTest, WhitespaceAndEscapesAreNormalised) {
  EXPECT_EQ(RoundTrip(" { \"b\" : 1 ,\n\t\"a\" : [ ] } "), R"({"a":[],"b":1})");
  EXPECT_EQ(RoundTrip(R"("\/\b\f\n\r\t\"\\")"), R"("/\b\f\n\r\t\"\\")");
  EXPECT_EQ(RoundTrip(R"("\u00e9\u20ac\ud83d\ude00")"), "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"");
  // Lone surrogates become U+FFFD.
  EXPECT_EQ(RoundTrip(R"("\ud800x\udc00\ud800\u0041")"),
            "\"\xEF\xBF\xBDx\xEF\xBF\xBD\xEF\xBF\xBD"
            "A\"");
}

TEST_F(LuaJsonTest, NumbersOutsideInt64AreFloats) {
  EXPECT_EQ(RoundTrip("9223372036854775808"), "9223372036854775808.0");
  EXPECT_EQ(RoundTrip("-9223372036854775809"), "-9223372036854775808.0");
  EXPECT_EQ(RoundTrip("123456789012345678901234567890"), "1.2345678901234568e+29");
  EXPECT_EQ(RoundTrip("1e2"), "100.0");
  EXPECT_EQ(RoundTrip("1e-400"), "0.0");
  EXPECT_EQ(RoundTrip("1e400"), "error: infinity is not valid JSON at $");
  EXPECT_EQ(RoundTrip("[-1e400]"), "error: infinity is not valid JSON at $[1]");
}

TEST_F(LuaJsonTest, MalformedJsonIsAnError) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c : {
           Case{"", "test: invalid JSON at byte 0: unexpected end"},
           Case{"[1,]", "test: invalid JSON at byte 3: unexpected character"},
           Case{"{\"a\" 1}", "test: invalid JSON at byte 5: expected ':'"},
           Case{"{1:2}", "test: invalid JSON at byte 1: expected a string key"},
           Case{"01", "test: invalid JSON at byte 1: unexpected data after the value"},
           Case{"-", "test: invalid JSON at byte 1: bad number"},
           Case{"1.", "test: invalid JSON at byte 2: bad number"},
           Case{"1e", "test: invalid JSON at byte 2: bad number"},
           Case{"\"abc", "test: invalid JSON at byte 4: unterminated string"},
           Case{"\"a\\x\"", "test: invalid JSON at byte 3: bad escape"},
           Case{"\"\\u12\"", "test: invalid JSON at byte 2: truncated \\u escape"},
           Case{"\"\\u12zz\"", "test: invalid JSON at byte 2: bad \\u escape"},
           Case{"\"a\nb\"", "test: invalid JSON at byte 2: control character in string"},
           Case{"nul", "test: invalid JSON at byte 0: unexpected word"},
           Case{"[1] [2]", "test: invalid JSON at byte 4: unexpected data after the value"},
       }) {
    EXPECT_EQ(RoundTrip(c.text), std::string("error: ") + c.error) << c.text;
  }
}

TEST_F(LuaJsonTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep(100000, '[');
  EXPECT_NE(RoundTrip(deep).find("nested too deeply"), std::string::npos);
  std::string ok = std::string(500, '[') + std::string(500, ']');
  EXPECT_EQ(RoundTrip(ok), ok);
}

TEST_F(LuaJsonTest, EncoderSortsKeysAndClassifiesTables) {
  lua_newtable(L_);
  lua_pushinteger(L_, 1);
  lua_setfield(L_, -2, "b");
  lua_pushinteger(L_, 2);
  lua_setfield(L_, -2, "a");
  lua_pushinteger(L_, 3);
  lua_setfield(L_, -2, "ab");
  EXPECT_EQ(Encode(-1), R"({"a":2,"ab":3,"b":1})");
  lua_settop(L_, 1);

  lua_newtable(L_);
  for (int i = 1; i <= 3; ++i) {
    lua_pushinteger(L_, i * 10);
    lua_rawseti(L_, -2, i);
  }
  EXPECT_EQ(Encode(-1), "[10,20,30]");
  lua_pushnil(L_);
  lua_rawseti(L_, -2, 2);  // a hole: keys 1 and 3
  EXPECT_EQ(Encode(-1), R"({"1":10,"3":30})");
  lua_settop(L_, 1);

  lua_newtable(L_);
  lua_pushvalue(L_, 1);
  lua_setmetatable(L_, -2);
  EXPECT_EQ(Encode(-1), "[]");
  lua_settop(L_, 1);
}

TEST_F(LuaJsonTest, EncoderLeavesTheStackAsItWas) {
  lua_newtable(L_);
  lua_newtable(L_);
  lua_pushnumber(L_, std::numeric_limits<double>::quiet_NaN());
  lua_setfield(L_, -2, "bad");
  lua_setfield(L_, -2, "inner");
  const int top = lua_gettop(L_);
  EXPECT_EQ(Encode(-1), "error: NaN is not valid JSON at $.inner.bad");
  EXPECT_EQ(lua_gettop(L_), top);
  lua_settop(L_, 1);
}

TEST(AppendJsonDoubleTest, ShortestTextThatReadsBackAsAFloat) {
  auto text = [](double value) {
    std::string out;
    AppendJsonDouble(out, value);
    return out;
  };
  EXPECT_EQ(text(0.1), "0.1");
  EXPECT_EQ(text(1.0), "1.0");
  EXPECT_EQ(text(-0.0), "-0.0");
  EXPECT_EQ(text(123456.789), "123456.789");
  EXPECT_EQ(text(1e21), "1e+21");
  EXPECT_EQ(text(5e-324), "5e-324");
  EXPECT_EQ(text(std::nextafter(1.0, 2.0)), "1.0000000000000002");
}

}  // namespace
}  // namespace sluice::functions
