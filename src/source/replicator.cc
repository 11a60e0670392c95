#include "source/replicator.h"

#include <libpq-fe.h>
#include <poll.h>

#include <thread>

#include "common/backoff.h"
#include "common/log.h"
#include "pgoutput/copy_data.h"
#include "source/pg_connection.h"

namespace sluice::source {
namespace {

// Upper bound of a poll, so that stop requests are seen promptly.
constexpr std::chrono::milliseconds kMaxPollWait{250};

int64_t NowUnixUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string QuoteLiteral(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace

Replicator::Replicator(const config::DatabaseConfig& db, Catalog& catalog, ChangeHandler& handler,
                       std::function<Lsn()> confirm, std::function<void()> on_reconnect,
                       std::string spill_dir, Lsn start_lsn, int server_version)
    : db_(db),
      handler_(handler),
      confirm_(std::move(confirm)),
      on_reconnect_(std::move(on_reconnect)),
      assembler_(catalog, handler, std::move(spill_dir), db.stream_buffer_bytes),
      server_version_(server_version),
      start_lsn_(start_lsn),
      rng_(std::random_device{}()) {
  stats_.confirmed_lsn = start_lsn;
}

Replicator::~Replicator() = default;

void Replicator::Stop() { stopping_.store(true); }

std::string Replicator::StartCommand() const {
  int proto = db_.protocol_version;
  if (proto == 0) proto = server_version_ >= 140000 ? 2 : 1;
  // Published names are a comma-separated list of identifiers inside a
  // string literal.
  std::string pubs = "\"";
  for (char c : db_.publication.name) {
    if (c == '"') pubs.push_back('"');
    pubs.push_back(c);
  }
  pubs.push_back('"');
  std::string cmd = "START_REPLICATION SLOT " + QuoteIdentifier(db_.slot.name) + " LOGICAL " +
                    FormatLsn(start_lsn_) + " (proto_version '" + std::to_string(proto) +
                    "', publication_names " + QuoteLiteral(pubs);
  if (server_version_ >= 140000) cmd += ", messages 'true'";
  if (proto >= 2 && db_.streaming) cmd += ", streaming 'on'";
  cmd += ")";
  return cmd;
}

void Replicator::Run() {
  uint32_t attempt = 0;
  BackoffPolicy policy{db_.reconnect_initial, db_.reconnect_max, 2.0};
  while (!stopping_.load()) {
    const uint64_t changes_before = assembler_.stats().changes;
    const auto started = std::chrono::steady_clock::now();
    Status status = StreamOnce();
    stats_.connected = false;
    if (stopping_.load()) break;
    // A session that streamed for a while resets the backoff.
    if (assembler_.stats().changes > changes_before ||
        std::chrono::steady_clock::now() - started > std::chrono::seconds(30)) {
      attempt = 0;
    }
    ++attempt;
    assembler_.Reset();
    if (on_reconnect_) on_reconnect_();
    ++stats_.reconnects;
    auto delay = BackoffDelay(policy, attempt, rng_);
    log::Warn("replication connection lost; reconnecting",
              {{"database", db_.name},
               {"error", status.message()},
               {"attempt", attempt},
               {"retry_in_ms", static_cast<long long>(delay.count())}});
    const auto until = std::chrono::steady_clock::now() + delay;
    while (!stopping_.load() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  log::Info("replication stopped",
            {{"database", db_.name}, {"confirmed_lsn", FormatLsn(stats_.confirmed_lsn.load())}});
}

Status Replicator::StreamOnce() {
  auto connected = PgConnection::Connect(db_.conninfo, db_.display, true);
  if (!connected.ok()) return connected.status();
  std::unique_ptr<PgConnection> conn = std::move(connected).value();
  PGconn* pg = conn->raw();

  auto ident = conn->Query("IDENTIFY_SYSTEM");
  if (!ident.ok()) return ident.status();
  if (ident->empty() || ident->front().size() < 4) {
    return Status::Retryable("IDENTIFY_SYSTEM returned no row");
  }
  const Row& id = ident->front();

  // Resume where it is safe: what we confirmed last (the server takes the
  // later of this and the slot's confirmed position).
  start_lsn_ = std::max(start_lsn_, last_flushed_sent_);
  const std::string cmd = StartCommand();
  PGresult* res = PQexec(pg, cmd.c_str());
  if (PQresultStatus(res) != PGRES_COPY_BOTH) {
    std::string message = PQresultErrorMessage(res);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    PQclear(res);
    return Status::Retryable("START_REPLICATION failed on " + db_.display + ": " + message);
  }
  PQclear(res);
  conn_ = pg;
  stats_.connected = true;
  log::Info("replication connected", {{"database", db_.name},
                                      {"host", db_.display},
                                      {"system_id", id[0].value_or("")},
                                      {"timeline", id[1].value_or("")},
                                      {"server_wal", id[2].value_or("")},
                                      {"slot", db_.slot.name},
                                      {"start_lsn", FormatLsn(start_lsn_)}});
  next_status_ = std::chrono::steady_clock::now() + db_.status_interval;
  next_progress_log_ = std::chrono::steady_clock::now() + std::chrono::seconds(30);

  struct ConnGuard {
    PGconn*& c;
    ~ConnGuard() { c = nullptr; }
  } guard{conn_};

  while (!stopping_.load()) {
    SLUICE_RETURN_IF_ERROR(MaybeSendStatus());
    char* buf = nullptr;
    const int n = PQgetCopyData(pg, &buf, /*async=*/1);
    if (n == 0) {
      const auto now = std::chrono::steady_clock::now();
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_status_ - now);
      wait = std::clamp(wait, std::chrono::milliseconds(1), kMaxPollWait);
      pollfd pfd{PQsocket(pg), POLLIN, 0};
      const int pr = ::poll(&pfd, 1, static_cast<int>(wait.count()));
      if (pr < 0 && errno != EINTR) return Status::Retryable("poll failed on replication socket");
      if (pr > 0 && PQconsumeInput(pg) == 0) {
        return Status::Retryable(std::string("replication connection broken: ") +
                                 PQerrorMessage(pg));
      }
      continue;
    }
    if (n == -1) {
      PGresult* end = PQgetResult(pg);
      std::string message = end ? PQresultErrorMessage(end) : "";
      if (end) PQclear(end);
      while (!message.empty() && message.back() == '\n') message.pop_back();
      return Status::Retryable("replication stream ended" +
                               (message.empty() ? std::string() : ": " + message));
    }
    if (n < 0) {
      return Status::Retryable(std::string("replication connection broken: ") + PQerrorMessage(pg));
    }
    std::string_view bytes(buf, static_cast<size_t>(n));
    auto parsed = pgoutput::ParseCopyData(bytes);
    Status status;
    if (!parsed.ok()) {
      status = parsed.status();
    } else if (auto* x = std::get_if<pgoutput::XLogData>(&*parsed)) {
      Lsn seen = std::max(x->wal_start, x->wal_end);
      if (seen > stats_.received_lsn.load()) stats_.received_lsn = seen;
      status = assembler_.Process(x->payload);
    } else if (auto* k = std::get_if<pgoutput::PrimaryKeepalive>(&*parsed)) {
      stats_.server_wal_end = k->wal_end;
      assembler_.Keepalive(k->wal_end);
      if (k->reply_requested) status = SendStatus(false);
    }
    PQfreemem(buf);
    if (!status.ok()) return status;
    if (std::chrono::steady_clock::now() >= next_progress_log_) LogProgress();
  }
  // Orderly stop: confirm what is safe and end the COPY.
  (void)SendStatus(false);
  PQputCopyEnd(pg, nullptr);
  PQflush(pg);
  return Status::Ok();
}

void Replicator::LogProgress() {
  next_progress_log_ = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  const Lsn confirmed = stats_.confirmed_lsn.load();
  const Lsn server = stats_.server_wal_end.load();
  log::Info(
      "replication progress",
      {{"database", db_.name},
       {"slot", db_.slot.name},
       {"received_lsn", FormatLsn(stats_.received_lsn.load())},
       {"confirmed_lsn", FormatLsn(confirmed)},
       {"lag_bytes", static_cast<unsigned long long>(server > confirmed ? server - confirmed : 0)},
       {"transactions", static_cast<unsigned long long>(assembler_.stats().transactions)},
       {"changes", static_cast<unsigned long long>(assembler_.stats().changes)}});
}

void Replicator::KeepConnectionAlive() {
  if (conn_ == nullptr) return;
  Status st = MaybeSendStatus();
  if (!st.ok()) log::Debug("status update failed while blocked", {{"error", st.message()}});
}

Status Replicator::MaybeSendStatus() {
  if (std::chrono::steady_clock::now() < next_status_) return Status::Ok();
  return SendStatus(false);
}

Status Replicator::SendStatus(bool reply_requested) {
  if (conn_ == nullptr) return Status::Ok();
  next_status_ = std::chrono::steady_clock::now() + db_.status_interval;
  const Lsn flushed = std::max(confirm_(), last_flushed_sent_);
  const Lsn written = std::max(flushed, stats_.received_lsn.load());
  const std::string msg =
      pgoutput::EncodeStandbyStatusUpdate(written, flushed, flushed, NowUnixUs(), reply_requested);
  if (PQputCopyData(conn_, msg.data(), static_cast<int>(msg.size())) != 1 || PQflush(conn_) != 0) {
    return Status::Retryable(std::string("cannot send status update: ") + PQerrorMessage(conn_));
  }
  if (flushed != last_flushed_sent_) {
    log::Debug("confirmed", {{"database", db_.name}, {"lsn", FormatLsn(flushed)}});
  }
  last_flushed_sent_ = flushed;
  stats_.confirmed_lsn = flushed;
  return Status::Ok();
}

}  // namespace sluice::source
