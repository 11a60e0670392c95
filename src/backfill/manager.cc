#include "backfill/manager.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "backfill/table_reader.h"
#include "backfill/watermark.h"
#include "common/log.h"
#include "pipeline/router.h"

namespace sluice::backfill {
namespace {

using state::BackfillRecord;
using state::BackfillState;
using namespace std::chrono_literals;

// How often the persisting thread looks at a backfill whose last page was
// read, waiting for its last rows' acknowledgement.
constexpr std::chrono::milliseconds kFinishingInterval{10};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string TableOf(const BackfillRecord& r) { return r.table_schema + "." + r.table_name; }

ControlOutcome NotFound(const std::string& sink, int64_t id) {
  return ControlOutcome::Error(
      ControlError::kNotFound,
      "sink \"" + sink + "\" has no backfill with id " + std::to_string(id));
}

}  // namespace

BackfillManager::BackfillManager(ManagerOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<BackfillManager>> BackfillManager::Create(ManagerOptions options) {
  std::unique_ptr<BackfillManager> m(new BackfillManager(std::move(options)));
  for (size_t i = 0; i < m->options_.sinks.size(); ++i) {
    SLUICE_ASSIGN_OR_RETURN(auto records,
                            m->options_.store->LoadBackfills(m->options_.sinks[i]->name));
    for (BackfillRecord& r : records) {
      auto e = std::make_unique<Entry>();
      e->live = r;
      e->durable = r;
      e->sink = i;
      m->entries_.emplace(r.id, std::move(e));
    }
  }
  return m;
}

BackfillManager::~BackfillManager() { Stop(); }

std::optional<size_t> BackfillManager::SinkIndex(const std::string& sink) const {
  for (size_t i = 0; i < options_.sinks.size(); ++i) {
    if (options_.sinks[i]->name == sink) return i;
  }
  return std::nullopt;
}

bool BackfillManager::HasSink(const std::string& sink) const { return SinkIndex(sink).has_value(); }

Status BackfillManager::Write(Entry& e) {
  Status st = options_.store->UpdateBackfill(e.durable);
  if (!st.ok()) {
    log::Error("cannot record backfill progress",
               {{"backfill", static_cast<long long>(e.durable.id)}, {"error", st.message()}});
  }
  return st;
}

// --- creating ---------------------------------------------------------------

ControlOutcome BackfillManager::Create(const BackfillRequest& request, bool initial) {
  const auto sink = SinkIndex(request.sink);
  if (!sink) {
    return ControlOutcome::Error(ControlError::kNotFound, "no sink named \"" + request.sink + "\"");
  }
  if (request.table_name.empty()) {
    return ControlOutcome::Error(ControlError::kInvalid, "table is required (schema.table)",
                                 "table");
  }
  const std::string table = request.table_schema + "." + request.table_name;
  const config::SinkConfig& sc = *options_.sinks[*sink];
  if (!pipeline::SinkWants(sc, request.table_schema, request.table_name, Action::kRead)) {
    return ControlOutcome::Error(ControlError::kInvalid,
                                 "sink \"" + sc.name + "\" does not stream table " + table +
                                     " (see its tables, include_* and exclude_* settings)",
                                 "table");
  }
  if (!initial) {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : entries_) {
      const BackfillRecord& r = e->live;
      if (r.sink == request.sink && r.table_schema == request.table_schema &&
          r.table_name == request.table_name &&
          (r.state == BackfillState::kRunning || r.state == BackfillState::kPaused)) {
        return ControlOutcome::Error(ControlError::kConflict,
                                     "backfill " + std::to_string(id) + " of " + table +
                                         " for sink \"" + request.sink + "\" is " +
                                         state::BackfillStateName(r.state) +
                                         "; cancel it first or wait until it completes");
      }
    }
  }
  if (!request.filter.empty()) {
    if (!options_.compile_filter) {
      return ControlOutcome::Error(ControlError::kInvalid,
                                   "SQL filters on backfills are not available in this build",
                                   "filter");
    }
    auto compiled = options_.compile_filter(request.filter);
    if (!compiled.ok()) {
      return ControlOutcome::Error(ControlError::kInvalid, compiled.status().message(), "filter");
    }
  }
  auto reader = TableReader::Connect(options_.conninfo, options_.display);
  if (!reader.ok()) {
    return ControlOutcome::Error(ControlError::kUnavailable, reader.status().message());
  }
  auto shape = (*reader)->LoadShape(request.table_schema, request.table_name, request.sort_column);
  if (!shape.ok()) {
    const std::string& msg = shape.status().message();
    if (shape.status().IsRetryable()) {
      return ControlOutcome::Error(ControlError::kUnavailable, msg);
    }
    const bool about_sort = msg.find("sort") != std::string::npos;
    return ControlOutcome::Error(ControlError::kInvalid, msg, about_sort ? "sort_column" : "table");
  }
  std::string sort_column = request.sort_column;
  ShapeRef s = *shape;
  if (request.start_position) {
    if (!s->sort_column) {
      // Without a sort column, start_position applies to the first key
      // column: the order stays the primary key's.
      auto copy = std::make_shared<TableShape>(*s);
      sort_column = copy->columns[copy->key_columns.front()].name;
      Status st = SetKeysetOrder(*copy, sort_column);
      if (!st.ok()) return ControlOutcome::Error(ControlError::kInvalid, st.message(), "table");
      s = copy;
    }
    Status st = (*reader)->CheckStartPosition(*s, *request.start_position);
    if (!st.ok()) {
      return ControlOutcome::Error(
          st.IsRetryable() ? ControlError::kUnavailable : ControlError::kInvalid, st.message(),
          "start_position");
    }
  }
  BackfillRecord r;
  r.sink = request.sink;
  r.table_schema = request.table_schema;
  r.table_name = request.table_name;
  r.sort_column = sort_column;
  r.start_position = request.start_position;
  r.filter = request.filter;
  r.state = BackfillState::kRunning;
  r.created_at_ms = r.updated_at_ms = NowMs();
  r.initial = initial;
  auto estimate = (*reader)->EstimateRows(*s);
  r.estimated_total = estimate.ok() ? *estimate : -1;
  auto created = options_.store->CreateBackfill(r);
  if (!created.ok()) {
    return ControlOutcome::Error(ControlError::kInternal,
                                 "cannot record the backfill: " + created.status().message());
  }
  log::Info("backfill created", {{"backfill", static_cast<long long>(created->id)},
                                 {"sink", request.sink},
                                 {"table", table},
                                 {"estimated_rows", static_cast<long long>(r.estimated_total)},
                                 {"initial", initial}});
  ControlOutcome out;
  std::lock_guard lock(mu_);
  auto e = std::make_unique<Entry>();
  e->live = *created;
  e->durable = *created;
  e->sink = *sink;
  Entry& ref = *e;
  entries_.emplace(created->id, std::move(e));
  if (started_ && !stopping_) StartWorker(ref);
  out.backfills.push_back(ref.live);
  return out;
}

Status BackfillManager::CreateInitialBackfills() {
  for (const config::SinkConfig* sc : options_.sinks) {
    for (const config::InitialBackfillConfig& ib : sc->initial_backfill) {
      bool exists = false;
      {
        std::lock_guard lock(mu_);
        for (const auto& [id, e] : entries_) {
          const BackfillRecord& r = e->live;
          exists = exists || (r.initial && r.sink == sc->name &&
                              r.table_schema == ib.table.schema && r.table_name == ib.table.table);
        }
      }
      if (exists) continue;
      BackfillRequest request;
      request.sink = sc->name;
      request.table_schema = ib.table.schema;
      request.table_name = ib.table.table;
      request.sort_column = ib.sort_column;
      request.start_position = ib.start_position;
      request.filter = ib.filter;
      ControlOutcome o = Create(request, /*initial=*/true);
      if (!o.ok()) {
        const std::string message = "sink \"" + sc->name + "\": initial_backfill of " +
                                    ib.table.schema + "." + ib.table.table + ": " + o.message;
        return o.error == ControlError::kUnavailable ? Status::Retryable(message)
                                                     : Status::Fatal(message);
      }
    }
  }
  return Status::Ok();
}

// --- running ----------------------------------------------------------------

void BackfillManager::Start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  for (auto& [id, e] : entries_) {
    if (e->live.state == BackfillState::kRunning) StartWorker(*e);
  }
  persist_thread_ = std::thread([this] { PersistLoop(); });
  std::lock_guard control_lock(control_mu_);
  control_running_ = true;
  control_thread_ = std::thread([this] { ControlLoop(); });
}

