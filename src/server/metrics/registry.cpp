#include "server/metrics/registry.hpp"

#include <cmath>
#include <cstdio>

namespace aloft::server::metrics {
namespace {

void Header(std::string& out, const std::string& name, const std::string& help,
            std::string_view type) {
  out += "# HELP " + name + " " + help + "\n";
  out += "# TYPE " + name + " ";
  out += type;
  out += "\n";
}

// A series with fewer or more values than labels is a bug at the call site; pad or cut so the
// output stays well-formed rather than crashing the request that reported it.
LabelValues Fit(const LabelValues& values, std::size_t n) {
  LabelValues fitted = values;
  fitted.resize(n);
  return fitted;
}

}  // namespace

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<long long>(value));
  }
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.9g", value);
  return buffer;
}

std::string SeriesName(std::string_view name, const std::vector<std::string>& labels,
                       const LabelValues& values) {
  std::string out(name);
  if (labels.empty()) return out;
  out += '{';
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    out += labels[i] + "=\"";
    for (char c : i < values.size() ? values[i] : std::string()) {
      if (c == '\\') out += "\\\\";
      else if (c == '"') out += "\\\"";
      else if (c == '\n') out += "\\n";
      else out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

CounterFamily::CounterFamily(std::string name, std::string help, std::vector<std::string> labels)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {}

std::atomic<std::uint64_t>& CounterFamily::Series(const LabelValues& values) {
  // Looked up as given (every request counts itself: no copy of the labels once the series
  // exists); fitted to the label names only when the caller passed too few or too many.
  if (values.size() != labels_.size()) return Series(Fit(values, labels_.size()));
  std::lock_guard lock(mutex_);
  auto it = series_.find(values);
  if (it == series_.end()) {
    it = series_.emplace(values, std::make_unique<std::atomic<std::uint64_t>>(0)).first;
  }
  return *it->second;
}

void CounterFamily::Add(const LabelValues& values, std::uint64_t amount) {
  Series(values).fetch_add(amount, std::memory_order_relaxed);
}

void CounterFamily::Render(std::string& out) const {
  Header(out, name_, help_, "counter");
  std::lock_guard lock(mutex_);
  for (const auto& [values, value] : series_) {
    out += SeriesName(name_, labels_, values) + " " +
           std::to_string(value->load(std::memory_order_relaxed)) + "\n";
  }
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> labels, std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      labels_(std::move(labels)),
      bounds_(std::move(bounds)) {}

HistogramFamily::Series& HistogramFamily::Find(const LabelValues& values) {
  if (values.size() != labels_.size()) return Find(Fit(values, labels_.size()));
  std::lock_guard lock(mutex_);
  auto it = series_.find(values);
  if (it == series_.end()) {
    it = series_.emplace(values, std::make_unique<Series>(bounds_.size() + 1)).first;
  }
  return *it->second;
}

void HistogramFamily::Observe(const LabelValues& values, double seconds) {
  Series& s = Find(values);
  std::size_t bucket = 0;
  while (bucket < bounds_.size() && seconds > bounds_[bucket]) ++bucket;
  s.counts[bucket].fetch_add(1, std::memory_order_relaxed);
  s.count.fetch_add(1, std::memory_order_relaxed);
  const double micros = seconds > 0 ? seconds * 1e6 : 0;
  s.sum_micros.fetch_add(static_cast<std::uint64_t>(micros), std::memory_order_relaxed);
}

void HistogramFamily::Render(std::string& out) const {
  Header(out, name_, help_, "histogram");
  std::vector<std::string> bucket_labels = labels_;
  bucket_labels.push_back("le");
  std::lock_guard lock(mutex_);
  for (const auto& [values, series] : series_) {
    std::uint64_t cumulative = 0;
    LabelValues with_le = values;
    with_le.emplace_back();
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
      cumulative += series->counts[i].load(std::memory_order_relaxed);
      with_le.back() = i < bounds_.size() ? FormatValue(bounds_[i]) : "+Inf";
      out += SeriesName(name_ + "_bucket", bucket_labels, with_le) + " " +
             std::to_string(cumulative) + "\n";
    }
    out += SeriesName(name_ + "_sum", labels_, values) + " " +
           FormatValue(static_cast<double>(series->sum_micros.load(std::memory_order_relaxed)) /
                       1e6) +
           "\n";
    out += SeriesName(name_ + "_count", labels_, values) + " " +
           std::to_string(series->count.load(std::memory_order_relaxed)) + "\n";
  }
}

CounterFamily& Registry::Counter(std::string name, std::string help,
                                 std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  counters_.push_back(
      std::make_unique<CounterFamily>(std::move(name), std::move(help), std::move(labels)));
  order_.emplace_back(0, counters_.size() - 1);
  return *counters_.back();
}

HistogramFamily& Registry::Histogram(std::string name, std::string help,
                                     std::vector<std::string> labels, std::vector<double> bounds) {
  std::lock_guard lock(mutex_);
  histograms_.push_back(std::make_unique<HistogramFamily>(std::move(name), std::move(help),
                                                          std::move(labels), std::move(bounds)));
  order_.emplace_back(1, histograms_.size() - 1);
  return *histograms_.back();
}

void Registry::Gauge(std::string name, std::string help, std::vector<std::string> labels,
                     std::function<std::vector<GaugeSample>()> collect) {
  std::lock_guard lock(mutex_);
  gauges_.push_back({std::move(name), std::move(help), std::move(labels), std::move(collect)});
  order_.emplace_back(2, gauges_.size() - 1);
}

std::string Registry::Render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [kind, index] : order_) {
    if (kind == 0) {
      counters_[index]->Render(out);
    } else if (kind == 1) {
      histograms_[index]->Render(out);
    } else {
      const GaugeFamily& g = gauges_[index];
      Header(out, g.name, g.help, "gauge");
      for (const auto& sample : g.collect()) {
        out += SeriesName(g.name, g.labels, sample.values) + " " + FormatValue(sample.value) +
               "\n";
      }
    }
  }
  return out;
}

}  // namespace aloft::server::metrics
