#include "functions/function.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <lua.hpp>
#include <new>

#include "functions/lua_json.h"
#include "functions/sandbox.h"

// Lua reports errors with longjmp (the Debian library is built as C). Every
// Lua call that can raise runs under lua_pcall, and the C functions Lua calls
// (Hook, ProtectedLoad, ProtectedCall, the sandbox and json functions) keep no
// object with a destructor alive where a Lua error can unwind them. Outside
// lua_pcall only non-raising API calls are used (stack reads, lua_next,
// lua_checkstack, lua_settop below any to-be-closed slot).

namespace sluice::functions {
namespace {

// The main thread's stack between calls: [1] array marker metatable, [2] the
// user function. A call's result lands at kBaseTop + 1.
constexpr int kArrayMtSlot = 1;
constexpr int kFunctionSlot = 2;
constexpr int kBaseTop = 2;
constexpr uint64_t kHookInterval = 1000;

enum class Form { kBody, kChunk };
enum class Trip { kNone, kInstructions, kTime };

bool IsIdentifierChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// The identifier that ends right before `end` (after skipping white space).
std::string_view WordBefore(std::string_view text, size_t end) {
  while (end > 0 && IsSpace(text[end - 1])) --end;
  size_t start = end;
  while (start > 0 && IsIdentifierChar(text[start - 1])) --start;
  return text.substr(start, end - start);
}

// Whether `text` declares the global function `name` the way the chunk form is
// documented: `function name(` (not `local function`) or `name = function`.
// A textual check: it decides how the code is compiled, never what it does.
bool DeclaresGlobalFunction(std::string_view text, std::string_view name) {
  for (size_t at = text.find(name); at != std::string_view::npos; at = text.find(name, at + 1)) {
    const size_t after = at + name.size();
    if ((at > 0 && IsIdentifierChar(text[at - 1])) ||
        (after < text.size() && IsIdentifierChar(text[after]))) {
      continue;
    }
    size_t before = at;
    while (before > 0 && IsSpace(text[before - 1])) --before;
    if (before > 0 && (text[before - 1] == '.' || text[before - 1] == ':')) continue;
    const std::string_view previous = WordBefore(text, at);
    size_t next = after;
    while (next < text.size() && IsSpace(text[next])) ++next;
    if (previous == "function") {
      size_t keyword = before - previous.size();
      if (WordBefore(text, keyword) != "local" && next < text.size() && text[next] == '(') {
        return true;
      }
      continue;
    }
    if (previous == "local") continue;
    if (next < text.size() && text[next] == '=' &&
        (next + 1 >= text.size() || text[next + 1] != '=')) {
      size_t value = next + 1;
      while (value < text.size() && IsSpace(text[value])) ++value;
      const std::string_view keyword = text.substr(value, 8);
      if (keyword == "function" &&
          (value + 8 >= text.size() || !IsIdentifierChar(text[value + 8]))) {
        return true;
      }
    }
  }
  return false;
}

std::string NumberText(lua_State* L, int index) {
  if (lua_isinteger(L, index)) return std::to_string(lua_tointeger(L, index));
  std::string out;
  AppendJsonDouble(out, static_cast<double>(lua_tonumber(L, index)));
  return out;
}

// A name for the value's type in messages: json.null is "null".
std::string TypeName(lua_State* L, int index) {
  if (IsJsonNull(L, index)) return "null";
  return lua_typename(L, lua_type(L, index));
}

// The text of an error object without running any metamethod.
std::string ErrorText(lua_State* L, int index) {
  switch (lua_type(L, index)) {
    case LUA_TSTRING: {
      size_t size = 0;
      const char* data = lua_tolstring(L, index, &size);
      return std::string(data, size);
    }
    case LUA_TNUMBER:
      return NumberText(L, index);
    default:
      return "(error object is a " + TypeName(L, index) + " value)";
  }
}

// Reads the string-keyed table at `table` as (name, text) pairs; numbers become
// their text. With `headers`, the key `headers` holds a nested table read into it.
bool ReadRoutePairs(lua_State* L, int table, const char* what,
                    std::vector<std::pair<std::string, std::string>>& pairs,
                    std::vector<std::pair<std::string, std::string>>* headers, std::string& error) {
  if (!lua_checkstack(L, 3)) {
    error = "Lua stack exhausted";
    return false;
  }
  lua_pushnil(L);
  while (lua_next(L, table) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      error = std::string(what) + "s must be strings, not a " + TypeName(L, -2);
      return false;
    }
    size_t size = 0;
    const char* data = lua_tolstring(L, -2, &size);
    std::string key(data, size);
    const int type = lua_type(L, -1);
    if (headers != nullptr && key == "headers") {
      if (type != LUA_TTABLE) {
        error = "`headers` must be a table, not a " + TypeName(L, -1);
        return false;
      }
      if (!ReadRoutePairs(L, lua_gettop(L), "header name", *headers, nullptr, error)) return false;
    } else if (type == LUA_TSTRING) {
      const char* value = lua_tolstring(L, -1, &size);
      pairs.emplace_back(std::move(key), std::string(value, size));
    } else if (type == LUA_TNUMBER &&
               (lua_isinteger(L, -1) || std::isfinite(lua_tonumber(L, -1)))) {
      pairs.emplace_back(std::move(key), NumberText(L, -1));
    } else {
      error = "the value of " + std::string(what) + " `" + key +
              "` must be a string or a finite number, not a " + TypeName(L, -1);
      return false;
    }
    lua_pop(L, 1);
  }
  return true;
}

}  // namespace

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kFilter:
      return "filter";
    case Kind::kTransform:
      return "transform";
    case Kind::kRoute:
      return "route";
  }
  return "filter";
}