void BackfillManager::Stop() {
  {
    std::lock_guard lock(control_mu_);
    control_stop_ = true;
  }
  control_cv_.notify_all();
  if (control_thread_.joinable()) control_thread_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [id, e] : entries_) {
      if (e->stop) e->stop->store(true);
      if (e->worker.joinable()) workers.push_back(std::move(e->worker));
    }
  }
  cv_.notify_all();
  for (auto& t : workers) t.join();
  if (persist_thread_.joinable()) persist_thread_.join();
}

void BackfillManager::Flush() { PersistAcknowledged(); }

void BackfillManager::StartWorker(Entry& e) {
  e.stop = std::make_shared<std::atomic<bool>>(false);
  e.finished = false;
  e.worker = std::thread([this, entry = &e, stop = e.stop] { RunWorker(entry, stop); });
}

void BackfillManager::StopWorker(int64_t id) {
  std::thread t;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    if (it->second->stop) it->second->stop->store(true);
    t = std::move(it->second->worker);
  }
  cv_.notify_all();
  if (t.joinable()) t.join();
}

void BackfillManager::RunWorker(Entry* e, std::shared_ptr<std::atomic<bool>> stop) {
  pthread_setname_np(pthread_self(), "sluice-backfill");
  std::chrono::milliseconds delay = options_.retry_initial;
  while (!stop->load()) {
    uint64_t read_before;
    {
      std::lock_guard lock(mu_);
      read_before = e->live.rows_read;
    }
    Status st = RunPages(e, *stop);
    if (stop->load()) return;
    std::unique_lock lock(mu_);
    const long long id = e->live.id;
    if (st.ok()) {
      e->finished = true;
      log::Info("backfill read its last page",
                {{"backfill", id},
                 {"table", TableOf(e->live)},
                 {"rows_read", static_cast<unsigned long long>(e->live.rows_read)}});
      return;
    }
    if (!st.IsRetryable()) {
      if (e->live.state == BackfillState::kRunning) {
        e->live.state = e->durable.state = BackfillState::kFailed;
        e->live.last_error = e->durable.last_error = st.message();
        e->live.updated_at_ms = e->durable.updated_at_ms = NowMs();
        (void)Write(*e);
      }
      log::Error("backfill failed", {{"backfill", id}, {"error", st.message()}});
      return;
    }
    e->live.last_error = st.message();
    if (e->live.rows_read > read_before) delay = options_.retry_initial;
    log::Warn("backfill will retry", {{"backfill", id},
                                      {"error", st.message()},
                                      {"retry_in_ms", static_cast<long long>(delay.count())}});
    cv_.wait_for(lock, delay, [&] { return stop->load(); });
    delay = std::min(delay * 2, options_.retry_max);
  }
}

