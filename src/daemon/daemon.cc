#include "daemon/daemon.h"

#include <pthread.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <filesystem>
#include <thread>

#include "api/backfill_routes.h"
#include "api/http_server.h"
#include "api/json_error.h"
#include "api/stream_routes.h"
#include "backfill/coordinator.h"
#include "backfill/manager.h"
#include "backfill/row_filter.h"
#include "backfill/watermark.h"
#include "common/log.h"
#include "daemon/sink_functions.h"
#include "daemon/sink_routes.h"
#include "metrics/registry.h"
#include "pipeline/ack_tracker.h"
#include "pipeline/checkpointer.h"
#include "pipeline/renderer.h"
#include "pipeline/router.h"
#include "pipeline/sink_queue.h"
#include "pipeline/sink_runner.h"
#include "sinks/common/curl_http_client.h"
#include "sinks/http_pull/stream_registry.h"
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
    if (const SinkFactory* f = FindSinkFactory(sink.destination_type)) {
      f->validate(sink, config, errors);
    }
  };
  options.validate_config = ValidateFiltersAndFunctions;
  return options;
}

struct SinkSlot {
  const config::SinkConfig* config = nullptr;
  metrics::Histogram* latency = nullptr;  // set once the API is wired
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
  std::unique_ptr<backfill::BackfillCoordinator> backfill_coordinator;  // backfills
  std::unique_ptr<backfill::BackfillManager> backfills;                 // backfills
  std::unique_ptr<source::Replicator> replicator;
  std::atomic<bool> stopping{false};
  std::thread reader;
};

