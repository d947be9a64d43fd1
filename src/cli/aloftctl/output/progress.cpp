#include "cli/aloftctl/output/progress.hpp"

#include <algorithm>
#include <cstdint>

#include "cli/aloftctl/output/table.hpp"

namespace aloft::cli::aloftctl::output {
namespace {

constexpr int kBarWidth = 24;

int Percent(std::uint64_t done, std::uint64_t total) {
  if (total == 0) return 100;
  done = std::min(done, total);
  // done * 100 overflows only past 184 PB; divide first for such totals.
  if (done > UINT64_MAX / 100) return static_cast<int>(done / (total / 100));
  return static_cast<int>(done * 100 / total);
}

}  // namespace

std::string ProgressBar::Render(std::string_view label, std::uint64_t done, std::uint64_t total) {
  const int percent = Percent(done, total);
  const int filled = percent * kBarWidth / 100;
  std::string line = Printable(label) + "  [";
  line.append(static_cast<std::size_t>(filled), '#');
  line.append(static_cast<std::size_t>(kBarWidth - filled), ' ');
  line += "] ";
  const std::string pct = std::to_string(percent) + "%";
  line.append(4 - std::min<std::size_t>(pct.size(), 4), ' ');
  line += pct + "  " + HumanBytes(std::min(done, total)) + " / " + HumanBytes(total);
  return line;
}

ProgressBar::~ProgressBar() {
  if (drawn_ && !finished_) out_ << '\n' << std::flush;
}

void ProgressBar::Update(std::uint64_t done, std::uint64_t total) {
  if (!enabled_ || finished_) return;
  const int percent = Percent(done, total);
  if (percent == last_percent_ && total == last_total_) return;
  last_percent_ = percent;
  last_total_ = total;
  // "\033[K" clears what a longer previous line left behind.
  out_ << '\r' << Render(label_, done, total) << "\033[K" << std::flush;
  drawn_ = true;
}

void ProgressBar::Finish() {
  if (!enabled_ || finished_) return;
  if (drawn_ && last_percent_ != 100) Update(last_total_, last_total_);
  if (drawn_) out_ << '\n' << std::flush;
  finished_ = true;
}

}  // namespace aloft::cli::aloftctl::output
