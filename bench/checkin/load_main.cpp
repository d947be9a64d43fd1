// aloft-load: the check-in load generator (bench/README.md, "Check-in"). It keeps N
// connections busy for a fixed time and reports requests/s, latency percentiles, errors and,
// given the server's process ids, the server's CPU microseconds per request.
//
//   keepalive  (default) N keep-alive connections, one request in flight on each:
//              GET <path> with a device bearer token taken in turn from --tokens (so the
//              requests spread over every device), and with --report-percent P, P% of them
//              POST /api/v1/device/reports with one fresh report instead
//   handshake  a new connection per request (a full TLS handshake: the client keeps no
//              session and sends no ticket), GET <path>, then the connection is reset
//
// A bench tool, not a module: it talks to the server only over the network, like a device.

// g++ 12 reports -Wnull-dereference inside Asio's scheduler once it inlines it (as in
// src/server/http/server.cpp); the system-header exemption does not apply after inlining.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/checkin/load_stats.hpp"

namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string url;  // http(s)://host:port/path
  std::string ca_file;
  std::string tokens_file;
  std::string mode = "keepalive";
  std::string label;
  std::string json_out;
  std::vector<int> server_pids;
  int connections = 64;
  int threads = 1;
  int report_percent = 0;
  double duration_s = 10;
  // Parsed from url.
  bool tls = false;
  std::string host;
  std::string port;
  std::string path;
};

void Usage() {
  std::cerr <<
      "usage: aloft-load --url https://127.0.0.1:8443/api/v1/device/updates [options]\n"
      "  --mode keepalive|handshake   keep-alive requests (default) or a new TLS connection each\n"
      "  --connections N              concurrent connections (default 64)\n"
      "  --duration S                 measured seconds (default 10)\n"
      "  --threads N                  client threads (default 1)\n"
      "  --tokens FILE                device bearer tokens, one a line, used in turn\n"
      "  --report-percent P           P% of requests POST /api/v1/device/reports (default 0)\n"
      "  --ca FILE                    CA bundle that signed the server certificate (https)\n"
      "  --server-pid PID             server process for CPU per request (repeatable)\n"
      "  --label TEXT                 name in the output\n"
      "  --json FILE                  also write the figures as one JSON object\n";
}

bool ParseUrl(Options& o) {
  std::string rest;
  if (o.url.starts_with("https://")) {
    o.tls = true;
    rest = o.url.substr(8);
  } else if (o.url.starts_with("http://")) {
    rest = o.url.substr(7);
  } else {
    return false;
  }
  std::size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  o.path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::size_t colon = authority.rfind(':');
  if (colon == std::string::npos) return false;
  o.host = authority.substr(0, colon);
  o.port = authority.substr(colon + 1);
  return !o.host.empty() && !o.port.empty();
}

std::optional<Options> ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--url") o.url = value();
    else if (a == "--ca") o.ca_file = value();
    else if (a == "--tokens") o.tokens_file = value();
    else if (a == "--mode") o.mode = value();
    else if (a == "--label") o.label = value();
    else if (a == "--json") o.json_out = value();
    else if (a == "--server-pid") o.server_pids.push_back(std::stoi(value()));
    else if (a == "--connections") o.connections = std::stoi(value());
    else if (a == "--threads") o.threads = std::stoi(value());
    else if (a == "--report-percent") o.report_percent = std::stoi(value());
    else if (a == "--duration") o.duration_s = std::stod(value());
    else if (a == "--help" || a == "-h") return std::nullopt;
    else throw std::invalid_argument("unknown option " + a);
  }
  if (!ParseUrl(o)) throw std::invalid_argument("--url must be http(s)://host:port/path");
  if (o.mode != "keepalive" && o.mode != "handshake") {
    throw std::invalid_argument("--mode must be keepalive or handshake");
  }
  if (o.connections < 1 || o.threads < 1 || o.duration_s <= 0 || o.report_percent < 0 ||
      o.report_percent > 100) {
    throw std::invalid_argument("connections, threads and duration must be positive");
  }
  if (o.report_percent > 0 && o.tokens_file.empty()) {
    throw std::invalid_argument("--report-percent needs --tokens");
  }
  if (o.label.empty()) o.label = o.url;
  return o;
}

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

