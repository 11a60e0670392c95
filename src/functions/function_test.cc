#include "functions/function.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace sluice::functions {
namespace {

using ::testing::HasSubstr;

// About 200 bytes of record, as Sluice renders an insert.
constexpr const char* kMessage =
    R"({"record":{"customer":{"name":"Ann","tier":"gold"},"id":42,"notes":{},"status":"paid",)"
    R"("tags":[],"total":"19.90"},"changes":null,"action":"insert","metadata":{"table_schema":)"
    R"("public","table_name":"orders","commit_lsn":24023128,"commit_idx":3,"record_pks":["42"],)"
    R"("transaction_annotations":null,"sink":{"name":"orders_webhook"}}})";

std::string MessageWithRecord(const std::string& record, const std::string& action = "update") {
  return R"({"record":)" + record + R"(,"changes":{},"action":")" + action +
         R"(","metadata":{"table_name":"t"}})";
}

config::FunctionConfig Config(const std::string& name, const std::string& type,
                              const std::string& lua) {
  config::FunctionConfig config;
  config.name = name;
  config.type = type;
  config.lua = lua;
  return config;
}

// The default limits without the wall clock one: the machine running the tests
// may be slow or busy, and the limits under test are the deterministic ones.
Limits TestLimits() {
  Limits limits;
  limits.max_time = std::chrono::minutes(10);
  return limits;
}

std::unique_ptr<Function> MustCompile(const std::string& type, const std::string& lua,
                                      const std::string& name = "f", Limits limits = TestLimits()) {
  auto function = Function::Compile(Config(name, type, lua), limits);
  EXPECT_TRUE(function.ok()) << function.status().ToString();
  return function.ok() ? std::move(function).value() : nullptr;
}

// The transform's JSON, or "error: <message>".
std::string Transform(Function& function, const std::string& message = kMessage) {
  auto out = function.Transform(message);
  return out.ok() ? *out : "error: " + out.status().message();
}

std::string Transform(const std::string& lua, const std::string& message = kMessage) {
  auto function = MustCompile("transform", lua);
  return function ? Transform(*function, message) : "not compiled";
}

Status CompileError(const std::string& type, const std::string& lua,
                    const std::string& name = "f") {
  auto function = Function::Compile(Config(name, type, lua), TestLimits());
  return function.ok() ? Status::Ok() : function.status();
}

// --- filter ---------------------------------------------------------------

TEST(FilterTest, ReturnsTrueAndFalse) {
  auto paid = MustCompile("filter", "return record.status == 'paid'");
  EXPECT_TRUE(*paid->Filter(kMessage));
  EXPECT_FALSE(*paid->Filter(MessageWithRecord(R"({"status":"pending"})")));
}

TEST(FilterTest, NilAndNoReturnAreFalse) {
  EXPECT_FALSE(*MustCompile("filter", "return nil")->Filter(kMessage));
  EXPECT_FALSE(*MustCompile("filter", "local x = 1")->Filter(kMessage));
}

TEST(FilterTest, NonBooleanIsAnErrorNamingTheType) {
  auto result = MustCompile("filter", "return 1", "only_paid")->Filter(kMessage);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.status().IsPermanent());
  EXPECT_EQ(result.status().message(),
            "function `only_paid` failed: a filter must return a boolean, not a number");
  auto null = MustCompile("filter", "return json.null")->Filter(kMessage);
  EXPECT_THAT(null.status().message(), HasSubstr("not a null"));
  auto table = MustCompile("filter", "return {}")->Filter(kMessage);
  EXPECT_THAT(table.status().message(), HasSubstr("not a table"));
}

TEST(FilterTest, ChunkFormDefinesFilter) {
  auto function = MustCompile("filter",
                              "-- keep inserts\n"
                              "function filter(action, record, changes, metadata)\n"
                              "  return action == 'insert' and metadata.table_name == 'orders'\n"
                              "end\n");
  EXPECT_TRUE(*function->Filter(kMessage));
  EXPECT_FALSE(*function->Filter(MessageWithRecord("{}")));
}

// --- transform --------------------------------------------------------------

TEST(TransformTest, ReturnsAnObject) {
  EXPECT_EQ(Transform("return {id = record.id, status = record.status}"),
            R"({"id":42,"status":"paid"})");
}

