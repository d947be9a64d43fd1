// aloft-fault-proxy: a loopback TCP proxy that damages the connections it carries, for the
// network-fault suite (tests/fault/network_faults.sh, issue 8 point 2).
//
//   aloft-fault-proxy --target PORT --seed N [--rate P] [--off-file PATH] [--port-file PATH]
//                     [--log PATH] [--cut-large BYTES --cut-large-count N]
//
// It listens on 127.0.0.1 (an ephemeral port, written to --port-file) and forwards each
// connection to 127.0.0.1:PORT as opaque bytes, so TLS passes through it end to end and damage
// shows up the way it does on a real network: handshake failures, bad record MACs, resets,
// timeouts. Each connection draws, from a generator seeded with (seed, connection number), one
// fault with probability P (default 0.5):
//
//   drop      the client's connection is closed before a byte is forwarded
//   stall     forwarding stops for 0.3–2.5 s once the fault's byte offset is reached
//   blackhole forwarding stops for good at the offset; the connection is closed after 4 s
//   throttle  the server's bytes trickle at 32–256 KiB/s for the connection's first 0.5–3 s
//   corrupt   one byte at the offset is XORed with a random non-zero value
//   reset     both sides are closed with an RST (SO_LINGER 0) at the offset
//
// The offset is log-uniform in [16 B, 4 KiB) for half the faults and in [16 B, 6 MiB) for the
// others, in the server→client direction mostly (artifact bodies) and client→server for 1 in 5
// (requests). A fault whose offset lies past the end of
// its connection never fires: only fired faults are counted. While --off-file exists, new
// connections pass clean of random faults (the "faults stop" phase). --cut-large adds one
// deterministic fault on top: the first N connections (default 1) whose server→client bytes
// reach BYTES are reset right there (fault=cut), whether or not --off-file exists, so that a
// large download is surely cut part-way and has to resume. One line per connection goes to --log
// (appended, flushed at close):
//
//   conn=7 fault=corrupt dir=down at=81234 fired=1 up=1432 down=2101342
//
// SIGTERM/SIGINT: stop accepting, cut the open connections, print the totals and exit 0.
// Reproduce a run with the seed it printed at start.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using Millis = std::chrono::milliseconds;

enum class Fault { kNone, kDrop, kStall, kBlackhole, kThrottle, kCorrupt, kReset, kCut };
constexpr std::array kFaults = {Fault::kDrop,     Fault::kStall,   Fault::kBlackhole,
                                Fault::kThrottle, Fault::kCorrupt, Fault::kReset};

const char* FaultName(Fault f) {
  switch (f) {
    case Fault::kNone:
      return "none";
    case Fault::kDrop:
      return "drop";
    case Fault::kStall:
      return "stall";
    case Fault::kBlackhole:
      return "blackhole";
    case Fault::kThrottle:
      return "throttle";
    case Fault::kCorrupt:
      return "corrupt";
    case Fault::kReset:
      return "reset";
    case Fault::kCut:
      return "cut";
  }
  return "?";
}

struct Options {
  int target_port = 0;
  std::uint64_t seed = 0;
  bool seed_given = false;
  double rate = 0.5;
  std::filesystem::path off_file;
  std::filesystem::path port_file;
  std::filesystem::path log_file;
  std::uint64_t cut_large = 0;  // 0: off
  int cut_large_count = 1;
};

// How many --cut-large cuts are left (shared by the connection threads).
std::atomic<int> g_cuts_left{0};

// What one connection suffers, drawn before any byte moves.
struct Plan {
  Fault fault = Fault::kNone;
  bool downstream = true;  // server → client
  std::uint64_t at = 0;    // byte offset in that direction
  Millis stall{0};
  std::uint64_t bytes_per_second = 0;
  Millis throttle_for{0};  // how long the trickle lasts, from the connection's start
  std::uint8_t xor_mask = 0;
};

