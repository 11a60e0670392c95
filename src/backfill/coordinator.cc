#include "backfill/coordinator.h"

#include <algorithm>

#include "backfill/watermark.h"
#include "common/json_writer.h"
#include "common/log.h"
#include "pipeline/renderer.h"

namespace sluice::backfill {
namespace {

using source::ColumnValue;

// The key of a row image: the key columns' text. nullopt when a key column
// is missing or has no value (it then cannot match a page row anyway).
std::optional<std::string> KeyOf(const source::RelationInfo& rel,
                                 const std::vector<ColumnValue>& values,
                                 const std::vector<ColumnValue>* fallback) {
  if (rel.key_columns.empty()) return std::nullopt;
  std::string key;
  for (size_t idx : rel.key_columns) {
    if (idx >= values.size()) return std::nullopt;
    const ColumnValue* v = &values[idx];
    if (v->kind == ColumnValue::Kind::kUnchangedToast && fallback && idx < fallback->size()) {
      v = &(*fallback)[idx];
    }
    if (v->kind != ColumnValue::Kind::kText) return std::nullopt;
    AppendKeyPart(key, v->text);
  }
  return key;
}

// For each column of `rel` (as the stream describes the table), the index of
// the shape's column of that name; false when one is missing or has another
// type.
bool MapColumns(const source::RelationInfo& rel, const TableShape& shape,
                std::vector<size_t>* column_map) {
  column_map->clear();
  for (const source::ColumnInfo& c : rel.columns) {
    auto found = std::find_if(shape.columns.begin(), shape.columns.end(),
                              [&](const ShapeColumn& s) { return s.name == c.name; });
    if (found == shape.columns.end() || found->type_oid != c.type_oid) return false;
    column_map->push_back(static_cast<size_t>(found - shape.columns.begin()));
  }
  return true;
}

// Which relation a page of `shape` is emitted with, given the stream's last
// one for its table (`stream`, null when none came yet), and the page's
// columns for each of that relation's columns (`column_map`).
enum class PageRelation : unsigned char {
  kStream,   // `stream`: its columns fit the shape
  kCatalog,  // one built from the catalog, in shape order
  kReread,   // the stream's columns changed while the page was read
};
PageRelation ChoosePageRelation(const source::RelationInfo* stream, const TableShape& shape,
                                bool accept_catalog_columns, std::vector<size_t>* column_map) {
  if (stream != nullptr && MapColumns(*stream, shape, column_map)) return PageRelation::kStream;
  if (stream != nullptr && !accept_catalog_columns) return PageRelation::kReread;
  column_map->clear();
  for (size_t i = 0; i < shape.columns.size(); ++i) column_map->push_back(i);
  return PageRelation::kCatalog;
}

// Sets `values` to page row `row` in the order of `column_map`.
void RowValues(const source::TextRows& rows, size_t row, const std::vector<size_t>& column_map,
               std::vector<ColumnValue>& values) {
  values.clear();
  for (size_t j : column_map) {
    ColumnValue v;
    if (const std::optional<std::string_view> text = rows.Value(row, j)) {
      v.kind = ColumnValue::Kind::kText;
      v.text = *text;
    }
    values.push_back(v);
  }
}

}  // namespace

BackfillCoordinator::BackfillCoordinator(source::ChangeHandler& downstream, EmitRead emit,
                                         source::Catalog& catalog, uint64_t run,
                                         SinkWantsChange sink_wants, size_t checkpoint_every)
    : downstream_(downstream),
      emit_(std::move(emit)),
      catalog_(catalog),
      run_(run),
      sink_wants_(std::move(sink_wants)),
      checkpoint_every_(checkpoint_every == 0 ? 1 : checkpoint_every) {}

void BackfillCoordinator::OnBegin(const source::TransactionInfo& txn) {
  txn_ = txn;
  {
    std::lock_guard lock(mu_);
    if (streamed_.size() < kStreamedXids) {
      streamed_.push_back(txn.xid);
    } else {
      streamed_[streamed_next_] = txn.xid;
      streamed_next_ = (streamed_next_ + 1) % kStreamedXids;
    }
  }
  downstream_.OnBegin(txn);
}

void BackfillCoordinator::OnCommit(const source::TransactionInfo& txn) {
  txn_ = txn;
  downstream_.OnCommit(txn);
}

void BackfillCoordinator::OnIdle(Lsn wal_end) { downstream_.OnIdle(wal_end); }

Status BackfillCoordinator::OnChange(const source::Change& change) {
  if (change.relation) {
    source::RelationRef& known = stream_relations_[change.relation->oid];
    if (known.get() != change.relation.get()) {
      known = change.relation;
      std::lock_guard lock(mu_);
      shared_stream_relations_[change.relation->oid] = change.relation;
    }
  }
  if (tracked_count_.load(std::memory_order_acquire) > 0) RecordChange(change);
  return downstream_.OnChange(change);
}

void BackfillCoordinator::RecordChange(const source::Change& change) {
  if (!change.relation) return;
  const source::RelationInfo& rel = *change.relation;
  std::lock_guard lock(mu_);
  auto ids = by_table_.find(rel.oid);
  if (ids == by_table_.end()) return;
  std::optional<std::string> keys[2];
  switch (change.action) {
    case Action::kInsert:
    case Action::kRead:
      keys[0] = KeyOf(rel, change.new_values, nullptr);
      break;
    case Action::kUpdate:
      keys[0] = KeyOf(rel, change.new_values, change.has_old ? &change.old_values : nullptr);
      if (change.has_old) keys[1] = KeyOf(rel, change.old_values, nullptr);
      break;
    case Action::kDelete:
      keys[0] = KeyOf(rel, change.old_values, nullptr);
      break;
    case Action::kTruncate:
      break;
  }
  for (int64_t id : ids->second) {
    Tracked& t = tracked_[id];
    if (change.action == Action::kTruncate) {
      // Whatever the sink makes of a truncate, rows read before it are gone.
      t.truncated = true;
      t.unseen[txn_.xid].truncated = true;
      continue;
    }
    if (sink_wants_ && !sink_wants_(t.sink, rel, change.action)) continue;
    for (auto& key : keys) {
      if (!key) continue;
      t.changed_keys.insert(*key);
      t.unseen[txn_.xid].keys.push_back(*key);
    }
  }
}

Status BackfillCoordinator::OnLogicalMessage(std::string_view prefix, std::string_view content) {
  const std::optional<Watermark> w = ParseWatermark(prefix, content);
  if (!w) {
    log::Debug("unknown backfill logical message ignored", {{"prefix", std::string(prefix)}});
    return downstream_.OnLogicalMessage(prefix, content);
  }
  // A watermark of an earlier process (streamed again after a restart) or of
  // a backfill this process no longer runs.
  if (w->run != run_) return Status::Ok();

  std::unique_lock lock(mu_);
  auto it = tracked_.find(w->backfill_id);
  if (it == tracked_.end()) return Status::Ok();
  Tracked& t = it->second;
  if (!w->high) {
    if (!t.low_seen || *t.low_seen < w->page) t.low_seen = w->page;
    cv_.notify_all();
    return Status::Ok();
  }
  // A high watermark of a page that is not waiting (withdrawn, or one seen
  // before and streamed again after a reconnect) closes nothing: the keys
  // recorded so far still count for the page being read. Dropping more rows
  // is safe (their changes carry the row); clearing too early is not.
  if (!t.page || t.page->page != w->page) return Status::Ok();
  // This page's high watermark: the window since the previous one closes here.
  std::unordered_set<std::string> changed;
  changed.swap(t.changed_keys);
  bool truncated = t.truncated;
  t.truncated = false;
  Page page = std::move(*t.page);
  t.page.reset();
  if (page.snapshot) {
    // Every transaction streamed so far that the page's snapshot does not
    // see reaches the sink before the page: its rows are dropped too, even
    // when it was streamed before this window. The ones it sees are seen by
    // every later page's snapshot as well.
    for (auto u = t.unseen.begin(); u != t.unseen.end();) {
      if (page.snapshot->Sees(u->first)) {
        u = t.unseen.erase(u);
        continue;
      }
      changed.insert(u->second.keys.begin(), u->second.keys.end());
      truncated = truncated || u->second.truncated;
      ++u;
    }
  } else {
    t.unseen.clear();
  }
  const uint64_t generation = t.generation;
  const size_t sink = t.sink;
  const std::shared_ptr<const RowPredicate> filter = t.filter;
  lock.unlock();

  Status stream_error;
  PageResult result = EmitPage(w->backfill_id, sink, page, changed, truncated,
                               filter ? filter.get() : nullptr, &stream_error);
  result.page = std::make_shared<Page>(std::move(page));

  lock.lock();
  it = tracked_.find(w->backfill_id);
  if (it != tracked_.end() && it->second.generation == generation) {
    it->second.result = std::make_pair(w->page, std::move(result));
    cv_.notify_all();
  }
  return stream_error;
}

PageResult BackfillCoordinator::EmitPage(int64_t id, size_t sink, const Page& page,
                                         const std::unordered_set<std::string>& changed,
                                         bool truncated, const RowPredicate* filter,
                                         Status* stream_error) {
  PageResult r;
  r.read = page.rows.size();
  if (truncated) {
    r.dropped = r.read;
    return r;
  }
  const TableShape& shape = *page.shape;

  // The columns as the stream last described the table; the page must match
  // them (an ALTER TABLE between the query and the high watermark means the
  // page is read again).
  source::RelationRef rel;
  std::vector<size_t> column_map;
  const auto known = stream_relations_.find(shape.oid);
  const source::RelationRef* stream = known != stream_relations_.end() ? &known->second : nullptr;
  switch (ChoosePageRelation(stream ? stream->get() : nullptr, shape, page.accept_catalog_columns,
                             &column_map)) {
    case PageRelation::kStream:
      rel = *stream;
      break;
    case PageRelation::kReread:
      r.kind = PageResult::Kind::kReread;
      r.error =
          "the columns of " + shape.schema + "." + shape.table + " changed while the page was read";
      return r;
    case PageRelation::kCatalog: {
      auto built = CatalogRelation(shape);
      if (!built.ok()) {
        r.kind = PageResult::Kind::kReread;
        r.error = built.status().message();
        return r;
      }
      rel = *built;
      break;
    }
  }

  source::Change c;
  c.action = Action::kRead;
  c.commit_time_us = txn_.commit_time_us;
  c.relation = rel;
  c.has_old = false;
  c.new_values.reserve(column_map.size());
  // The worker rendered the records with this very relation, hence with
  // this column map: they are what rendering them here would give.
  const bool rendered =
      page.records.relation.get() == rel.get() && page.records.ends.size() == page.rows.size();
  // The worker wrote the rows' idempotency keys too (they depend on the
  // backfill and the row's key only).
  const bool keyed = page.records.key_ends.size() == page.rows.size();
  std::string key;
  std::vector<std::string_view> key_values;
  std::string idempotency_key;
  std::string idempotency_raw;
  uint32_t idx = 0;
  for (size_t ri = 0; ri < page.rows.size(); ++ri) {
    key.clear();
    key_values.clear();
    bool key_ok = true;
    for (size_t k : shape.key_columns) {
      const std::optional<std::string_view> v = page.rows.Value(ri, k);
      if (!v) {
        key_ok = false;
        break;
      }
      if (!changed.empty()) AppendKeyPart(key, *v);
      if (!keyed) key_values.push_back(*v);
    }
    if (!key_ok || (!changed.empty() && changed.count(key) > 0)) {
      ++r.dropped;
      continue;
    }
    RowValues(page.rows, ri, column_map, c.new_values);
    c.rendered_record = rendered ? page.records.Record(ri) : std::string_view();
    c.position = Position{txn_.commit_lsn, idx};
    c.idempotency_key = {};
    if (filter != nullptr && *filter) {
      Result<bool> keep = (*filter)(c);
      if (!keep.ok()) {
        r.kind = PageResult::Kind::kFailed;
        r.error = "evaluating the backfill filter: " + keep.status().message();
        return r;
      }
      if (!*keep) {
        ++r.filtered;
        continue;
      }
    }
    if (keyed) {
      c.idempotency_key = page.records.Key(ri);
    } else {
      WriteReadIdempotencyKey(idempotency_key, idempotency_raw, id, key_values);
      c.idempotency_key = idempotency_key;
    }
    Status st = emit_(sink, c);
    if (!st.ok()) {
      *stream_error = st;
      r.kind = PageResult::Kind::kReread;
      r.error = st.message();
      return r;
    }
    r.last_position = c.position;
    ++idx;
    ++r.emitted;
    if (r.emitted % checkpoint_every_ == 0 && ri + 1 < page.rows.size()) {
      auto cursor = CursorAfter(shape, page.rows, ri);
      if (cursor.ok()) {
        r.checkpoints.push_back(PageCheckpoint{ri + 1, r.emitted, c.position, std::move(*cursor)});
      }
    }
  }
  return r;
}

Result<source::RelationRef> BackfillCoordinator::CatalogRelation(const TableShape& shape) {
  if (auto it = catalog_relations_.find(shape.id); it != catalog_relations_.end()) {
    return it->second;
  }
  auto info = std::make_shared<source::RelationInfo>();
  info->oid = shape.oid;
  info->schema = shape.schema;
  info->table = shape.table;
  info->replica_identity = shape.replica_identity;
  info->key_columns = shape.key_columns;
  info->version = ++catalog_relation_version_;
  for (size_t i = 0; i < shape.columns.size(); ++i) {
    const ShapeColumn& s = shape.columns[i];
    source::ColumnInfo col;
    col.name = s.name;
    col.json_key = JsonMemberKey(col.name);
    col.type_oid = s.type_oid;
    col.type_modifier = s.type_modifier;
    col.replica_identity =
        std::find(shape.key_columns.begin(), shape.key_columns.end(), i) != shape.key_columns.end();
    auto type = catalog_.ResolveType(s.type_oid);
    if (!type.ok()) {
      return type.status().WithContext("resolving type of " + shape.schema + "." + shape.table +
                                       "." + s.name);
    }
    col.type = *type ? *type : values::TextType();
    info->columns.push_back(std::move(col));
  }
  source::RelationRef rel = std::move(info);
  catalog_relations_[shape.id] = rel;
  {
    std::lock_guard lock(mu_);
    shared_catalog_relations_[shape.id] = rel;
  }
  return rel;
}

RenderedRecords BackfillCoordinator::RenderRecords(const TableShape& shape,
                                                   const source::TextRows& rows,
                                                   bool accept_catalog_columns) const {
  RenderedRecords out;
  RenderRecords(shape, rows, 0, rows.size(), accept_catalog_columns, rows.size(), out);
  return out;
}

void BackfillCoordinator::RenderRecords(const TableShape& shape, const source::TextRows& rows,
                                        size_t from, size_t to, bool accept_catalog_columns,
                                        size_t expected_rows, RenderedRecords& out) const {
  if (from == 0) {
    // Cleared, keeping the buffers of an earlier page.
    out.relation.reset();
    out.text.clear();
    out.ends.clear();
    // The choice EmitPage makes, with what the reader thread knows now.
    std::lock_guard lock(mu_);
    const auto stream = shared_stream_relations_.find(shape.oid);
    const bool has_stream = stream != shared_stream_relations_.end();
    switch (ChoosePageRelation(has_stream ? stream->second.get() : nullptr, shape,
                               accept_catalog_columns, &out.column_map)) {
      case PageRelation::kStream:
        out.relation = stream->second;
        break;
      case PageRelation::kReread:
        break;
      case PageRelation::kCatalog:
        // Only once the reader thread has built it.
        if (auto catalog = shared_catalog_relations_.find(shape.id);
            catalog != shared_catalog_relations_.end()) {
          out.relation = catalog->second;
        }
        break;
    }
  }
  // Nothing rendered for the page, or an earlier chunk missing.
  if (!out.relation || out.ends.size() != from) return;
  out.ends.reserve(expected_rows);
  source::Change c;
  c.action = Action::kRead;
  c.relation = out.relation;
  c.new_values.reserve(out.column_map.size());
  for (size_t row = from; row < to; ++row) {
    RowValues(rows, row, out.column_map, c.new_values);
    pipeline::RenderRecord(c, out.text);
    out.ends.push_back(out.text.size());
    // Room for the rest, guessed from the first row, rather than growing
    // the page's text by doubling.
    if (out.ends.size() == 1) out.text.reserve(out.text.size() * expected_rows * 9 / 8);
  }
}

void RenderIdempotencyKeys(int64_t backfill_id, const TableShape& shape,
                           const source::TextRows& rows, size_t from, size_t to,
                           RenderedRecords& out) {
  if (from == 0) {
    out.keys.clear();
    out.key_ends.clear();
  }
  if (out.key_ends.size() != from) return;  // an earlier chunk missing
  std::vector<std::string_view> key_values;
  std::string key;
  std::string raw;
  for (size_t row = from; row < to; ++row) {
    key_values.clear();
    for (size_t k : shape.key_columns) {
      // A row without its key is dropped when emitted: its key is empty.
      if (const std::optional<std::string_view> v = rows.Value(row, k)) key_values.push_back(*v);
    }
    if (key_values.size() == shape.key_columns.size()) {
      WriteReadIdempotencyKey(key, raw, backfill_id, key_values);
      out.keys.append(key);
    }
    out.key_ends.push_back(out.keys.size());
  }
}

void BackfillCoordinator::Register(int64_t id, size_t sink, uint32_t table_oid,
                                   RowPredicate filter) {
  std::lock_guard lock(mu_);
  if (auto old = tracked_.find(id); old != tracked_.end()) {
    auto& ids = by_table_[old->second.table_oid];
    ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
    if (ids.empty()) by_table_.erase(old->second.table_oid);
    tracked_.erase(old);
  }
  Tracked t;
  t.generation = ++generation_;
  t.sink = sink;
  t.table_oid = table_oid;
  if (filter) t.filter = std::make_shared<const RowPredicate>(std::move(filter));
  tracked_.emplace(id, std::move(t));
  by_table_[table_oid].push_back(id);
  tracked_count_.store(tracked_.size(), std::memory_order_release);
}

void BackfillCoordinator::Unregister(int64_t id) {
  std::lock_guard lock(mu_);
  auto it = tracked_.find(id);
  if (it == tracked_.end()) return;
  auto& ids = by_table_[it->second.table_oid];
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
  if (ids.empty()) by_table_.erase(it->second.table_oid);
  tracked_.erase(it);
  tracked_count_.store(tracked_.size(), std::memory_order_release);
  cv_.notify_all();
}

void BackfillCoordinator::Offer(Page page) {
  std::lock_guard lock(mu_);
  auto it = tracked_.find(page.backfill_id);
  if (it == tracked_.end()) return;
  it->second.result.reset();
  it->second.page = std::move(page);
}

bool BackfillCoordinator::Withdraw(int64_t id) {
  std::lock_guard lock(mu_);
  auto it = tracked_.find(id);
  if (it == tracked_.end() || !it->second.page) return false;
  it->second.page.reset();
  return true;
}

bool BackfillCoordinator::WaitForLow(int64_t id, uint64_t page, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    auto it = tracked_.find(id);
    return it != tracked_.end() && it->second.low_seen && *it->second.low_seen >= page;
  });
}