Status BackfillManager::RunPages(Entry* e, const std::atomic<bool>& stop) {
  BackfillRecord rec;
  size_t sink;
  {
    std::lock_guard lock(mu_);
    rec = e->live;
    sink = e->sink;
  }
  SLUICE_ASSIGN_OR_RETURN(auto reader, TableReader::Connect(options_.conninfo, options_.display));
  SLUICE_ASSIGN_OR_RETURN(ShapeRef shape,
                          reader->LoadShape(rec.table_schema, rec.table_name, rec.sort_column));
  RowPredicate filter;
  if (!rec.filter.empty()) {
    if (!options_.compile_filter) {
      return Status::Permanent("SQL filters on backfills are not available in this build");
    }
    auto compiled = options_.compile_filter(rec.filter);
    if (!compiled.ok()) return Status::Permanent(compiled.status().message());
    filter = std::move(compiled).value();
  }
  std::optional<std::vector<std::string>> cursor;
  if (rec.cursor) {
    SLUICE_ASSIGN_OR_RETURN(auto values, ParseCursor(*shape, *rec.cursor));
    cursor = std::move(values);
  }
  if (rec.estimated_total < 0) {
    auto estimate = reader->EstimateRows(*shape);
    if (estimate.ok()) {
      std::lock_guard lock(mu_);
      e->live.estimated_total = *estimate;
    }
  }

  BackfillCoordinator& coordinator = *options_.coordinator;
  coordinator.Register(rec.id, sink, shape->oid, std::move(filter));
  struct Unregister {
    BackfillCoordinator& c;
    int64_t id;
    ~Unregister() { c.Unregister(id); }
  } unregister{coordinator, rec.id};

  // From here on the coordinator records every transaction of the table it
  // streams, and each page drops the rows of those its snapshot does not
  // see. A transaction streamed before Register was not recorded: if one is
  // still running (it committed, but waits, e.g. for a synchronous standby,
  // and is not visible yet), wait until it ends, so that no page can read a
  // row older than what the sink already has.
  const Status stopped = Status::Retryable("stopped");
  SLUICE_ASSIGN_OR_RETURN(std::vector<uint32_t> running, reader->RunningXids());
  std::vector<uint32_t> waiting = coordinator.StreamedAmong(running);
  auto next_log = std::chrono::steady_clock::now() + 1s;
  while (!waiting.empty()) {
    if (stop.load()) return stopped;
    if (std::chrono::steady_clock::now() >= next_log) {
      std::string xids;
      for (uint32_t x : waiting) xids += (xids.empty() ? "" : ",") + std::to_string(x);
      log::Warn(
          "backfill waits for committed transactions to become visible (a synchronous "
          "standby that has not confirmed them?)",
          {{"backfill", static_cast<long long>(rec.id)}, {"xids", xids}});
      next_log = std::chrono::steady_clock::now() + 10s;
    }
    std::this_thread::sleep_for(20ms);
    SLUICE_ASSIGN_OR_RETURN(running, reader->RunningXids());
    std::erase_if(waiting, [&](uint32_t x) {
      return std::find(running.begin(), running.end(), x) == running.end();
    });
  }

  PageSizer sizer(options_.initial_page_size, options_.min_page_size, options_.max_page_size);
  bool accept_catalog_columns = false;
  int rereads = 0;
  // A page as read, with its rows rendered here rather than on the reader
  // thread.
  struct PageRead {
    TableReader::PageRead read;
    RenderedRecords records;
  };
  // The next page, read while the reader thread emits the current one.
  struct ReadAhead {
    PageRead page;
    size_t limit = 0;
  };
  std::optional<ReadAhead> ahead;
  // The buffers of the last page emitted, for the next one read: reused
  // memory rather than fresh pages from the kernel every time.
  source::TextRows spare_rows;
  RenderedRecords spare_records;
  auto read_page_after = [&](const std::vector<std::string>* after,
                             size_t limit) -> Result<PageRead> {
    const auto started = std::chrono::steady_clock::now();
    // Each chunk is rendered while Postgres reads the next one, in the
    // buffers of a page emitted earlier.
    RenderedRecords records = std::move(spare_records);
    SLUICE_ASSIGN_OR_RETURN(
        auto page,
        reader->ReadPage(*shape, after, rec.start_position, limit, std::move(spare_rows),
                         [&](const source::TextRows& rows, size_t from, size_t to) {
                           coordinator.RenderRecords(*shape, rows, from, to, accept_catalog_columns,
                                                     limit, records);
                           RenderIdempotencyKeys(rec.id, *shape, rows, from, to, records);
                         }));
    sizer.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return PageRead{std::move(page), std::move(records)};
  };
  while (!stop.load()) {
    const uint64_t page_no = next_page_.fetch_add(1);
    size_t limit;
    PageRead read_page;
    if (ahead) {
      read_page = std::move(ahead->page);
      limit = ahead->limit;
      ahead.reset();
    } else {
      SLUICE_RETURN_IF_ERROR(
          reader->EmitWatermark(Watermark{false, rec.id, page_no, coordinator.run()}));
      // The page is read only once the low watermark came through the slot:
      // every change committed before it has then been seen by the
      // coordinator.
      while (!coordinator.WaitForLow(rec.id, page_no, 100ms)) {
        if (stop.load()) return stopped;
      }
      limit = sizer.size();
      SLUICE_ASSIGN_OR_RETURN(read_page, read_page_after(cursor ? &*cursor : nullptr, limit));
    }
    source::TextRows& rows = read_page.read.rows;
    if (rows.empty()) return Status::Ok();
    SLUICE_ASSIGN_OR_RETURN(std::string next_cursor, CursorAfter(*shape, rows, rows.size() - 1));
    const uint64_t read = rows.size();
    coordinator.Offer(Page{rec.id, page_no, shape, std::move(rows), accept_catalog_columns,
                           std::move(read_page.read.snapshot), std::move(read_page.records)});
    Status st = reader->EmitWatermark(Watermark{true, rec.id, page_no, coordinator.run()});
    if (!st.ok()) {
      coordinator.Withdraw(rec.id);
      return st;
    }
    // Read the next page now, while the reader thread emits this one. Its
    // snapshot is taken after this high watermark committed, so a change it
    // does not see commits after the watermark: it comes through the slot
    // within the next page's window (which runs from this high watermark to
    // the next) and drops the row, as after a low watermark. A failed read
    // ahead is only lost time: the next round reads the page the usual way.
    if (read == limit && !stop.load()) {
      auto after = ParseCursor(*shape, next_cursor);
      if (after.ok()) {
        const size_t next_limit = sizer.size();
        auto page = read_page_after(&*after, next_limit);
        if (page.ok()) ahead = ReadAhead{std::move(page).value(), next_limit};
      }
    }
    std::optional<PageResult> result;
    while (!(result = coordinator.WaitForResult(rec.id, page_no, 100ms))) {
      if (!stop.load()) continue;
      // Stopping. A page whose high watermark already came through is being
      // emitted: wait a little for its outcome, so that a pause records
      // what was sent instead of sending it again after the resume.
      if (coordinator.Withdraw(rec.id)) return stopped;
      result = coordinator.WaitForResult(rec.id, page_no, 5s);
      if (!result) return stopped;
      break;
    }
    if (result->kind == PageResult::Kind::kFailed) return Status::Permanent(result->error);
    if (result->kind == PageResult::Kind::kReread) {
      ahead.reset();  // read after a page that is read again
      if (++rereads > 5) return Status::Retryable("cannot emit a page: " + result->error);
      log::Info("backfill reads a page again",
                {{"backfill", static_cast<long long>(rec.id)}, {"reason", result->error}});
      accept_catalog_columns = true;
      continue;
    }
    rereads = 0;
    accept_catalog_columns = false;
    OnPage(e, next_cursor, read, *result);
    if (result->page && result->page.use_count() == 1) {
      spare_rows = std::move(result->page->rows);
      spare_records = std::move(result->page->records);
    }
    if (stop.load()) return stopped;
    SLUICE_ASSIGN_OR_RETURN(auto values, ParseCursor(*shape, next_cursor));
    cursor = std::move(values);
    if (read < limit) return Status::Ok();
  }
  return stopped;
}

