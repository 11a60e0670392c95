#include "functions/sandbox.h"

#include <cstring>
#include <lua.hpp>

#include "functions/lua_json.h"

namespace sluice::functions {
namespace {

// load(chunk [, chunkname [, mode [, env]]]) for text chunks only: precompiled
// bytecode is not verified by Lua and can corrupt the interpreter.
int SafeLoad(lua_State* L) {
  size_t size = 0;
  const char* chunk = luaL_checklstring(L, 1, &size);
  const char* chunkname = luaL_optstring(L, 2, chunk);
  const char* mode = luaL_optstring(L, 3, "t");
  if (std::strcmp(mode, "t") != 0) {
    return luaL_error(L, "load: only text chunks are allowed (mode \"t\")");
  }
  const bool has_env = !lua_isnone(L, 4);
  const int status = luaL_loadbufferx(L, chunk, size, chunkname, "t");
  if (status != LUA_OK) {
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;  // nil, message
  }
  if (has_env) {
    lua_pushvalue(L, 4);
    if (lua_setupvalue(L, -2, 1) == nullptr) lua_pop(L, 1);
  }
  return 1;
}

// setmetatable that refuses `__gc`: Lua runs finalizers with hooks disabled,
// so a finalizer would escape the instruction and time limits.
int SafeSetMetatable(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  const int type = lua_type(L, 2);
  luaL_argexpected(L, type == LUA_TNIL || type == LUA_TTABLE, 2, "nil or table");
  if (type == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    const bool has_gc = lua_rawget(L, 2) != LUA_TNIL;
    lua_pop(L, 1);
    if (has_gc) return luaL_error(L, "setmetatable: __gc metamethods are not allowed");
  }
  if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) {
    return luaL_error(L, "cannot change a protected metatable");
  }
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

// collectgarbage("count") and ("collect"); stopping or tuning the collector
// would let garbage pile up past the memory limit.
int SafeCollectGarbage(lua_State* L) {
  const char* option = luaL_optstring(L, 1, "collect");
  if (std::strcmp(option, "count") == 0) {
    const int kilobytes = lua_gc(L, LUA_GCCOUNT);
    const int bytes = lua_gc(L, LUA_GCCOUNTB);
    lua_pushnumber(L, static_cast<lua_Number>(kilobytes) + static_cast<lua_Number>(bytes) / 1024);
    return 1;
  }
  if (std::strcmp(option, "collect") == 0) {
    lua_gc(L, LUA_GCCOLLECT);
    lua_pushinteger(L, 0);
    return 1;
  }
  return luaL_error(L, "collectgarbage: option '%s' is not allowed", option);
}

// xpcall(f, handler, ...) that calls the handler after the stack is unwound.
// Lua calls a message handler at the point of the error, which for an error
// raised by the limits hook is inside the hook, where hooks are disabled: a
// looping handler would then never be stopped. Without the debug library a
// handler cannot inspect the failed stack, so the later call loses nothing.
int SafeXpcall(lua_State* L) {
  const int n = lua_gettop(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  luaL_checkstack(L, n + 2, "too many arguments");
  lua_pushvalue(L, 1);
  for (int i = 3; i <= n; ++i) lua_pushvalue(L, i);
  if (lua_pcall(L, n - 2, LUA_MULTRET, 0) == LUA_OK) {
    lua_pushboolean(L, 1);
    lua_insert(L, n + 1);
    return lua_gettop(L) - n;
  }
  // [n + 1] is the error object: handler(error), protected like the original.
  lua_pushvalue(L, 2);
  lua_insert(L, n + 1);
  lua_pcall(L, 1, 1, 0);
  lua_pushboolean(L, 0);
  lua_insert(L, n + 1);
  return 2;
}

int Print(lua_State*) { return 0; }

void SetGlobal(lua_State* L, const char* name, lua_CFunction function) {
  if (function == nullptr) {
    lua_pushnil(L);
  } else {
    lua_pushcfunction(L, function);
  }
  lua_setglobal(L, name);
}

}  // namespace

int OpenSandbox(lua_State* L) {
  auto* scratch = static_cast<JsonScratch*>(lua_touserdata(L, 1));
  lua_settop(L, 0);
  const luaL_Reg libraries[] = {
      {LUA_GNAME, luaopen_base},       {LUA_STRLIBNAME, luaopen_string},
      {LUA_TABLIBNAME, luaopen_table}, {LUA_MATHLIBNAME, luaopen_math},
      {LUA_UTF8LIBNAME, luaopen_utf8},
  };
  for (const luaL_Reg& library : libraries) {
    luaL_requiref(L, library.name, library.func, 1);
    lua_pop(L, 1);
  }
  for (const char* name : {"dofile", "loadfile", "require", "warn"}) SetGlobal(L, name, nullptr);
  SetGlobal(L, "load", SafeLoad);
  SetGlobal(L, "setmetatable", SafeSetMetatable);
  SetGlobal(L, "collectgarbage", SafeCollectGarbage);
  SetGlobal(L, "xpcall", SafeXpcall);
  SetGlobal(L, "print", Print);

  lua_getglobal(L, LUA_STRLIBNAME);
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);

  // getmetatable("") returns false instead of the table behind string methods.
  lua_pushliteral(L, "");
  if (lua_getmetatable(L, -1)) {
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);

  // The array marker. Protected, so that no function can add a __gc to it and
  // have it applied to every array decoded later.
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "json.array");
  lua_setfield(L, -2, "__metatable");
  const int array_mt = lua_gettop(L);
  OpenJsonLibrary(L, array_mt, scratch);
  lua_settop(L, array_mt);
  return 1;
}

}  // namespace sluice::functions
