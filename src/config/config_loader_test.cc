#include "config/config_loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>

#include "config/fields.h"

namespace sluice::config {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

LoadOptions Options(std::map<std::string, std::string> env = {}) {
  LoadOptions options;
  options.env = FakeEnv(std::move(env));
  options.sink_types = {"file", "stdout", "webhook"};
  return options;
}

LoadResult Load(std::string_view yaml, std::map<std::string, std::string> env = {}) {
  return LoadConfigString(yaml, "sluice.yaml", Options(std::move(env)));
}

std::string Errors(const LoadResult& result) { return FormatErrors(result.errors); }

// A database section that is valid on its own.
constexpr std::string_view kDatabase =
    "databases:\n"
    "  - name: app\n"
    "    url: postgres://u@db/app\n"
    "    slot: {name: s}\n"
    "    publication: {name: p}\n";

// The example of DESIGN.md §7.
constexpr std::string_view kDesignExample =
    R"(data_dir: ./sluice-data            # env SLUICE_DATA_DIR overrides
server: {listen: "127.0.0.1:7376"}
api_tokens: [{name: ops, token: "${SLUICE_TOKEN}"}]
databases:
  - name: app
    url: postgres://sluice:${PGPASSWORD}@db:5432/app   # or hostname/port/database/username/password
    slot: {name: sluice_slot, create_if_not_exists: true}
    publication: {name: sluice_pub, create_if_not_exists: true}  # all tables, or tables: [...]
http_endpoints:
  - {name: billing, url: "https://billing.internal/hooks", headers: {X-Env: prod}}
functions:
  - {name: slim, type: transform, lua: "return {id = record.id, status = record.status}"}
sinks:
  - name: paid_orders
    database: app
    tables: [public.orders]          # or include/exclude schemas and tables
    actions: [insert, update]
    filter: "status = 'paid' AND total > 100"
    transform: slim
    group_columns: [customer_id]     # default: the primary key
    batch_size: 10
    max_retry_count: null            # forever
    initial_backfill: [{table: public.orders}]
    destination: {type: webhook, http_endpoint: billing, path: /orders, signing_secret: "${HOOK_SECRET}"}
)";

TEST(ConfigLoaderTest, DesignExampleLoads) {
  LoadResult result = Load(
      kDesignExample, {{"SLUICE_TOKEN", "tok"}, {"PGPASSWORD", "pw"}, {"HOOK_SECRET", "whsec"}});
  ASSERT_EQ(Errors(result), "");
  ASSERT_TRUE(result.config.has_value());
  const Config& config = *result.config;
  EXPECT_EQ(config.file, "sluice.yaml");
  EXPECT_EQ(config.data_dir, "./sluice-data");
  EXPECT_EQ(config.listen, "127.0.0.1:7376");
  ASSERT_EQ(config.api_tokens.size(), 1u);
  EXPECT_EQ(config.api_tokens[0].token, "tok");

  ASSERT_EQ(config.databases.size(), 1u);
  const DatabaseConfig& db = config.databases[0];
  EXPECT_EQ(db.conninfo, "postgres://sluice:pw@db:5432/app");
  EXPECT_EQ(db.display, "db:5432/app");
  EXPECT_EQ(db.slot.name, "sluice_slot");
  EXPECT_TRUE(db.slot.create_if_not_exists);
  EXPECT_EQ(db.publication.name, "sluice_pub");
  EXPECT_TRUE(db.publication.tables.empty());

  const HttpEndpointConfig* billing = config.FindHttpEndpoint("billing");
  ASSERT_NE(billing, nullptr);
  EXPECT_EQ(billing->headers,
            (std::vector<std::pair<std::string, std::string>>{{"X-Env", "prod"}}));
  ASSERT_NE(config.FindFunction("slim"), nullptr);
  EXPECT_EQ(config.FindFunction("slim")->type, "transform");

  ASSERT_EQ(config.sinks.size(), 1u);
  const SinkConfig& sink = config.sinks[0];
  EXPECT_EQ(sink.database, "app");
  EXPECT_EQ(sink.tables, (std::vector<TableName>{{"public", "orders"}}));
  EXPECT_EQ(sink.actions, (std::vector<ActionKind>{ActionKind::kInsert, ActionKind::kUpdate}));
  EXPECT_EQ(sink.filter, "status = 'paid' AND total > 100");
  EXPECT_EQ(sink.transform, "slim");
  EXPECT_EQ(sink.group_columns, std::vector<std::string>{"customer_id"});
  EXPECT_EQ(sink.batch_size, 10u);
  EXPECT_EQ(sink.max_retry_count, std::nullopt);
  ASSERT_EQ(sink.initial_backfill.size(), 1u);
  EXPECT_EQ(sink.initial_backfill[0].table, (TableName{"public", "orders"}));
  EXPECT_EQ(sink.destination_type, "webhook");
  ASSERT_NE(sink.destination.Find("signing_secret"), nullptr);
  EXPECT_EQ(sink.destination.Find("signing_secret")->scalar, "whsec");
  EXPECT_EQ(sink.destination.Find("path")->path, "sinks[0].destination.path");
}

