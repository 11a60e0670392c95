#include "pipeline/renderer.h"

#include <charconv>
#include <cstdio>

#include "common/base64.h"
#include "common/civil_date.h"
#include "common/json_writer.h"

namespace sluice::pipeline {
namespace {

using source::Change;
using source::ColumnValue;

constexpr std::string_view kUnchangedToast = "unchanged_toast";

void AppendValue(std::string& out, const source::ColumnInfo& column, const ColumnValue& value) {
  switch (value.kind) {
    case ColumnValue::Kind::kNull:
      out.append("null");
      return;
    case ColumnValue::Kind::kUnchangedToast:
      AppendJsonString(out, kUnchangedToast);
      return;
    case ColumnValue::Kind::kText:
      values::AppendValueJson(out, *column.type, value.text);
      return;
  }
}

// `"name":` for an object's first member, `,"name":` for the others.
void AppendMemberKey(std::string& out, const source::ColumnInfo& column, bool first) {
  if (!column.json_key.empty()) {
    out.append(std::string_view(column.json_key).substr(first ? 1 : 0));
    return;
  }
  if (!first) out.push_back(',');
  AppendJsonString(out, column.name);
  out.push_back(':');
}

void AppendRow(std::string& out, const Change& change, bool use_new) {
  const auto& columns = change.relation->columns;
  const auto& vals = use_new ? change.new_values : change.old_values;
  out.push_back('{');
  for (size_t i = 0; i < columns.size() && i < vals.size(); ++i) {
    AppendMemberKey(out, columns[i], i == 0);
    AppendValue(out, columns[i], use_new ? *source::ResolveNewValue(change, i) : vals[i]);
  }
  out.push_back('}');
}

bool SameValue(const ColumnValue& a, const ColumnValue& b) {
  return a.kind == b.kind && (a.kind != ColumnValue::Kind::kText || a.text == b.text);
}

void AppendChanges(std::string& out, const Change& change) {
  out.push_back('{');
  if (change.has_old && !change.old_is_key_only) {
    const auto& columns = change.relation->columns;
    bool first = true;
    for (size_t i = 0;
         i < columns.size() && i < change.new_values.size() && i < change.old_values.size(); ++i) {
      const ColumnValue& now = *source::ResolveNewValue(change, i);
      const ColumnValue& before = change.old_values[i];
      if (now.kind == ColumnValue::Kind::kUnchangedToast) continue;
      if (SameValue(now, before)) continue;
      AppendMemberKey(out, columns[i], first);
      first = false;
      AppendValue(out, columns[i], before);
    }
  }
  out.push_back('}');
}

// The "record" object: the new row, a delete's old row, null for a
// truncate.
void AppendRecord(std::string& out, const Change& change) {
  if (change.action == Action::kTruncate) {
    out.append("null");
  } else {
    AppendRow(out, change, change.action != Action::kDelete);
  }
}

// Calls `fn` with the text of each key column of the change's row, in key
// order (none when the table has no key; a truncate is about a table, not a
// row).
template <typename Fn>
void ForEachRecordKeyValue(const Change& change, Fn&& fn) {
  if (!change.relation || change.action == Action::kTruncate) return;
  const bool use_new = change.action != Action::kDelete;
  for (size_t idx : change.relation->key_columns) {
    const ColumnValue* v = nullptr;
    if (use_new) {
      if (idx < change.new_values.size()) v = source::ResolveNewValue(change, idx);
    } else if (idx < change.old_values.size()) {
      v = &change.old_values[idx];
    }
    fn(v && v->kind == ColumnValue::Kind::kText ? v->text : std::string_view());
  }
}

}  // namespace

void AppendIdempotencyKey(std::string& out, Position position) {
  // "<commit_lsn>:<commit_idx>": at most 20 digits, ':', 10 digits.
  char raw[48];
  char* end = std::to_chars(raw, raw + 20, position.commit_lsn).ptr;
  *end = ':';
  end = std::to_chars(end + 1, end + 11, position.commit_idx).ptr;
  AppendBase64(out, std::string_view(raw, static_cast<size_t>(end - raw)));
}

std::string IdempotencyKey(Position position) {
  std::string out;
  AppendIdempotencyKey(out, position);
  return out;
}

std::string FormatCommitTimestamp(int64_t unix_us) {
  int64_t secs = unix_us / 1000000;
  int64_t micros = unix_us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    secs -= 1;
  }
  int64_t days = secs / 86400;
  int64_t in_day = secs % 86400;
  if (in_day < 0) {
    in_day += 86400;
    days -= 1;
  }
  // Not gmtime_r: it takes glibc's time zone lock on every call, and with
  // one-row transactions this runs for every change.
  int64_t year, month, day;
  CivilFromDays(days, &year, &month, &day);
  char buf[96];
  if (year < 0 || year > 9999) {
    std::snprintf(buf, sizeof(buf), "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%06lldZ",
                  static_cast<long long>(year), static_cast<long long>(month),
                  static_cast<long long>(day), static_cast<long long>(in_day / 3600),
                  static_cast<long long>(in_day / 60 % 60), static_cast<long long>(in_day % 60),
                  static_cast<long long>(micros));
    return buf;
  }
  const char* end = values::WriteIsoTimestamp(buf, year, month, day, in_day / 3600,
                                              in_day / 60 % 60, in_day % 60, micros, true);
  return std::string(buf, static_cast<size_t>(end - buf));
}