TEST(TransformTest, ReturnsAnArray) {
  EXPECT_EQ(Transform("return {record.id, record.status, action}"), R"([42,"paid","insert"])");
}

TEST(TransformTest, ReturnsScalars) {
  EXPECT_EQ(Transform("return record.status"), R"("paid")");
  EXPECT_EQ(Transform("return record.id * 2"), "84");
  EXPECT_EQ(Transform("return record.id / 8"), "5.25");
  EXPECT_EQ(Transform("return true"), "true");
  EXPECT_EQ(Transform("return nil"), "null");
  EXPECT_EQ(Transform("return json.null"), "null");
}

TEST(TransformTest, ReturnsNestedValues) {
  EXPECT_EQ(Transform("return {who = {record.customer.name, tier = record.customer.tier},"
                      " pks = metadata.record_pks, n = {{1}, {2, {3}}}}"),
            R"({"n":[[1],[2,[3]]],"pks":["42"],"who":{"1":"Ann","tier":"gold"}})");
}

TEST(TransformTest, PassesTheRecordThroughUnchanged) {
  // Keys are written in byte order; the fixture's record already is.
  EXPECT_EQ(Transform("return record"),
            R"({"customer":{"name":"Ann","tier":"gold"},"id":42,"notes":{},"status":"paid",)"
            R"("tags":[],"total":"19.90"})");
}

TEST(TransformTest, EmptyArrayAndEmptyObjectSurvive) {
  EXPECT_EQ(Transform("return {tags = record.tags, notes = record.notes}"),
            R"({"notes":{},"tags":[]})");
  EXPECT_EQ(Transform("local t = record.tags; t[1] = 'x'; t[1] = nil; return t"), "[]");
}

TEST(TransformTest, NewEmptyTableIsAnObjectUnlessMarkedAsArray) {
  EXPECT_EQ(Transform("return {a = {}, b = json.array(), c = json.array({1, 2})}"),
            R"({"a":{},"b":[],"c":[1,2]})");
}

TEST(TransformTest, MixedAndSparseTablesBecomeObjects) {
  EXPECT_EQ(Transform("return {1, 2, x = 3}"), R"({"1":1,"2":2,"x":3})");
  EXPECT_EQ(Transform("local t = {} t[1] = 'a' t[3] = 'c' return t"), R"({"1":"a","3":"c"})");
  EXPECT_EQ(Transform("return {[-1] = 'm', [0] = 'z'}"), R"({"-1":"m","0":"z"})");
}

TEST(TransformTest, SixtyFourBitIntegersRoundTripExactly) {
  const std::string record =
      R"({"big":1234567890123456789,"max":9223372036854775807,"min":-9223372036854775808,)"
      R"("neg":-42,"zero":0})";
  EXPECT_EQ(Transform("return record", MessageWithRecord(record)), record);
  EXPECT_EQ(Transform("return {record.max - 1, record.min + 1, math.type(record.max)}",
                      MessageWithRecord(record)),
            R"([9223372036854775806,-9223372036854775807,"integer"])");
}

TEST(TransformTest, IntegersBeyondSixtyFourBitsBecomeFloats) {
  EXPECT_EQ(
      Transform("return {record.a, math.type(record.a), record.b}",
                MessageWithRecord(R"({"a":9223372036854775808,"b":-1e400})")),
      "error: function `f` failed: the returned value is not JSON: infinity is not valid JSON "
      "at $[3]");
  EXPECT_EQ(Transform("return {record.a, math.type(record.a)}",
                      MessageWithRecord(R"({"a":9223372036854775808})")),
            R"([9223372036854775808.0,"float"])");
}

TEST(TransformTest, FloatsKeepTheirValue) {
  const std::string record = R"({"a":0.1,"b":-2.5e-10,"c":1.5e+300,"d":3.0,"e":-0.0,"f":19.9})";
  EXPECT_EQ(Transform("return record", MessageWithRecord(record)), record);
  EXPECT_EQ(Transform("return {math.type(record.d), record.f * 10}", MessageWithRecord(record)),
            R"(["float",199.0])");
}

TEST(TransformTest, FloatArithmeticHasShortestText) {
  EXPECT_EQ(Transform("return {0.1 + 0.2, 1e21, 2^53, 1/3}"),
            "[0.30000000000000004,1e+21,9007199254740992.0,0.3333333333333333]");
}

