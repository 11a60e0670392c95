// A Prometheus registry without third-party code: metric families with HELP
// and TYPE, labelled series, and rendering in the text format 0.0.4.
//
//   metrics::Registry registry;
//   auto& delivered = registry.AddCounter("sluice_messages_delivered_total",
//                                         "Messages a sink acknowledged.");
//   metrics::Counter& c = delivered.Add({{"sink", "orders"}});  // look up once
//   c.Increment();                                              // lock-free
//   std::string text = registry.RenderText();                   // GET /metrics
//
// Thread-safety: everything may be called from any thread. Adding, removing
// and rendering take a mutex (one per family, one for the registry);
// updating a Counter/Gauge/Histogram is a lock-free atomic (metric.h). Look a
// series up once and keep the reference on hot paths.
//
// Lifetime: a reference returned by Add() stays valid until that series is
// Remove()d or the Registry is destroyed. Families live as long as the
// Registry.
//
// Programmer errors (invalid metric or label names, one name registered with
// two types, a series added both as a metric and as a callback) abort the
// process with a message: names are constants in the code, never user input.
// Label values may be anything (they are escaped).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "metrics/metric.h"

namespace sluice::metrics {

// Label name -> value. Ordered, so series render with labels sorted by name.
using Labels = std::map<std::string, std::string>;

enum class MetricType : unsigned char { kCounter, kGauge, kHistogram };

class Family {
 public:
  virtual ~Family() = default;
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }

 protected:
  Family(std::string name, std::string help, MetricType type);
  // Aborts unless every label name is valid (and not reserved for the type).
  void CheckLabels(const Labels& labels) const;
  // "# HELP ...\n# TYPE ...\n".
  void RenderHeader(std::string& out) const;
  // "name{a=\"x\",b=\"y\"}" or "name" without labels; `extra` (e.g. le) last.
  static void RenderSeriesName(std::string_view name, const Labels& labels, std::string& out,
                               std::string_view extra_name = {}, std::string_view extra_value = {});

 private:
  friend class Registry;
  // Appends HELP, TYPE and every series, sorted by labels; nothing when the
  // family has no series.
  virtual void Render(std::string& out) const = 0;

  const std::string name_;
  const std::string help_;
  const MetricType type_;
};

// A family of Counters or Gauges. Each series is either a metric object the
// code updates, or a callback evaluated at each scrape (for values that
// already live elsewhere, such as a SinkRunner's atomics or a queue's size).
template <typename Metric>
class ScalarFamily final : public Family {
 public:
  // The series with these labels, created (at zero) on first use.
  Metric& Add(const Labels& labels);
  // A series whose value is `value()` at scrape time; replaces an earlier
  // callback for the same labels. The callback runs on the scraping thread
  // while the family's mutex is held: it must be quick and must not call into
  // the Registry. After Remove() returns it is never called again, so it may
  // capture objects that the caller destroys after Remove().
  void AddCallback(const Labels& labels, std::function<double()> value);
  // Drops the series (no-op when absent). References to it dangle afterwards.
  void Remove(const Labels& labels);

  ScalarFamily(std::string name, std::string help);

 private:
  struct Series {
    std::unique_ptr<Metric> metric;
    std::function<double()> callback;
  };
  void Render(std::string& out) const override;

  mutable std::mutex mu_;
  std::map<Labels, Series> series_;
};

using CounterFamily = ScalarFamily<Counter>;
using GaugeFamily = ScalarFamily<Gauge>;

// A family of Histograms sharing one set of bucket bounds. The label "le" is
// reserved.
class HistogramFamily final : public Family {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<double> bounds);

  Histogram& Add(const Labels& labels);
  void Remove(const Labels& labels);
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  void Render(std::string& out) const override;

  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<Labels, std::unique_ptr<Histogram>> series_;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Each returns the family of that name, creating it on first call; later
  // calls with the same name and type (and bounds) return the same family and
  // ignore `help`. Counter names should end in "_total".
  CounterFamily& AddCounter(const std::string& name, const std::string& help);
  GaugeFamily& AddGauge(const std::string& name, const std::string& help);
  HistogramFamily& AddHistogram(const std::string& name, const std::string& help,
                                std::vector<double> bounds = LatencySecondsBuckets());

  // Every non-empty family, sorted by name, in the text format 0.0.4 (serve
  // with kTextContentType from text_format.h).
  std::string RenderText() const;

 private:
  template <typename F, typename... Args>
  F& AddFamily(const std::string& name, const std::string& help, MetricType type, Args&&... args);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>> families_;
};

}  // namespace sluice::metrics