TEST(ConfigLoaderTest, ReferenceDocumentationExampleLoads) {
  std::ifstream in(std::string(SLUICE_DOCS_DIR) + "/configuration.md");
  ASSERT_TRUE(in.good());
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t start = doc.find("```yaml\n");
  ASSERT_NE(start, std::string::npos);
  const size_t end = doc.find("```", start + 8);
  ASSERT_NE(end, std::string::npos);
  LoadResult result = Load(doc.substr(start + 8, end - start - 8), {{"SLUICE_TOKEN", "t"},
                                                                    {"PGPASSWORD", "p"},
                                                                    {"ANALYTICS_PASSWORD", "a"},
                                                                    {"HOOK_SECRET", "h"}});
  ASSERT_EQ(Errors(result), "");
  ASSERT_EQ(result.config->sinks.size(), 2u);
  EXPECT_EQ(result.config->sinks[0].max_retry_count, std::nullopt);
  EXPECT_EQ(result.config->sinks[1].tables, (std::vector<TableName>{{"public", "signups"}}));
  EXPECT_EQ(result.config->databases[1].display, "analytics.internal:5433/events");
}

TEST(ConfigLoaderTest, EmptyFileGivesTheDefaults) {
  LoadResult result = Load("");
  ASSERT_EQ(Errors(result), "");
  EXPECT_EQ(result.config->data_dir, "./sluice-data");
  EXPECT_EQ(result.config->log_level, "info");
  EXPECT_EQ(result.config->log_format, "json");
  EXPECT_TRUE(result.config->sinks.empty());
}

TEST(ConfigLoaderTest, RootMustBeAMap) {
  LoadResult result = Load("- a\n- b\n");
  EXPECT_EQ(Errors(result), "sluice.yaml:1:1: expected a map, got a list\n");
  EXPECT_FALSE(result.config.has_value());
}

TEST(ConfigLoaderTest, UnknownKeyNamesAllowedKeys) {
  LoadResult result = Load(
      "databases:\n"
      "  - name: app\n"
      "    url: postgres://db/app\n"
      "    slott: {name: s}\n"
      "    slot: {name: s}\n"
      "    publication: {name: p}\n");
  EXPECT_EQ(Errors(result),
            "sluice.yaml:4:5: databases[0].slott: unknown key; allowed: name, url, hostname, "
            "port, database, username, password, slot, publication, protocol_version, streaming, "
            "stream_buffer_bytes, status_interval_ms, reconnect_initial_ms, reconnect_max_ms\n");
  EXPECT_FALSE(result.config.has_value());
}

TEST(ConfigLoaderTest, UnknownTopLevelKeyListsTheSections) {
  LoadResult result = Load("log_levl: debug\n");
  EXPECT_EQ(Errors(result),
            "sluice.yaml:1:1: log_levl: unknown key; allowed: data_dir, server, log_level, "
            "log_format, api_tokens, databases, http_endpoints, functions, sinks, x-*\n");
}

TEST(ConfigLoaderTest, LineNumbersPointAtTheKey) {
  LoadResult result = Load(std::string(kDatabase) +
                           "sinks:\n"
                           "  - name: s\n"
                           "    destination:\n"
                           "      type: stdout\n"
                           "    retries:\n"
                           "      count: 3\n");
  EXPECT_EQ(
      Errors(result),
      "sluice.yaml:10:5: sinks[0].retries: unknown key; allowed: name, database, table, "
      "tables, include_schemas, exclude_schemas, include_tables, exclude_tables, actions, "
      "filter, transform, routing, group_columns, batch_size, batch_timeout_ms, max_retry_count, "
      "retry_initial_ms, retry_max_ms, max_queue_bytes, annotations, active, "
      "initial_backfill, destination\n");
}