void RenderRecord(const Change& change, std::string& out) { AppendRow(out, change, true); }

void RenderRecordAndChanges(const Change& change, std::string& record, std::string& changes) {
  AppendRecord(record, change);
  if (change.action == Action::kUpdate) AppendChanges(changes, change);
}

void RenderChangePrefix(const Change& change, std::string& out) {
  out.append("{\"record\":");
  if (!change.rendered_record.empty()) {
    out.append(change.rendered_record);
  } else {
    AppendRecord(out, change);
  }
  out.append(",\"changes\":");
  if (change.action != Action::kUpdate) {
    out.append("null");
  } else if (!change.rendered_changes.empty()) {
    out.append(change.rendered_changes);
  } else {
    AppendChanges(out, change);
  }
  out.append(",\"action\":\"").append(ActionName(change.action)).append("\",\"metadata\":{");
  const auto& rel = change.relation ? change.relation : change.truncated.front();
  out.append("\"table_schema\":");
  AppendJsonString(out, rel->schema);
  out.append(",\"table_name\":");
  AppendJsonString(out, rel->table);
  // Every change of a transaction has the same commit time: format it once.
  thread_local int64_t cached_time_us = INT64_MIN;
  thread_local std::string cached_time;
  if (change.commit_time_us != cached_time_us) {
    cached_time = FormatCommitTimestamp(change.commit_time_us);
    cached_time_us = change.commit_time_us;
  }
  out.append(",\"commit_timestamp\":\"").append(cached_time);
  out.append("\",\"commit_lsn\":");
  AppendJsonUint(out, change.position.commit_lsn);
  out.append(",\"commit_idx\":");
  AppendJsonUint(out, change.position.commit_idx);
  out.append(",\"idempotency_key\":\"");
  if (change.idempotency_key.empty()) {
    AppendIdempotencyKey(out, change.position);
  } else {
    out.append(change.idempotency_key);  // base64: nothing to escape
  }
  out.append("\",\"record_pks\":[");
  bool first = true;
  ForEachRecordKeyValue(change, [&](std::string_view v) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(out, v);
  });
  out.push_back(']');
  if (change.action == Action::kTruncate) {
    out.append(",\"truncated_tables\":[");
    for (size_t i = 0; i < change.truncated.size(); ++i) {
      if (i > 0) out.push_back(',');
      out.append("{\"table_schema\":");
      AppendJsonString(out, change.truncated[i]->schema);
      out.append(",\"table_name\":");
      AppendJsonString(out, change.truncated[i]->table);
      out.push_back('}');
    }
    out.push_back(']');
  }
  out.append(",\"transaction_annotations\":");
  if (change.annotations.empty()) {
    out.append("null");
  } else {
    out.append(change.annotations);
  }
  out.push_back(',');
}

std::string RenderSinkSuffix(const std::string& sink_id, const std::string& sink_name,
                             const std::vector<std::pair<std::string, std::string>>& annotations,
                             const std::string& database_name) {
  std::string out = "\"sink\":{\"id\":";
  AppendJsonString(out, sink_id);
  out.append(",\"name\":");
  AppendJsonString(out, sink_name);
  out.append(",\"annotations\":{");
  for (size_t i = 0; i < annotations.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(out, annotations[i].first);
    out.push_back(':');
    AppendJsonString(out, annotations[i].second);
  }
  out.append("}},\"database\":{\"name\":");
  AppendJsonString(out, database_name);
  out.append("}}}");
  return out;
}

std::string SinkId(const std::string& sink_name) {
  // Two FNV-1a 64-bit hashes with different offsets, shaped as a UUID
  // (version nibble 8: custom). Stable across runs and machines.
  auto fnv = [&](uint64_t h) {
    for (unsigned char c : sink_name) {
      h ^= c;
      h *= 1099511628211ull;
    }
    return h;
  };
  uint64_t a = fnv(14695981039346656037ull);
  uint64_t b = fnv(0x84222325cbf29ce4ull);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-8%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>((b >> 48) & 0x3fff) | 0x8000,
                static_cast<unsigned long long>(b & 0xffffffffffffull));
  return buf;
}

}  // namespace sluice::pipeline
