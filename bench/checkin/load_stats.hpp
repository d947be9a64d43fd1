#pragma once

// What aloft-load measures, and how it reads a server's CPU time: the parts of the load
// generator that are not sockets.

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace aloft::bench {

// user + system CPU of one process (all its threads), in microseconds, from /proc/<pid>/stat
// (fields 14 and 15, in clock ticks). -1 when the process is gone.
inline std::int64_t ProcessCpuMicros(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  // The command name (field 2) is in parentheses and may hold spaces: parse after the last ')'.
  std::size_t close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  std::int64_t utime = 0;
  std::int64_t stime = 0;
  // Fields 3..13 precede utime (14) and stime (15).
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  static const long kTicks = sysconf(_SC_CLK_TCK);
  return (utime + stime) * 1'000'000 / kTicks;
}

// The sum over several processes (nginx's master and worker), -1 if any is gone.
inline std::int64_t CpuMicros(const std::vector<int>& pids) {
  std::int64_t total = 0;
  for (int pid : pids) {
    std::int64_t us = ProcessCpuMicros(pid);
    if (us < 0) return -1;
    total += us;
  }
  return total;
}

// Latencies in microseconds; percentiles by sorting once at the end (a 10 s run at 50k req/s
// is 500k samples: 2 MB, sorted in milliseconds).
class Latencies {
 public:
  void Add(std::uint32_t micros) { samples_.push_back(micros); }
  void Merge(const Latencies& other) {
    samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
  }
  void Finish() { std::sort(samples_.begin(), samples_.end()); }
  // q in [0, 1]; 0 when there are no samples. Call Finish() first.
  double Percentile(double q) const {
    if (samples_.empty()) return 0;
    auto index = static_cast<std::size_t>(q * static_cast<double>(samples_.size() - 1) + 0.5);
    return samples_[std::min(index, samples_.size() - 1)];
  }
  std::size_t size() const { return samples_.size(); }

 private:
  std::vector<std::uint32_t> samples_;
};

}  // namespace aloft::bench
