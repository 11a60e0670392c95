#include "metrics/registry.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "metrics/text_format.h"

namespace sluice::metrics {

namespace {

[[noreturn]] void ProgrammerError(const std::string& message) {
  std::fprintf(stderr, "metrics: %s (programmer error)\n", message.c_str());
  std::abort();
}

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

template <typename Metric>
constexpr MetricType TypeOf();
template <>
constexpr MetricType TypeOf<Counter>() {
  return MetricType::kCounter;
}
template <>
constexpr MetricType TypeOf<Gauge>() {
  return MetricType::kGauge;
}

std::string FormatMetricValue(const Counter& counter) { return std::to_string(counter.Value()); }
std::string FormatMetricValue(const Gauge& gauge) { return FormatValue(gauge.Value()); }

}  // namespace

Family::Family(std::string name, std::string help, MetricType type)
    : name_(std::move(name)), help_(std::move(help)), type_(type) {
  if (!IsValidMetricName(name_)) ProgrammerError("invalid metric name \"" + name_ + "\"");
}

void Family::CheckLabels(const Labels& labels) const {
  for (const auto& [label, value] : labels) {
    if (!IsValidLabelName(label) || (type_ == MetricType::kHistogram && label == "le")) {
      ProgrammerError("invalid label name \"" + label + "\" for metric " + name_);
    }
  }
}

void Family::RenderHeader(std::string& out) const {
  out += "# HELP ";
  out += name_;
  out += ' ';
  AppendEscapedHelp(help_, out);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += TypeName(type_);
  out += '\n';
}

void Family::RenderSeriesName(std::string_view name, const Labels& labels, std::string& out,
                              std::string_view extra_name, std::string_view extra_value) {
  out += name;
  if (labels.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  auto append = [&](std::string_view label, std::string_view value) {
    if (!first) out += ',';
    first = false;
    out += label;
    out += "=\"";
    AppendEscapedLabelValue(value, out);
    out += '"';
  };
  for (const auto& [label, value] : labels) append(label, value);
  if (!extra_name.empty()) append(extra_name, extra_value);
  out += '}';
}

template <typename Metric>
ScalarFamily<Metric>::ScalarFamily(std::string name, std::string help)
    : Family(std::move(name), std::move(help), TypeOf<Metric>()) {}

template <typename Metric>
Metric& ScalarFamily<Metric>::Add(const Labels& labels) {
  std::lock_guard lock(mu_);
  auto it = series_.find(labels);
  if (it == series_.end()) {
    CheckLabels(labels);
    it = series_.emplace(labels, Series{std::make_unique<Metric>(), nullptr}).first;
  } else if (!it->second.metric) {
    ProgrammerError("series of " + name() + " was added as a callback, then as a metric");
  }
  return *it->second.metric;
}

template <typename Metric>
void ScalarFamily<Metric>::AddCallback(const Labels& labels, std::function<double()> value) {
  std::lock_guard lock(mu_);
  auto it = series_.find(labels);
  if (it == series_.end()) {
    CheckLabels(labels);
    series_.emplace(labels, Series{nullptr, std::move(value)});
  } else if (it->second.metric) {
    ProgrammerError("series of " + name() + " was added as a metric, then as a callback");
  } else {
    it->second.callback = std::move(value);
  }
}

template <typename Metric>
void ScalarFamily<Metric>::Remove(const Labels& labels) {
  std::lock_guard lock(mu_);
  series_.erase(labels);
}

template <typename Metric>
void ScalarFamily<Metric>::Render(std::string& out) const {
  std::lock_guard lock(mu_);
  if (series_.empty()) return;
  RenderHeader(out);
  for (const auto& [labels, series] : series_) {
    RenderSeriesName(name(), labels, out);
    out += ' ';
    out += series.metric ? FormatMetricValue(*series.metric) : FormatValue(series.callback());
    out += '\n';
  }
}

template class ScalarFamily<Counter>;
template class ScalarFamily<Gauge>;

HistogramFamily::HistogramFamily(std::string name, std::string help, std::vector<double> bounds)
    : Family(std::move(name), std::move(help), MetricType::kHistogram),
      bounds_(Histogram(bounds).bounds()) {}

Histogram& HistogramFamily::Add(const Labels& labels) {
  std::lock_guard lock(mu_);
  auto it = series_.find(labels);
  if (it == series_.end()) {
    CheckLabels(labels);
    it = series_.emplace(labels, std::make_unique<Histogram>(bounds_)).first;
  }
  return *it->second;
}

void HistogramFamily::Remove(const Labels& labels) {
  std::lock_guard lock(mu_);
  series_.erase(labels);
}

void HistogramFamily::Render(std::string& out) const {
  std::lock_guard lock(mu_);
  if (series_.empty()) return;
  RenderHeader(out);
  const std::string bucket_name = name() + "_bucket";
  std::vector<std::string> le;
  le.reserve(bounds_.size() + 1);
  for (double bound : bounds_) le.push_back(FormatValue(bound));
  le.push_back("+Inf");
  for (const auto& [labels, histogram] : series_) {
    const Histogram::Snapshot snapshot = histogram->Read();
    for (size_t i = 0; i < le.size(); ++i) {
      RenderSeriesName(bucket_name, labels, out, "le", le[i]);
      out += ' ';
      out += std::to_string(snapshot.cumulative[i]);
      out += '\n';
    }
    RenderSeriesName(name() + "_sum", labels, out);
    out += ' ';
    out += FormatValue(snapshot.sum);
    out += '\n';
    RenderSeriesName(name() + "_count", labels, out);
    out += ' ';
    out += std::to_string(snapshot.count);
    out += '\n';
  }
}

template <typename F, typename... Args>
F& Registry::AddFamily(const std::string& name, const std::string& help, MetricType type,
                       Args&&... args) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    it =
        families_.emplace(name, std::make_unique<F>(name, help, std::forward<Args>(args)...)).first;
  } else if (it->second->type() != type) {
    ProgrammerError("metric " + name + " registered as " + TypeName(it->second->type()) +
                    " and as " + TypeName(type));
  }
  return static_cast<F&>(*it->second);
}

CounterFamily& Registry::AddCounter(const std::string& name, const std::string& help) {
  return AddFamily<CounterFamily>(name, help, MetricType::kCounter);
}

GaugeFamily& Registry::AddGauge(const std::string& name, const std::string& help) {
  return AddFamily<GaugeFamily>(name, help, MetricType::kGauge);
}

HistogramFamily& Registry::AddHistogram(const std::string& name, const std::string& help,
                                        std::vector<double> bounds) {
  HistogramFamily& family =
      AddFamily<HistogramFamily>(name, help, MetricType::kHistogram, std::vector<double>(bounds));
  if (family.bounds() != bounds) {
    ProgrammerError("histogram " + name + " registered twice with different buckets");
  }
  return family;
}

std::string Registry::RenderText() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, family] : families_) family->Render(out);
  return out;
}

}  // namespace sluice::metrics