TEST(TransformTest, UnicodeStringsRoundTrip) {
  const std::string record =
      "{\"e\":\"\\u00e9\\ud83c\\udf89\",\"s\":\"h\xC3\xA9llo \xE2\x80\x94 "
      "\xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x8E\x89\",\"q\":\"a\\\"b\\\\c\\n\"}";
  EXPECT_EQ(
      Transform("return {e = record.e, n = #record.e, s = record.s, q = record.q}",
                MessageWithRecord(record)),
      "{\"e\":\"\xC3\xA9\xF0\x9F\x8E\x89\",\"n\":6,\"q\":\"a\\\"b\\\\c\\n\",\"s\":\"h\xC3\xA9llo "
      "\xE2\x80\x94 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x8E\x89\"}");
  EXPECT_EQ(Transform("return utf8.len(record.s)", MessageWithRecord(record)), "12");
}

TEST(TransformTest, NullArgumentsAreNilAndNestedNullsAreJsonNull) {
  EXPECT_EQ(Transform("return {changes == nil, metadata.transaction_annotations == json.null,"
                      " tostring(json.null)}"),
            R"([true,true,"null"])");
  EXPECT_EQ(Transform("return record", MessageWithRecord(R"({"a":null,"b":[null,1]})")),
            R"({"a":null,"b":[null,1]})");
}

TEST(TransformTest, ValuesWithoutJsonFormAreErrorsWithTheirPath) {
  EXPECT_EQ(
      Transform("return 0/0"),
      "error: function `f` failed: the returned value is not JSON: NaN is not valid JSON at $");
  EXPECT_EQ(
      Transform("return {x = {1, math.huge}}"),
      "error: function `f` failed: the returned value is not JSON: infinity is not valid JSON "
      "at $.x[2]");
  EXPECT_THAT(Transform("return {f = print}"),
              HasSubstr("a function value has no JSON form at $.f"));
  EXPECT_THAT(Transform("return {[true] = 1}"), HasSubstr("a table key that is boolean"));
  EXPECT_THAT(Transform("return {[1.5] = 1}"), HasSubstr("a non-integral number"));
  EXPECT_THAT(Transform("return {[1] = 'a', ['1'] = 'b', x = 1}"),
              HasSubstr("duplicate key \"1\""));
  EXPECT_THAT(Transform("local t = {} t.self = t return t"), HasSubstr("nested too deeply"));
}

TEST(TransformTest, JsonLibraryEncodesAndDecodes) {
  EXPECT_EQ(Transform("return json.encode({b = 1, a = {}, c = json.array()})"),
            R"("{\"a\":{},\"b\":1,\"c\":[]}")");
  EXPECT_EQ(Transform("return json.decode('{\"x\": [1, 2.5, \"s\", null, true]}')"),
            R"({"x":[1,2.5,"s",null,true]})");
  EXPECT_EQ(Transform("return json.decode(json.encode(record)).customer.name"), R"("Ann")");
  EXPECT_THAT(Transform("return json.decode('[1,')"),
              HasSubstr("[string \"f\"]:1: json.decode: invalid JSON at byte 3"));
  EXPECT_THAT(Transform("return json.encode({0/0})"),
              HasSubstr("json.encode: NaN is not valid JSON at $[1]"));
}

TEST(TransformTest, GlobalFunctionForm) {
  auto function = MustCompile("transform",
                              "local function cents(total)\n"
                              "  return math.floor(tonumber(total) * 100 + 0.5)\n"
                              "end\n"
                              "function transform(action, record, changes, metadata)\n"
                              "  return {id = record.id, cents = cents(record.total)}\n"
                              "end\n");
  EXPECT_EQ(Transform(*function), R"({"cents":1990,"id":42})");
  EXPECT_EQ(Transform("transform = function(action, record) return record.id end"), "42");
}

TEST(TransformTest, GlobalsPersistBetweenCallsOfTheSameFunction) {
  auto function = MustCompile("transform", "calls = (calls or 0) + 1 return calls");
  EXPECT_EQ(Transform(*function), "1");
  EXPECT_EQ(Transform(*function), "2");
}

// --- route ------------------------------------------------------------------

TEST(RouteTest, ReturnsKeysAndHeaders) {
  auto function = MustCompile("route",
                              "return {path = '/orders/' .. record.id, topic = 'orders',"
                              " key = record.id, headers = {['X-Tenant'] = record.customer.tier,"
                              " ['X-Id'] = record.id, ['X-Ratio'] = 0.5}}");
  auto route = function->RouteMessage(kMessage);
  ASSERT_TRUE(route.ok()) << route.status().ToString();
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(route->keys, (Pairs{{"key", "42"}, {"path", "/orders/42"}, {"topic", "orders"}}));
  EXPECT_EQ(route->headers, (Pairs{{"X-Id", "42"}, {"X-Ratio", "0.5"}, {"X-Tenant", "gold"}}));
}

TEST(RouteTest, ChunkFormAndNilMeansNoOverrides) {
  auto function = MustCompile("route",
                              "function route(action, record, changes, metadata)\n"
                              "  if action == 'delete' then return nil end\n"
                              "  return {subject = 'orders.' .. action, queue = 'q'}\n"
                              "end");
  auto route = function->RouteMessage(kMessage);
  ASSERT_TRUE(route.ok()) << route.status().ToString();
  ASSERT_EQ(route->keys.size(), 2u);
  EXPECT_EQ(route->keys[0], (std::pair<std::string, std::string>{"queue", "q"}));
  EXPECT_EQ(route->keys[1], (std::pair<std::string, std::string>{"subject", "orders.insert"}));
  EXPECT_TRUE(route->headers.empty());
  auto none = function->RouteMessage(MessageWithRecord("{}", "delete"));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->keys.empty());
}