Plan DrawPlan(std::uint64_t seed, std::uint64_t conn, double rate) {
  // One generator per connection: the plan depends on (seed, conn) only, not on thread timing.
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    static_cast<std::uint32_t>(conn), static_cast<std::uint32_t>(conn >> 32)};
  std::mt19937_64 rng(seq);
  Plan p;
  if (std::uniform_real_distribution<double>(0, 1)(rng) >= rate) return p;
  p.fault = kFaults[std::uniform_int_distribution<std::size_t>(0, kFaults.size() - 1)(rng)];
  p.downstream = std::uniform_int_distribution<int>(0, 4)(rng) != 0;
  // Half the offsets fall in the first 4 KiB (handshakes, requests, metadata), half anywhere
  // up to 6 MiB (artifact bodies), log-uniformly.
  const double top = std::uniform_int_distribution<int>(0, 1)(rng) == 0 ? 12 : 22.6;
  const double log2_at = std::uniform_real_distribution<double>(4, top)(rng);
  p.at = static_cast<std::uint64_t>(std::exp2(log2_at));
  p.stall = Millis(std::uniform_int_distribution<int>(300, 2500)(rng));
  p.bytes_per_second = std::uniform_int_distribution<std::uint64_t>(32, 256)(rng) * 1024;
  p.throttle_for = Millis(std::uniform_int_distribution<int>(500, 3000)(rng));
  p.xor_mask = static_cast<std::uint8_t>(std::uniform_int_distribution<int>(1, 255)(rng));
  return p;
}

std::atomic<bool> g_stop{false};
extern "C" void OnStop(int) { g_stop.store(true); }

// Open sockets, so that a stop can cut them and the connection threads end.
class SocketRegistry {
 public:
  void Add(int fd) {
    std::lock_guard lock(mu_);
    fds_.insert(fd);
  }
  void Remove(int fd) {
    std::lock_guard lock(mu_);
    fds_.erase(fd);
  }
  void ShutdownAll() {
    std::lock_guard lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  }

 private:
  std::mutex mu_;
  std::set<int> fds_;
};

struct Totals {
  std::mutex mu;
  std::uint64_t connections = 0;
  std::map<std::string, std::uint64_t> fired;  // fault name → connections where it fired
};