void BackfillManager::OnPage(Entry* e, std::string cursor, uint64_t read,
                             const PageResult& result) {
  std::lock_guard lock(mu_);
  for (const PageCheckpoint& cp : result.checkpoints) {
    const Position required =
        e->last_required ? std::max(*e->last_required, cp.position) : cp.position;
    e->pending.push_back(PendingCursor{cp.cursor, e->live.rows_read + cp.rows_read,
                                       e->live.rows_emitted + cp.emitted, required});
  }
  e->live.cursor = cursor;
  e->live.rows_read += read;
  e->live.rows_emitted += result.emitted;
  e->live.updated_at_ms = NowMs();
  if (result.emitted > 0) {
    e->last_required =
        e->last_required ? std::max(*e->last_required, result.last_position) : result.last_position;
  }
  e->pending.push_back(
      PendingCursor{std::move(cursor), e->live.rows_read, e->live.rows_emitted, e->last_required});
}

// --- persisting -------------------------------------------------------------

void BackfillManager::PersistLoop() {
  pthread_setname_np(pthread_self(), "sluice-bf-ckpt");
  std::unique_lock lock(mu_);
  while (!stopping_) {
    // A backfill that read its last page completes once the sink has its
    // last rows: looked at often then, so that it is reported done soon.
    const bool finishing = std::any_of(entries_.begin(), entries_.end(), [](const auto& entry) {
      return entry.second->finished && entry.second->live.state == BackfillState::kRunning;
    });
    cv_.wait_for(lock,
                 finishing ? std::min(options_.persist_interval, kFinishingInterval)
                           : options_.persist_interval,
                 [this] { return stopping_; });
    lock.unlock();
    PersistAcknowledged();
    lock.lock();
  }
}