TEST(RouteTest, BadReturnValuesAreErrors) {
  auto message = [](const std::string& lua) {
    auto route = MustCompile("route", lua, "r")->RouteMessage(kMessage);
    return route.ok() ? std::string("ok") : route.status().message();
  };
  EXPECT_EQ(message("return 'orders'"),
            "function `r` failed: a route function must return a table, not a string");
  EXPECT_EQ(message("return {topic = true}"),
            "function `r` failed: the value of route key `topic` must be a string or a finite "
            "number, not a boolean");
  EXPECT_EQ(message("return {'orders'}"),
            "function `r` failed: route keys must be strings, not a number");
  EXPECT_EQ(message("return {headers = 'x'}"),
            "function `r` failed: `headers` must be a table, not a string");
  EXPECT_EQ(message("return {headers = {a = {}}}"),
            "function `r` failed: the value of header name `a` must be a string or a finite "
            "number, not a table");
  EXPECT_THAT(message("return {topic = 0/0}"), HasSubstr("not a number"));
}

// --- compiling ----------------------------------------------------------------

TEST(CompileTest, UnknownTypeIsAnError) {
  Status status = CompileError("map", "return 1", "m");
  EXPECT_TRUE(status.IsPermanent());
  EXPECT_EQ(status.message(),
            "function `m`: unknown function type `map` (expected filter, transform or route)");
}

TEST(CompileTest, SyntaxErrorsReportTheUsersLine) {
  EXPECT_EQ(CompileError("transform", "local x = 1\nreturn {x = }", "bad").message(),
            "function `bad` does not compile: [string \"bad\"]:2: unexpected symbol near '}'");
  Status unclosed = CompileError("transform", "local x = 1\nreturn {x = 1,\n", "bad");
  EXPECT_THAT(unclosed.message(), HasSubstr("[string \"bad\"]:3: unexpected symbol near <eof>"));
  Status chunk = CompileError("filter", "function filter(a)\n  return a ==\nend", "bad");
  EXPECT_EQ(chunk.message(),
            "function `bad` does not compile: [string \"bad\"]:3: unexpected symbol near 'end'");
}

TEST(CompileTest, ChunkThatFailsWhileLoadingIsAnError) {
  EXPECT_EQ(
      CompileError("transform", "local t = nil\nt.x = 1\nfunction transform() end", "c").message(),
      "function `c` failed while loading: [string \"c\"]:2: attempt to index a nil value "
      "(local 't')");
  EXPECT_THAT(CompileError("transform", "if false then function transform() end end").message(),
              HasSubstr("does not define a global function `transform`"));
  EXPECT_THAT(CompileError("transform", "while true do end\nfunction transform() end").message(),
              HasSubstr("instruction limit exceeded"));
}

TEST(CompileTest, DefiningAnotherKindsFunctionIsAnError) {
  EXPECT_EQ(CompileError("transform", "function filter(a) return true end", "t").message(),
            "function `t`: the code defines function `filter` but the function's type is "
            "`transform`");
}

