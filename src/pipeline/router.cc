#include "pipeline/router.h"

#include <algorithm>

#include "common/base64.h"
#include "pipeline/renderer.h"

namespace sluice::pipeline {
namespace {

bool ActionAllowed(const config::SinkConfig& sink, Action action) {
  config::ActionKind kind = config::ActionKind::kInsert;
  switch (action) {
    case Action::kInsert:
    case Action::kRead:
      kind = config::ActionKind::kInsert;
      break;
    case Action::kUpdate:
      kind = config::ActionKind::kUpdate;
      break;
    case Action::kDelete:
      kind = config::ActionKind::kDelete;
      break;
    case Action::kTruncate:
      kind = config::ActionKind::kTruncate;
      break;
  }
  if (action == Action::kRead) return true;
  return std::find(sink.actions.begin(), sink.actions.end(), kind) != sink.actions.end();
}

bool Contains(const std::vector<config::TableName>& list, const std::string& schema,
              const std::string& table) {
  for (const auto& t : list) {
    if (t.schema == schema && t.table == table) return true;
  }
  return false;
}

bool Contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

bool SinkWants(const config::SinkConfig& sink, const std::string& schema, const std::string& table,
               Action action) {
  if (!ActionAllowed(sink, action)) return false;
  if (!sink.tables.empty() && !Contains(sink.tables, schema, table)) return false;
  if (!sink.include_schemas.empty() && !Contains(sink.include_schemas, schema)) return false;
  if (Contains(sink.exclude_schemas, schema)) return false;
  if (!sink.include_tables.empty() && !Contains(sink.include_tables, schema, table)) return false;
  if (Contains(sink.exclude_tables, schema, table)) return false;
  return true;
}

Router::Router(std::vector<RoutedSink> sinks, AckTracker& acks, std::function<void()> while_blocked,
               const std::atomic<bool>& stopping)
    : sinks_(std::move(sinks)),
      acks_(acks),
      while_blocked_(std::move(while_blocked)),
      stopping_(stopping),
      group_columns_(sinks_.size()),
      per_sink_(new std::atomic<uint64_t>[sinks_.size()]()),
      filtered_(new std::atomic<uint64_t>[sinks_.size()]()) {}

void Router::OnBegin(const source::TransactionInfo& txn) { acks_.BeginTransaction(txn.commit_lsn); }

void Router::OnCommit(const source::TransactionInfo& txn) { acks_.CommitTransaction(txn.end_lsn); }

void Router::OnIdle(Lsn wal_end) { acks_.Idle(wal_end); }

bool Router::RenderAhead(const source::Change& change, std::string& record, std::string& changes) {
  if (!change.relation || change.action == Action::kTruncate) return false;
  const source::RelationInfo& rel = *change.relation;
  const bool wanted = std::any_of(sinks_.begin(), sinks_.end(), [&](const RoutedSink& sink) {
    return sink.config->active && SinkWants(*sink.config, rel.schema, rel.table, change.action);
  });
  if (!wanted) return false;
  RenderRecordAndChanges(change, record, changes);
  return true;
}

const std::vector<size_t>& Router::GroupIndexes(size_t sink, const source::RelationInfo& rel) {
  GroupColumns& g = group_columns_[sink][rel.oid];
  if (g.relation_version != rel.version || g.indexes.empty()) {
    g.relation_version = rel.version;
    g.indexes.clear();
    const auto& wanted = sinks_[sink].config->group_columns;
    if (wanted.empty()) {
      g.indexes = rel.key_columns;
    } else {
      for (const std::string& name : wanted) {
        for (size_t i = 0; i < rel.columns.size(); ++i) {
          if (rel.columns[i].name == name) g.indexes.push_back(i);
        }
      }
    }
  }
  return g.indexes;
}

void Router::GroupKey(size_t sink, const source::Change& change, std::string& key) {
  const source::RelationInfo& rel = change.relation ? *change.relation : *change.truncated.front();
  key.assign(rel.schema);
  key.push_back('.');
  key.append(rel.table);
  if (change.action == Action::kTruncate) return;
  const auto& vals = change.action == Action::kDelete ? change.old_values : change.new_values;
  for (size_t idx : GroupIndexes(sink, rel)) {
    key.push_back('\x1f');
    if (idx >= vals.size()) continue;
    const source::ColumnValue* v = &vals[idx];
    if (v->kind == source::ColumnValue::Kind::kUnchangedToast && change.has_old &&
        idx < change.old_values.size()) {
      v = &change.old_values[idx];
    }
    if (v->kind == source::ColumnValue::Kind::kText) {
      key.append(v->text);
    } else {
      key.push_back(v->kind == source::ColumnValue::Kind::kNull ? '\x00' : '\x01');
    }
  }
}

Status Router::OnChange(const source::Change& change) {
  // A long run of changes (a big transaction replayed from the spill buffer)
  // never waits on the socket; keep the status updates flowing anyway.
  if ((++changes_seen_ & 1023) == 0 && while_blocked_) while_blocked_();
  const source::RelationInfo& rel = change.relation ? *change.relation : *change.truncated.front();
  rendered_ = false;
  for (size_t s = 0; s < sinks_.size(); ++s) {
    const RoutedSink& sink = sinks_[s];
    if (!sink.config->active) continue;
    if (!SinkWants(*sink.config, rel.schema, rel.table, change.action)) continue;
    SLUICE_RETURN_IF_ERROR(RouteToSink(s, change, rel, sinks_.size() == 1));
  }
  return Status::Ok();
}

Status Router::OnBackfillChange(size_t sink, const source::Change& change) {
  if ((++changes_seen_ & 1023) == 0 && while_blocked_) while_blocked_();
  if (sink >= sinks_.size() || !change.relation) return Status::Ok();
  rendered_ = false;
  return RouteToSink(sink, change, *change.relation, true);
}

Status Router::RouteToSink(size_t s, const source::Change& change, const source::RelationInfo& rel,
                           bool only_sink) {
  const RoutedSink& sink = sinks_[s];
  if (acks_.ShouldSkip(s, change.position)) return Status::Ok();
  std::string hold_error;
  if (sink.matches) {
    Result<bool> match = sink.matches(change);
    if (!match.ok()) {
      hold_error = "filter could not be evaluated: " + match.status().message();
    } else if (!*match) {
      filtered_[s].fetch_add(1, std::memory_order_relaxed);
      return Status::Ok();
    }
  }
  // A recycled message (emptied by its queue; its strings, the JSON
  // included, keep their buffers), else a new one.
  std::unique_ptr<QueuedMessage> queued =
      spare_ ? std::move(spare_) : std::make_unique<QueuedMessage>();
  Message& m = queued->message;
  if (only_sink) {
    // Room for one like the last, so that it is allocated once.
    m.json.reserve(json_size_ + json_size_ / 8);
    RenderChangePrefix(change, m.json);
    m.json.append(sink.suffix);
    json_size_ = m.json.size();
  } else {
    if (!rendered_) {
      prefix_.clear();
      RenderChangePrefix(change, prefix_);
      rendered_ = true;
    }
    m.json.reserve(prefix_.size() + sink.suffix.size());
    m.json.append(prefix_).append(sink.suffix);
  }
  m.position = change.position;
  m.action = change.action;
  m.commit_time_us = change.commit_time_us;
  m.table_schema = rel.schema;
  m.table_name = rel.table;
  GroupKey(s, change, m.group_key);
  if (change.idempotency_key.empty()) {
    AppendIdempotencyKey(m.idempotency_key, change.position);
  } else {
    m.idempotency_key.assign(change.idempotency_key);
  }
  m.hold_error = std::move(hold_error);
  queued->ticket = acks_.Track(s, change.position);
  while (!sink.queue->Push(queued, std::chrono::milliseconds(100))) {
    if (stopping_.load()) return Status::Retryable("stopping: sink queue full");
    if (while_blocked_) while_blocked_();
  }
  spare_ = std::move(queued);
  routed_.fetch_add(1, std::memory_order_relaxed);
  per_sink_[s].fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

}  // namespace sluice::pipeline