// One connection's counts, merged after the run (each connection runs on its own strand).
struct Counts {
  std::uint64_t ok = 0;
  std::uint64_t reports = 0;
  std::uint64_t status_errors = 0;
  std::uint64_t transport_errors = 0;
  std::uint64_t resumed = 0;
  std::map<unsigned, std::uint64_t> statuses;  // non-200 answers by status
  std::string first_error;
  aloft::bench::Latencies latencies;
};

struct Shared {
  Options options;
  std::vector<std::string> tokens;
  std::atomic<std::size_t> next_token{0};
  std::atomic<std::uint64_t> next_request{0};
  std::string run_id;
  tcp::resolver::results_type endpoints;
  std::optional<ssl::context> tls;
  std::atomic<bool> measuring{false};
  std::atomic<bool> stopping{false};
  std::atomic<int> ready{0};
};

template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  Connection(Shared& shared, net::io_context& ioc)
      : shared_(shared), strand_(net::make_strand(ioc)) {}

  void Start() { Connect(); }
  // Called once measuring starts, for connections that were ready before it.
  void Go() {
    net::post(strand_, [self = this->shared_from_this()] {
      if (self->connected_ && !self->in_flight_) self->Send();
    });
  }
  Counts& counts() { return counts_; }

 private:
  bool keepalive() const { return shared_.options.mode == "keepalive"; }

  void Connect() {
    if (shared_.stopping) return;
    connected_ = false;
    if constexpr (kTls) {
      stream_.emplace(strand_, *shared_.tls);
      SSL* ssl = stream_->native_handle();
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      // The certificate must name the host: an IP address or a DNS name.
      if (X509_VERIFY_PARAM_set1_ip_asc(param, shared_.options.host.c_str()) != 1) {
        X509_VERIFY_PARAM_set1_host(param, shared_.options.host.c_str(), 0);
        // SNI for a DNS name (SSL_set_tlsext_host_name is a macro with an old-style cast).
        SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(shared_.options.host.c_str()));
      }
    } else {
      stream_.emplace(strand_);
    }
    beast::get_lowest_layer(*stream_).expires_after(std::chrono::seconds(10));
    started_ = SteadyClock::now();
    beast::get_lowest_layer(*stream_).async_connect(
        shared_.endpoints, [self = this->shared_from_this()](beast::error_code ec,
                                                             const tcp::endpoint&) {
          if (ec) return self->Failed("connect", ec);
          beast::get_lowest_layer(*self->stream_).socket().set_option(tcp::no_delay(true));
          if constexpr (kTls) {
            self->stream_->async_handshake(ssl::stream_base::client,
                                           [self](beast::error_code ec2) {
                                             if (ec2) return self->Failed("handshake", ec2);
                                             if (SSL_session_reused(
                                                     self->stream_->native_handle()) == 1) {
                                               ++self->counts_.resumed;
                                             }
                                             self->Ready();
                                           });
          } else {
            self->Ready();
          }
        });
  }

  void Ready() {
    connected_ = true;
    if (!counted_ready_) {
      counted_ready_ = true;
      ++shared_.ready;
    }
    if (shared_.measuring) Send();
  }

  void Send() {
    if (shared_.stopping) return;
    in_flight_ = true;
    const Options& o = shared_.options;
    request_ = {};
    request_.version(11);
    request_.set(http::field::host, o.host + ":" + o.port);
    request_.set(http::field::user_agent, "aloft-load");
    if (!shared_.tokens.empty()) {
      const std::string& token =
          shared_.tokens[shared_.next_token.fetch_add(1) % shared_.tokens.size()];
      request_.set(http::field::authorization, "Bearer " + token);
    }
    const std::uint64_t n = shared_.next_request.fetch_add(1);
    is_report_ = o.report_percent > 0 &&
                 static_cast<int>(n % 100) < o.report_percent;
    if (is_report_) {
      request_.method(http::verb::post);
      request_.target("/api/v1/device/reports");
      request_.set(http::field::content_type, "application/json");
      request_.body() = R"({"reports":[{"id":"load-)" + shared_.run_id + "-" + std::to_string(n) +
                        R"(","state":"downloading","bytesDone":1024,"bytesTotal":4096,"at":")" +
                        UtcNow() + R"("}]})";
    } else {
      request_.method(http::verb::get);
      request_.target(o.path);
    }
    request_.keep_alive(keepalive());
    request_.prepare_payload();
    if (keepalive()) sent_ = SteadyClock::now();  // handshake mode times from connect
    beast::get_lowest_layer(*stream_).expires_after(std::chrono::seconds(10));
    http::async_write(*stream_, request_,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->Failed("write", ec);
                        self->Read();
                      });
  }

  void Read() {
    response_ = {};
    http::async_read(*stream_, buffer_, response_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->Failed("read", ec);
                       self->OnResponse();
                     });
  }

  void OnResponse() {
    in_flight_ = false;
    if (shared_.stopping) return;  // finished after the deadline: not counted
    const auto began = keepalive() ? sent_ : started_;
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - began).count();
    if (shared_.measuring) {
      counts_.latencies.Add(static_cast<std::uint32_t>(micros));
      const unsigned status = response_.result_int();
      if (status == 200) {
        ++counts_.ok;
        if (is_report_) ++counts_.reports;
      } else {
        ++counts_.status_errors;
        ++counts_.statuses[status];
        if (counts_.first_error.empty()) {
          counts_.first_error = std::to_string(status) + " " + response_.body().substr(0, 200);
        }
      }
    }
    if (keepalive() && response_.keep_alive()) return Send();
    Reset();
    Connect();
  }

  void Failed(const char* what, beast::error_code ec) {
    in_flight_ = false;
    if (shared_.stopping) return;
    if (shared_.measuring) {
      ++counts_.transport_errors;
      if (counts_.first_error.empty()) counts_.first_error = std::string(what) + ": " + ec.message();
    }
    Reset();
    // A short pause, so a refused port does not spin the client.
    auto timer = std::make_shared<net::steady_timer>(strand_, std::chrono::milliseconds(50));
    timer->async_wait([self = this->shared_from_this(), timer](beast::error_code) {
      self->Connect();
    });
  }

  // Closes with a reset (SO_LINGER 0): no TIME_WAIT, so thousands of connections per second
  // do not exhaust the client's ports.
  void Reset() {
    connected_ = false;
    if (!stream_) return;
    beast::error_code ignored;
    auto& socket = beast::get_lowest_layer(*stream_).socket();
    socket.set_option(net::socket_base::linger(true, 0), ignored);
    socket.close(ignored);
    buffer_.clear();
  }

  Shared& shared_;
  net::strand<net::io_context::executor_type> strand_;
  std::optional<Stream> stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  SteadyClock::time_point started_{};
  SteadyClock::time_point sent_{};
  bool is_report_ = false;
  bool connected_ = false;
  bool counted_ready_ = false;
  bool in_flight_ = false;
  Counts counts_;
};