TEST(CompileTest, LocalHelpersNamedLikeAKindAreBodyCode) {
  EXPECT_EQ(Transform("local function route(x) return x end\nreturn route(record.id)"), "42");
  EXPECT_EQ(Transform("local r = {route = 1}\nreturn r.route"), "1");
}

TEST(CompileTest, TooLittleMemoryForTheStateIsAnError) {
  Limits limits;
  limits.max_memory_bytes = 1024;
  auto function = Function::Compile(Config("tiny", "transform", "return 1"), limits);
  ASSERT_FALSE(function.ok());
  EXPECT_THAT(function.status().message(), HasSubstr("function `tiny`"));
}

TEST(CompileTest, MethodMustMatchTheKind) {
  auto function = MustCompile("filter", "return true", "flt");
  EXPECT_EQ(function->Transform(kMessage).status().message(),
            "function `flt` is a filter function, not a transform");
  EXPECT_EQ(function->kind(), Kind::kFilter);
  EXPECT_EQ(function->name(), "flt");
}

// --- runtime errors -----------------------------------------------------------

TEST(RuntimeErrorTest, NamesTheFunctionAndTheLine) {
  auto function = MustCompile(
      "transform", "local a = 1\nlocal b = 2\nreturn {name = record.client.name}", "slim");
  auto out = function->Transform(kMessage);
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(out.status().IsPermanent());
  EXPECT_EQ(out.status().message(),
            "function `slim` failed: [string \"slim\"]:3: attempt to index a nil value (field "
            "'client')");
  // The function is still usable.
  EXPECT_EQ(Transform(*function, MessageWithRecord(R"({"client":{"name":"Bo"}})")),
            R"({"name":"Bo"})");
}

TEST(RuntimeErrorTest, ErrorValuesOfAnyType) {
  EXPECT_EQ(Transform("error('boom')"), "error: function `f` failed: [string \"f\"]:1: boom");
  EXPECT_EQ(Transform("error('boom', 0)"), "error: function `f` failed: boom");
  EXPECT_EQ(Transform("error({code = 1})"),
            "error: function `f` failed: (error object is a table value)");
  EXPECT_EQ(Transform("error(setmetatable({}, {__tostring = function() while true do end end}))"),
            "error: function `f` failed: (error object is a table value)");
  EXPECT_EQ(Transform("error(7)"), "error: function `f` failed: 7");
}

TEST(RuntimeErrorTest, InvalidMessageIsAnError) {
  EXPECT_THAT(Transform("return 1", "{\"record\":"),
              HasSubstr("message: invalid JSON at byte 10: unexpected end"));
  EXPECT_THAT(Transform("return 1", "[1]"), HasSubstr("message: not a JSON object"));
  EXPECT_THAT(Transform("return 1", "{} x"), HasSubstr("unexpected data after the value"));
}

TEST(RuntimeErrorTest, StackOverflowIsAnError) {
  // Whichever comes first with the default limits; either way a clean error.
  EXPECT_THAT(Transform("local function f(n) return 1 + f(n + 1) end return f(1)"),
              ::testing::AnyOf(HasSubstr("stack overflow"), HasSubstr("memory limit exceeded")));
  Limits limits = TestLimits();
  limits.max_memory_bytes = size_t{256} << 20;
  auto deep = MustCompile("transform", "local function f(n) return 1 + f(n + 1) end return f(1)",
                          "deep", limits);
  EXPECT_THAT(Transform(*deep), HasSubstr("[string \"deep\"]:1: stack overflow"));
}

// --- sandbox --------------------------------------------------------------------

// Each escape fails with an error, and the same function then works again.
void ExpectEscapeFails(const std::string& lua, const std::string& expected) {
  auto function = MustCompile("transform", "if record.id == 42 then " + lua + " end return 'ok'");
  ASSERT_NE(function, nullptr);
  auto out = function->Transform(kMessage);
  ASSERT_FALSE(out.ok()) << lua << " returned " << *out;
  EXPECT_THAT(out.status().message(), HasSubstr(expected)) << lua;
  EXPECT_EQ(Transform(*function, MessageWithRecord(R"({"id":7})")), R"("ok")") << lua;
}

