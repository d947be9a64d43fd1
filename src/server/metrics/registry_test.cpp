// The Prometheus text format as scrapers parse it: HELP/TYPE lines, escaped label values,
// cumulative histogram buckets with +Inf, _sum and _count; gauges read at scrape time.

#include "server/metrics/registry.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace aloft::server::metrics {
namespace {

TEST(MetricsRegistry, CountersRenderPerSeriesWithEscapedLabels) {
  Registry registry;
  CounterFamily& requests =
      registry.Counter("aloft_http_requests_total", "HTTP requests.", {"route", "status"});
  requests.Add({"GET /healthz", "200"});
  requests.Add({"GET /healthz", "200"}, 2);
  requests.Add({"odd\"\\\nname", "404"});
  const std::string text = registry.Render();
  EXPECT_NE(text.find("# HELP aloft_http_requests_total HTTP requests.\n"
                      "# TYPE aloft_http_requests_total counter\n"),
            std::string::npos);
  EXPECT_NE(text.find("aloft_http_requests_total{route=\"GET /healthz\",status=\"200\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("route=\"odd\\\"\\\\\\nname\""), std::string::npos) << text;
}

// Too few values are padded with empty ones and too many are cut, into the same series as
// the fitted values given directly.
TEST(MetricsRegistry, LabelValuesAreFittedToTheLabelNames) {
  Registry registry;
  CounterFamily& requests = registry.Counter("c_total", "C.", {"route", "status"});
  requests.Add({"r"});
  requests.Add({"r", ""});
  requests.Add({"r", "", "extra"});
  HistogramFamily& latency = registry.Histogram("h_seconds", "H.", {"route"}, {1});
  latency.Observe({"r", "200"}, 0.5);
  latency.Observe({"r"}, 0.5);
  const std::string text = registry.Render();
  EXPECT_NE(text.find("c_total{route=\"r\",status=\"\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h_seconds_count{route=\"r\"} 2\n"), std::string::npos) << text;
}

TEST(MetricsRegistry, HistogramBucketsAreCumulative) {
  Registry registry;
  HistogramFamily& latency =
      registry.Histogram("aloft_latency_seconds", "Latency.", {"route"}, {0.01, 0.1, 1});
  latency.Observe({"r"}, 0.005);
  latency.Observe({"r"}, 0.05);
  latency.Observe({"r"}, 0.05);
  latency.Observe({"r"}, 5);
  const std::string text = registry.Render();
  EXPECT_NE(text.find("aloft_latency_seconds_bucket{route=\"r\",le=\"0.01\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("aloft_latency_seconds_bucket{route=\"r\",le=\"0.1\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("aloft_latency_seconds_bucket{route=\"r\",le=\"1\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("aloft_latency_seconds_bucket{route=\"r\",le=\"+Inf\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("aloft_latency_seconds_count{route=\"r\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("aloft_latency_seconds_sum{route=\"r\"} 5.105\n"), std::string::npos) << text;
}

TEST(MetricsRegistry, GaugesAreCollectedAtEachScrape) {
  Registry registry;
  int calls = 0;
  registry.Gauge("aloft_devices", "Devices by status.", {"status"}, [&calls] {
    ++calls;
    return std::vector<GaugeSample>{{{"accepted"}, static_cast<double>(calls)}};
  });
  EXPECT_NE(registry.Render().find("aloft_devices{status=\"accepted\"} 1\n"), std::string::npos);
  EXPECT_NE(registry.Render().find("aloft_devices{status=\"accepted\"} 2\n"), std::string::npos);
}

TEST(MetricsRegistry, ConcurrentUpdatesAreNotLost) {
  Registry registry;
  CounterFamily& counter = registry.Counter("c_total", "C.", {"k"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&counter, t] {
      for (int i = 0; i < 10000; ++i) counter.Add({t % 2 == 0 ? "even" : "odd"});
    });
  }
  for (auto& t : threads) t.join();
  const std::string text = registry.Render();
  EXPECT_NE(text.find("c_total{k=\"even\"} 20000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("c_total{k=\"odd\"} 20000\n"), std::string::npos) << text;
}

TEST(MetricsRegistry, FormatsValuesLikePrometheus) {
  EXPECT_EQ(FormatValue(3), "3");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
}

}  // namespace
}  // namespace aloft::server::metrics
