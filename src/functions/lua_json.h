// JSON text <-> Lua values, for the Lua functions (README.md, "JSON mapping").
//
// Internal to the functions module. Two directions with different safety rules:
//  - PushJson allocates Lua objects and raises Lua errors (longjmp): call it only
//    from a lua_CFunction running under lua_pcall, with no C++ object that has a
//    destructor alive in the frames between that pcall and the call.
//  - JsonEncoder only reads Lua values with raw, non-allocating API calls, so it
//    never raises a Lua error and runs in plain C++ (it may throw std::bad_alloc
//    from its own std::string/std::vector, like any C++ code).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

struct lua_State;

namespace sluice::functions {

// Deepest nesting of arrays/objects accepted in either direction.
inline constexpr int kMaxJsonDepth = 1000;

// The light userdata that stands for JSON null inside tables (`json.null`).
void PushJsonNull(lua_State* L);
bool IsJsonNull(lua_State* L, int index);

// Pushes the JSON value in [data, data + size) onto the stack. Arrays get the
// metatable at `array_mt_index` (so an empty array encodes back as `[]`).
// Raises a Lua error ("<context>: invalid JSON at byte N: ...") on malformed
// input or trailing garbage. Protected mode only (see above).
void PushJson(lua_State* L, const char* data, size_t size, int array_mt_index, const char* context);

// Appends Lua values as JSON text. Object keys are written in byte order, so
// the output does not depend on Lua's hash order.
class JsonEncoder {
 public:
  // `array_mt_index`: stack index of the array marker metatable, as for PushJson.
  JsonEncoder(lua_State* L, int array_mt_index) : L_(L), array_mt_index_(array_mt_index) {}

  // Appends the value at `index`. On failure returns false, leaves `out` partly
  // written and sets error() to what and where ("NaN is not valid JSON at $.a[2]").
  bool Encode(int index, std::string& out);
  const std::string& error() const { return error_; }

 private:
  struct Key {
    const char* data;
    size_t size;
    int value_index;  // stack slot holding the value
    char digits[24];  // the text of an integer key (data points here)
  };
  bool EncodeValue(int index, int depth, std::string& out);
  bool EncodeTable(int index, int depth, std::string& out);
  bool EncodeObject(int index, int depth, std::string& out);
  bool Fail(std::string what);
  void PrependPath(const char* data, size_t size, bool is_index);

  lua_State* L_;
  int array_mt_index_;
  std::vector<Key> keys_;  // a stack shared by the nested objects being written
  std::string error_;
  std::string path_;  // built from the innermost value outwards on failure
};

// Registers the global `json` table: json.null, json.encode(value),
// json.decode(text), json.array([t]). `array_mt_index` as for PushJson;
// `scratch` (which must outlive the state) holds json.encode's output so that no
// C++ temporary is alive when a Lua error unwinds.
struct JsonScratch {
  std::string out;
  std::string error;
};
void OpenJsonLibrary(lua_State* L, int array_mt_index, JsonScratch* scratch);

// Shortest text that reads back as the same double; integral values keep a
// ".0" so that they read back as floats. Requires a finite value.
void AppendJsonDouble(std::string& out, double value);

}  // namespace sluice::functions
