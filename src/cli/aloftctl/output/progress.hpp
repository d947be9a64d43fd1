#pragma once

// A one-line progress bar for long transfers and compression, redrawn in place with '\r':
//   "upload rootfs-2.0.ext4.zst  [#########           ]  45%  12.3 MiB / 27.0 MiB"
// Redraws at most every 1% (and on completion), so a fast loop does not flood a slow terminal.
// Disabled (prints nothing at all) when the stream is not a terminal or output is JSON: logs
// and scripts must not fill with carriage returns.

#include <cstdint>
#include <ostream>
#include <string>

namespace aloft::cli::aloftctl::output {

class ProgressBar {
 public:
  ProgressBar(std::ostream& out, std::string label, bool enabled)
      : out_(out), label_(std::move(label)), enabled_(enabled) {}
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  // Ends the line if the bar was drawn and Finish() was not called.
  ~ProgressBar();

  void Update(std::uint64_t done, std::uint64_t total);
  // Draws 100% (if anything was drawn) and ends the line.
  void Finish();

  // The line for `done` of `total` (exposed for tests).
  static std::string Render(std::string_view label, std::uint64_t done, std::uint64_t total);

 private:
  std::ostream& out_;
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  bool finished_ = false;
  int last_percent_ = -1;
  std::uint64_t last_total_ = 0;
};

}  // namespace aloft::cli::aloftctl::output