TEST(SandboxTest, NoOperatingSystemOrFileAccess) {
  ExpectEscapeFails("os.execute('touch /tmp/sluice-escaped')",
                    "attempt to index a nil value (global 'os')");
  ExpectEscapeFails("io.open('/etc/passwd')", "attempt to index a nil value (global 'io')");
  ExpectEscapeFails("require('os')", "attempt to call a nil value (global 'require')");
  ExpectEscapeFails("dofile('/etc/passwd')", "attempt to call a nil value (global 'dofile')");
  ExpectEscapeFails("loadfile('/etc/passwd')", "attempt to call a nil value (global 'loadfile')");
  ExpectEscapeFails("debug.getinfo(1)", "attempt to index a nil value (global 'debug')");
  ExpectEscapeFails("package.loadlib('libc.so.6', 'system')",
                    "attempt to index a nil value (global 'package')");
  ExpectEscapeFails("coroutine.create(print)", "attempt to index a nil value (global 'coroutine')");
}

TEST(SandboxTest, NoBinaryChunks) {
  ExpectEscapeFails("string.dump(print)", "attempt to call a nil value (field 'dump')");
  ExpectEscapeFails("assert(load('\\27LuaT\\0\\25\\147'))", "attempt to load a binary chunk");
  ExpectEscapeFails("load('return 1', 'x', 'b')", "only text chunks are allowed");
  ExpectEscapeFails("load('return 1', 'x', 'bt')", "only text chunks are allowed");
  ExpectEscapeFails("load(function() return nil end)", "bad argument #1 to 'load'");
  // Text chunks work, in the function's environment or a given one.
  EXPECT_EQ(Transform("return {load('return 1 + 1')(), load('return x', 'c', 't', {x = 5})()}"),
            "[2,5]");
  EXPECT_EQ(Transform("return load('return os', 'c', 't', _ENV)()"), "null");
}

TEST(SandboxTest, StringMetatableIsProtected) {
  EXPECT_EQ(Transform("return getmetatable('')"), "false");
  ExpectEscapeFails("getmetatable('').__index.upper = nil", "attempt to index a boolean value");
  ExpectEscapeFails("setmetatable('', {})", "bad argument #1 to 'setmetatable'");
  EXPECT_EQ(Transform("return ('abc'):upper()"), R"("ABC")");
}

TEST(SandboxTest, GarbageCollectorCannotBeStopped) {
  ExpectEscapeFails("collectgarbage('stop')", "option 'stop' is not allowed");
  ExpectEscapeFails("collectgarbage('generational')", "not allowed");
  EXPECT_EQ(Transform("return math.type(collectgarbage('count'))"), R"("float")");
  EXPECT_EQ(Transform("return collectgarbage()"), "0");
}

TEST(SandboxTest, FinalizersAreRefused) {
  ExpectEscapeFails("setmetatable({}, {__gc = function() while true do end end})",
                    "__gc metamethods are not allowed");
  // The array marker cannot be given a __gc either.
  EXPECT_EQ(Transform("return getmetatable(record.tags)"), R"("json.array")");
  ExpectEscapeFails("setmetatable(record.tags, {})", "cannot change a protected metatable");
}

TEST(SandboxTest, GlobalTableTricksReachNothing) {
  EXPECT_EQ(Transform("return {_G.os == nil, _ENV.io == nil, rawget(_G, 'debug') == nil,"
                      " getmetatable(_G) == nil, _G == _ENV}"),
            "[true,true,true,true,true]");
  ExpectEscapeFails("setmetatable(_G, {__index = function(_, k) return k end}) os.execute('x')",
                    "attempt to call a nil value (field 'execute')");
  ExpectEscapeFails("setmetatable(_G, nil) local e = getmetatable(_G) return e.os",
                    "attempt to index a nil value (local 'e')");
}

TEST(SandboxTest, SafeLibrariesAreThere) {
  EXPECT_EQ(Transform("print('ignored') return {string.format('%05.1f', 3.14159),"
                      " table.concat({'a', 'b'}, ','), math.floor(2.5), utf8.char(233),"
                      " select('#', 1, 2), tostring(12), tonumber('0x10'), type(pcall)}"),
            "[\"003.1\",\"a,b\",2,\"\xC3\xA9\",2,\"12\",16,\"function\"]");
}

// --- limits ---------------------------------------------------------------------

