#pragma once

// Plain-text tables for people: a header row, left-aligned columns padded to the widest cell,
// two spaces between columns, no trailing blanks. Cells with control characters (from a
// server or a file) are shown escaped, so nothing can move the terminal's cursor.

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace aloft::cli::aloftctl::output {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

  // Missing cells are blank; extra cells are dropped.
  void AddRow(std::vector<std::string> cells);
  std::size_t rows() const noexcept { return rows_.size(); }

  // Writes the header and every row, each line ending in '\n'. An empty table prints its
  // header and "(none)".
  void Render(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// `text` with control characters (and DEL) written as \xNN, for printing untrusted strings.
std::string Printable(std::string_view text);

// "12.3 MiB" style sizes (B, KiB, MiB, GiB, TiB; one decimal from KiB on).
std::string HumanBytes(std::uint64_t bytes);

}  // namespace aloft::cli::aloftctl::output