struct Daemon::Impl {
  std::unique_ptr<state::SqliteStateStore> store;
  std::unique_ptr<CurlHttpClient> http;
  asio::io_context io;
  metrics::Registry metrics;
  StreamRegistry streams;
  std::unique_ptr<api::HttpServer> server;
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
      SinkContext context{&cfg, &sc, impl.http.get(), impl.store.get(), &impl.io, &impl.streams};
      auto sink = factory->create(context);
      if (!sink.ok()) return sink.status().WithContext("sink " + sc.name);
      SinkSlot slot_entry;
      slot_entry.config = &sc;
      slot_entry.sink = std::move(sink).value();
      slot_entry.queue = std::make_unique<pipeline::SinkQueue>(sc.max_queue_bytes);
      // Keyed by slot as well: positions of another slot (or another
      // server) mean nothing here.
      const std::string checkpoint_key = db.name + "/" + db.slot.name + "/" + sc.name;
      SLUICE_ASSIGN_OR_RETURN(auto checkpoint, impl.store->LoadSinkCheckpoint(checkpoint_key));
      acked.push_back(p->slot.created ? Position{} : checkpoint.value_or(Position{}));
      names.push_back(checkpoint_key);
      p->sinks.push_back(std::move(slot_entry));
    }
    if (p->slot.created) {
      auto previous = impl.store->LoadSlotCheckpoint(db.name + "/" + db.slot.name);
      if (previous.ok() && previous->has_value()) {
        log::Error(
            "replication slot was created anew although Sluice streamed from a slot of "
            "this name before: changes made while no slot existed were not captured",
            {{"database", db.name},
             {"slot", db.slot.name},
             {"previous_confirmed_lsn", FormatLsn(**previous)},
             {"new_slot_lsn", FormatLsn(p->slot.confirmed_flush)}});
      }
    }
    p->acks = std::make_unique<pipeline::AckTracker>(p->slot.confirmed_flush, acked);
    p->checkpointer = std::make_unique<pipeline::Checkpointer>(
        *p->acks, *impl.store, db.name + "/" + db.slot.name, names, p->slot.confirmed_flush);
    std::vector<pipeline::RoutedSink> routed;
    for (size_t i = 0; i < p->sinks.size(); ++i) {
      SinkSlot& s = p->sinks[i];
      std::vector<std::pair<std::string, std::string>> annotations(s.config->annotations.begin(),
                                                                   s.config->annotations.end());
      auto processing = BuildSinkProcessing(*s.config, cfg);
      if (!processing.ok()) return processing.status();
      routed.push_back(
          pipeline::RoutedSink{s.config, s.queue.get(),
                               pipeline::RenderSinkSuffix(pipeline::SinkId(s.config->name),
                                                          s.config->name, annotations, db.name),
                               std::move(processing->matches)});
      pipeline::SinkRunnerOptions ro;
      ro.name = s.config->name;
      ro.sink_index = i;
      ro.batch_size = s.config->batch_size;
      ro.batch_timeout = s.config->batch_timeout;
      ro.max_retry_count = s.config->max_retry_count;
      ro.backoff = BackoffPolicy{s.config->retry_initial, s.config->retry_max, 2.0};
      ro.failed_store = impl.store.get();
      ro.process = std::move(processing->process);
      SinkSlot* slot_ptr = &s;
      ro.observe_latency = [slot_ptr](double seconds) {
        if (slot_ptr->latency) slot_ptr->latency->Observe(seconds);
      };
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
    // --- backfills: the coordinator sits between the assembler and the router ---
    p->backfill_coordinator = std::make_unique<backfill::BackfillCoordinator>(
        *p->router,
        [raw](size_t sink, const source::Change& change) {
          return raw->router->OnBackfillChange(sink, change);
        },
        *p->catalog, backfill::NewRunId(),
        [raw](size_t sink, const source::RelationInfo& rel, Action action) {
          return pipeline::SinkWants(*raw->sinks[sink].config, rel.schema, rel.table, action);
        });
    {
      backfill::ManagerOptions bo;
      bo.conninfo = db.conninfo;
      bo.display = db.display;
      for (const SinkSlot& s : p->sinks) bo.sinks.push_back(s.config);
      bo.store = impl.store.get();
      bo.coordinator = p->backfill_coordinator.get();
      bo.acked_through = [raw](size_t sink) { return raw->acks->AckedThrough()[sink]; };
      bo.compile_filter = backfill::SqlFilterCompiler();
      SLUICE_ASSIGN_OR_RETURN(p->backfills, backfill::BackfillManager::Create(std::move(bo)));
      Status initial = p->backfills->CreateInitialBackfills();
      if (!initial.ok()) return initial.WithContext("database " + db.name);
    }
    // --- end backfills ---
    const std::string spill_dir = cfg.data_dir + "/spill/" + db.name;
    std::filesystem::remove_all(spill_dir, ec);
    p->replicator = std::make_unique<source::Replicator>(
        db, *p->catalog, *p->backfill_coordinator,
        [raw] { return raw->checkpointer->DurableLsn(); }, [raw] { raw->acks->Reconnected(); },
        spill_dir, p->slot.confirmed_flush, p->slot.server_version);
    log::Info("database ready", {{"database", db.name},
                                 {"host", db.display},
                                 {"slot", db.slot.name},
                                 {"publication", db.publication.name},
                                 {"confirmed_lsn", FormatLsn(p->slot.confirmed_flush)},
                                 {"sinks", static_cast<unsigned long>(p->sinks.size())}});
    impl.pipelines.push_back(std::move(p));
  }
  SLUICE_RETURN_IF_ERROR(d->StartApi());
  return d;
}