Result<Kind> ParseKind(std::string_view type) {
  for (Kind kind : {Kind::kFilter, Kind::kTransform, Kind::kRoute}) {
    if (type == KindName(kind)) return kind;
  }
  return Status::Permanent("unknown function type `" + std::string(type) +
                           "` (expected filter, transform or route)");
}

struct Function::Impl {
  Impl(const config::FunctionConfig& config, Kind kind, Limits limits)
      : name(config.name), source(config.lua), kind(kind), limits(limits) {}
  ~Impl() { CloseState(); }

  std::string Prefix() const { return "function `" + name + "`"; }
  std::string Failed() const { return Prefix() + " failed: "; }
  const char* ChunkName() const { return name.empty() ? "?" : name.c_str(); }

  // Creates the state, opens the sandbox and loads the code in `form`.
  Status Open();
  void CloseState();
  void StartCall();
  // Runs the function on the message; on OK its result is at kBaseTop + 1.
  Status Invoke(std::string_view message);
  // The Status for a failed lua_pcall (or a tripped limit); resets the stack and
  // drops the state after a memory error.
  Status CallError(int status, const std::string& context);

  static Impl* From(lua_State* L) { return *static_cast<Impl**>(lua_getextraspace(L)); }
  static void* Allocate(void* ud, void* ptr, size_t old_size, size_t new_size) noexcept;
  static void Hook(lua_State* L, lua_Debug* ar);
  static int ProtectedLoad(lua_State* L);
  static int ProtectedCall(lua_State* L);

  const std::string name;
  const std::string source;
  const Kind kind;
  const Limits limits;
  Form form = Form::kBody;
  std::string body;  // the body form wrapped in a function
  lua_State* L = nullptr;

  size_t memory_used = 0;
  bool memory_refused = false;  // an allocation was refused during this call

  uint64_t instructions = 0;
  uint64_t hook_interval = kHookInterval;
  std::chrono::steady_clock::time_point deadline;
  Trip trip = Trip::kNone;
  char trip_where[160] = {};  // "[string \"x\"]:3" of the instruction that tripped

  bool load_syntax_error = false;
  const char* message_data = nullptr;
  size_t message_size = 0;
  JsonScratch scratch;
};