TEST(ConfigLoaderTest, MissingEnvVarWithoutDefaultIsAnError) {
  LoadResult result = Load(
      "databases:\n"
      "  - name: app\n"
      "    url: postgres://u:${DB_PASSWORD}@db/app\n"
      "    slot: {name: s}\n"
      "    publication: {name: p}\n");
  EXPECT_EQ(Errors(result),
            "sluice.yaml:3:10: databases[0].url: environment variable DB_PASSWORD is not set "
            "(write ${DB_PASSWORD:-default} to give a default)\n");
  EXPECT_FALSE(result.config.has_value());
}

TEST(ConfigLoaderTest, EnvDefaultsAndEscapesApply) {
  LoadResult result = Load(
      "data_dir: ${DATA:-/var/lib/sluice}\n"
      "api_tokens: [{name: a, token: \"p$$w${SUFFIX:-x}\"}]\n");
  ASSERT_EQ(Errors(result), "");
  EXPECT_EQ(result.config->data_dir, "/var/lib/sluice");
  EXPECT_EQ(result.config->api_tokens[0].token, "p$wx");
}

TEST(ConfigLoaderTest, UnterminatedInterpolationIsAnError) {
  LoadResult result = Load("data_dir: /data/${HOME\n");
  EXPECT_EQ(Errors(result),
            "sluice.yaml:1:11: data_dir: unterminated \"${\" (missing \"}\"; write $$ for a "
            "literal $)\n");
}

TEST(ConfigLoaderTest, InterpolatedBareNumberIsAnInteger) {
  LoadResult result = Load(
      "databases:\n"
      "  - name: app\n"
      "    hostname: db\n"
      "    port: ${PGPORT}\n"
      "    database: app\n"
      "    username: u\n"
      "    slot: {name: s}\n"
      "    publication: {name: p}\n"
      "sinks:\n"
      "  - {name: s, batch_size: \"${SIZE:-5}\", destination: {type: stdout}}\n",
      {{"PGPORT", "6543"}});
  ASSERT_EQ(Errors(result), "");
  EXPECT_EQ(result.config->databases[0].display, "db:6543/app");
  // Quoted because flow style needs it, but a lone reference types as its value.
  EXPECT_EQ(result.config->sinks[0].batch_size, 5u);
}

TEST(ConfigLoaderTest, QuotedLiteralNumberIsNotAnInteger) {
  LoadResult result = Load(std::string(kDatabase) +
                           "sinks:\n"
                           "  - {name: s, batch_size: \"5\", destination: {type: stdout}}\n");
  EXPECT_EQ(Errors(result),
            "sluice.yaml:7:27: sinks[0].batch_size: expected an integer between 1 and 10000, got "
            "the quoted string \"5\"\n");
}

TEST(ConfigLoaderTest, ReportsAllErrorsAtOnceInFileOrder) {
  // Sinks come first in the file but are checked after databases.
  LoadResult result = Load(
      "sinks:\n"
      "  - name: bad name\n"
      "    batch_size: ten\n"
      "    destination: {type: kafak}\n"
      "databases:\n"
      "  - name: app\n"
      "    url: mysql://db/app\n"
      "    slot: {name: Bad-Slot}\n"
      "    publication: {name: p, create_if_not_exists: yes}\n"
      "log_level: verbose\n");
  EXPECT_EQ(Errors(result),
            "sluice.yaml:2:11: sinks[0].name: a sink name is letters, digits, _ and -, got \"bad "
            "name\"\n"
            "sluice.yaml:3:17: sinks[0].batch_size: expected an integer between 1 and 10000, got "
            "\"ten\"\n"
            "sluice.yaml:4:25: sinks[0].destination.type: unknown destination type \"kafak\"; "
            "allowed: file, stdout, webhook\n"
            "sluice.yaml:7:10: databases[0].url: expected a postgres:// or postgresql:// URL\n"
            "sluice.yaml:8:18: databases[0].slot.name: a replication slot name is 1 to 63 "
            "lower-case letters, digits and underscores, got \"Bad-Slot\"\n"
            "sluice.yaml:9:50: databases[0].publication.create_if_not_exists: expected true or "
            "false, got \"yes\"\n"
            "sluice.yaml:10:12: log_level: expected one of debug, info, warn, error, got "
            "\"verbose\"\n");
  EXPECT_FALSE(result.config.has_value());
}

