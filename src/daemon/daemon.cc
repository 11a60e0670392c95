#include "daemon/daemon.h"

#include <pthread.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <filesystem>
#include <thread>

#include "common/log.h"
#include "pipeline/ack_tracker.h"
#include "pipeline/checkpointer.h"
#include "pipeline/renderer.h"
#include "pipeline/router.h"
#include "pipeline/sink_queue.h"
#include "pipeline/sink_runner.h"
#include "sinks/common/curl_http_client.h"
#include "sinks/registry.h"
#include "source/pg_catalog.h"
#include "source/replicator.h"
#include "source/setup.h"
#include "state/sqlite_state_store.h"

namespace sluice::daemon {

namespace asio = boost::asio;

config::LoadOptions DefaultLoadOptions() {
  config::LoadOptions options;
  options.sink_types = SinkTypeNames();
  options.validate_destination = [](const config::SinkConfig& sink, const config::Config& config,
                                    config::ConfigErrors& errors) {
    // Parsed by the loader but not implemented in this version: refusing
    // them beats silently delivering what the user meant to filter out.
    // (Reported at the sink's destination: the loader keeps no position for
    // these keys.)
    const std::string base = sink.destination.path.substr(0, sink.destination.path.rfind('.'));
    auto refuse = [&](const std::string& key, const std::string& what) {
      errors.push_back({sink.destination.file, sink.destination.line, sink.destination.column,
                        base + "." + key,
                        what + " are not available in this version of Sluice yet; remove `" + key +
                            "` from sink \"" + sink.name + "\""});
    };
    if (!sink.filter.empty()) refuse("filter", "SQL filters");
    if (!sink.transform.empty()) refuse("transform", "transforms");
    if (!sink.initial_backfill.empty()) refuse("initial_backfill", "backfills");
    if (const SinkFactory* f = FindSinkFactory(sink.destination_type)) {
      f->validate(sink, config, errors);
    }
  };
  return options;
}

struct SinkSlot {
  const config::SinkConfig* config = nullptr;
  std::unique_ptr<Sink> sink;
  std::unique_ptr<pipeline::SinkQueue> queue;
  std::shared_ptr<pipeline::SinkRunner> runner;
};

struct Daemon::DatabasePipeline {
  const config::DatabaseConfig* db = nullptr;
  source::SlotState slot;
  std::vector<SinkSlot> sinks;
  std::unique_ptr<source::PgCatalog> catalog;
  std::unique_ptr<pipeline::AckTracker> acks;
  std::unique_ptr<pipeline::Checkpointer> checkpointer;
  std::unique_ptr<pipeline::Router> router;
  std::unique_ptr<source::Replicator> replicator;
  std::atomic<bool> stopping{false};
  std::thread reader;
};

struct Daemon::Impl {
  std::unique_ptr<state::SqliteStateStore> store;
  std::unique_ptr<CurlHttpClient> http;
  asio::io_context io;
  std::unique_ptr<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> loop_threads;
  std::vector<std::unique_ptr<DatabasePipeline>> pipelines;
  std::mutex mu;
  std::condition_variable cv;
  bool stop_requested = false;
};

Result<std::unique_ptr<Daemon>> Daemon::Create(config::Config config) {
  std::unique_ptr<Daemon> d(new Daemon());
  d->config_ = std::move(config);
  d->impl_ = std::make_unique<Impl>();
  Impl& impl = *d->impl_;
  const config::Config& cfg = d->config_;

  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec) {
    return Status::Fatal("cannot create data_dir " + cfg.data_dir + ": " + ec.message() +
                         ". Point data_dir (or SLUICE_DATA_DIR) at a directory Sluice can create "
                         "and write");
  }
  SLUICE_ASSIGN_OR_RETURN(impl.store, state::SqliteStateStore::Open(cfg.data_dir + "/state.db"));
  impl.http = std::make_unique<CurlHttpClient>();