void BackfillManager::PersistAcknowledged() {
  std::lock_guard lock(mu_);
  for (auto& [id, ep] : entries_) {
    Entry& e = *ep;
    bool changed = false;
    if (!e.pending.empty()) {
      const Position acked = options_.acked_through(e.sink);
      while (!e.pending.empty() &&
             (!e.pending.front().required || *e.pending.front().required <= acked)) {
        PendingCursor& p = e.pending.front();
        e.durable.cursor = std::move(p.cursor);
        e.durable.rows_read = p.rows_read;
        e.durable.rows_emitted = p.rows_emitted;
        e.pending.pop_front();
        changed = true;
      }
    }
    if (e.pending.empty() && e.finished && e.live.state == BackfillState::kRunning) {
      const int64_t now = NowMs();
      e.live.state = e.durable.state = BackfillState::kCompleted;
      e.live.completed_at_ms = e.durable.completed_at_ms = now;
      e.live.updated_at_ms = now;
      changed = true;
      log::Info("backfill completed",
                {{"backfill", static_cast<long long>(id)},
                 {"table", TableOf(e.live)},
                 {"rows_read", static_cast<unsigned long long>(e.live.rows_read)},
                 {"rows_emitted", static_cast<unsigned long long>(e.live.rows_emitted)}});
    }
    if (e.durable.estimated_total != e.live.estimated_total) {
      e.durable.estimated_total = e.live.estimated_total;
      changed = true;
    }
    if (changed) {
      e.durable.updated_at_ms = NowMs();
      (void)Write(e);
    }
  }
}