TEST(ConfigLoaderTest, MissingRequiredSectionsAreReported) {
  LoadResult result = Load(
      "databases:\n"
      "  - name: app\n"
      "    url: postgres://db/app\n"
      "sinks:\n"
      "  - name: s\n");
  EXPECT_EQ(Errors(result),
            "sluice.yaml:2:5: databases[0]: missing required key \"slot\"\n"
            "sluice.yaml:2:5: databases[0]: missing required key \"publication\"\n"
            "sluice.yaml:5:5: sinks[0]: missing required key \"destination\"\n");
}

TEST(ConfigLoaderTest, SeparateFieldsBuildAQuotedConninfo) {
  LoadResult result = Load(
      "databases:\n"
      "  - name: app\n"
      "    hostname: db.internal\n"
      "    database: app\n"
      "    username: sluice\n"
      "    password: \"it's a \\\\secret\"\n"
      "    slot: {name: s}\n"
      "    publication: {name: p}\n");
  ASSERT_EQ(Errors(result), "");
  const DatabaseConfig& db = result.config->databases[0];
  EXPECT_EQ(db.conninfo,
            "host='db.internal' port='5432' dbname='app' user='sluice' "
            "password='it\\'s a \\\\secret'");
  EXPECT_EQ(db.display, "db.internal:5432/app");
}

TEST(ConfigLoaderTest, SeparateFieldsNeedHostDatabaseAndUser) {
  LoadResult result = Load(
      "databases:\n"
      "  - name: app\n"
      "    hostname: db\n"
      "    slot: {name: s}\n"
      "    publication: {name: p}\n");
  EXPECT_EQ(Errors(result),
            "sluice.yaml:2:5: databases[0]: missing required key \"database\" (or give url "
            "instead of the separate fields)\n"
            "sluice.yaml:2:5: databases[0]: missing required key \"username\" (or give url "
            "instead of the separate fields)\n");
}

TEST(ConfigLoaderTest, UrlWithSeparateFieldsIsAnError) {
  LoadResult result = Load(
      "databases:\n"
      "  - name: app\n"
      "    url: postgres://db/app\n"
      "    hostname: db\n"
      "    port: 5433\n"
      "    slot: {name: s}\n"
      "    publication: {name: p}\n");
  EXPECT_EQ(Errors(result),
            "sluice.yaml:3:10: databases[0].url: url cannot be combined with hostname, port: give "
            "either url or the separate fields\n");
}

TEST(ConfigLoaderTest, UrlDisplayHasNoPasswordAndErrorsNeverShowTheUrl) {
  LoadResult ok = Load(
      "databases:\n"
      "  - name: app\n"
      "    url: postgresql://user:hunter2@[::1]:6543/orders?sslmode=require\n"
      "    slot: {name: s}\n"
      "    publication: {name: p}\n");
  ASSERT_EQ(Errors(ok), "");
  EXPECT_EQ(ok.config->databases[0].display, "[::1]:6543/orders");

  LoadResult bad = Load(
      "databases:\n"
      "  - {name: app, url: \"mysql://user:hunter2@db/x\", slot: {name: s}, publication: {name: "
      "p}}\n");
  EXPECT_EQ(Errors(bad).find("hunter2"), std::string::npos);
  EXPECT_EQ(bad.errors.size(), 1u);
}

TEST(ConfigLoaderTest, DuplicateNamesAreErrors) {
  LoadResult result = Load(std::string(kDatabase) +
                           "  - {name: app, url: \"postgres://x/y\", slot: {name: s2}, "
                           "publication: {name: p}}\n"
                           "sinks:\n"
                           "  - {name: s, database: app, destination: {type: stdout}}\n"
                           "  - {name: s, database: app, destination: {type: stdout}}\n");
  EXPECT_EQ(Errors(result),
            "sluice.yaml:6:12: databases[1].name: duplicate database name \"app\" (first defined "
            "at line 2)\n"
            "sluice.yaml:9:12: sinks[1].name: duplicate sink name \"s\" (first defined at line "
            "8)\n");
}

