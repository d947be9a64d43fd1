// aloft-fault-writer: a device that reports as fast as the server lets it, for the server-crash
// suite (tests/fault/server_crash.sh, issue 8 point 4). It signs in with an enrolled agent's
// key, exactly as aloft-agent does (agent/identity), and posts batches of 1–3 reports with
// unique ids to POST /api/v1/device/reports, while the suite SIGKILLs and restarts aloftd.
//
//   aloft-fault-writer -c AGENT_TOML --prefix P --acked FILE --stop-file FILE
//
// Every id the server acknowledged (listed in a 2xx ReportAck) is appended to --acked the
// moment the answer arrives; the suite later checks that each of them is in the database. A
// failed batch (connection refused or cut by the kill, 5xx, 429) is resent with the same ids
// until it is acknowledged: ids are idempotency keys, so a batch the server stored but could
// not answer is acknowledged by the resend, and never stored twice. Stops once --stop-file
// exists and the batch in hand is acknowledged (or 20 s after the stop file appears).
// Prints "sent=N acked=N failed_posts=N" at the end; exit 0 unless it could not start.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "agent/config/config.hpp"
#include "agent/identity/device_api_client.hpp"
#include "agent/identity/device_identity.hpp"
#include "core/wire/device_api.hpp"
#include "platform/http/json_client.hpp"
#include "platform/posix/system_clock.hpp"

namespace {

using namespace aloft;  // NOLINT: a test tool's main file

struct Args {
  std::filesystem::path config;
  std::string prefix;
  std::filesystem::path acked;
  std::filesystem::path stop_file;
};

bool ParseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "-c") {
      a.config = value;
    } else if (flag == "--prefix") {
      a.prefix = value;
    } else if (flag == "--acked") {
      a.acked = value;
    } else if (flag == "--stop-file") {
      a.stop_file = value;
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && !a.config.empty() && !a.prefix.empty() && !a.acked.empty() &&
         !a.stop_file.empty();
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, args)) {
    std::cerr << "usage: aloft-fault-writer -c AGENT_TOML --prefix P --acked FILE "
                 "--stop-file FILE\n";
    return 2;
  }
  auto config = agent::config::LoadConfig(args.config);
  if (!config) return std::cerr << "writer: " << config.error().ToString() << "\n", 1;
  auto identity = agent::identity::DeviceIdentity::LoadOrCreate(*config);
  if (!identity) return std::cerr << "writer: " << identity.error().ToString() << "\n", 1;
  platform::http::JsonClientOptions options;
  options.ca_file = config->ca_file;
  // A request the kill cuts must fail fast, so the next one reaches the restarted server.
  options.connect_timeout = std::chrono::seconds(2);
  options.total_timeout = std::chrono::seconds(5);
  auto client = platform::http::JsonClient::Create(options);
  if (!client) return std::cerr << "writer: " << client.error().ToString() << "\n", 1;
  platform::posix::SystemClock clock;
  auto tokens =
      agent::identity::TokenSource::Create(**client, *identity, config->server_url, clock);
  if (!tokens) return std::cerr << "writer: " << tokens.error().ToString() << "\n", 1;
  agent::identity::DeviceApiClient api(**client, *tokens, config->server_url);

  std::ofstream acked(args.acked, std::ios::app);
  std::mt19937 rng(std::random_device{}());
  long sent = 0;
  long acked_count = 0;
  long failed_posts = 0;
  long next = 0;
  std::optional<std::chrono::steady_clock::time_point> stop_seen;
  core::wire::ReportBatch batch;
  for (;;) {
    std::error_code ec;
    if (!stop_seen && std::filesystem::exists(args.stop_file, ec)) {
      stop_seen = std::chrono::steady_clock::now();
    }
    if (stop_seen && (batch.reports.empty() ||
                      std::chrono::steady_clock::now() - *stop_seen > std::chrono::seconds(20))) {
      break;
    }
    if (batch.reports.empty()) {
      const int n = std::uniform_int_distribution<int>(1, 3)(rng);
      for (int k = 0; k < n; ++k) {
        core::wire::Report r;
        r.id = args.prefix + "-" + std::to_string(next++);
        r.state = core::wire::UpdateState::kDownloading;
        r.bytes_done = next;
        r.bytes_total = 1'000'000;
        r.message = "fault-suite write " + r.id;
        r.at = clock.Now();
        batch.reports.push_back(std::move(r));
      }
      sent += n;
    }
    auto ack = api.PostReports(batch);
    if (!ack) {
      ++failed_posts;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    for (const std::string& id : ack->accepted_ids) acked << id << "\n";
    acked.flush();
    acked_count += static_cast<long>(ack->accepted_ids.size());
    // A partial ack (the server stopped part-way) keeps the rest for the next post.
    std::erase_if(batch.reports, [&](const core::wire::Report& r) {
      return std::find(ack->accepted_ids.begin(), ack->accepted_ids.end(), r.id) !=
             ack->accepted_ids.end();
    });
  }
  std::cout << "sent=" << sent << " acked=" << acked_count << " failed_posts=" << failed_posts
            << "\n";
  return 0;
}