// --- control ----------------------------------------------------------------

void BackfillManager::Post(std::function<void()> task) {
  {
    std::lock_guard lock(control_mu_);
    if (!control_stop_ && control_running_) {
      control_tasks_.push_back(std::move(task));
      control_cv_.notify_all();
      return;
    }
  }
  // Not running (yet or any more): run here, the caller's thread may wait.
  task();
}

void BackfillManager::ControlLoop() {
  pthread_setname_np(pthread_self(), "sluice-bf-ctl");
  std::unique_lock lock(control_mu_);
  while (true) {
    control_cv_.wait(lock, [this] { return control_stop_ || !control_tasks_.empty(); });
    if (control_tasks_.empty()) return;
    auto task = std::move(control_tasks_.front());
    control_tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

ControlOutcome BackfillManager::List(const std::string& sink) {
  if (!SinkIndex(sink)) {
    return ControlOutcome::Error(ControlError::kNotFound, "no sink named \"" + sink + "\"");
  }
  ControlOutcome out;
  std::lock_guard lock(mu_);
  for (const auto& [id, e] : entries_) {
    if (e->live.sink == sink) out.backfills.push_back(e->live);
  }
  return out;
}

ControlOutcome BackfillManager::Get(const std::string& sink, int64_t id) {
  if (!SinkIndex(sink)) {
    return ControlOutcome::Error(ControlError::kNotFound, "no sink named \"" + sink + "\"");
  }
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second->live.sink != sink) return NotFound(sink, id);
  ControlOutcome out;
  out.backfills.push_back(it->second->live);
  return out;
}

ControlOutcome BackfillManager::ChangeState(
    const std::string& sink, int64_t id,
    const std::function<std::optional<ControlOutcome>(Entry&)>& change) {
  if (!SinkIndex(sink)) {
    return ControlOutcome::Error(ControlError::kNotFound, "no sink named \"" + sink + "\"");
  }
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second->live.sink != sink) return NotFound(sink, id);
  if (stopping_) return ControlOutcome::Error(ControlError::kUnavailable, "shutting down");
  if (auto refused = change(*it->second)) return *refused;
  ControlOutcome out;
  out.backfills.push_back(it->second->live);
  return out;
}

namespace {

ControlOutcome Conflict(const BackfillRecord& r, const std::string& what) {
  return ControlOutcome::Error(ControlError::kConflict,
                               "backfill " + std::to_string(r.id) + " is " +
                                   state::BackfillStateName(r.state) + "; " + what);
}

}  // namespace

void BackfillManager::Start(BackfillRequest request, ControlDone done) {
  Post([this, request = std::move(request), done = std::move(done)] {
    done(Create(request, /*initial=*/false));
  });
}