TEST(ConfigLoaderTest, SinkDatabaseDefaultsToTheOnlyDatabase) {
  LoadResult result = Load(std::string(kDatabase) +
                           "sinks:\n"
                           "  - {name: s, destination: {type: stdout}}\n");
  ASSERT_EQ(Errors(result), "");
  EXPECT_EQ(result.config->sinks[0].database, "app");
}

TEST(ConfigLoaderTest, SinkDatabaseIsRequiredWithSeveralDatabases) {
  LoadResult result = Load(std::string(kDatabase) +
                           "  - {name: other, url: \"postgres://x/y\", slot: {name: s2}, "
                           "publication: {name: p}}\n"
                           "sinks:\n"
                           "  - {name: s, destination: {type: stdout}}\n");
  EXPECT_EQ(Errors(result),
            "sluice.yaml:8:5: sinks[0]: missing required key \"database\" (needed when there is "
            "more than one database; defined: app, other)\n");
}

TEST(ConfigLoaderTest, UnknownDatabaseListsTheDefinedOnes) {
  LoadResult result = Load(std::string(kDatabase) +
                           "  - {name: other, url: \"postgres://x/y\", slot: {name: s2}, "
                           "publication: {name: p}}\n"
                           "sinks:\n"
                           "  - {name: s, database: x, destination: {type: stdout}}\n");
  EXPECT_EQ(Errors(result),
            "sluice.yaml:8:25: sinks[0].database: unknown database \"x\"; defined: app, other\n");
}

TEST(ConfigLoaderTest, SlotAndPublicationNamesFollowPostgresRules) {
  LoadResult result = Load(
      "databases:\n"
      "  - name: app\n"
      "    url: postgres://db/app\n"
      "    slot: {name: " +
      std::string(64, 'a') +
      "}\n"
      "    publication: {name: \"\"}\n");
  ASSERT_EQ(result.errors.size(), 2u);
  EXPECT_EQ(result.errors[0].path, "databases[0].slot.name");
  EXPECT_EQ(result.errors[1].ToString(),
            "sluice.yaml:5:25: databases[0].publication.name: a publication name is 1 to 63 bytes "
            "long");

  LoadResult ok = Load(
      "databases:\n"
      "  - name: app\n"
      "    url: postgres://db/app\n"
      "    slot: {name: " +
      std::string(63, 'a') +
      "}\n"
      "    publication: {name: \"Mixed Case\", tables: [orders, audit.log]}\n");
  ASSERT_EQ(Errors(ok), "");
  EXPECT_EQ(ok.config->databases[0].publication.tables,
            (std::vector<std::string>{"public.orders", "audit.log"}));
}

TEST(ConfigLoaderTest, StreamingNeedsProtocolVersion2) {
  LoadResult bad = Load(std::string(kDatabase) + "    protocol_version: 1\n    streaming: true\n");
  EXPECT_EQ(Errors(bad),
            "sluice.yaml:7:16: databases[0].streaming: streaming needs protocol_version 2 (or "
            "leave protocol_version unset)\n");
  LoadResult v1 = Load(std::string(kDatabase) + "    protocol_version: 1\n");
  ASSERT_EQ(Errors(v1), "");
  EXPECT_FALSE(v1.config->databases[0].streaming);
  EXPECT_EQ(v1.config->databases[0].protocol_version, 1);
}

TEST(ConfigLoaderTest, DatabaseTuningRanges) {
  LoadResult result = Load(std::string(kDatabase) +
                           "    stream_buffer_bytes: 1000\n"
                           "    status_interval_ms: 50\n"
                           "    reconnect_initial_ms: 5000\n"
                           "    reconnect_max_ms: 1000\n");
  EXPECT_EQ(Errors(result),
            "sluice.yaml:6:26: databases[0].stream_buffer_bytes: expected an integer >= 1048576, "
            "got 1000\n"
            "sluice.yaml:7:25: databases[0].status_interval_ms: expected a number of milliseconds "
            "between 100 and 600000, got 50\n"
            "sluice.yaml:9:23: databases[0].reconnect_max_ms: reconnect_max_ms (1000) must be >= "
            "reconnect_initial_ms (5000)\n");
}

