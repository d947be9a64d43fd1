// Replays a fuzz target's corpus without libFuzzer, so the normal and the ASan+UBSan builds
// run every saved input on each `make test`: arguments are files or directories (every
// regular file in them, sorted by name, so a failure names the same input each time). A
// target signals a broken invariant by aborting, which fails the test.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::filesystem::path> Inputs(const std::filesystem::path& arg, std::error_code& ec) {
  std::vector<std::filesystem::path> files;
  if (!std::filesystem::is_directory(arg, ec)) {
    files.push_back(arg);
    return files;
  }
  for (const auto& entry : std::filesystem::directory_iterator(arg, ec)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " CORPUS_DIR_OR_FILE...\n";
    return 2;
  }
  std::size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    const auto files = Inputs(argv[i], ec);
    if (ec || files.empty()) {
      std::cerr << argv[i] << ": no inputs" << (ec ? " (" + ec.message() + ")" : "") << "\n";
      return 1;
    }
    for (const auto& file : files) {
      std::ifstream in(file, std::ios::binary);
      const std::vector<char> bytes{std::istreambuf_iterator<char>(in),
                                    std::istreambuf_iterator<char>()};
      if (!in.good() && !in.eof()) {
        std::cerr << file << ": cannot read\n";
        return 1;
      }
      // An empty vector's data() may be null; libFuzzer passes a valid pointer, so do we.
      static const std::uint8_t kEmpty = 0;
      const auto* data =
          bytes.empty() ? &kEmpty : reinterpret_cast<const std::uint8_t*>(bytes.data());
      LLVMFuzzerTestOneInput(data, bytes.size());
      ++replayed;
    }
  }
  std::cout << "replayed " << replayed << " inputs\n";
  return 0;
}