bool WriteAll(int fd, const std::uint8_t* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

void ResetAndClose(int fd) {
  const linger hard{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  ::close(fd);
}

int ConnectUpstream(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Sleeps up to `d`, waking early on stop.
void SleepUnlessStopped(Millis d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!g_stop.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min<Millis>(Millis(50), d));
  }
}

class Connection {
 public:
  Connection(int client, const Options& options, std::uint64_t id, Plan plan,
             SocketRegistry& sockets)
      : client_(client), options_(options), id_(id), plan_(plan), sockets_(sockets) {}

  // Runs the connection to its end; returns its log line.
  std::string Run() {
    if (plan_.fault == Fault::kDrop) {
      fired_ = true;
      sockets_.Remove(client_);
      ::close(client_);
      return Line();
    }
    server_ = ConnectUpstream(options_.target_port);
    if (server_ < 0) {
      sockets_.Remove(client_);
      ::close(client_);
      return Line() + " upstream=refused";
    }
    sockets_.Add(server_);
    Pump();
    // Unregistered before closing: a descriptor number may be reused at once by the next accept.
    sockets_.Remove(server_);
    sockets_.Remove(client_);
    if (reset_) {
      ResetAndClose(client_);
      ResetAndClose(server_);
    } else {
      ::close(client_);
      ::close(server_);
    }
    return Line();
  }

 private:
  std::string Line() const {
    return "conn=" + std::to_string(id_) + " fault=" + FaultName(plan_.fault) +
           " dir=" + (plan_.downstream ? "down" : "up") + " at=" + std::to_string(plan_.at) +
           " fired=" + (fired_ ? "1" : "0") + " up=" + std::to_string(up_) +
           " down=" + std::to_string(down_);
  }

  // Forwards until either side closes (or the fault ends the connection).
  void Pump() {
    std::vector<std::uint8_t> buffer(16 * 1024);
    while (!g_stop.load()) {
      pollfd fds[2] = {{client_, POLLIN, 0}, {server_, POLLIN, 0}};
      const int ready = ::poll(fds, 2, 200);
      if (ready < 0 && errno != EINTR) return;
      if (ready <= 0) continue;
      for (int i = 0; i < 2; ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        const bool downstream = i == 1;
        std::size_t want = buffer.size();
        if (downstream && plan_.fault == Fault::kThrottle &&
            std::chrono::steady_clock::now() < started_ + plan_.throttle_for) {
          want = 2048;
        }
        const ssize_t n = ::recv(fds[i].fd, buffer.data(), want, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        if (!Forward(downstream, buffer.data(), static_cast<std::size_t>(n))) return;
      }
    }
  }

  // Sends `size` bytes on in one direction, applying the plan. False: the connection ends.
  bool Forward(bool downstream, std::uint8_t* data, std::size_t size) {
    std::uint64_t& done = downstream ? down_ : up_;
    const int to = downstream ? client_ : server_;
    if (downstream && cut_armed_ && done + size >= options_.cut_large) {
      int left = g_cuts_left.load();
      while (left > 0 && !g_cuts_left.compare_exchange_weak(left, left - 1)) {
      }
      if (left > 0) {
        const std::size_t before = static_cast<std::size_t>(options_.cut_large - done);
        if (!WriteAll(to, data, before)) return false;
        done += before;
        plan_.fault = Fault::kCut;
        plan_.at = options_.cut_large;
        fired_ = true;
        reset_ = true;
        return false;
      }
      cut_armed_ = false;
    }
    if (downstream && plan_.fault == Fault::kThrottle &&
        std::chrono::steady_clock::now() < started_ + plan_.throttle_for) {
      fired_ = true;
      const auto pause = Millis(size * 1000 / plan_.bytes_per_second);
      if (!WriteAll(to, data, size)) return false;
      done += size;
      SleepUnlessStopped(pause);
      return true;
    }
    const bool armed = !fired_ && downstream == plan_.downstream &&
                       (plan_.fault == Fault::kStall || plan_.fault == Fault::kBlackhole ||
                        plan_.fault == Fault::kCorrupt || plan_.fault == Fault::kReset);
    if (!armed || plan_.at >= done + size) {
      if (!WriteAll(to, data, size)) return false;
      done += size;
      return true;
    }
    // The offset falls in this chunk: forward what comes before it, then act.
    const std::size_t before = static_cast<std::size_t>(plan_.at - done);
    fired_ = true;
    switch (plan_.fault) {
      case Fault::kCorrupt:
        data[before] ^= plan_.xor_mask;
        break;
      case Fault::kReset:
        if (!WriteAll(to, data, before)) return false;
        done += before;
        reset_ = true;
        return false;
      case Fault::kStall:
        if (!WriteAll(to, data, before)) return false;
        done += before;
        SleepUnlessStopped(plan_.stall);
        if (!WriteAll(to, data + before, size - before)) return false;
        done += size - before;
        return true;
      case Fault::kBlackhole:
        if (!WriteAll(to, data, before)) return false;
        done += before;
        SleepUnlessStopped(Millis(4000));
        return false;
      default:
        break;
    }
    if (!WriteAll(to, data, size)) return false;
    done += size;
    return true;
  }

  int client_;
  int server_ = -1;
  const Options& options_;
  std::uint64_t id_;
  Plan plan_;
  SocketRegistry& sockets_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  bool fired_ = false;
  bool reset_ = false;
  // Cuts ignore --off-file: they are few, and must happen even when every random fault missed
  // the large transfers.
  bool cut_armed_ = options_.cut_large > 0 && plan_.fault != Fault::kDrop;
  std::uint64_t up_ = 0;
  std::uint64_t down_ = 0;
};

bool ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return false;
    const std::string value = argv[++i];
    try {
      if (arg == "--target") {
        o.target_port = std::stoi(value);
      } else if (arg == "--seed") {
        o.seed = std::stoull(value);
        o.seed_given = true;
      } else if (arg == "--rate") {
        o.rate = std::stod(value);
      } else if (arg == "--off-file") {
        o.off_file = value;
      } else if (arg == "--port-file") {
        o.port_file = value;
      } else if (arg == "--log") {
        o.log_file = value;
      } else if (arg == "--cut-large") {
        o.cut_large = std::stoull(value);
      } else if (arg == "--cut-large-count") {
        o.cut_large_count = std::stoi(value);
      } else {
        return false;
      }
    } catch (const std::exception&) {
      return false;
    }
  }
  return o.target_port > 0 && o.target_port < 65536 && o.rate >= 0 && o.rate <= 1;
}

