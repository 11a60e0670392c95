#include "pipeline/router.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "pipeline/renderer.h"

namespace sluice::pipeline {
namespace {

using source::ColumnValue;

config::SinkConfig SinkFor(std::vector<config::TableName> tables) {
  config::SinkConfig s;
  s.name = "s";
  s.tables = std::move(tables);
  return s;
}

source::RelationRef Table(const std::string& schema, const std::string& name) {
  auto rel = std::make_shared<source::RelationInfo>();
  rel->oid = static_cast<uint32_t>(std::hash<std::string>{}(schema + name));
  rel->schema = schema;
  rel->table = name;
  source::ColumnInfo id;
  id.name = "id";
  id.type = values::BuiltinType(23);
  source::ColumnInfo customer;
  customer.name = "customer";
  customer.type = values::BuiltinType(25);
  rel->columns = {id, customer};
  rel->key_columns = {0};
  rel->version = 1;
  return rel;
}

TEST(SinkWantsTest, ScopeAndActions) {
  config::SinkConfig s = SinkFor({{"public", "orders"}});
  EXPECT_TRUE(SinkWants(s, "public", "orders", Action::kInsert));
  EXPECT_FALSE(SinkWants(s, "public", "users", Action::kInsert));
  EXPECT_FALSE(SinkWants(s, "public", "orders", Action::kTruncate));
  s.actions = {config::ActionKind::kDelete};
  EXPECT_FALSE(SinkWants(s, "public", "orders", Action::kInsert));
  EXPECT_TRUE(SinkWants(s, "public", "orders", Action::kDelete));

  config::SinkConfig all;
  all.exclude_schemas = {"audit"};
  all.exclude_tables = {{"public", "secrets"}};
  EXPECT_TRUE(SinkWants(all, "public", "orders", Action::kUpdate));
  EXPECT_FALSE(SinkWants(all, "audit", "log", Action::kUpdate));
  EXPECT_FALSE(SinkWants(all, "public", "secrets", Action::kUpdate));
  all.include_schemas = {"sales"};
  EXPECT_FALSE(SinkWants(all, "public", "orders", Action::kUpdate));
  EXPECT_TRUE(SinkWants(all, "sales", "orders", Action::kUpdate));
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() : acks_(100, {Position{}, Position{}}), q0_(1 << 20), q1_(1 << 20) {
    c0_ = SinkFor({{"public", "orders"}});
    c1_ = SinkFor({});
    c1_.name = "grouped";
    c1_.group_columns = {"customer"};
    router_ = std::make_unique<Router>(
        std::vector<RoutedSink>{{&c0_, &q0_, RenderSinkSuffix("i0", "s", {}, "app")},
                                {&c1_, &q1_, RenderSinkSuffix("i1", "grouped", {}, "app")}},
        acks_, nullptr, stopping_);
  }
  source::Change Insert(source::RelationRef rel, uint32_t idx, std::string_view id,
                        std::string_view customer) {
    source::Change c;
    c.action = Action::kInsert;
    c.position = {200, idx};
    c.relation = std::move(rel);
    c.new_values = {{ColumnValue::Kind::kText, id}, {ColumnValue::Kind::kText, customer}};
    return c;
  }

  std::atomic<bool> stopping_{false};
  AckTracker acks_;
  SinkQueue q0_, q1_;
  config::SinkConfig c0_, c1_;
  std::unique_ptr<Router> router_;
};

TEST_F(RouterTest, RoutesByScopeAndRendersPerSink) {
  router_->OnBegin({1, 200, 0, 0});
  ASSERT_TRUE(router_->OnChange(Insert(Table("public", "orders"), 0, "1", "ada")).ok());
  ASSERT_TRUE(router_->OnChange(Insert(Table("public", "users"), 1, "2", "bob")).ok());
  router_->OnCommit({1, 200, 250, 0});
  EXPECT_EQ(q0_.size(), 1u);
  EXPECT_EQ(q1_.size(), 2u);
  TakenBatch b = q1_.TakeBatch(10);
  ASSERT_EQ(b.messages.size(), 2u);
  auto j = nlohmann::json::parse(b.messages[0]->message.json);
  EXPECT_EQ(j["metadata"]["sink"]["name"], "grouped");
  EXPECT_EQ(b.messages[0]->message.group_key,
            "public.orders\x1f"
            "ada");
  TakenBatch a = q0_.TakeBatch(10);
  EXPECT_EQ(a.messages[0]->message.group_key,
            "public.orders\x1f"
            "1");
}

TEST_F(RouterTest, RendersAheadOnlyWhatAnActiveSinkWants) {
  std::string record, changes;
  ASSERT_TRUE(
      router_->RenderAhead(Insert(Table("public", "users"), 0, "2", "bob"), record, changes));
  EXPECT_EQ(record, R"({"id":2,"customer":"bob"})");
  EXPECT_EQ(changes, "");
  // Only sink 1 wants public.users; paused, no sink does.
  c1_.active = false;
  record.clear();
  EXPECT_FALSE(
      router_->RenderAhead(Insert(Table("public", "users"), 0, "2", "bob"), record, changes));
  EXPECT_EQ(record, "");
  EXPECT_TRUE(
      router_->RenderAhead(Insert(Table("public", "orders"), 0, "1", "ada"), record, changes));
  // Rendered ahead, the message is the same.
  source::Change change = Insert(Table("public", "orders"), 0, "1", "ada");
  change.rendered_record = record;
  std::string ahead, not_ahead;
  RenderChangePrefix(change, ahead);
  change.rendered_record = {};
  RenderChangePrefix(change, not_ahead);
  EXPECT_EQ(ahead, not_ahead);
}

TEST_F(RouterTest, SkipsMessagesAlreadyRoutedAfterReconnect) {
  auto rel = Table("public", "orders");
  router_->OnBegin({1, 200, 0, 0});
  ASSERT_TRUE(router_->OnChange(Insert(rel, 0, "1", "ada")).ok());
  acks_.Reconnected();
  // The server sends the transaction again from the start.
  router_->OnBegin({1, 200, 0, 0});
  ASSERT_TRUE(router_->OnChange(Insert(rel, 0, "1", "ada")).ok());
  ASSERT_TRUE(router_->OnChange(Insert(rel, 1, "2", "ada")).ok());
  router_->OnCommit({1, 200, 250, 0});
  EXPECT_EQ(q0_.size(), 2u);
}

TEST_F(RouterTest, FullQueueGivesUpWhenStopping) {
  SinkQueue tiny(1);
  config::SinkConfig c = SinkFor({});
  int blocked_calls = 0;
  Router router(
      {{&c, &tiny, RenderSinkSuffix("i", "s", {}, "app")}}, acks_,
      [&] {
        if (++blocked_calls == 3) stopping_ = true;
      },
      stopping_);
  auto rel = Table("public", "orders");
  router.OnBegin({1, 200, 0, 0});
  ASSERT_TRUE(router.OnChange(Insert(rel, 0, "1", "a")).ok());
  Status st = router.OnChange(Insert(rel, 1, "2", "b"));
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(blocked_calls, 3);
}

}  // namespace
}  // namespace sluice::pipeline
