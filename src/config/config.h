// The typed, validated configuration (DESIGN §7). Produced only by the loader
// (config_loader.h); everything downstream may assume it is valid.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/node.h"

namespace sluice::config {

struct SlotConfig {
  std::string name;
  bool create_if_not_exists = false;
};

struct PublicationConfig {
  std::string name;
  bool create_if_not_exists = false;
  // Tables for CREATE PUBLICATION ... FOR TABLE; empty means FOR ALL TABLES.
  std::vector<std::string> tables;  // "schema.table" as written.
};

struct DatabaseConfig {
  std::string name;
  // libpq connection string (URL or key=value) built from `url` or from
  // hostname/port/database/username/password. Never logged: may hold a password.
  std::string conninfo;
  std::string display;  // host:port/dbname for logs and errors (no password).
  SlotConfig slot;
  PublicationConfig publication;
  // 0: pick by server version (2 on Postgres 14+, else 1).
  int protocol_version = 0;
  // Ask Postgres to stream large in-progress transactions (protocol 2 only).
  bool streaming = true;
  // In-memory budget for buffered in-progress transactions before they spill
  // to disk under data_dir.
  uint64_t stream_buffer_bytes = 64ull << 20;
  std::chrono::milliseconds status_interval{10000};
  std::chrono::milliseconds reconnect_initial{500};
  std::chrono::milliseconds reconnect_max{30000};
};

struct HttpEndpointConfig {
  std::string name;
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct TableName {
  std::string schema;  // "public" when written without a schema.
  std::string table;
  bool operator==(const TableName&) const = default;
};

enum class ActionKind : unsigned char { kInsert, kUpdate, kDelete, kTruncate };

// Where a value was written, for errors found after loading (filters,
// functions).
struct Where {
  std::string file;
  int line = 0;
  int column = 0;
  std::string path;  // "sinks[0].filter"
};

// A row snapshot to take when the sink is first created (DESIGN §4).
struct InitialBackfillConfig {
  TableName table;
  std::string sort_column;  // empty: the primary key.
  std::string filter;       // SQL expression; empty: every row.
  Where filter_where = {};
  // Only rows whose sort column is >= this value (text form); nullopt: all.
  std::optional<std::string> start_position;
};

struct SinkConfig {
  std::string name;
  std::string database;  // name of a DatabaseConfig
  // Scope. A change is for this sink when its table is in `tables` (if any),
  // its schema is in include_schemas (if any) and not in exclude_schemas, its
  // table is in include_tables (if any) and not in exclude_tables.
  std::vector<TableName> tables;
  std::vector<std::string> include_schemas;
  std::vector<std::string> exclude_schemas;
  std::vector<TableName> include_tables;
  std::vector<TableName> exclude_tables;
  // Default: insert, update, delete. truncate is opt-in.
  std::vector<ActionKind> actions = {ActionKind::kInsert, ActionKind::kUpdate, ActionKind::kDelete};
  // A SQL expression, or the name of a function of type filter; empty: none.
  std::string filter;
  Where filter_where = {};
  std::string transform;                   // function name; empty: none.
  std::string routing;                     // function name (type route); empty: none.
  std::vector<std::string> group_columns;  // empty: the primary key.
  uint32_t batch_size = 1;
  std::chrono::milliseconds batch_timeout{50};
  std::optional<uint32_t> max_retry_count;  // nullopt: retry forever.
  std::chrono::milliseconds retry_initial{200};
  std::chrono::milliseconds retry_max{60000};
  uint64_t max_queue_bytes = 64ull << 20;
  std::map<std::string, std::string> annotations;  // metadata.sink.annotations (string values)
  bool active = true;
  std::vector<InitialBackfillConfig> initial_backfill;
  std::string destination_type;  // "webhook", "stdout", "file", ...
  Node destination;              // validated by the sink's factory
};

// A Lua function (DESIGN §5). Only declared here; the functions module
// compiles and sandboxes it.
struct FunctionConfig {
  std::string name;
  std::string type;  // filter | transform | route
  std::string lua;
  Where lua_where = {};  // of the `lua` value: line 1 of the code is at lua_where.line
                         // (or the line after it for a block scalar `|`)
};

struct ApiToken {
  std::string name;
  std::string token;
};

struct Config {
  std::string file;  // path the config was loaded from
  std::string data_dir = "./sluice-data";
  std::string listen = "127.0.0.1:7376";
  std::string log_level = "info";
  std::string log_format = "json";  // json | text
  std::vector<ApiToken> api_tokens;
  std::vector<DatabaseConfig> databases;
  std::vector<HttpEndpointConfig> http_endpoints;
  std::vector<FunctionConfig> functions;
  std::vector<SinkConfig> sinks;

  // nullptr when no entry has that name.
  const DatabaseConfig* FindDatabase(const std::string& name) const;
  const HttpEndpointConfig* FindHttpEndpoint(const std::string& name) const;
  const FunctionConfig* FindFunction(const std::string& name) const;
};

}  // namespace sluice::config