template <class Stream>
int Run(Shared& shared) {
  const Options& o = shared.options;
  net::io_context ioc(o.threads);
  tcp::resolver resolver(ioc);
  shared.endpoints = resolver.resolve(o.host, o.port);

  std::vector<std::shared_ptr<Connection<Stream>>> connections;
  for (int i = 0; i < o.connections; ++i) {
    connections.push_back(std::make_shared<Connection<Stream>>(shared, ioc));
    connections.back()->Start();
  }
  // Idle connections waiting for the start have no pending operation: keep run() running.
  auto work = net::make_work_guard(ioc);
  std::vector<std::thread> threads;
  for (int i = 0; i < o.threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });

  // Keep-alive: every connection is open (and through its handshake) before the clock starts.
  if (o.mode == "keepalive") {
    const auto give_up = SteadyClock::now() + std::chrono::seconds(15);
    while (shared.ready < o.connections && SteadyClock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (shared.ready < o.connections) {
      std::cerr << "aloft-load: only " << shared.ready << " of " << o.connections
                << " connections opened within 15 s\n";
    }
  }
  const std::int64_t cpu_before = aloft::bench::CpuMicros(o.server_pids);
  const auto start = SteadyClock::now();
  shared.measuring = true;
  for (auto& c : connections) c->Go();
  std::this_thread::sleep_for(std::chrono::duration<double>(o.duration_s));
  shared.stopping = true;
  const auto end = SteadyClock::now();
  const std::int64_t cpu_after = aloft::bench::CpuMicros(o.server_pids);
  ioc.stop();
  for (auto& t : threads) t.join();

  Counts total;
  for (auto& c : connections) {
    Counts& k = c->counts();
    total.ok += k.ok;
    total.reports += k.reports;
    total.status_errors += k.status_errors;
    total.transport_errors += k.transport_errors;
    total.resumed += k.resumed;
    for (auto [status, n] : k.statuses) total.statuses[status] += n;
    if (total.first_error.empty()) total.first_error = k.first_error;
    total.latencies.Merge(k.latencies);
  }
  total.latencies.Finish();
  const double seconds = std::chrono::duration<double>(end - start).count();
  const std::uint64_t requests = total.ok + total.status_errors;
  const std::uint64_t errors = total.status_errors + total.transport_errors;
  const double rps = static_cast<double>(requests) / seconds;
  const bool have_cpu = !o.server_pids.empty() && cpu_before >= 0 && cpu_after >= 0;
  const double cpu_per_request =
      have_cpu && requests > 0 ? static_cast<double>(cpu_after - cpu_before) / static_cast<double>(requests)
                                : -1;
  const double server_cores =
      have_cpu ? static_cast<double>(cpu_after - cpu_before) / (seconds * 1e6) : -1;
  const double p50 = total.latencies.Percentile(0.50) / 1000.0;
  const double p99 = total.latencies.Percentile(0.99) / 1000.0;
  const double p999 = total.latencies.Percentile(0.999) / 1000.0;

  std::printf("%s: %s, %d connections, %.1f s\n", o.label.c_str(), o.mode.c_str(),
              o.connections, seconds);
  std::printf("  requests: %llu (%.0f/s), reports: %llu, devices: %zu\n",
              static_cast<unsigned long long>(requests), rps,
              static_cast<unsigned long long>(total.reports), shared.tokens.size());
  std::printf("  latency ms: p50 %.3f  p99 %.3f  p99.9 %.3f\n", p50, p99, p999);
  if (have_cpu) {
    std::printf("  server CPU: %.1f us/request (%.2f cores busy)\n", cpu_per_request, server_cores);
  }
  std::printf("  errors: %llu (non-200: %llu, transport: %llu)%s%s\n",
              static_cast<unsigned long long>(errors),
              static_cast<unsigned long long>(total.status_errors),
              static_cast<unsigned long long>(total.transport_errors),
              total.first_error.empty() ? "" : "; first: ", total.first_error.c_str());
  if (total.resumed > 0) {
    std::printf("  TLS sessions resumed: %llu (expected 0)\n",
                static_cast<unsigned long long>(total.resumed));
  }
  if (!o.json_out.empty()) {
    std::ofstream out(o.json_out);
    out << "{\"label\":\"" << o.label << "\",\"mode\":\"" << o.mode
        << "\",\"connections\":" << o.connections << ",\"seconds\":" << seconds
        << ",\"requests\":" << requests << ",\"reports\":" << total.reports
        << ",\"devices\":" << shared.tokens.size() << ",\"rps\":" << rps
        << ",\"p50_ms\":" << p50 << ",\"p99_ms\":" << p99 << ",\"p999_ms\":" << p999
        << ",\"errors\":" << errors << ",\"status_errors\":" << total.status_errors
        << ",\"transport_errors\":" << total.transport_errors
        << ",\"resumed\":" << total.resumed << ",\"cpu_us_per_request\":" << cpu_per_request
        << ",\"server_cores\":" << server_cores << "}\n";
    if (!out) {
      std::cerr << "aloft-load: cannot write " << o.json_out << "\n";
      return 1;
    }
  }
  return requests > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Options> options;
  try {
    options = ParseArgs(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "aloft-load: " << e.what() << "\n";
    Usage();
    return 2;
  }
  if (!options) {
    Usage();
    return 0;
  }
  Shared shared;
  shared.options = *options;
  shared.run_id = std::to_string(std::time(nullptr)) + "-" + std::to_string(getpid());
  if (!options->tokens_file.empty()) {
    std::ifstream in(options->tokens_file);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) shared.tokens.push_back(line);
    }
    if (shared.tokens.empty()) {
      std::cerr << "aloft-load: no tokens in " << options->tokens_file << "\n";
      return 2;
    }
  }
  try {
    if (!options->tls) return Run<beast::tcp_stream>(shared);
    shared.tls.emplace(ssl::context::tls_client);
    SSL_CTX* ctx = shared.tls->native_handle();
    // TLS 1.3 only (the issue's protocol); no session cache and no tickets, so the handshake
    // mode measures full handshakes.
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    if (options->ca_file.empty()) {
      std::cerr << "aloft-load: https needs --ca (the server certificate is verified)\n";
      return 2;
    }
    shared.tls->load_verify_file(options->ca_file);
    shared.tls->set_verify_mode(ssl::verify_peer);
    return Run<beast::ssl_stream<beast::tcp_stream>>(shared);
  } catch (const std::exception& e) {
    std::cerr << "aloft-load: " << e.what() << "\n";
    return 1;
  }
}