void BackfillManager::Pause(const std::string& sink, int64_t id, ControlDone done) {
  Post([this, sink, id, done = std::move(done)] {
    ControlOutcome o = ChangeState(sink, id, [this](Entry& e) -> std::optional<ControlOutcome> {
      if (e.live.state != BackfillState::kRunning) {
        return Conflict(e.live, "only a running backfill can be paused");
      }
      e.live.state = e.durable.state = BackfillState::kPaused;
      e.live.updated_at_ms = e.durable.updated_at_ms = NowMs();
      if (e.stop) e.stop->store(true);
      if (!Write(e).ok()) {
        return ControlOutcome::Error(ControlError::kInternal, "cannot record the pause");
      }
      return std::nullopt;
    });
    if (o.ok()) {
      StopWorker(id);
      log::Info("backfill paused", {{"backfill", static_cast<long long>(id)}});
      o = Get(sink, id);
    }
    done(std::move(o));
  });
}

void BackfillManager::Resume(const std::string& sink, int64_t id, ControlDone done) {
  Post([this, sink, id, done = std::move(done)] {
    auto resumable = [](const Entry& e) {
      return e.live.state == BackfillState::kPaused || e.live.state == BackfillState::kFailed;
    };
    // Paused and failed backfills change state only here (on this thread):
    // check, wait for their old worker to be gone, then start a new one.
    ControlOutcome check = ChangeState(sink, id, [&](Entry& e) -> std::optional<ControlOutcome> {
      if (!resumable(e)) return Conflict(e.live, "only a paused or failed backfill can be resumed");
      return std::nullopt;
    });
    if (!check.ok()) {
      done(std::move(check));
      return;
    }
    StopWorker(id);
    ControlOutcome o = ChangeState(sink, id, [&](Entry& e) -> std::optional<ControlOutcome> {
      if (!resumable(e)) return Conflict(e.live, "only a paused or failed backfill can be resumed");
      e.live.state = e.durable.state = BackfillState::kRunning;
      e.live.updated_at_ms = e.durable.updated_at_ms = NowMs();
      if (!Write(e).ok()) {
        return ControlOutcome::Error(ControlError::kInternal, "cannot record the resume");
      }
      StartWorker(e);
      return std::nullopt;
    });
    if (o.ok()) log::Info("backfill resumed", {{"backfill", static_cast<long long>(id)}});
    done(std::move(o));
  });
}

void BackfillManager::Cancel(const std::string& sink, int64_t id, ControlDone done) {
  Post([this, sink, id, done = std::move(done)] {
    ControlOutcome o = ChangeState(sink, id, [](Entry& e) -> std::optional<ControlOutcome> {
      if (e.live.state == BackfillState::kCompleted || e.live.state == BackfillState::kCancelled) {
        return Conflict(e.live, "it can no longer be cancelled");
      }
      e.live.state = e.durable.state = BackfillState::kCancelled;
      e.live.updated_at_ms = e.durable.updated_at_ms = NowMs();
      e.pending.clear();
      if (e.stop) e.stop->store(true);
      return std::nullopt;
    });
    if (o.ok()) {
      StopWorker(id);
      {
        std::lock_guard lock(mu_);
        auto it = entries_.find(id);
        if (it != entries_.end() && !Write(*it->second).ok()) {
          o = ControlOutcome::Error(ControlError::kInternal, "cannot record the cancellation");
        }
      }
      if (o.ok()) {
        log::Info("backfill cancelled", {{"backfill", static_cast<long long>(id)}});
        o = Get(sink, id);
      }
    }
    done(std::move(o));
  });
}

uint64_t BackfillManager::RowsRead(const std::string& sink) const {
  std::lock_guard lock(mu_);
  uint64_t n = 0;
  for (const auto& [id, e] : entries_) {
    if (e->live.sink == sink) n += e->live.rows_read;
  }
  return n;
}

uint64_t BackfillManager::RowsEmitted(const std::string& sink) const {
  std::lock_guard lock(mu_);
  uint64_t n = 0;
  for (const auto& [id, e] : entries_) {
    if (e->live.sink == sink) n += e->live.rows_emitted;
  }
  return n;
}

}  // namespace sluice::backfill
