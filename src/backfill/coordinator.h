// BackfillCoordinator: merges backfill pages into the change stream (DESIGN
// §4, DBLog with transactional watermarks).
//
// It is a source::ChangeHandler placed in front of the pipeline's Router: it
// forwards everything downstream unchanged, and while a backfill is
// registered it records the key of every change to that backfill's table
// (old and new key of updates, the key of deletes; a truncate marks the whole
// window). A worker reads a page between a low and a high watermark and
// offers the page's rows before writing the high watermark. When the high
// watermark arrives through the slot, the coordinator drops the page rows
// whose key was changed in the stream since the previous page (those rows
// reach the sink as the later change), and emits the rest as `read` changes
// at the watermark's position: (its transaction's commit LSN, 0, 1, 2, ...).
// So a row never reaches a sink as a read older than a change it already got.
//
// Threads: the ChangeHandler methods run on the replication reader thread
// (like the Router's). Register/Offer/Withdraw/Wait* are called by backfill
// workers on their own threads. Emitting a page happens on the reader thread
// and may block on a full sink queue (back-pressure), never on a worker.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "backfill/keyset.h"
#include "backfill/page_snapshot.h"
#include "common/status.h"
#include "source/catalog.h"
#include "source/change.h"
#include "source/pg_connection.h"

namespace sluice::backfill {

// Decides whether a read row goes to the sink (a backfill's SQL filter). An
// error fails the backfill.
using RowPredicate = std::function<Result<bool>(const source::Change&)>;

// Routes one read change to one sink (pipeline::Router::OnBackfillChange).
using EmitRead = std::function<Status(size_t sink, const source::Change&)>;

// Whether `sink` receives changes with `action` on `relation` at all; only
// the changes a sink receives make its backfill drop a row. Null: all.
using SinkWantsChange =
    std::function<bool(size_t sink, const source::RelationInfo& relation, Action action)>;

// A page's rows rendered as messages' "record" objects by the worker that
// read them, off the reader thread. They stand for what the reader thread
// would render only with the same `relation`: the page is emitted with
// another one (the stream described the table again meanwhile) rendering
// its rows itself.
struct RenderedRecords {
  source::RelationRef relation;    // null: nothing rendered
  std::vector<size_t> column_map;  // the page column of each of its columns
  std::string text;
  std::vector<size_t> ends;  // row i's record is text[ends[i-1], ends[i])

  // The rows' read idempotency keys (RenderIdempotencyKeys), whatever the
  // relation.
  std::string keys;
  std::vector<size_t> key_ends;

  std::string_view Record(size_t i) const {
    const size_t begin = i == 0 ? 0 : ends[i - 1];
    return std::string_view(text).substr(begin, ends[i] - begin);
  }
  std::string_view Key(size_t i) const {
    const size_t begin = i == 0 ? 0 : key_ends[i - 1];
    return std::string_view(keys).substr(begin, key_ends[i] - begin);
  }
};

// Writes the read idempotency keys of rows [from, to) of a page of backfill
// `backfill_id` onto `out` (ReadIdempotencyKey), chunk by chunk like
// RenderRecords: the worker's work rather than the reader thread's.
void RenderIdempotencyKeys(int64_t backfill_id, const TableShape& shape,
                           const source::TextRows& rows, size_t from, size_t to,
                           RenderedRecords& out);

// The rows of one page, offered before the high watermark is written.
struct Page {
  int64_t backfill_id = 0;
  uint64_t page = 0;
  ShapeRef shape;
  source::TextRows rows;  // text values, in shape column order
  // The page was read again because the stream's relation did not match the
  // previous read: emit it with the catalog's columns if it still does not.
  bool accept_catalog_columns = false;
  // The page query's snapshot; without it only the window since the previous
  // high watermark drops rows.
  std::optional<PageSnapshot> snapshot;
  // RenderRecords(rows), or nothing.
  RenderedRecords records;
};

// A point inside an emitted page up to which it may be resumed: once the sink
// acknowledged `position`, the backfill can continue after `cursor`.
struct PageCheckpoint {
  uint64_t rows_read = 0;  // page rows up to and including the cursor's row
  uint64_t emitted = 0;    // reads emitted up to there
  Position position;       // of the last of those reads
  std::string cursor;      // CursorAfter that row
};

struct PageResult {
  enum class Kind : unsigned char {
    kEmitted,  // done: `emitted` rows went to the sink
    kReread,   // read the same page again (the table's columns changed)
    kFailed,   // the backfill cannot go on: `error`
  };
  Kind kind = Kind::kEmitted;
  uint64_t read = 0;
  uint64_t emitted = 0;
  uint64_t dropped = 0;    // changed in the stream meanwhile
  uint64_t filtered = 0;   // not matching the backfill's filter
  Position last_position;  // of the last emitted row (when emitted > 0)
  // Every `checkpoint_every` emitted reads (not at the page's end: the
  // worker knows that cursor), so that a crash in a large page re-reads
  // only what was not acknowledged.
  std::vector<PageCheckpoint> checkpoints;
  std::string error;
  // The page itself, handed back with its outcome so that its memory is
  // freed on the worker's thread rather than the reader's.
  // The worker reuses its buffers for a later page.
  std::shared_ptr<Page> page;
};

class BackfillCoordinator : public source::ChangeHandler {
 public:
  // `catalog` resolves column types when a page's relation must be built
  // from the catalog (no change of the table seen on this connection yet);
  // used on the reader thread only, like the assembler's. `run` is this
  // process's run id (see watermark.h).
  BackfillCoordinator(source::ChangeHandler& downstream, EmitRead emit, source::Catalog& catalog,
                      uint64_t run, SinkWantsChange sink_wants = nullptr,
                      size_t checkpoint_every = 1000);