std::optional<PageResult> BackfillCoordinator::WaitForResult(int64_t id, uint64_t page,
                                                             std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  std::optional<PageResult> out;
  cv_.wait_for(lock, timeout, [&] {
    auto it = tracked_.find(id);
    if (it == tracked_.end() || !it->second.result || it->second.result->first != page) {
      return false;
    }
    out = std::move(it->second.result->second);
    it->second.result.reset();
    return true;
  });
  return out;
}

size_t BackfillCoordinator::RecordedKeys(int64_t id) const {
  std::lock_guard lock(mu_);
  auto it = tracked_.find(id);
  return it == tracked_.end() ? 0 : it->second.changed_keys.size();
}

std::vector<uint32_t> BackfillCoordinator::StreamedAmong(const std::vector<uint32_t>& xids) const {
  std::vector<uint32_t> wanted = xids;
  std::sort(wanted.begin(), wanted.end());
  std::vector<uint32_t> out;
  if (wanted.empty()) return out;
  {
    std::lock_guard lock(mu_);
    for (uint32_t x : streamed_) {
      if (std::binary_search(wanted.begin(), wanted.end(), x)) out.push_back(x);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

size_t BackfillCoordinator::PendingTransactions(int64_t id) const {
  std::lock_guard lock(mu_);
  auto it = tracked_.find(id);
  return it == tracked_.end() ? 0 : it->second.unseen.size();
}

}  // namespace sluice::backfill