TEST(ConfigLoaderTest, DestinationTypeIsRequired) {
  LoadResult result = Load(std::string(kDatabase) +
                           "sinks:\n"
                           "  - name: s\n"
                           "    destination: {path: /tmp/x}\n");
  EXPECT_EQ(Errors(result),
            "sluice.yaml:8:18: sinks[0].destination: missing required key \"type\"; allowed "
            "types: file, stdout, webhook\n");
}

TEST(ConfigLoaderTest, DestinationValidatorRunsAfterTheWholeConfig) {
  LoadOptions options = Options();
  std::vector<std::string> validated;
  options.validate_destination = [&validated](const SinkConfig& sink, const Config& config,
                                              ConfigErrors& errors) {
    validated.push_back(sink.name);
    MapReader reader(sink.destination, errors);
    (void)reader.String("type");
    auto endpoint = reader.String("http_endpoint", true);
    if (endpoint && config.FindHttpEndpoint(*endpoint) == nullptr) {
      reader.Error(*sink.destination.Find("http_endpoint"), "unknown http endpoint");
    }
    reader.Finish();
  };
  // http_endpoints come after sinks in the file.
  LoadResult result = LoadConfigString(std::string(kDatabase) +
                                           "sinks:\n"
                                           "  - name: a\n"
                                           "    destination: {type: webhook, http_endpoint: hook}\n"
                                           "  - name: b\n"
                                           "    destination: {type: webhook, http_endpoint: nope, "
                                           "pth: /x}\n"
                                           "  - name: c\n"
                                           "    destination: {type: kafka}\n"
                                           "http_endpoints:\n"
                                           "  - {name: hook, url: \"https://h.example\"}\n"
                                           "log_level: loud\n",
                                       "sluice.yaml", options);
  EXPECT_EQ(validated, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Errors(result),
            "sluice.yaml:10:49: sinks[1].destination.http_endpoint: unknown http endpoint\n"
            "sluice.yaml:10:55: sinks[1].destination.pth: unknown key; allowed: type, "
            "http_endpoint\n"
            "sluice.yaml:12:25: sinks[2].destination.type: unknown destination type \"kafka\"; "
            "allowed: file, stdout, webhook\n"
            "sluice.yaml:15:12: log_level: expected one of debug, info, warn, error, got "
            "\"loud\"\n");
}

TEST(ConfigLoaderTest, TransformMustNameATransformFunction) {
  LoadResult result = Load(std::string(kDatabase) +
                           "functions:\n"
                           "  - {name: only_paid, type: filter, lua: \"return true\"}\n"
                           "sinks:\n"
                           "  - {name: a, transform: only_paid, destination: {type: stdout}}\n"
                           "  - {name: b, transform: missing, destination: {type: stdout}}\n");
  EXPECT_EQ(Errors(result),
            "sluice.yaml:9:26: sinks[0].transform: function \"only_paid\" is a filter function; "
            "transform needs a function of type transform\n"
            "sluice.yaml:10:26: sinks[1].transform: unknown function \"missing\"; defined: "
            "only_paid\n");
}

TEST(ConfigLoaderTest, FunctionsAreValidated) {
  LoadResult result = Load("functions:\n  - {name: f, type: map, lua: \"\", extra: 1}\n");
  EXPECT_EQ(Errors(result),
            "sluice.yaml:2:21: functions[0].type: expected one of filter, transform, route, got "
            "\"map\"\n"
            "sluice.yaml:2:31: functions[0].lua: must not be empty\n"
            "sluice.yaml:2:35: functions[0].extra: unknown key; allowed: name, type, lua\n");
}

TEST(ConfigLoaderTest, TableNamesDefaultToThePublicSchema) {
  LoadResult result = Load(std::string(kDatabase) +
                           "sinks:\n"
                           "  - name: a\n"
                           "    table: orders\n"
                           "    include_schemas: [public, audit]\n"
                           "    exclude_tables: [audit.secrets]\n"
                           "    destination: {type: stdout}\n");
  ASSERT_EQ(Errors(result), "");
  const SinkConfig& sink = result.config->sinks[0];
  EXPECT_EQ(sink.tables, (std::vector<TableName>{{"public", "orders"}}));
  EXPECT_EQ(sink.include_schemas, (std::vector<std::string>{"public", "audit"}));
  EXPECT_EQ(sink.exclude_tables, (std::vector<TableName>{{"audit", "secrets"}}));
  EXPECT_EQ(sink.actions, (std::vector<ActionKind>{ActionKind::kInsert, ActionKind::kUpdate,
                                                   ActionKind::kDelete}));
}