void* Function::Impl::Allocate(void* ud, void* ptr, size_t old_size, size_t new_size) noexcept {
  auto* impl = static_cast<Impl*>(ud);
  if (ptr == nullptr) old_size = 0;  // then old_size encodes the object type
  if (new_size == 0) {
    std::free(ptr);
    impl->memory_used -= old_size;
    return nullptr;
  }
  if (new_size > old_size) {
    const size_t room = impl->limits.max_memory_bytes > impl->memory_used
                            ? impl->limits.max_memory_bytes - impl->memory_used
                            : 0;
    if (new_size - old_size > room) {
      impl->memory_refused = true;
      return nullptr;
    }
  }
  void* block = std::realloc(ptr, new_size);
  if (block == nullptr) return nullptr;
  impl->memory_used = impl->memory_used - old_size + new_size;
  return block;
}

void Function::Impl::Hook(lua_State* L, lua_Debug* ar) {
  Impl* impl = From(L);
  if (impl->trip == Trip::kNone) {
    impl->instructions += impl->hook_interval;
    if (impl->instructions >= impl->limits.max_instructions) {
      impl->trip = Trip::kInstructions;
    } else if (std::chrono::steady_clock::now() >= impl->deadline) {
      impl->trip = Trip::kTime;
    } else {
      return;
    }
    if (lua_getinfo(L, "Sl", ar) != 0 && ar->currentline > 0) {
      std::snprintf(impl->trip_where, sizeof(impl->trip_where), "%s:%d", ar->short_src,
                    ar->currentline);
    } else {
      impl->trip_where[0] = '\0';
    }
    // From now on every instruction fails, so a pcall in the function cannot
    // swallow the error and carry on.
    lua_sethook(L, &Hook, LUA_MASKCOUNT, 1);
  }
  lua_pushstring(
      L, impl->trip == Trip::kInstructions ? "instruction limit exceeded" : "time limit exceeded");
  lua_error(L);
}

int Function::Impl::ProtectedLoad(lua_State* L) {
  Impl* impl = From(L);
  const std::string& text = impl->form == Form::kChunk ? impl->source : impl->body;
  if (luaL_loadbufferx(L, text.data(), text.size(), impl->ChunkName(), "t") != LUA_OK) {
    impl->load_syntax_error = true;
    return lua_error(L);
  }
  lua_call(L, 0, 1);
  if (impl->form == Form::kChunk) {
    lua_pop(L, 1);
    lua_pushglobaltable(L);
    lua_pushstring(L, KindName(impl->kind).data());
    lua_rawget(L, -2);
    if (lua_type(L, -1) != LUA_TFUNCTION) {
      return luaL_error(L, "the code does not define a global function `%s`",
                        KindName(impl->kind).data());
    }
  }
  return 1;
}

int Function::Impl::ProtectedCall(lua_State* L) {
  // [1] the user function, [2] the array marker metatable.
  Impl* impl = From(L);
  PushJson(L, impl->message_data, impl->message_size, 2, "message");
  bool object = lua_type(L, 3) == LUA_TTABLE;
  if (object && lua_getmetatable(L, 3)) {
    object = !lua_rawequal(L, -1, 2);
    lua_pop(L, 1);
  }
  if (!object) return luaL_error(L, "message: not a JSON object");
  lua_pushvalue(L, 1);
  for (const char* field : {"action", "record", "changes", "metadata"}) {
    lua_pushstring(L, field);
    lua_rawget(L, 3);
    if (IsJsonNull(L, -1)) {  // a null argument is nil; nulls inside tables stay json.null
      lua_pop(L, 1);
      lua_pushnil(L);
    }
  }
  lua_call(L, 4, 1);
  return 1;
}