Status Daemon::StartApi() {
  Impl& impl = *impl_;
  api::HttpServerOptions options;
  options.listen = config_.listen;
  options.api_tokens = config_.api_tokens;
  auto server = api::HttpServer::Create(impl.io, options, impl.metrics);
  if (!server.ok()) return server.status();
  impl.server = std::move(server).value();
  SLUICE_RETURN_IF_ERROR(api::AddStreamRoutes(impl.server->router(), impl.streams));

  std::vector<DatabasePipeline*> pipelines;
  for (auto& p : impl.pipelines) pipelines.push_back(p.get());
  impl.server->SetHealthCheck([pipelines] {
    std::vector<std::string> reasons;
    for (DatabasePipeline* p : pipelines) {
      if (!p->replicator->stats().connected.load()) {
        reasons.push_back("database " + p->db->name + ": replication not connected");
      }
      if (!p->checkpointer->healthy()) {
        reasons.push_back("database " + p->db->name + ": cannot write checkpoints");
      }
    }
    return reasons;
  });
  std::vector<SinkView> sink_views;
  for (DatabasePipeline* p : pipelines) {
    for (size_t i = 0; i < p->sinks.size(); ++i) {
      const SinkSlot& s = p->sinks[i];
      sink_views.push_back(SinkView{s.config, p->db->name, i, s.queue.get(), s.runner,
                                    p->router.get(), p->acks.get(), p->replicator.get()});
    }
  }
  SLUICE_RETURN_IF_ERROR(AddSinkRoutes(impl.server->router(), std::move(sink_views), *impl.store));
  SLUICE_RETURN_IF_ERROR(api::AddBackfillRoutes(  // backfills
      impl.server->router(), [pipelines](const std::string& sink) -> backfill::BackfillControl* {
        for (DatabasePipeline* p : pipelines) {
          if (p->backfills->HasSink(sink)) return p->backfills.get();
        }
        return nullptr;
      }));
  SLUICE_RETURN_IF_ERROR(
      impl.server->router().AddSync("GET", "/api/databases", [pipelines](const api::Request&) {
        nlohmann::json data = nlohmann::json::array();
        for (DatabasePipeline* p : pipelines) {
          const auto& st = p->replicator->stats();
          const Lsn confirmed = st.confirmed_lsn.load();
          const Lsn server = st.server_wal_end.load();
          data.push_back({{"name", p->db->name},
                          {"slot", p->db->slot.name},
                          {"publication", p->db->publication.name},
                          {"connected", st.connected.load()},
                          {"confirmed_lsn", FormatLsn(confirmed)},
                          {"lag_bytes", server > confirmed ? server - confirmed : 0},
                          {"reconnects", st.reconnects.load()}});
        }
        return api::JsonResponse(200, {{"data", data}});
      }));

  auto& ingested = impl.metrics.AddCounter("sluice_messages_ingested_total",
                                           "Messages routed to a sink's queue");
  auto& delivered = impl.metrics.AddCounter("sluice_messages_delivered_total",
                                            "Messages acknowledged by the sink");
  auto& failed = impl.metrics.AddCounter("sluice_sink_write_failures_total",
                                         "Failed write attempts (each is retried)");
  auto& retried =
      impl.metrics.AddCounter("sluice_sink_write_retries_total", "Write attempts after the first");
  auto& discarded =
      impl.metrics.AddCounter("sluice_messages_discarded_total",
                              "Messages dropped after max_retry_count attempts or on request");
  auto& failed_messages = impl.metrics.AddCounter("sluice_messages_failed_total",
                                                  "Messages moved to the failed-message store");
  auto& failed_held = impl.metrics.AddGauge("sluice_failed_messages",
                                            "Messages held in the failed-message store now");
  auto& queue_bytes =
      impl.metrics.AddGauge("sluice_sink_queue_bytes", "Bytes queued or in flight per sink");
  auto& in_flight =
      impl.metrics.AddGauge("sluice_sink_in_flight_batches", "Batches being written or retried");
  auto& latency =
      impl.metrics.AddHistogram("sluice_commit_to_delivery_seconds",
                                "From commit in Postgres to acknowledgement by the sink");
  auto& connected = impl.metrics.AddGauge("sluice_replication_connected",
                                          "1 while the replication connection streams");
  auto& lag = impl.metrics.AddGauge("sluice_slot_lag_bytes",
                                    "Server WAL position minus the confirmed position");
  auto& depth = impl.metrics.AddGauge("sluice_stream_depth", "Messages held by a pull queue");
  auto& outstanding = impl.metrics.AddGauge("sluice_stream_outstanding",
                                            "Pull-queue messages handed out, not yet acknowledged");
  for (DatabasePipeline* p : pipelines) {
    const metrics::Labels db_labels{{"database", p->db->name}};
    connected.AddCallback(db_labels, [p] { return p->replicator->stats().connected ? 1.0 : 0.0; });
    lag.AddCallback(db_labels, [p] {
      const Lsn c = p->replicator->stats().confirmed_lsn.load();
      const Lsn w = p->replicator->stats().server_wal_end.load();
      return w > c ? static_cast<double>(w - c) : 0.0;
    });
    for (size_t i = 0; i < p->sinks.size(); ++i) {
      SinkSlot* s = &p->sinks[i];
      const metrics::Labels labels{{"sink", s->config->name}};
      const auto* st = &s->runner->stats();
      ingested.AddCallback(labels, [p, i] { return static_cast<double>(p->router->routed(i)); });
      delivered.AddCallback(labels, [st] { return static_cast<double>(st->delivered.load()); });
      failed.AddCallback(labels, [st] { return static_cast<double>(st->failed_attempts.load()); });
      retried.AddCallback(labels, [st] { return static_cast<double>(st->retried.load()); });
      discarded.AddCallback(labels, [st] { return static_cast<double>(st->discarded.load()); });
      failed_messages.AddCallback(labels,
                                  [st] { return static_cast<double>(st->stored_failures.load()); });
      failed_held.AddCallback(labels,
                              [st] { return static_cast<double>(st->failed_messages.load()); });
      queue_bytes.AddCallback(labels, [s] { return static_cast<double>(s->queue->bytes()); });
      in_flight.AddCallback(labels,
                            [st] { return static_cast<double>(st->in_flight_batches.load()); });
      s->latency = &latency.Add(labels);
    }
  }
  // --- backfills ---
  auto& backfill_read = impl.metrics.AddCounter("sluice_backfill_rows_read_total",
                                                "Rows read by the sink's backfills");
  auto& backfill_emitted = impl.metrics.AddCounter(
      "sluice_backfill_rows_emitted_total", "Backfilled rows sent to the sink as read messages");
  for (DatabasePipeline* p : pipelines) {
    for (const SinkSlot& s : p->sinks) {
      const std::string name = s.config->name;
      backfill::BackfillManager* m = p->backfills.get();
      backfill_read.AddCallback({{"sink", name}},
                                [m, name] { return static_cast<double>(m->RowsRead(name)); });
      backfill_emitted.AddCallback({{"sink", name}},
                                   [m, name] { return static_cast<double>(m->RowsEmitted(name)); });
    }
  }
  // --- end backfills ---
  for (const auto& [name, queue] : impl.streams.all()) {
    PullQueue* q = queue.get();
    depth.AddCallback({{"stream", name}}, [q] { return static_cast<double>(q->depth()); });
    outstanding.AddCallback({{"stream", name}},
                            [q] { return static_cast<double>(q->outstanding()); });
  }
  return Status::Ok();
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
    p->checkpointer->Start();
    DatabasePipeline* raw = p.get();
    p->reader = std::thread([raw] {
      pthread_setname_np(pthread_self(), "sluice-reader");
      raw->replicator->Run();
    });
    p->backfills->Start();  // backfills
  }
  impl.server->Start();
  log::Info("sluice running", {{"pipelines", static_cast<unsigned long>(impl.pipelines.size())},
                               {"listen", impl.server->local_address()},
                               {"streams", static_cast<unsigned long>(impl.streams.all().size())}});

  {
    std::unique_lock lock(impl.mu);
    impl.cv.wait(lock, [&] { return impl.stop_requested; });
  }
  log::Info("shutting down");
  // Long polls end first (with an empty answer), then the server.
  for (const auto& [name, queue] : impl.streams.all()) queue->Shutdown();
  impl.server->Stop(std::chrono::seconds(2));
  // No request is served any more: the last deliveries and acks go to the
  // store.
  for (const auto& [name, queue] : impl.streams.all()) queue->Close();

  // 1. Stop reading: the reader sends a last status update and returns.
  for (auto& p : impl.pipelines) p->backfills->Stop();  // backfills: workers first
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
    p->checkpointer->Stop();
    p->checkpointer->Checkpoint();
    p->backfills->Flush();  // backfills: cursors the sinks acknowledged
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
