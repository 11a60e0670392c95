#include "config/config_loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <utility>

#include "config/conninfo.h"
#include "config/fields.h"
#include "config/yaml_adapter.h"

namespace sluice::config {
namespace {

constexpr int64_t kMiB = 1 << 20;
constexpr size_t kMaxIdentifierBytes = 63;  // Postgres NAMEDATALEN - 1
constexpr int64_t kHourMillis = 3600 * 1000;

const std::vector<std::string> kLogLevels = {"debug", "info", "warn", "error"};
const std::vector<std::string> kLogFormats = {"json", "text"};
const std::vector<std::string> kFunctionTypes = {"filter", "transform", "route"};
const std::vector<std::string> kActions = {"insert", "update", "delete", "truncate"};

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

template <typename T>
std::vector<std::string> NamesOf(const std::vector<T>& entries) {
  std::vector<std::string> names;
  for (const T& entry : entries) {
    if (!entry.name.empty()) names.push_back(entry.name);
  }
  return names;
}

bool IsSlotName(const std::string& name) {
  if (name.empty() || name.size() > kMaxIdentifierBytes) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool IsSinkName(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// RFC 9110 token characters, for header names.
bool IsHeaderName(const std::string& name) {
  static constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kSymbols.find(c) != std::string_view::npos;
  });
}

bool IsHeaderValue(const std::string& value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

// "schema.table" or "table" (schema public); nullopt when malformed.
std::optional<TableName> ParseTableName(const std::string& text) {
  const size_t dot = text.find('.');
  TableName name;
  if (dot == std::string::npos) {
    name.schema = "public";
    name.table = text;
  } else {
    name.schema = text.substr(0, dot);
    name.table = text.substr(dot + 1);
  }
  if (name.schema.empty() || name.table.empty() || name.table.find('.') != std::string::npos) {
    return std::nullopt;
  }
  return name;
}

// "host:port" with a non-empty host (IPv6 in brackets) and a port 0..65535.
bool IsListenAddress(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  const std::string port = text.substr(colon + 1);
  if (port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  if (std::stoi(port) > 65535) return false;
  const std::string host = text.substr(0, colon);
  if (host.front() == '[') return host.size() > 2 && host.back() == ']';
  return host.find(':') == std::string::npos;
}

// Remembers names of one kind to report duplicates.
class UniqueNames {
 public:
  explicit UniqueNames(std::string what) : what_(std::move(what)) {}
  // False (and reports) when `name` was seen before.
  bool Add(const std::string& name, const Node& at, MapReader& reader) {
    auto [it, inserted] = lines_.emplace(name, at.line);
    if (!inserted) {
      reader.Error(at, "duplicate " + what_ + " name \"" + name + "\" (first defined at line " +
                           std::to_string(it->second) + ")");
    }
    return inserted;
  }

 private:
  std::string what_;
  std::map<std::string, int> lines_;
};

class ConfigBuilder {
 public:
  ConfigBuilder(const LoadOptions& options, Config& config, ConfigErrors& errors)
      : options_(options), config_(config), errors_(errors) {}

  void Build(const Node& root) {
    MapReader reader(root, errors_);
    if (auto data_dir = NonEmptyString(reader, "data_dir")) config_.data_dir = *data_dir;
    if (const Node* server = reader.Child("server")) ReadServer(*server);
    if (auto level = reader.Enum("log_level", kLogLevels)) config_.log_level = *level;
    if (auto format = reader.Enum("log_format", kLogFormats)) config_.log_format = *format;
    if (const Node* tokens = reader.Sequence("api_tokens")) {
      UniqueNames names("api token");
      for (const Node& item : tokens->items) ReadApiToken(item, names);
    }
    if (const Node* databases = reader.Sequence("databases")) {
      UniqueNames names("database");
      for (const Node& item : databases->items) ReadDatabase(item, names);
    }
    if (const Node* endpoints = reader.Sequence("http_endpoints")) {
      UniqueNames names("http endpoint");
      for (const Node& item : endpoints->items) ReadHttpEndpoint(item, names);
    }
    if (const Node* functions = reader.Sequence("functions")) {
      UniqueNames names("function");
      for (const Node& item : functions->items) ReadFunction(item, names);
    }
    if (const Node* sinks = reader.Sequence("sinks")) {
      UniqueNames names("sink");
      for (const Node& item : sinks->items) ReadSink(item, names);
    }
    // Extension blocks, as in docker-compose: a place for YAML anchors.
    reader.AllowPrefix("x-");
    reader.Finish();
    ApplyEnvironment();
    ValidateDestinations();
  }

 private:
  // A string that must not be empty when given.
  std::optional<std::string> NonEmptyString(MapReader& reader, const std::string& key,
                                            bool required = false) {
    std::optional<std::string> value = reader.String(key, required);
    if (value && value->empty()) {
      reader.Error(*reader.node().Find(key), "must not be empty");
      return std::nullopt;
    }
    return value;
  }

  void ReadServer(const Node& node) {
    MapReader reader(node, errors_);
    if (auto listen = reader.String("listen")) {
      if (IsListenAddress(*listen)) {
        config_.listen = *listen;
      } else {
        reader.Error(*node.Find("listen"),
                     "expected \"host:port\" (e.g. \"127.0.0.1:7376\" or \"[::1]:7376\"), got " +
                         DescribeNode(*node.Find("listen")));
      }
    }
    reader.Finish();
  }

  void ReadApiToken(const Node& node, UniqueNames& names) {
    MapReader reader(node, errors_);
    ApiToken token;
    if (auto name = NonEmptyString(reader, "name", true)) {
      names.Add(*name, *node.Find("name"), reader);
      token.name = *name;
    }
    if (auto value = NonEmptyString(reader, "token", true)) token.token = *value;
    reader.Finish();
    config_.api_tokens.push_back(std::move(token));
  }

  void ReadDatabase(const Node& node, UniqueNames& names) {
    MapReader reader(node, errors_);
    DatabaseConfig database;
    if (auto name = NonEmptyString(reader, "name", true)) {
      names.Add(*name, *node.Find("name"), reader);
      database.name = *name;
    }
    ReadConnection(node, reader, database);
    if (const Node* slot = reader.Child("slot", true)) ReadSlot(*slot, database.slot);
    if (const Node* publication = reader.Child("publication", true)) {
      ReadPublication(*publication, database.publication);
    }
    if (auto version = reader.Int("protocol_version", false, 1, 2)) {
      database.protocol_version = static_cast<int>(*version);
    }
    if (auto streaming = reader.Bool("streaming")) {
      database.streaming = *streaming;
      if (*streaming && database.protocol_version == 1) {
        reader.Error(*node.Find("streaming"),
                     "streaming needs protocol_version 2 (or leave protocol_version unset)");
      }
    } else if (database.protocol_version == 1) {
      database.streaming = false;
    }
    if (auto bytes = reader.Int("stream_buffer_bytes", false, kMiB)) {
      database.stream_buffer_bytes = static_cast<uint64_t>(*bytes);
    }
    if (auto interval = reader.Millis("status_interval_ms", false, 100, 600000)) {
      database.status_interval = *interval;
    }
    auto initial = reader.Millis("reconnect_initial_ms", false, 1, kHourMillis);
    auto max = reader.Millis("reconnect_max_ms", false, 1, kHourMillis);
    if (initial) database.reconnect_initial = *initial;
    if (max) database.reconnect_max = *max;
    if (database.reconnect_max < database.reconnect_initial) {
      const char* key = max ? "reconnect_max_ms" : "reconnect_initial_ms";
      reader.Error(*node.Find(key), "reconnect_max_ms (" +
                                        std::to_string(database.reconnect_max.count()) +
                                        ") must be >= reconnect_initial_ms (" +
                                        std::to_string(database.reconnect_initial.count()) + ")");
    }
    reader.Finish();
    config_.databases.push_back(std::move(database));
  }

  // `url`, or hostname/port/database/username/password.
  void ReadConnection(const Node& node, MapReader& reader, DatabaseConfig& database) {
    static const std::vector<std::string> kFieldKeys = {"hostname", "port", "database", "username",
                                                        "password"};
    auto url = reader.String("url");
    auto hostname = NonEmptyString(reader, "hostname");
    auto port = reader.Int("port", false, 1, 65535);
    auto dbname = NonEmptyString(reader, "database");
    auto username = NonEmptyString(reader, "username");
    auto password = reader.String("password");
    if (!reader.node().IsMap()) return;

    const Node* url_node = node.Find("url");
    if (url_node != nullptr && !url_node->IsNull()) {
      std::vector<std::string> conflicting;
      for (const std::string& key : kFieldKeys) {
        const Node* value = node.Find(key);
        if (value != nullptr && !value->IsNull()) conflicting.push_back(key);
      }
      if (!conflicting.empty()) {
        reader.Error(*url_node, "url cannot be combined with " + JoinNames(conflicting) +
                                    ": give either url or the separate fields");
      }
      // The value is not shown: it may hold a password.
      if (url && !IsPostgresUrl(*url)) {
        reader.Error(*url_node, "expected a postgres:// or postgresql:// URL");
      } else if (url) {
        database.conninfo = *url;
        database.display = DisplayFromUrl(*url);
      }
      return;
    }
    for (const char* key : {"hostname", "database", "username"}) {
      const Node* value = node.Find(key);
      if (value == nullptr || value->IsNull()) {
        reader.Error(node, std::string("missing required key \"") + key +
                               "\" (or give url instead of the separate fields)");
      }
    }
    if (!hostname || !dbname || !username) return;
    const std::string port_text = std::to_string(port.value_or(5432));
    std::vector<std::pair<std::string, std::string>> params = {
        {"host", *hostname}, {"port", port_text}, {"dbname", *dbname}, {"user", *username}};
    if (password) params.emplace_back("password", *password);
    database.conninfo = BuildConninfo(params);
    database.display = *hostname + ":" + port_text + "/" + *dbname;
  }

  void ReadSlot(const Node& node, SlotConfig& slot) {
    MapReader reader(node, errors_);
    if (auto name = reader.String("name", true)) {
      if (IsSlotName(*name)) {
        slot.name = *name;
      } else {
        reader.Error(*node.Find("name"),
                     "a replication slot name is 1 to 63 lower-case letters, digits and "
                     "underscores, got " +
                         DescribeNode(*node.Find("name")));
      }
    }
    if (auto create = reader.Bool("create_if_not_exists")) slot.create_if_not_exists = *create;
    reader.Finish();
  }

  void ReadPublication(const Node& node, PublicationConfig& publication) {
    MapReader reader(node, errors_);
    if (auto name = reader.String("name", true)) {
      if (!name->empty() && name->size() <= kMaxIdentifierBytes) {
        publication.name = *name;
      } else {
        reader.Error(*node.Find("name"), "a publication name is 1 to 63 bytes long");
      }
    }
    if (auto create = reader.Bool("create_if_not_exists")) {
      publication.create_if_not_exists = *create;
    }
    for (const TableName& table : ReadTableList(reader, "tables")) {
      publication.tables.push_back(table.schema + "." + table.table);
    }
    reader.Finish();
  }

  // A list of "schema.table" / "table"; malformed entries are reported and left out.
  std::vector<TableName> ReadTableList(MapReader& reader, const std::string& key) {
    std::vector<TableName> tables;
    const Node* list = reader.Sequence(key);
    if (list == nullptr) return tables;
    for (const Node& item : list->items) {
      if (auto table = ReadTableName(reader, item)) tables.push_back(*table);
    }
    return tables;
  }

  std::optional<TableName> ReadTableName(MapReader& reader, const Node& item) {
    std::optional<TableName> table;
    if (item.IsScalar()) table = ParseTableName(item.scalar);
    if (!table)
      reader.Error(item, "expected \"schema.table\" or \"table\", got " + DescribeNode(item));
    return table;
  }

  void ReadHttpEndpoint(const Node& node, UniqueNames& names) {
    MapReader reader(node, errors_);
    HttpEndpointConfig endpoint;
    if (auto name = NonEmptyString(reader, "name", true)) {
      names.Add(*name, *node.Find("name"), reader);
      endpoint.name = *name;
    }
    if (auto url = reader.String("url", true)) {
      const size_t scheme = url->starts_with("http://") ? 7 : url->starts_with("https://") ? 8 : 0;
      if (scheme == 0 || url->size() == scheme || (*url)[scheme] == '/') {
        // The value is not shown: it may hold credentials.
        reader.Error(*node.Find("url"), "expected an http:// or https:// URL with a host");
      } else {
        endpoint.url = *url;
      }
    }
    if (auto headers = reader.StringMap("headers")) {
      const Node& headers_node = *node.Find("headers");
      for (auto& [name, value] : *headers) {
        const Node& value_node = *headers_node.Find(name);
        if (!IsHeaderName(name)) {
          reader.Error(value_node, "\"" + name + "\" is not a valid HTTP header name");
        } else if (!IsHeaderValue(value)) {
          reader.Error(value_node, "an HTTP header value may not contain line breaks or NUL");
        } else {
          endpoint.headers.emplace_back(name, value);
        }
      }
    }
    reader.Finish();
    config_.http_endpoints.push_back(std::move(endpoint));
  }

  void ReadFunction(const Node& node, UniqueNames& names) {
    MapReader reader(node, errors_);
    FunctionConfig function;
    if (auto name = NonEmptyString(reader, "name", true)) {
      names.Add(*name, *node.Find("name"), reader);
      function.name = *name;
    }
    if (auto type = reader.Enum("type", kFunctionTypes, true)) function.type = *type;
    if (auto lua = NonEmptyString(reader, "lua", true)) {
      function.lua = *lua;
      function.lua_where = WhereOf(*node.Find("lua"));
    }
    reader.Finish();
    config_.functions.push_back(std::move(function));
  }

  void ReadSink(const Node& node, UniqueNames& names) {
    MapReader reader(node, errors_);
    SinkConfig sink;
    if (auto name = reader.String("name", true)) {
      const Node& name_node = *node.Find("name");
      if (!IsSinkName(*name)) {
        reader.Error(name_node,
                     "a sink name is letters, digits, _ and -, got " + DescribeNode(name_node));
      } else if (names.Add(*name, name_node, reader)) {
        sink.name = *name;
      }
    }
    ReadSinkDatabase(node, reader, sink);
    ReadSinkScope(node, reader, sink);
    if (auto actions = reader.Sequence("actions")) {
      sink.actions.clear();
      for (const Node& item : actions->items) {
        if (!item.IsScalar() ||
            std::find(kActions.begin(), kActions.end(), item.scalar) == kActions.end()) {
          reader.Error(item,
                       "expected one of " + JoinNames(kActions) + ", got " + DescribeNode(item));
          continue;
        }
        const ActionKind kind = static_cast<ActionKind>(
            std::find(kActions.begin(), kActions.end(), item.scalar) - kActions.begin());
        if (std::find(sink.actions.begin(), sink.actions.end(), kind) == sink.actions.end()) {
          sink.actions.push_back(kind);
        }
      }
      if (actions->items.empty()) {
        reader.Error(*actions, "must list at least one of " + JoinNames(kActions));
      }
    }
    if (auto filter = reader.String("filter")) {
      sink.filter = *filter;
      sink.filter_where = WhereOf(*node.Find("filter"));
      if (filter->empty()) reader.Error(*node.Find("filter"), "a filter must not be empty");
    }
    if (auto transform = reader.String("transform")) {
      CheckFunction(reader, *node.Find("transform"), *transform, "transform", "transform");
      sink.transform = *transform;
    }
    if (auto routing = reader.String("routing")) {
      CheckFunction(reader, *node.Find("routing"), *routing, "routing", "route");
      sink.routing = *routing;
    }
    if (auto columns = reader.StringList("group_columns")) {
      for (size_t i = 0; i < columns->size(); ++i) {
        if ((*columns)[i].empty()) {
          reader.Error(node.Find("group_columns")->items[i], "a column name must not be empty");
        }
      }
      sink.group_columns = std::move(*columns);
    }
    if (auto size = reader.Int("batch_size", false, 1, 10000)) {
      sink.batch_size = static_cast<uint32_t>(*size);
    }
    if (auto timeout = reader.Millis("batch_timeout_ms", false, 0, 60000)) {
      sink.batch_timeout = *timeout;
    }
    if (auto count =
            reader.Int("max_retry_count", false, 0, std::numeric_limits<uint32_t>::max())) {
      sink.max_retry_count = static_cast<uint32_t>(*count);
    }
    auto retry_initial = reader.Millis("retry_initial_ms", false, 1, kHourMillis);
    auto retry_max = reader.Millis("retry_max_ms", false, 1, 24 * kHourMillis);
    if (retry_initial) sink.retry_initial = *retry_initial;
    if (retry_max) sink.retry_max = *retry_max;
    if (sink.retry_max < sink.retry_initial) {
      const char* key = retry_max ? "retry_max_ms" : "retry_initial_ms";
      reader.Error(*node.Find(key), "retry_max_ms (" + std::to_string(sink.retry_max.count()) +
                                        ") must be >= retry_initial_ms (" +
                                        std::to_string(sink.retry_initial.count()) + ")");
    }
    if (auto bytes = reader.Int("max_queue_bytes", false, kMiB)) {
      sink.max_queue_bytes = static_cast<uint64_t>(*bytes);
    }
    if (auto annotations = reader.StringMap("annotations")) {
      sink.annotations.insert(annotations->begin(), annotations->end());
    }
    if (auto active = reader.Bool("active")) sink.active = *active;
    if (const Node* backfills = reader.Sequence("initial_backfill")) {
      for (const Node& item : backfills->items) ReadInitialBackfill(item, sink);
    }
    if (const Node* destination = reader.Child("destination", true)) {
      ReadDestination(*destination, sink);
    }
    reader.Finish();
    config_.sinks.push_back(std::move(sink));
  }

  void ReadSinkDatabase(const Node& node, MapReader& reader, SinkConfig& sink) {
    const std::vector<std::string> defined = NamesOf(config_.databases);
    auto database = reader.String("database");
    if (!reader.node().IsMap()) return;
    if (!database) {
      if (node.Find("database") != nullptr) return;  // wrong type or null: reported
      if (config_.databases.size() == 1) {
        sink.database = config_.databases.front().name;
      } else if (config_.databases.empty()) {
        reader.Error(node, "missing required key \"database\"; no databases are defined");
      } else {
        reader.Error(node,
                     "missing required key \"database\" (needed when there is more than "
                     "one database; defined: " +
                         JoinNames(defined) + ")");
      }
      return;
    }
    if (config_.FindDatabase(*database) == nullptr) {
      reader.Error(
          *node.Find("database"),
          "unknown database \"" + *database + "\"; " +
              (defined.empty() ? "no databases are defined" : "defined: " + JoinNames(defined)));
      return;
    }
    sink.database = *database;
  }

  void ReadSinkScope(const Node& node, MapReader& reader, SinkConfig& sink) {
    const Node* table_node = reader.Child("table");
    if (table_node != nullptr) {
      if (auto table = ReadTableName(reader, *table_node)) sink.tables.push_back(*table);
    }
    const Node* tables_node = node.Find("tables");
    if (table_node != nullptr && tables_node != nullptr && !tables_node->IsNull()) {
      reader.Error(*tables_node, "give either table or tables, not both");
    }
    for (const TableName& table : ReadTableList(reader, "tables")) sink.tables.push_back(table);
    sink.include_schemas = ReadNameList(reader, "include_schemas");
    sink.exclude_schemas = ReadNameList(reader, "exclude_schemas");
    sink.include_tables = ReadTableList(reader, "include_tables");
    sink.exclude_tables = ReadTableList(reader, "exclude_tables");
  }

  // A list of non-empty names.
  std::vector<std::string> ReadNameList(MapReader& reader, const std::string& key) {
    std::vector<std::string> names;
    const Node* list = reader.Sequence(key);
    if (list == nullptr) return names;
    for (const Node& item : list->items) {
      if (!item.IsScalar() || item.scalar.empty()) {
        reader.Error(item, "expected a name, got " + DescribeNode(item));
        continue;
      }
      names.push_back(item.scalar);
    }
    return names;
  }

  static Where WhereOf(const Node& node) {
    return Where{node.file, node.line, node.column, node.path};
  }

  void CheckFunction(MapReader& reader, const Node& at, const std::string& name,
                     const std::string& key, const std::string& type) {
    const FunctionConfig* function = config_.FindFunction(name);
    if (function == nullptr) {
      const std::vector<std::string> defined = NamesOf(config_.functions);
      reader.Error(at, "unknown function \"" + name + "\"; " +
                           (defined.empty() ? "no functions are defined"
                                            : "defined: " + JoinNames(defined)));
    } else if (!function->type.empty() && function->type != type) {
      reader.Error(at, "function \"" + name + "\" is a " + function->type + " function; " + key +
                           " needs a function of type " + type);
    }
  }

  void ReadInitialBackfill(const Node& node, SinkConfig& sink) {
    MapReader reader(node, errors_);
    InitialBackfillConfig backfill;
    bool ok = false;
    if (const Node* table = reader.Child("table", true)) {
      if (auto name = ReadTableName(reader, *table)) {
        backfill.table = *name;
        ok = true;
      }
    }
    if (auto column = NonEmptyString(reader, "sort_column")) backfill.sort_column = *column;
    if (auto filter = reader.String("filter")) {
      backfill.filter = *filter;
      backfill.filter_where = WhereOf(*node.Find("filter"));
    }
    if (auto start = NonEmptyString(reader, "start_position")) backfill.start_position = *start;
    reader.Finish();
    if (ok) sink.initial_backfill.push_back(std::move(backfill));
  }

  // Reads only `type`: the other keys belong to the sink's validator.
  void ReadDestination(const Node& node, SinkConfig& sink) {
    if (!node.IsMap()) {
      MapReader reader(node, errors_);  // reports "expected a map"
      return;
    }
    const Node* type = node.Find("type");
    if (type == nullptr || type->IsNull()) {
      errors_.push_back(ConfigError{
          node.file, node.line, node.column, node.path,
          "missing required key \"type\"; allowed types: " + JoinNames(options_.sink_types)});
    } else if (!type->IsScalar() ||
               std::find(options_.sink_types.begin(), options_.sink_types.end(), type->scalar) ==
                   options_.sink_types.end()) {
      errors_.push_back(
          ConfigError{type->file, type->line, type->column, type->path,
                      "unknown destination type " + DescribeNode(*type) + "; allowed: " +
                          (options_.sink_types.empty() ? "(none registered)"
                                                       : JoinNames(options_.sink_types))});
    } else {
      sink.destination_type = type->scalar;
    }
    sink.destination = node;
  }

  void ApplyEnvironment() {
    if (!options_.env) return;
    if (auto data_dir = options_.env("SLUICE_DATA_DIR"); data_dir && !data_dir->empty()) {
      config_.data_dir = *data_dir;
    }
    if (auto level = options_.env("SLUICE_LOG_LEVEL"); level && !level->empty()) {
      if (std::find(kLogLevels.begin(), kLogLevels.end(), *level) != kLogLevels.end()) {
        config_.log_level = *level;
      } else {
        Node value;
        value.kind = Node::Kind::kScalar;
        value.scalar = *level;
        errors_.push_back(ConfigError{
            "", 0, 0, "environment variable SLUICE_LOG_LEVEL",
            "expected one of " + JoinNames(kLogLevels) + ", got " + DescribeNode(value)});
      }
    }
  }

  // After the whole config is built, so that validators can look up
  // http_endpoints and the like.
  void ValidateDestinations() {
    if (options_.validate_destination) {
      for (const SinkConfig& sink : config_.sinks) {
        if (!sink.destination_type.empty()) options_.validate_destination(sink, config_, errors_);
      }
    }
    if (options_.validate_config) options_.validate_config(config_, errors_);
  }

  const LoadOptions& options_;
  Config& config_;
  ConfigErrors& errors_;
};

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

LoadResult LoadConfigString(std::string_view yaml, const std::string& file_name,
                            const LoadOptions& options) {
  LoadResult result;
  const Node root = ParseYaml(yaml, file_name, options.env, result.errors);
  Config config;
  config.file = file_name;
  ConfigBuilder(options, config, result.errors).Build(root);
  // Sections are checked in schema order; people read errors in file order.
  std::stable_sort(result.errors.begin(), result.errors.end(),
                   [](const ConfigError& a, const ConfigError& b) {
                     return std::pair(a.line, a.column) < std::pair(b.line, b.column);
                   });
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

LoadResult LoadConfigFile(const std::string& path, const LoadOptions& options) {
  auto fail = [&path](const std::string& message) {
    LoadResult result;
    result.errors.push_back(ConfigError{path, 0, 0, "", message});
    return result;
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(std::string("cannot read the config file: ") + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return fail("cannot read the config file: not a regular file");
  }
  std::string text;
  char buffer[64 * 1024];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int saved = errno;
      ::close(fd);
      return fail(std::string("cannot read the config file: ") + std::strerror(saved));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > kMaxYamlBytes) break;  // ParseYaml reports it
  }
  ::close(fd);
  return LoadConfigString(text, path, options);
}

std::string FormatErrors(const ConfigErrors& errors) {
  std::string out;
  for (const ConfigError& error : errors) {
    out += error.ToString();
    out += '\n';
  }
  return out;
}

}  // namespace sluice::config