TEST(LimitsTest, InfiniteLoopHitsTheInstructionLimit) {
  auto function = MustCompile(
      "transform", "if record.id == 42 then\n  while true do end\nend\nreturn record.id", "spin");
  auto out = function->Transform(kMessage);
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(out.status().IsPermanent());
  EXPECT_EQ(out.status().message(),
            "function `spin` failed: [string \"spin\"]:2: instruction limit exceeded (10000000 "
            "instructions)");
  EXPECT_EQ(Transform(*function, MessageWithRecord(R"({"id":7})")), "7");
}

TEST(LimitsTest, PcallCannotSwallowTheInstructionLimit) {
  EXPECT_THAT(Transform("while true do pcall(function() while true do end end) end"),
              HasSubstr("instruction limit exceeded"));
  EXPECT_THAT(Transform("return pcall(function() while true do end end)"),
              HasSubstr("instruction limit exceeded"));
  EXPECT_THAT(Transform("local ok = xpcall(function() while true do end end,"
                        " function() while true do end end) return ok"),
              HasSubstr("instruction limit exceeded"));
}

TEST(LimitsTest, XpcallStillWorks) {
  EXPECT_EQ(Transform("return {xpcall(function(a) return a + 1 end, print, 1)}"), "[true,2]");
  EXPECT_EQ(Transform("return {xpcall(error, function(e) return 'h:' .. e end, 'x', 0)}"),
            R"([false,"h:x"])");
  EXPECT_EQ(Transform("return {xpcall(error, function(e) error('again', 0) end, 'x')}"),
            R"([false,"again"])");
}

TEST(LimitsTest, SmallInstructionLimit) {
  Limits limits = TestLimits();
  limits.max_instructions = 500;
  auto function = MustCompile("transform",
                              "local n = 0 for i = 1, record.id do n = n + i end "
                              "return n",
                              "sum", limits);
  EXPECT_EQ(Transform(*function, MessageWithRecord(R"({"id":10})")), "55");
  EXPECT_THAT(Transform(*function, MessageWithRecord(R"({"id":100000})")),
              HasSubstr("instruction limit exceeded (500 instructions)"));
}

TEST(LimitsTest, WallClockLimitIsRetryable) {
  Limits limits;
  limits.max_instructions = uint64_t{1} << 62;
  limits.max_time = std::chrono::milliseconds(20);
  auto function = MustCompile("transform", "while true do end", "slow", limits);
  auto out = function->Transform(kMessage);
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(out.status().IsRetryable());
  EXPECT_EQ(out.status().message(),
            "function `slow` failed: [string \"slow\"]:1: time limit exceeded (20 ms)");
}

TEST(LimitsTest, MemoryBombHitsTheMemoryLimitAndTheFunctionRecovers) {
  auto function = MustCompile("transform",
                              "if record.id == 42 then\n"
                              "  local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) end\n"
                              "end\n"
                              "return record.id",
                              "bomb");
  auto out = function->Transform(kMessage);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().message(),
            "function `bomb` failed: memory limit exceeded (33554432 bytes)");
  EXPECT_EQ(Transform(*function, MessageWithRecord(R"({"id":7})")), "7");
}

TEST(LimitsTest, HugeStringsFail) {
  EXPECT_EQ(Transform("return #string.rep('x', 1e9)"),
            "error: function `f` failed: memory limit exceeded (33554432 bytes)");
  EXPECT_THAT(Transform("return #string.rep('x', 1e10)"),
              HasSubstr("[string \"f\"]:1: resulting string too large"));
  EXPECT_EQ(Transform("local ok, e = pcall(string.rep, 'x', 1e9) return {ok, e}"),
            R"([false,"not enough memory"])");
}

TEST(LimitsTest, StateFilledThroughGlobalsIsRecreated) {
  auto function =
      MustCompile("transform",
                  "if record.id == 42 then\n"
                  "  hoard = {} for i = 1, 1e9 do hoard[i] = string.rep('x', 1000) end\n"
                  "end\n"
                  "return hoard == nil",
                  "hoarder");
  ASSERT_THAT(Transform(*function), HasSubstr("memory limit exceeded"));
  EXPECT_EQ(Transform(*function, MessageWithRecord(R"({"id":7})")), "true");
  EXPECT_LT(function->memory_bytes(), size_t{1} << 20);
}

}  // namespace
}  // namespace sluice::functions