Status Function::Impl::Open() {
  memory_used = 0;
  memory_refused = false;
  load_syntax_error = false;
  L = lua_newstate(&Allocate, this);
  if (L == nullptr) {
    return Status::Permanent(Prefix() + ": cannot create a Lua state within the memory limit (" +
                             std::to_string(limits.max_memory_bytes) + " bytes)");
  }
  *static_cast<Impl**>(lua_getextraspace(L)) = this;
  lua_pushcfunction(L, &OpenSandbox);
  lua_pushlightuserdata(L, &scratch);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    std::string message = ErrorText(L, -1);
    CloseState();
    return Status::Permanent(Prefix() + ": cannot open the Lua libraries: " + message);
  }
  StartCall();  // the chunk form runs user code at load time: same limits
  lua_pushcfunction(L, &ProtectedLoad);
  const int status = lua_pcall(L, 0, 1, 0);
  if (status == LUA_OK && trip == Trip::kNone) return Status::Ok();
  Status error;
  if (load_syntax_error) {
    error = Status::Permanent(Prefix() + " does not compile: " + ErrorText(L, -1));
  } else {
    error = CallError(status, Prefix() + " failed while loading: ");
  }
  CloseState();
  return error;
}

void Function::Impl::CloseState() {
  if (L == nullptr) return;
  lua_close(L);
  L = nullptr;
}

void Function::Impl::StartCall() {
  instructions = 0;
  trip = Trip::kNone;
  memory_refused = false;
  hook_interval = std::clamp<uint64_t>(limits.max_instructions, 1, kHookInterval);
  deadline = std::chrono::steady_clock::now() + limits.max_time;
  lua_sethook(L, &Hook, LUA_MASKCOUNT, static_cast<int>(hook_interval));
}

Status Function::Impl::Invoke(std::string_view message) {
  if (L == nullptr) SLUICE_RETURN_IF_ERROR(Open());
  if (!lua_checkstack(L, 4)) {
    return Status::Retryable(Failed() + "out of memory");
  }
  message_data = message.data();
  message_size = message.size();
  StartCall();
  lua_pushcfunction(L, &ProtectedCall);
  lua_pushvalue(L, kFunctionSlot);
  lua_pushvalue(L, kArrayMtSlot);
  const int status = lua_pcall(L, 2, 1, 0);
  message_data = nullptr;
  message_size = 0;
  if (status == LUA_OK && trip == Trip::kNone) return Status::Ok();
  return CallError(status, Failed());
}

Status Function::Impl::CallError(int status, const std::string& context) {
  Status error;
  if (trip != Trip::kNone) {
    std::string where = trip_where[0] != '\0' ? std::string(trip_where) + ": " : "";
    if (trip == Trip::kInstructions) {
      error = Status::Permanent(context + where + "instruction limit exceeded (" +
                                std::to_string(limits.max_instructions) + " instructions)");
    } else {
      error = Status::Retryable(context + where + "time limit exceeded (" +
                                std::to_string(limits.max_time.count()) + " ms)");
    }
  } else if (status == LUA_ERRMEM && memory_refused) {
    error = Status::Permanent(context + "memory limit exceeded (" +
                              std::to_string(limits.max_memory_bytes) + " bytes)");
  } else if (status == LUA_ERRMEM) {
    error = Status::Retryable(context + "out of memory");
  } else {
    error = Status::Permanent(context + ErrorText(L, -1));
  }
  if (L != nullptr) {
    lua_settop(L, kBaseTop);
    // The state may be full of live data (a global the function filled):
    // start over rather than fail every later call.
    if (memory_refused) CloseState();
  }
  return error;
}