  for (const config::DatabaseConfig& db : cfg.databases) {
    auto p = std::make_unique<DatabasePipeline>();
    p->db = &db;
    auto slot = source::PrepareSlot(db, std::chrono::seconds(10));
    if (!slot.ok()) return slot.status().WithContext("database " + db.name);
    p->slot = *slot;

    std::vector<Position> acked;
    std::vector<std::string> names;
    for (const config::SinkConfig& sc : cfg.sinks) {
      if (sc.database != db.name) continue;
      const SinkFactory* factory = FindSinkFactory(sc.destination_type);
      if (factory == nullptr) return Status::Fatal("unknown sink type " + sc.destination_type);
      SinkContext context{&cfg, &sc, impl.http.get()};
      auto sink = factory->create(context);
      if (!sink.ok()) return sink.status().WithContext("sink " + sc.name);
      SinkSlot slot_entry;
      slot_entry.config = &sc;
      slot_entry.sink = std::move(sink).value();
      slot_entry.queue = std::make_unique<pipeline::SinkQueue>(sc.max_queue_bytes);
      SLUICE_ASSIGN_OR_RETURN(auto checkpoint, impl.store->LoadSinkCheckpoint(sc.name));
      acked.push_back(checkpoint.value_or(Position{}));
      names.push_back(sc.name);
      p->sinks.push_back(std::move(slot_entry));
    }
    p->acks = std::make_unique<pipeline::AckTracker>(p->slot.confirmed_flush, acked);
    p->checkpointer = std::make_unique<pipeline::Checkpointer>(
        *p->acks, *impl.store, db.name + "/" + db.slot.name, names, p->slot.confirmed_flush);
    std::vector<pipeline::RoutedSink> routed;
    for (size_t i = 0; i < p->sinks.size(); ++i) {
      SinkSlot& s = p->sinks[i];
      std::vector<std::pair<std::string, std::string>> annotations(s.config->annotations.begin(),
                                                                   s.config->annotations.end());
      routed.push_back(
          pipeline::RoutedSink{s.config, s.queue.get(),
                               pipeline::RenderSinkSuffix(pipeline::SinkId(s.config->name),
                                                          s.config->name, annotations, db.name)});
      pipeline::SinkRunnerOptions ro;
      ro.name = s.config->name;
      ro.sink_index = i;
      ro.batch_size = s.config->batch_size;
      ro.batch_timeout = s.config->batch_timeout;
      ro.max_retry_count = s.config->max_retry_count;
      ro.backoff = BackoffPolicy{s.config->retry_initial, s.config->retry_max, 2.0};
      s.runner = std::make_shared<pipeline::SinkRunner>(impl.io, ro, *s.sink, *s.queue, *p->acks);
    }
    DatabasePipeline* raw = p.get();
    p->catalog = std::make_unique<source::PgCatalog>(db.conninfo);
    p->router = std::make_unique<pipeline::Router>(
        std::move(routed), *p->acks,
        [raw] {
          if (raw->replicator) raw->replicator->KeepConnectionAlive();
        },
        p->stopping);
    const std::string spill_dir = cfg.data_dir + "/spill/" + db.name;
    std::filesystem::remove_all(spill_dir, ec);
    p->replicator = std::make_unique<source::Replicator>(
        db, *p->catalog, *p->router, [raw] { return raw->checkpointer->Checkpoint(); },
        [raw] { raw->acks->Reconnected(); }, spill_dir, p->slot.confirmed_flush,
        p->slot.server_version);
    log::Info("database ready", {{"database", db.name},
                                 {"host", db.display},
                                 {"slot", db.slot.name},
                                 {"publication", db.publication.name},
                                 {"confirmed_lsn", FormatLsn(p->slot.confirmed_flush)},
                                 {"sinks", static_cast<unsigned long>(p->sinks.size())}});
    impl.pipelines.push_back(std::move(p));
  }
  return d;
}

Daemon::~Daemon() = default;

void Daemon::Stop() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop_requested = true;
  }
  impl_->cv.notify_all();
}

int Daemon::Run() {
  Impl& impl = *impl_;
  impl.work = std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
      impl.io.get_executor());
  for (int i = 0; i < 2; ++i) {
    impl.loop_threads.emplace_back([&impl, i] {
      const std::string name = "sluice-loop-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      impl.io.run();
    });
  }
  for (auto& p : impl.pipelines) {
    for (auto& s : p->sinks) s.runner->Start();
    DatabasePipeline* raw = p.get();
    p->reader = std::thread([raw] {
      pthread_setname_np(pthread_self(), "sluice-reader");
      raw->replicator->Run();
    });
  }
  log::Info("sluice running", {{"pipelines", static_cast<unsigned long>(impl.pipelines.size())}});

  {
    std::unique_lock lock(impl.mu);
    impl.cv.wait(lock, [&] { return impl.stop_requested; });
  }
  log::Info("shutting down");

  // 1. Stop reading: the reader sends a last status update and returns.
  for (auto& p : impl.pipelines) {
    p->stopping = true;
    p->replicator->Stop();
    for (auto& s : p->sinks) s.queue->Interrupt();
  }
  for (auto& p : impl.pipelines) {
    if (p->reader.joinable()) p->reader.join();
  }
  // 2. Let in-flight deliveries finish for a moment, then record what was
  // acknowledged so the next run does not send it again.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (auto& p : impl.pipelines) {
    for (auto& s : p->sinks) {
      while (s.runner->stats().in_flight_batches.load() > 0 &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      s.runner->Stop();
    }
    p->checkpointer->Checkpoint();
  }
  // 3. Tear down clients and loops.
  impl.http->Shutdown();
  for (auto& p : impl.pipelines) {
    for (auto& s : p->sinks) s.sink->Close();
  }
  impl.work.reset();
  impl.io.stop();
  for (auto& t : impl.loop_threads) t.join();
  log::Info("stopped");
  return 0;
}

}  // namespace sluice::daemon
