// The Lua environment a function runs in (README.md, "Sandbox").
#pragma once

struct lua_State;

namespace sluice::functions {

// A lua_CFunction to run under lua_pcall with one argument: a light userdata
// pointing at the JsonScratch (lua_json.h) the state's json.encode may use.
// Opens the safe parts of the standard library (base without file access,
// string without dump, table, math, utf8) and `json`, replaces `load`,
// `setmetatable`, `collectgarbage` and `xpcall` with restricted versions, makes the
// string metatable read-only, and returns the array marker metatable, which
// the caller keeps on its stack for PushJson and JsonEncoder.
int OpenSandbox(lua_State* L);

}  // namespace sluice::functions
