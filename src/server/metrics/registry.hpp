#pragma once

// Prometheus metrics for aloftd, rendered in the text exposition format (version 0.0.4).
//
// Counters and histograms are updated on the request path, so they are lock-free for the
// common case: a series (one label combination) is created once under a mutex and then only
// touched through atomics. Gauges that describe stored state (devices by status, rollout
// progress) are not kept up to date on every write; a collector reads them from the database
// when Prometheus scrapes, so they can never drift from the truth.
//
// Label values are escaped as the format requires; metric and label names are fixed in code.
//
// Thread-safety: every method may be called from any thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace aloft::server::metrics {

// Label values in the order of the family's label names.
using LabelValues = std::vector<std::string>;

class CounterFamily {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> labels);
  void Add(const LabelValues& values, std::uint64_t amount = 1);
  void Render(std::string& out) const;

 private:
  std::atomic<std::uint64_t>& Series(const LabelValues& values);
  std::string name_, help_;
  std::vector<std::string> labels_;
  mutable std::mutex mutex_;  // guards the map's shape, not the values
  std::map<LabelValues, std::unique_ptr<std::atomic<std::uint64_t>>> series_;
};

class HistogramFamily {
 public:
  // `bounds`: upper bounds of the buckets in seconds, increasing (+Inf is implicit).
  HistogramFamily(std::string name, std::string help, std::vector<std::string> labels,
                  std::vector<double> bounds);
  void Observe(const LabelValues& values, double seconds);
  void Render(std::string& out) const;

 private:
  struct Series {
    explicit Series(std::size_t buckets) : counts(buckets) {}
    std::vector<std::atomic<std::uint64_t>> counts;  // per bucket, not cumulative
    std::atomic<std::uint64_t> count{0};
    std::atomic<std::uint64_t> sum_micros{0};  // integer sum: atomics on doubles race
  };
  Series& Find(const LabelValues& values);
  std::string name_, help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::map<LabelValues, std::unique_ptr<Series>> series_;
};

// One gauge sample produced by a collector.
struct GaugeSample {
  LabelValues values;
  double value = 0;
};

class Registry {
 public:
  // Families live as long as the registry; the references stay valid.
  CounterFamily& Counter(std::string name, std::string help, std::vector<std::string> labels);
  HistogramFamily& Histogram(std::string name, std::string help, std::vector<std::string> labels,
                             std::vector<double> bounds);
  // A gauge family whose samples `collect` returns at each scrape. A collector that fails
  // returns an empty list; the family is then rendered without samples (and the scrape
  // succeeds, so one broken query does not hide every other metric).
  void Gauge(std::string name, std::string help, std::vector<std::string> labels,
             std::function<std::vector<GaugeSample>()> collect);

  // The whole exposition, families in registration order.
  std::string Render() const;

 private:
  struct GaugeFamily {
    std::string name, help;
    std::vector<std::string> labels;
    std::function<std::vector<GaugeSample>()> collect;
  };
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<CounterFamily>> counters_;
  std::vector<std::unique_ptr<HistogramFamily>> histograms_;
  std::vector<GaugeFamily> gauges_;
  // Registration order across kinds: (kind, index).
  std::vector<std::pair<int, std::size_t>> order_;
};

// `name{a="x",b="y"}` with the values escaped (backslash, quote, newline).
std::string SeriesName(std::string_view name, const std::vector<std::string>& labels,
                       const LabelValues& values);
// Prometheus float formatting: integers without a fraction, +Inf, NaN.
std::string FormatValue(double value);

}  // namespace aloft::server::metrics