int Listen(int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, 128) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return -1;
  }
  port = ntohs(addr.sin_port);
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!ParseArgs(argc, argv, options)) {
    std::cerr << "usage: aloft-fault-proxy --target PORT [--seed N] [--rate 0..1] "
                 "[--off-file PATH] [--port-file PATH] [--log PATH]\n";
    return 2;
  }
  if (!options.seed_given) options.seed = std::random_device{}();
  g_cuts_left.store(options.cut_large > 0 ? options.cut_large_count : 0);
  std::signal(SIGTERM, OnStop);
  std::signal(SIGINT, OnStop);

  int port = 0;
  const int listener = Listen(port);
  if (listener < 0) {
    std::cerr << "aloft-fault-proxy: cannot listen on 127.0.0.1: " << std::strerror(errno) << "\n";
    return 1;
  }
  std::cout << "aloft-fault-proxy: 127.0.0.1:" << port << " -> 127.0.0.1:" << options.target_port
            << " seed=" << options.seed << " rate=" << options.rate << std::endl;
  if (!options.port_file.empty()) {
    // Written whole, then renamed: a reader never sees a half-written port.
    const std::filesystem::path tmp = options.port_file.string() + ".tmp";
    std::ofstream(tmp) << port << "\n";
    std::filesystem::rename(tmp, options.port_file);
  }

  std::ofstream log;
  if (!options.log_file.empty()) log.open(options.log_file, std::ios::app);
  std::mutex log_mu;
  Totals totals;
  SocketRegistry sockets;
  std::vector<std::thread> threads;
  std::uint64_t next_id = 0;

  while (!g_stop.load()) {
    pollfd pfd{listener, POLLIN, 0};
    if (::poll(&pfd, 1, 200) <= 0) continue;
    const int client = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    const int one = 1;
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const std::uint64_t id = next_id++;
    std::error_code ec;
    const bool off = !options.off_file.empty() && std::filesystem::exists(options.off_file, ec);
    const Plan plan = off ? Plan{} : DrawPlan(options.seed, id, options.rate);
    sockets.Add(client);
    threads.emplace_back([&, client, id, plan] {
      Connection connection(client, options, id, plan, sockets);
      const std::string line = connection.Run();
      {
        std::lock_guard lock(totals.mu);
        ++totals.connections;
        if (line.find(" fired=1") != std::string::npos) {
          ++totals.fired[line.substr(line.find("fault=") + 6, line.find(' ', line.find("fault=")) -
                                                                  line.find("fault=") - 6)];
        }
      }
      std::lock_guard lock(log_mu);
      if (log.is_open()) log << line << std::endl;
    });
  }
  ::close(listener);
  sockets.ShutdownAll();
  for (std::thread& t : threads) t.join();

  std::uint64_t fired = 0;
  std::string detail;
  for (const auto& [name, count] : totals.fired) {
    fired += count;
    detail += " " + name + "=" + std::to_string(count);
  }
  std::cout << "aloft-fault-proxy: seed=" << options.seed << " connections=" << totals.connections
            << " faulty=" << fired << detail << std::endl;
  return 0;
}
