// aloft-tuf-client: the client-under-test protocol of the TUF conformance suite, as a thin
// front over the core client workflow (see shared/tuf-conformance-cli.md and docs/).
//
//   aloft-tuf-client --metadata-dir DIR init TRUSTED_ROOT
//   aloft-tuf-client --metadata-url URL --metadata-dir DIR refresh
//   aloft-tuf-client --metadata-url URL --metadata-dir DIR --target-name P [--target-name P2]
//                    --target-dir TDIR --target-base-url TURL download
//
// Exit status is exactly 0 on success and 1 on any failure; options may come in any order.

#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/tuf_client/commands.hpp"

namespace {

constexpr const char* kUsage =
    "usage: aloft-tuf-client [options] init TRUSTED_ROOT | refresh | download\n"
    "options:\n"
    "  --metadata-dir DIR      where verified metadata is kept (required)\n"
    "  --metadata-url URL      base URL of the repository's metadata (refresh, download)\n"
    "  --target-name PATH      target to download (repeatable, in order)\n"
    "  --target-dir DIR        where verified targets are stored (download)\n"
    "  --target-base-url URL   base URL of the repository's targets (download)\n"
    "  --max-root-rotations N  root versions followed in one refresh (default 256)\n";

int Run(int argc, char** argv) {
  aloft::cli::tuf_client::Options opts;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (arg.starts_with("--")) {
      std::string name = arg, value;
      if (auto eq = arg.find('='); eq != std::string::npos) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        std::cerr << "aloft-tuf-client: " << arg << " needs a value\n" << kUsage;
        return 1;
      }
      if (name == "--metadata-dir") {
        opts.metadata_dir = value;
      } else if (name == "--metadata-url") {
        opts.metadata_url = value;
      } else if (name == "--target-name") {
        opts.target_names.push_back(value);
      } else if (name == "--target-dir") {
        opts.target_dir = value;
      } else if (name == "--target-base-url") {
        opts.target_base_url = value;
      } else if (name == "--max-root-rotations") {
        try {
          opts.max_root_rotations = std::stoul(value);
        } catch (const std::exception&) {
          std::cerr << "aloft-tuf-client: --max-root-rotations needs a number\n";
          return 1;
        }
      } else {
        std::cerr << "aloft-tuf-client: unknown option " << name << "\n" << kUsage;
        return 1;
      }
      continue;
    }
    positional.push_back(arg);
  }
  if (positional.empty()) {
    std::cerr << kUsage;
    return 1;
  }
  aloft::Status result = aloft::Fail(aloft::Errc::kInvalidArgument, "unknown command");
  const std::string& command = positional[0];
  if (command == "init" && positional.size() == 2) {
    result = aloft::cli::tuf_client::Init(opts, positional[1]);
  } else if (command == "refresh" && positional.size() == 1) {
    result = aloft::cli::tuf_client::Refresh(opts);
  } else if (command == "download" && positional.size() == 1) {
    result = aloft::cli::tuf_client::Download(opts);
  } else {
    std::cerr << "aloft-tuf-client: unknown command or wrong arguments\n" << kUsage;
    return 1;
  }
  if (!result) {
    std::cerr << "aloft-tuf-client: " << command << " failed: " << result.error().ToString()
              << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // The protocol wants exactly 0 or 1, whatever happens.
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "aloft-tuf-client: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "aloft-tuf-client: internal error\n";
  }
  return 1;
}