TEST(ConfigLoaderTest, MalformedTableNamesAndTableWithTables) {
  LoadResult result = Load(std::string(kDatabase) +
                           "sinks:\n"
                           "  - name: a\n"
                           "    table: orders\n"
                           "    tables: [a.b.c, .x, ok]\n"
                           "    destination: {type: stdout}\n");
  EXPECT_EQ(Errors(result),
            "sluice.yaml:9:13: sinks[0].tables: give either table or tables, not both\n"
            "sluice.yaml:9:14: sinks[0].tables[0]: expected \"schema.table\" or \"table\", got "
            "\"a.b.c\"\n"
            "sluice.yaml:9:21: sinks[0].tables[1]: expected \"schema.table\" or \"table\", got "
            "\".x\"\n");
}

TEST(ConfigLoaderTest, ActionsMustBeKnownAndNonEmpty) {
  LoadResult result = Load(std::string(kDatabase) +
                           "sinks:\n"
                           "  - {name: a, actions: [insert, upsert], destination: {type: stdout}}\n"
                           "  - {name: b, actions: [], destination: {type: stdout}}\n"
                           "  - {name: c, actions: [truncate, delete, truncate], destination: "
                           "{type: stdout}}\n");
  EXPECT_EQ(Errors(result),
            "sluice.yaml:7:33: sinks[0].actions[1]: expected one of insert, update, delete, "
            "truncate, got \"upsert\"\n"
            "sluice.yaml:8:24: sinks[1].actions: must list at least one of insert, update, "
            "delete, truncate\n");
  LoadResult ok = Load(std::string(kDatabase) +
                       "sinks:\n"
                       "  - {name: c, actions: [truncate, delete, truncate], destination: "
                       "{type: stdout}}\n");
  ASSERT_EQ(Errors(ok), "");
  EXPECT_EQ(ok.config->sinks[0].actions,
            (std::vector<ActionKind>{ActionKind::kTruncate, ActionKind::kDelete}));
}

TEST(ConfigLoaderTest, SinkTuningValues) {
  LoadResult result = Load(std::string(kDatabase) +
                           "sinks:\n"
                           "  - name: a-1_B\n"
                           "    batch_size: 10000\n"
                           "    batch_timeout_ms: 0\n"
                           "    max_retry_count: 0\n"
                           "    retry_initial_ms: 100\n"
                           "    retry_max_ms: 1000\n"
                           "    max_queue_bytes: 1048576\n"
                           "    annotations: {team: billing, tier: 1}\n"
                           "    active: false\n"
                           "    group_columns: [customer_id, region]\n"
                           "    destination: {type: stdout}\n");
  ASSERT_EQ(Errors(result), "");
  const SinkConfig& sink = result.config->sinks[0];
  EXPECT_EQ(sink.batch_size, 10000u);
  EXPECT_EQ(sink.batch_timeout, std::chrono::milliseconds(0));
  EXPECT_EQ(sink.max_retry_count, 0u);
  EXPECT_EQ(sink.retry_initial, std::chrono::milliseconds(100));
  EXPECT_EQ(sink.retry_max, std::chrono::milliseconds(1000));
  EXPECT_EQ(sink.max_queue_bytes, 1048576u);
  EXPECT_EQ(sink.annotations,
            (std::map<std::string, std::string>{{"team", "billing"}, {"tier", "1"}}));
  EXPECT_FALSE(sink.active);
}

TEST(ConfigLoaderTest, EnvOverridesDataDirAndLogLevel) {
  LoadResult result = Load("data_dir: /from/file\nlog_level: warn\n",
                           {{"SLUICE_DATA_DIR", "/from/env"}, {"SLUICE_LOG_LEVEL", "debug"}});
  ASSERT_EQ(Errors(result), "");
  EXPECT_EQ(result.config->data_dir, "/from/env");
  EXPECT_EQ(result.config->log_level, "debug");
}

TEST(ConfigLoaderTest, InvalidLogLevelFromEnvIsAnError) {
  LoadResult result = Load("log_level: warn\n", {{"SLUICE_LOG_LEVEL", "chatty"}});
  EXPECT_EQ(Errors(result),
            "environment variable SLUICE_LOG_LEVEL: expected one of debug, info, warn, error, got "
            "\"chatty\"\n");
}