Function::Function(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Function::~Function() = default;

Result<std::unique_ptr<Function>> Function::Compile(const config::FunctionConfig& config,
                                                    Limits limits) {
  auto kind = ParseKind(config.type);
  if (!kind.ok()) return kind.status().WithContext("function `" + config.name + "`");
  auto impl = std::make_unique<Impl>(config, *kind, limits);
  if (DeclaresGlobalFunction(config.lua, KindName(*kind))) {
    impl->form = Form::kChunk;
  } else {
    for (Kind other : {Kind::kFilter, Kind::kTransform, Kind::kRoute}) {
      if (other != *kind && DeclaresGlobalFunction(config.lua, KindName(other))) {
        return Status::Permanent(impl->Prefix() + ": the code defines function `" +
                                 std::string(KindName(other)) + "` but the function's type is `" +
                                 std::string(KindName(*kind)) + "`");
      }
    }
    // On the first line, so that line numbers are the user's.
    impl->body = "return function(action, record, changes, metadata) " + config.lua + "\nend";
  }
  Status status = impl->Open();
  if (!status.ok() && impl->form == Form::kBody && impl->load_syntax_error) {
    // Report the error against the user's own text when it is not valid as a
    // chunk either: the wrapper's extra `end` would otherwise show in messages.
    lua_State* probe = luaL_newstate();
    if (probe != nullptr) {
      if (luaL_loadbufferx(probe, config.lua.data(), config.lua.size(), impl->ChunkName(), "t") !=
          LUA_OK) {
        status = Status::Permanent(impl->Prefix() + " does not compile: " + ErrorText(probe, -1));
      }
      lua_close(probe);
    }
  }
  if (!status.ok()) return status;
  return std::unique_ptr<Function>(new Function(std::move(impl)));
}

Kind Function::kind() const { return impl_->kind; }
const std::string& Function::name() const { return impl_->name; }
size_t Function::memory_bytes() const { return impl_->L != nullptr ? impl_->memory_used : 0; }

namespace {
Status WrongKind(const std::string& prefix, Kind kind, Kind wanted) {
  return Status::Permanent(prefix + " is a " + std::string(KindName(kind)) + " function, not a " +
                           std::string(KindName(wanted)));
}
}  // namespace

Result<bool> Function::Filter(std::string_view message_json) {
  Impl& impl = *impl_;
  if (impl.kind != Kind::kFilter) return WrongKind(impl.Prefix(), impl.kind, Kind::kFilter);
  SLUICE_RETURN_IF_ERROR(impl.Invoke(message_json));
  lua_State* L = impl.L;
  const int type = lua_type(L, -1);
  const bool value = lua_toboolean(L, -1) != 0;
  std::string type_name = TypeName(L, -1);
  lua_settop(L, kBaseTop);
  if (type == LUA_TBOOLEAN || type == LUA_TNIL) return value;
  return Status::Permanent(impl.Failed() + "a filter must return a boolean, not a " + type_name);
}

Result<std::string> Function::Transform(std::string_view message_json) {
  Impl& impl = *impl_;
  if (impl.kind != Kind::kTransform) return WrongKind(impl.Prefix(), impl.kind, Kind::kTransform);
  SLUICE_RETURN_IF_ERROR(impl.Invoke(message_json));
  lua_State* L = impl.L;
  std::string out;
  std::string error;
  bool ok = false;
  try {
    JsonEncoder encoder(L, kArrayMtSlot);
    ok = encoder.Encode(-1, out);
    if (!ok) error = encoder.error();
  } catch (const std::bad_alloc&) {
    error = "out of memory";
  }
  lua_settop(L, kBaseTop);
  if (!ok) return Status::Permanent(impl.Failed() + "the returned value is not JSON: " + error);
  return out;
}

Result<Route> Function::RouteMessage(std::string_view message_json) {
  Impl& impl = *impl_;
  if (impl.kind != Kind::kRoute) return WrongKind(impl.Prefix(), impl.kind, Kind::kRoute);
  SLUICE_RETURN_IF_ERROR(impl.Invoke(message_json));
  lua_State* L = impl.L;
  const int result = lua_gettop(L);
  const int type = lua_type(L, result);
  Route route;
  std::string error;
  bool ok = true;
  if (type == LUA_TTABLE) {
    ok = ReadRoutePairs(L, result, "route key", route.keys, &route.headers, error);
  } else if (type != LUA_TNIL) {
    ok = false;
    error = "a route function must return a table, not a " + TypeName(L, result);
  }
  lua_settop(L, kBaseTop);
  if (!ok) return Status::Permanent(impl.Failed() + error);
  std::sort(route.keys.begin(), route.keys.end());
  std::sort(route.headers.begin(), route.headers.end());
  return route;
}

}  // namespace sluice::functions
