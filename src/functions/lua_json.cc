#include "functions/lua_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <lua.hpp>
#include <new>
#include <string_view>
#include <system_error>

#include "common/json_writer.h"

namespace sluice::functions {
namespace {

// Only its address matters: the light userdata with this address is json.null.
char null_sentinel;

// Everything below runs inside lua_pcall and may longjmp: plain C data only.
struct Reader {
  lua_State* L;
  const char* context;  // "message", "json.decode"
  const char* begin;
  const char* p;
  const char* end;
  int array_mt;
};

[[noreturn]] void Raise(Reader& r, const char* what) {
  luaL_error(r.L, "%s: invalid JSON at byte %I: %s", r.context,
             static_cast<lua_Integer>(r.p - r.begin), what);
  std::abort();  // luaL_error does not return
}

void SkipWhitespace(Reader& r) {
  while (r.p < r.end && (*r.p == ' ' || *r.p == '\t' || *r.p == '\n' || *r.p == '\r')) ++r.p;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

void Expect(Reader& r, const char* word, size_t size) {
  if (static_cast<size_t>(r.end - r.p) < size || std::string_view(r.p, size) != word) {
    Raise(r, "unexpected word");
  }
  r.p += size;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads the 4 hex digits after "\u" (r.p at the 'u').
uint32_t ReadHex4(Reader& r) {
  if (r.end - r.p < 5) Raise(r, "truncated \\u escape");
  uint32_t value = 0;
  for (int i = 1; i <= 4; ++i) {
    int digit = HexValue(r.p[i]);
    if (digit < 0) Raise(r, "bad \\u escape");
    value = value * 16 + static_cast<uint32_t>(digit);
  }
  r.p += 5;
  return value;
}

void AddUtf8(luaL_Buffer* b, uint32_t cp) {
  char buf[4];
  size_t n;
  if (cp < 0x80) {
    buf[0] = static_cast<char>(cp);
    n = 1;
  } else if (cp < 0x800) {
    buf[0] = static_cast<char>(0xC0 | (cp >> 6));
    buf[1] = static_cast<char>(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    buf[0] = static_cast<char>(0xE0 | (cp >> 12));
    buf[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    buf[2] = static_cast<char>(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    buf[0] = static_cast<char>(0xF0 | (cp >> 18));
    buf[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    buf[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    buf[3] = static_cast<char>(0x80 | (cp & 0x3F));
    n = 4;
  }
  luaL_addlstring(b, buf, n);
}

// r.p at the opening quote. Pushes the string.
void ParseString(Reader& r) {
  ++r.p;
  const char* start = r.p;
  while (r.p < r.end && *r.p != '"' && *r.p != '\\' && static_cast<unsigned char>(*r.p) >= 0x20) {
    ++r.p;
  }
  if (r.p < r.end && *r.p == '"') {  // the common case: no escapes
    lua_pushlstring(r.L, start, static_cast<size_t>(r.p - start));
    ++r.p;
    return;
  }
  luaL_Buffer b;
  luaL_buffinit(r.L, &b);
  luaL_addlstring(&b, start, static_cast<size_t>(r.p - start));
  while (true) {
    if (r.p >= r.end) Raise(r, "unterminated string");
    const char c = *r.p;
    if (c == '"') break;
    if (static_cast<unsigned char>(c) < 0x20) Raise(r, "control character in string");
    if (c != '\\') {
      luaL_addchar(&b, c);
      ++r.p;
      continue;
    }
    ++r.p;
    if (r.p >= r.end) Raise(r, "unterminated string");
    switch (*r.p) {
      case '"':
      case '\\':
      case '/':
        luaL_addchar(&b, *r.p);
        break;
      case 'b':
        luaL_addchar(&b, '\b');
        break;
      case 'f':
        luaL_addchar(&b, '\f');
        break;
      case 'n':
        luaL_addchar(&b, '\n');
        break;
      case 'r':
        luaL_addchar(&b, '\r');
        break;
      case 't':
        luaL_addchar(&b, '\t');
        break;
      case 'u': {
        uint32_t cp = ReadHex4(r);
        if (cp >= 0xD800 && cp <= 0xDBFF && r.end - r.p >= 6 && r.p[0] == '\\' && r.p[1] == 'u') {
          const char* save = r.p;
          ++r.p;
          uint32_t low = ReadHex4(r);
          if (low >= 0xDC00 && low <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else {
            r.p = save;  // not a pair: the high half alone is replaced below
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // lone surrogate
        AddUtf8(&b, cp);
        continue;  // ReadHex4 moved past the escape
      }
      default:
        Raise(r, "bad escape");
    }
    ++r.p;
  }
  ++r.p;
  luaL_pushresult(&b);
}

// For a number from_chars rejects as out of range: +-HUGE_VAL when it is too
// large, +-0 when too small. Only the position of the first significant digit
// matters at that scale.
double OutOfRangeDouble(const char* begin, const char* end) {
  const bool negative = *begin == '-';
  const char* p = begin + (negative ? 1 : 0);
  int64_t magnitude = 0;  // decimal exponent of the first significant digit, plus one
  bool found = false;
  int64_t int_digits = 0;
  while (p < end && IsDigit(*p)) {
    if (!found && *p != '0') {
      found = true;
      magnitude = 0;
    }
    if (found) ++magnitude;
    ++int_digits;
    ++p;
  }
  if (p < end && *p == '.') {
    ++p;
    int64_t position = 0;
    while (p < end && IsDigit(*p)) {
      --position;
      if (!found && *p != '0') {
        found = true;
        magnitude = position + 1;
      }
      ++p;
    }
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    const bool negative_exponent = *p == '-';
    if (*p == '-' || *p == '+') ++p;
    int64_t exponent = 0;
    while (p < end && IsDigit(*p)) {
      if (exponent < 100000000) exponent = exponent * 10 + (*p - '0');
      ++p;
    }
    magnitude += negative_exponent ? -exponent : exponent;
  }
  const double value = magnitude > 0 ? HUGE_VAL : 0.0;
  return negative ? -value : value;
}

void ParseNumber(Reader& r) {
  const char* start = r.p;
  const bool negative = *r.p == '-';
  if (negative) ++r.p;
  if (r.p >= r.end || !IsDigit(*r.p)) Raise(r, "bad number");
  const char* digits = r.p;
  if (*r.p == '0') {
    ++r.p;
  } else {
    while (r.p < r.end && IsDigit(*r.p)) ++r.p;
  }
  const char* digits_end = r.p;
  bool integral = true;
  if (r.p < r.end && *r.p == '.') {
    integral = false;
    ++r.p;
    if (r.p >= r.end || !IsDigit(*r.p)) Raise(r, "bad number");
    while (r.p < r.end && IsDigit(*r.p)) ++r.p;
  }
  if (r.p < r.end && (*r.p == 'e' || *r.p == 'E')) {
    integral = false;
    ++r.p;
    if (r.p < r.end && (*r.p == '+' || *r.p == '-')) ++r.p;
    if (r.p >= r.end || !IsDigit(*r.p)) Raise(r, "bad number");
    while (r.p < r.end && IsDigit(*r.p)) ++r.p;
  }
  if (integral) {
    const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
    uint64_t value = 0;
    bool fits = true;
    for (const char* d = digits; d < digits_end; ++d) {
      const auto digit = static_cast<uint64_t>(*d - '0');
      if (value > (limit - digit) / 10) {
        fits = false;
        break;
      }
      value = value * 10 + digit;
    }
    if (fits) {
      // Two's complement negation in unsigned arithmetic: exact for INT64_MIN.
      lua_pushinteger(r.L, static_cast<lua_Integer>(negative ? ~value + 1 : value));
      return;
    }
  }
  double value = 0;
  auto result = std::from_chars(start, r.p, value);
  if (result.ec == std::errc::result_out_of_range) {
    value = OutOfRangeDouble(start, r.p);
  } else if (result.ec != std::errc() || result.ptr != r.p) {
    Raise(r, "bad number");
  }
  lua_pushnumber(r.L, value);
}

void ParseValue(Reader& r, int depth) {
  if (depth > kMaxJsonDepth) Raise(r, "nested too deeply");
  luaL_checkstack(r.L, 4, "JSON nested too deeply");
  SkipWhitespace(r);
  if (r.p >= r.end) Raise(r, "unexpected end");
  switch (*r.p) {
    case '{': {
      ++r.p;
      lua_createtable(r.L, 0, 0);
      SkipWhitespace(r);
      if (r.p < r.end && *r.p == '}') {
        ++r.p;
        return;
      }
      while (true) {
        SkipWhitespace(r);
        if (r.p >= r.end || *r.p != '"') Raise(r, "expected a string key");
        ParseString(r);
        SkipWhitespace(r);
        if (r.p >= r.end || *r.p != ':') Raise(r, "expected ':'");
        ++r.p;
        ParseValue(r, depth + 1);
        lua_rawset(r.L, -3);
        SkipWhitespace(r);
        if (r.p < r.end && *r.p == ',') {
          ++r.p;
          continue;
        }
        if (r.p < r.end && *r.p == '}') {
          ++r.p;
          return;
        }
        Raise(r, "expected ',' or '}'");
      }
    }
    case '[': {
      ++r.p;
      lua_createtable(r.L, 0, 0);
      lua_pushvalue(r.L, r.array_mt);
      lua_setmetatable(r.L, -2);
      SkipWhitespace(r);
      if (r.p < r.end && *r.p == ']') {
        ++r.p;
        return;
      }
      for (lua_Integer i = 1;; ++i) {
        ParseValue(r, depth + 1);
        lua_rawseti(r.L, -2, i);
        SkipWhitespace(r);
        if (r.p < r.end && *r.p == ',') {
          ++r.p;
          continue;
        }
        if (r.p < r.end && *r.p == ']') {
          ++r.p;
          return;
        }
        Raise(r, "expected ',' or ']'");
      }
    }
    case '"':
      ParseString(r);
      return;
    case 't':
      Expect(r, "true", 4);
      lua_pushboolean(r.L, 1);
      return;
    case 'f':
      Expect(r, "false", 5);
      lua_pushboolean(r.L, 0);
      return;
    case 'n':
      Expect(r, "null", 4);
      PushJsonNull(r.L);
      return;
    default:
      if (*r.p == '-' || IsDigit(*r.p)) {
        ParseNumber(r);
        return;
      }
      Raise(r, "unexpected character");
  }
}

int LuaJsonEncode(lua_State* L) {
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  auto* scratch = static_cast<JsonScratch*>(lua_touserdata(L, lua_upvalueindex(2)));
  bool ok = false;
  bool out_of_memory = false;
  try {
    JsonEncoder encoder(L, lua_upvalueindex(1));
    scratch->out.clear();
    ok = encoder.Encode(1, scratch->out);
    if (!ok) scratch->error = encoder.error();
  } catch (const std::bad_alloc&) {
    out_of_memory = true;
  }
  // No C++ temporaries from here on: the calls below may raise.
  if (out_of_memory) return luaL_error(L, "json.encode: out of memory");
  if (!ok) return luaL_error(L, "json.encode: %s", scratch->error.c_str());
  lua_pushlstring(L, scratch->out.data(), scratch->out.size());
  return 1;
}

int LuaJsonDecode(lua_State* L) {
  size_t size = 0;
  const char* text = luaL_checklstring(L, 1, &size);
  lua_settop(L, 1);
  PushJson(L, text, size, lua_upvalueindex(1), "json.decode");
  return 1;
}

int LuaJsonArray(lua_State* L) {
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_createtable(L, 0, 0);
  } else {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setmetatable(L, 1);
  return 1;
}

int LuaNullToString(lua_State* L) {
  lua_pushliteral(L, "null");
  return 1;
}

std::string_view KeyText(const char* data, size_t size) { return std::string_view(data, size); }

}  // namespace

void PushJsonNull(lua_State* L) { lua_pushlightuserdata(L, &null_sentinel); }

bool IsJsonNull(lua_State* L, int index) {
  return lua_type(L, index) == LUA_TLIGHTUSERDATA && lua_touserdata(L, index) == &null_sentinel;
}

void PushJson(lua_State* L, const char* data, size_t size, int array_mt_index,
              const char* context) {
  Reader r{L, context, data, data, data + size, lua_absindex(L, array_mt_index)};
  ParseValue(r, 0);
  SkipWhitespace(r);
  if (r.p != r.end) Raise(r, "unexpected data after the value");
}

void AppendJsonDouble(std::string& out, double value) {
  char buf[40];
  auto result = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, result.ptr);
  if (std::none_of(buf, result.ptr, [](char c) { return c == '.' || c == 'e' || c == 'E'; })) {
    out.append(".0");
  }
}

bool JsonEncoder::Encode(int index, std::string& out) {
  error_.clear();
  path_.clear();
  keys_.clear();
  if (EncodeValue(lua_absindex(L_, index), 0, out)) return true;
  error_ += " at $";
  error_ += path_;
  return false;
}

bool JsonEncoder::Fail(std::string what) {
  error_ = std::move(what);
  return false;
}

void JsonEncoder::PrependPath(const char* data, size_t size, bool is_index) {
  std::string segment;
  if (is_index) {
    segment.append("[").append(data, size).append("]");
  } else {
    segment.append(".").append(data, size);
  }
  path_.insert(0, segment);
}

bool JsonEncoder::EncodeValue(int index, int depth, std::string& out) {
  const int type = lua_type(L_, index);
  switch (type) {
    case LUA_TNIL:
      out.append("null");
      return true;
    case LUA_TBOOLEAN:
      out.append(lua_toboolean(L_, index) ? "true" : "false");
      return true;
    case LUA_TNUMBER: {
      if (lua_isinteger(L_, index)) {
        AppendJsonInt(out, static_cast<int64_t>(lua_tointeger(L_, index)));
        return true;
      }
      const double value = static_cast<double>(lua_tonumber(L_, index));
      if (std::isnan(value)) return Fail("NaN is not valid JSON");
      if (std::isinf(value)) return Fail("infinity is not valid JSON");
      AppendJsonDouble(out, value);
      return true;
    }
    case LUA_TSTRING: {
      size_t size = 0;
      const char* data = lua_tolstring(L_, index, &size);  // a string: no conversion
      AppendJsonString(out, std::string_view(data, size));
      return true;
    }
    case LUA_TLIGHTUSERDATA:
      if (IsJsonNull(L_, index)) {
        out.append("null");
        return true;
      }
      return Fail("a userdata value has no JSON form");
    case LUA_TTABLE:
      return EncodeTable(index, depth, out);
    default:
      return Fail(std::string("a ") + lua_typename(L_, type) + " value has no JSON form");
  }
}

bool JsonEncoder::EncodeTable(int index, int depth, std::string& out) {
  if (depth >= kMaxJsonDepth)
    return Fail("tables nested too deeply (does a table contain itself?)");
  if (!lua_checkstack(L_, 4)) return Fail("Lua stack exhausted");
  lua_Integer count = 0;
  lua_Integer max_key = 0;
  bool sequence = true;  // only positive integer keys
  lua_pushnil(L_);
  while (lua_next(L_, index) != 0) {
    ++count;
    const int key_type = lua_type(L_, -2);
    if (key_type == LUA_TNUMBER && lua_isinteger(L_, -2)) {
      const lua_Integer key = lua_tointeger(L_, -2);
      if (key < 1) sequence = false;
      max_key = std::max(max_key, key);
    } else if (key_type == LUA_TSTRING) {
      sequence = false;
    } else {
      const char* name =
          key_type == LUA_TNUMBER ? "a non-integral number" : lua_typename(L_, key_type);
      lua_pop(L_, 2);
      return Fail(std::string("a table key that is ") + name + " has no JSON form");
    }
    lua_pop(L_, 1);
  }
  if (count == 0) {
    bool array = false;
    if (lua_getmetatable(L_, index)) {
      array = lua_rawequal(L_, -1, array_mt_index_);
      lua_pop(L_, 1);
    }
    out.append(array ? "[]" : "{}");
    return true;
  }
  if (!sequence || max_key != count) return EncodeObject(index, depth, out);
  // count distinct positive integer keys whose largest is count: exactly 1..count.
  out.push_back('[');
  for (lua_Integer i = 1; i <= count; ++i) {
    if (i > 1) out.push_back(',');
    lua_rawgeti(L_, index, i);
    const bool ok = EncodeValue(lua_gettop(L_), depth + 1, out);
    lua_pop(L_, 1);
    if (!ok) {
      char digits[24];
      auto result = std::to_chars(digits, digits + sizeof(digits), i);
      PrependPath(digits, static_cast<size_t>(result.ptr - digits), true);
      return false;
    }
  }
  out.push_back(']');
  return true;
}

bool JsonEncoder::EncodeObject(int index, int depth, std::string& out) {
  // Keys and values stay on the Lua stack (anchoring key strings) while the
  // keys are sorted; keys_ is shared with nested objects, so it is indexed,
  // never held by reference across a recursive call.
  const int base = lua_gettop(L_);
  const size_t first = keys_.size();
  auto unwind = [&] {
    lua_settop(L_, base);
    keys_.resize(first);
  };
  lua_pushnil(L_);
  while (lua_next(L_, index) != 0) {
    if (!lua_checkstack(L_, 3)) {
      lua_pop(L_, 2);
      unwind();
      return Fail("table too large to encode");
    }
    Key key;
    key.value_index = lua_gettop(L_);
    if (lua_type(L_, -2) == LUA_TSTRING) {
      key.data = lua_tolstring(L_, -2, &key.size);
    } else {
      auto result =
          std::to_chars(key.digits, key.digits + sizeof(key.digits), lua_tointeger(L_, -2));
      key.data = nullptr;
      key.size = static_cast<size_t>(result.ptr - key.digits);
    }
    keys_.push_back(key);
    lua_pushvalue(L_, -2);  // the key for lua_next; the pair below it stays
  }
  auto text = [this](size_t i) {
    const Key& key = keys_[i];
    return KeyText(key.data != nullptr ? key.data : key.digits, key.size);
  };
  std::sort(keys_.begin() + static_cast<std::ptrdiff_t>(first), keys_.end(),
            [](const Key& a, const Key& b) {
              return KeyText(a.data != nullptr ? a.data : a.digits, a.size) <
                     KeyText(b.data != nullptr ? b.data : b.digits, b.size);
            });
  const size_t last = keys_.size();
  for (size_t i = first + 1; i < last; ++i) {
    if (text(i) == text(i - 1)) {
      std::string key(text(i));
      unwind();
      return Fail("duplicate key \"" + key + "\" (an integer key and a string key)");
    }
  }
  out.push_back('{');
  for (size_t i = first; i < last; ++i) {
    if (i > first) out.push_back(',');
    AppendJsonString(out, text(i));
    out.push_back(':');
    const int value_index = keys_[i].value_index;
    if (!EncodeValue(value_index, depth + 1, out)) {
      std::string key(text(i));
      const bool is_index = keys_[i].data == nullptr;
      unwind();
      PrependPath(key.data(), key.size(), is_index);
      return false;
    }
  }
  out.push_back('}');
  unwind();
  return true;
}

void OpenJsonLibrary(lua_State* L, int array_mt_index, JsonScratch* scratch) {
  array_mt_index = lua_absindex(L, array_mt_index);
  lua_createtable(L, 0, 4);
  PushJsonNull(L);
  lua_setfield(L, -2, "null");
  lua_pushvalue(L, array_mt_index);
  lua_pushlightuserdata(L, scratch);
  lua_pushcclosure(L, LuaJsonEncode, 2);
  lua_setfield(L, -2, "encode");
  lua_pushvalue(L, array_mt_index);
  lua_pushcclosure(L, LuaJsonDecode, 1);
  lua_setfield(L, -2, "decode");
  lua_pushvalue(L, array_mt_index);
  lua_pushcclosure(L, LuaJsonArray, 1);
  lua_setfield(L, -2, "array");
  lua_setglobal(L, "json");

  // One metatable serves every light userdata, and json.null is the only one
  // a function can see: it prints as "null" and cannot be changed.
  PushJsonNull(L);
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, LuaNullToString);
  lua_setfield(L, -2, "__tostring");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_pop(L, 1);
}

}  // namespace sluice::functions