TEST(ConfigLoaderTest, ServerListenMustBeHostAndPort) {
  EXPECT_EQ(Errors(Load("server: {listen: \"0.0.0.0:80\"}\n")), "");
  EXPECT_EQ(Errors(Load("server: {listen: \"[::1]:7376\"}\n")), "");
  EXPECT_EQ(Errors(Load("server: {listen: \"7376\"}\n")),
            "sluice.yaml:1:18: server.listen: expected \"host:port\" (e.g. \"127.0.0.1:7376\" or "
            "\"[::1]:7376\"), got the quoted string \"7376\"\n");
  EXPECT_NE(Errors(Load("server: {listen: \"h:70000\"}\n")), "");
  EXPECT_NE(Errors(Load("server: {listen: \"::1:80\"}\n")), "");
}

TEST(ConfigLoaderTest, HttpEndpointsAreChecked) {
  LoadResult result = Load(
      "http_endpoints:\n"
      "  - {name: a, url: \"ftp://x\"}\n"
      "  - {name: b, url: \"https://x\", headers: {\"Bad Name\": v, X-Ok: \"${INJECT}\"}}\n"
      "  - {url: \"http://y\"}\n",
      {{"INJECT", "v\r\nX-Evil: 1"}});
  EXPECT_EQ(
      Errors(result),
      "sluice.yaml:2:20: http_endpoints[0].url: expected an http:// or https:// URL with a host\n"
      "sluice.yaml:3:55: http_endpoints[1].headers.Bad Name: \"Bad Name\" is not a valid "
      "HTTP header name\n"
      "sluice.yaml:3:64: http_endpoints[1].headers.X-Ok: an HTTP header value may not "
      "contain line breaks or NUL\n"
      "sluice.yaml:4:5: http_endpoints[2]: missing required key \"name\"\n");
}

TEST(ConfigLoaderTest, SyntaxErrorIsReportedWithItsLine) {
  LoadResult result = Load("databases:\n  - name: app\n    url: [unclosed\n");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].file, "sluice.yaml");
  EXPECT_GE(result.errors[0].line, 3);
  EXPECT_FALSE(result.config.has_value());
}

TEST(ConfigLoaderTest, DuplicateKeysAreErrors) {
  LoadResult result = Load("log_level: info\nlog_level: debug\n");
  EXPECT_EQ(Errors(result),
            "sluice.yaml:2:1: log_level: duplicate key (first written at line 1)\n");
}

TEST(ConfigLoaderTest, MergeKeysShareSinkSettings) {
  LoadResult result = Load(std::string(kDatabase) +
                           "x-defaults: &defaults {batch_size: 50, active: false}\n"
                           "sinks:\n"
                           "  - &base {<<: *defaults, name: a, destination: {type: stdout}}\n"
                           "  - {<<: *base, name: b}\n");
  ASSERT_EQ(Errors(result), "");
  ASSERT_EQ(result.config->sinks.size(), 2u);
  EXPECT_EQ(result.config->sinks[1].name, "b");
  EXPECT_EQ(result.config->sinks[0].batch_size, 50u);
  EXPECT_FALSE(result.config->sinks[0].active);
  EXPECT_EQ(result.config->sinks[1].batch_size, 50u);
  EXPECT_EQ(result.config->sinks[1].destination.path, "sinks[1].destination");
}

TEST(ConfigLoaderTest, LoadConfigFileReadsTheFile) {
  char path[] = "/tmp/sluice_config_testXXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "log_format: text\nlog_level: error\n";
  LoadResult result = LoadConfigFile(path, Options());
  std::remove(path);
  ASSERT_EQ(Errors(result), "");
  EXPECT_EQ(result.config->file, path);
  EXPECT_EQ(result.config->log_format, "text");
}

TEST(ConfigLoaderTest, UnreadableFileNamesThePath) {
  LoadResult result = LoadConfigFile("/nonexistent/dir/sluice.yaml", Options());
  EXPECT_EQ(Errors(result),
            "/nonexistent/dir/sluice.yaml: cannot read the config file: No such file or "
            "directory\n");
  EXPECT_FALSE(result.config.has_value());
}

}  // namespace
}  // namespace sluice::config
