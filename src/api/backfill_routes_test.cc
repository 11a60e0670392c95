#include "api/backfill_routes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace sluice::api {
namespace {

using backfill::BackfillRequest;
using backfill::ControlDone;
using backfill::ControlError;
using backfill::ControlOutcome;
using nlohmann::json;

// Answers like a manager with one backfill (id 1) on sink "hook".
class FakeControl : public backfill::BackfillControl {
 public:
  FakeControl() {
    record.id = 1;
    record.sink = "hook";
    record.table_schema = "public";
    record.table_name = "orders";
    record.cursor = "[\"41\"]";
    record.rows_read = 41;
    record.estimated_total = 100;
    record.created_at_ms = 1700000000123;
    record.updated_at_ms = 1700000001000;
  }
  ControlOutcome List(const std::string&) override { return One(); }
  ControlOutcome Get(const std::string&, int64_t id) override {
    if (id != 1) return ControlOutcome::Error(ControlError::kNotFound, "no backfill 2");
    return One();
  }
  void Start(BackfillRequest request, ControlDone done) override {
    last_start = request;
    if (request.table_name == "missing") {
      return done(ControlOutcome::Error(ControlError::kInvalid,
                                        "table public.missing does not exist", "table"));
    }
    done(One());
  }
  void Pause(const std::string&, int64_t, ControlDone done) override {
    done(ControlOutcome::Error(ControlError::kConflict, "backfill 1 is completed"));
  }
  void Resume(const std::string&, int64_t, ControlDone done) override { done(One()); }
  void Cancel(const std::string&, int64_t, ControlDone done) override { done(One()); }

  ControlOutcome One() {
    ControlOutcome o;
    o.backfills.push_back(record);
    return o;
  }
  state::BackfillRecord record;
  BackfillRequest last_start;
};

class BackfillRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(AddBackfillRoutes(router_, [this](const std::string& sink) {
                  return sink == "hook" ? &control_ : nullptr;
                }).ok());
  }
  Response Call(const std::string& method, const std::string& path, const std::string& body = "") {
    auto match = router_.Find(method, path);
    EXPECT_EQ(match.kind, Router::Match::Kind::kFound) << method << " " << path;
    if (match.kind != Router::Match::Kind::kFound) return {};
    Request request;
    request.method = method;
    request.path = path;
    request.body = body;
    request.path_params = match.params;
    Response out;
    (*match.handler)(request, Responder([&](Response r) { out = std::move(r); }));
    return out;
  }
  static json Body(const Response& r) { return json::parse(r.body); }

  Router router_;
  FakeControl control_;
};

TEST_F(BackfillRoutesTest, ListShowsProgress) {
  Response r = Call("GET", "/api/sinks/hook/backfills");
  EXPECT_EQ(r.status, 200);
  json b = Body(r)["data"][0];
  EXPECT_EQ(b["id"], 1);
  EXPECT_EQ(b["table"], "public.orders");
  EXPECT_EQ(b["state"], "running");
  EXPECT_EQ(b["rows_read"], 41);
  EXPECT_EQ(b["estimated_total"], 100);
  EXPECT_EQ(b["cursor"], json::array({"41"}));
  EXPECT_EQ(b["created_at"], "2023-11-14T22:13:20.123Z");
  EXPECT_TRUE(b["completed_at"].is_null());
  EXPECT_TRUE(b["sort_column"].is_null());
}

TEST_F(BackfillRoutesTest, UnknownSinkIs404) {
  for (auto [method, path] : {std::pair{"GET", "/api/sinks/nope/backfills"},
                              std::pair{"POST", "/api/sinks/nope/backfills"},
                              std::pair{"GET", "/api/sinks/nope/backfills/1"},
                              std::pair{"POST", "/api/sinks/nope/backfills/1/pause"}}) {
    Response r = Call(method, path, "{\"table\":\"orders\"}");
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(Body(r)["error"]["code"], "not_found");
  }
}

TEST_F(BackfillRoutesTest, BadIdIs404) {
  EXPECT_EQ(Call("GET", "/api/sinks/hook/backfills/abc").status, 404);
  EXPECT_EQ(Call("GET", "/api/sinks/hook/backfills/2").status, 404);
  EXPECT_EQ(Call("POST", "/api/sinks/hook/backfills/-1/resume").status, 404);
}

TEST_F(BackfillRoutesTest, StartParsesTheRequest) {
  Response r = Call("POST", "/api/sinks/hook/backfills",
                    R"({"table":"app.orders","sort_column":"Sort Col","start_position":17,)"
                    R"("filter":"status = 'paid'"})");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(control_.last_start.sink, "hook");
  EXPECT_EQ(control_.last_start.table_schema, "app");
  EXPECT_EQ(control_.last_start.table_name, "orders");
  EXPECT_EQ(control_.last_start.sort_column, "Sort Col");
  EXPECT_EQ(control_.last_start.start_position, "17");
  EXPECT_EQ(control_.last_start.filter, "status = 'paid'");
}

TEST_F(BackfillRoutesTest, StartWithSchemaApartKeepsDotsInTheName) {
  EXPECT_EQ(Call("POST", "/api/sinks/hook/backfills", R"({"schema":"s","table":"a.b"})").status,
            201);
  EXPECT_EQ(control_.last_start.table_schema, "s");
  EXPECT_EQ(control_.last_start.table_name, "a.b");
  EXPECT_EQ(Call("POST", "/api/sinks/hook/backfills", R"({"table":"orders"})").status, 201);
  EXPECT_EQ(control_.last_start.table_schema, "public");
}

TEST_F(BackfillRoutesTest, StartErrorsAre400) {
  Response missing = Call("POST", "/api/sinks/hook/backfills", "{}");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(Body(missing)["error"]["code"], "invalid_argument");
  EXPECT_EQ(Call("POST", "/api/sinks/hook/backfills", "{\"table\": 3}").status, 400);
  EXPECT_EQ(Call("POST", "/api/sinks/hook/backfills", "{\"table\": \"a.b.c\"}").status, 400);
  EXPECT_EQ(Call("POST", "/api/sinks/hook/backfills", "{\"table\":\"t\",\"bogus\":1}").status, 400);
  EXPECT_EQ(Body(Call("POST", "/api/sinks/hook/backfills", "[1"))["error"]["code"],
            "malformed_json");
  Response unknown = Call("POST", "/api/sinks/hook/backfills", R"({"table":"missing"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_THAT(Body(unknown)["error"]["message"].get<std::string>(),
              ::testing::HasSubstr("does not exist"));
}

TEST_F(BackfillRoutesTest, ConflictIs409) {
  Response r = Call("POST", "/api/sinks/hook/backfills/1/pause");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(Body(r)["error"]["code"], "conflict");
  EXPECT_EQ(Call("POST", "/api/sinks/hook/backfills/1/resume").status, 200);
  EXPECT_EQ(Call("POST", "/api/sinks/hook/backfills/1/cancel").status, 200);
}

}  // namespace
}  // namespace sluice::api