  void OnBegin(const source::TransactionInfo& txn) override;
  Status OnChange(const source::Change& change) override;
  void OnCommit(const source::TransactionInfo& txn) override;
  void OnIdle(Lsn wal_end) override;
  Status OnLogicalMessage(std::string_view prefix, std::string_view content) override;
  // Passed through: a change rendered on arrival is not yet part of the
  // stream (it is seen again, in OnChange, at its commit).
  bool RenderAhead(const source::Change& change, std::string& record,
                   std::string& changes) override {
    return downstream_.RenderAhead(change, record, changes);
  }

  uint64_t run() const { return run_; }

  // Starts recording changes to table `table_oid` for backfill `id`, whose
  // rows go to sink index `sink`. Replaces an earlier registration of `id`.
  void Register(int64_t id, size_t sink, uint32_t table_oid, RowPredicate filter = nullptr);
  // Stops recording for `id` and forgets its page and results.
  void Unregister(int64_t id);

  // Renders `rows` (a page of `shape`'s table) as the "record" objects of
  // their messages, with the relation the reader thread would emit them
  // with as things stand; nothing when that relation is not known yet or
  // does not fit the shape. Any thread. A whole page at once: workers render
  // a page read in chunks with the form below, as each chunk arrives.
  RenderedRecords RenderRecords(const TableShape& shape, const source::TextRows& rows,
                                bool accept_catalog_columns) const;
  // The same for rows [from, to) of a page read in chunks, rendered onto
  // `out` chunk by chunk: the first chunk (from 0) chooses the relation, the
  // others use it. `expected_rows`: the page's size, to reserve room.
  void RenderRecords(const TableShape& shape, const source::TextRows& rows, size_t from, size_t to,
                     bool accept_catalog_columns, size_t expected_rows, RenderedRecords& out) const;

  // Hands over page `page.page`, read after its low watermark passed or
  // after the previous page's high watermark committed; call before writing
  // its high watermark. Replaces a page offered earlier.
  void Offer(Page page);
  // Takes back an offered page that will not be followed by its high
  // watermark (writing it failed, or the worker stops). False when its high
  // watermark already took it: its result is on the way.
  bool Withdraw(int64_t id);

  // Waits until the low watermark of `page` of backfill `id` has passed
  // through the stream; false on timeout.
  bool WaitForLow(int64_t id, uint64_t page, std::chrono::milliseconds timeout);
  // Waits for the outcome of `page` (set when its high watermark passed);
  // nullopt on timeout.
  std::optional<PageResult> WaitForResult(int64_t id, uint64_t page,
                                          std::chrono::milliseconds timeout);

  // Those of `xids` whose commit the stream has brought, among the last
  // kStreamedXids transactions streamed.
  std::vector<uint32_t> StreamedAmong(const std::vector<uint32_t>& xids) const;
  static constexpr size_t kStreamedXids = size_t{1} << 18;

  // Keys recorded for `id` since its last high watermark (for tests).
  size_t RecordedKeys(int64_t id) const;
  // Transactions of `id`'s table kept because no page snapshot saw them yet
  // (for tests).
  size_t PendingTransactions(int64_t id) const;

 private:
  // What one streamed transaction changed in a tracked table.
  struct TxnChanges {
    std::vector<std::string> keys;
    bool truncated = false;
  };
  struct Tracked {
    uint64_t generation = 0;  // of the registration
    size_t sink = 0;
    uint32_t table_oid = 0;
    std::shared_ptr<const RowPredicate> filter;
    std::unordered_set<std::string> changed_keys;
    bool truncated = false;
    // Transactions streamed since Register that touched the table and that
    // no page snapshot has seen yet, by xid. A page drops their rows while
    // its snapshot does not see them; once one does, every later one does.
    std::unordered_map<uint32_t, TxnChanges> unseen;
    std::optional<uint64_t> low_seen;  // latest page whose low watermark passed
    std::optional<Page> page;
    std::optional<std::pair<uint64_t, PageResult>> result;
  };

  void RecordChange(const source::Change& change);
  PageResult EmitPage(int64_t id, size_t sink, const Page& page,
                      const std::unordered_set<std::string>& changed, bool truncated,
                      const RowPredicate* filter, Status* stream_error);
  Result<source::RelationRef> CatalogRelation(const TableShape& shape);

  source::ChangeHandler& downstream_;
  EmitRead emit_;
  source::Catalog& catalog_;
  const uint64_t run_;
  SinkWantsChange sink_wants_;
  const size_t checkpoint_every_;

  source::TransactionInfo txn_;  // the open transaction (reader thread)

  std::atomic<size_t> tracked_count_{0};  // lets OnChange skip the lock
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<int64_t, Tracked> tracked_;
  std::unordered_map<uint32_t, std::vector<int64_t>> by_table_;
  uint64_t generation_ = 0;
  // The xids of the last kStreamedXids streamed transactions (a ring).
  std::vector<uint32_t> streamed_;
  size_t streamed_next_ = 0;

  // Reader thread only. The relation the stream last used, per table OID.
  std::unordered_map<uint32_t, source::RelationRef> stream_relations_;
  // Relations built from the catalog, by shape id.
  std::unordered_map<uint64_t, source::RelationRef> catalog_relations_;
  // Copies of both for RenderRecords, under mu_.
  std::unordered_map<uint32_t, source::RelationRef> shared_stream_relations_;
  std::unordered_map<uint64_t, source::RelationRef> shared_catalog_relations_;
  uint64_t catalog_relation_version_ = uint64_t{1} << 62;
};

}  // namespace sluice::backfill
