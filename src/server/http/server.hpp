#pragma once

// aloftd's HTTP(S) front: HTTP/1.1 with keep-alive over TLS 1.2/1.3 (or plain HTTP when the
// configuration allows it), on Boost.Beast. The transport reads, bounds, routes and writes;
// handlers (router.hpp) see only Request and Response values.
//
// Every input is bounded: head size (431), body size per route (413, before the handler
// runs), time to send the head (slowloris: the connection is dropped), time for the whole
// request (408), time a connection may sit idle between requests, how long a write may stall,
// the number of connections (excess ones are closed at once) and requests per client IP
// (429 with Retry-After). Requests on one connection are answered one at a time, in order:
// pipelined requests wait in the read buffer, so the queue per connection is one request.
// Every response, errors included, carries the security headers of ApplySecurityHeaders;
// errors are JSON {"error":{"code":..,"message":..}} and never carry internal details.
//
// Threads: `threads` I/O threads, each with its own event loop (io_context), and one thread
// that accepts connections and hands each to the I/O threads in turn; a connection stays on
// its thread. Handlers run on that thread too, so a handler that blocks (an operator login's
// Argon2id hash, a busy database) also delays the other connections of its thread, as in
// nginx's workers.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "server/http/rate_limiter.hpp"
#include "server/http/router.hpp"

namespace aloft::server::http {

enum class ClientAuth : std::uint8_t {
  kNone,      // no client certificate is requested
  kOptional,  // requested; a presented certificate must verify, but none is fine
  kRequired,  // the handshake fails without a certificate that verifies
};

struct TlsConfig {
  std::filesystem::path certificate_chain_file;  // PEM: leaf first, then intermediates
  std::filesystem::path private_key_file;        // PEM, unencrypted
  // PEM CA bundle for device certificates; required unless client_auth is kNone.
  std::filesystem::path client_ca_file;
  ClientAuth client_auth = ClientAuth::kNone;
  // TLS 1.3 session tickets sent after each full handshake; 0 turns resumption by ticket off.
  // One suffices for clients that reconnect one connection at a time, as devices do (every
  // resumption brings a fresh ticket); each more costs the server an encrypted copy of the
  // session per handshake, about 5% of a full handshake's CPU (bench/README.md, session 11).
  unsigned session_tickets = 1;
};

// One line of the access log / one metrics sample, delivered after the response was sent (or
// the connection failed while sending it).
struct RequestLog {
  std::string method;
  std::string route;  // RouteOptions::name, or "" when no route matched
  int status = 0;
  std::chrono::microseconds duration{0};  // head received → response sent
  std::uint64_t body_bytes_sent = 0;
  std::string peer_address;
};

struct ServerConfig {
  std::string address = "127.0.0.1";  // IPv4 or IPv6 literal
  std::uint16_t port = 0;             // 0: an ephemeral port (see HttpServer::port())
  unsigned threads = 2;

  // TLS when set. Without it, Start fails unless allow_plain_http is set (the composition root
  // allows that only on loopback or behind a TLS-terminating proxy).
  std::optional<TlsConfig> tls;
  bool allow_plain_http = false;

  std::size_t max_header_bytes = 8 * 1024;                // → 431
  std::chrono::milliseconds header_timeout{10'000};       // head must arrive within this
  std::chrono::milliseconds request_timeout{60'000};      // head + body; per-route override
  std::chrono::milliseconds idle_timeout{30'000};         // keep-alive wait for the next request
  std::chrono::milliseconds write_stall_timeout{30'000};  // a write making no progress
  std::size_t max_connections = 1024;

  // Where streamed uploads are written while they arrive. Empty: the system temp directory.
  std::filesystem::path upload_dir;

  // Per client IP; none when unset.
  std::optional<RateLimit> per_ip_limit;

  // Called once per answered request; must be thread-safe and quick.
  std::function<void(const RequestLog&)> observer;
  // Internal errors (handler exceptions, I/O failures). Default: stderr.
  std::function<void(std::string_view)> log;
};

class HttpServer {
 public:
  // Binds, listens and starts the I/O threads. `router` and `clock` must outlive the server.
  // kInvalidArgument for a bad configuration (no TLS without allow_plain_http, unreadable or
  // mismatched certificate/key, missing client CA), kUnavailable when the address cannot be
  // bound.
  static Result<std::unique_ptr<HttpServer>> Start(ServerConfig config, const Router& router,
                                                   const Clock& clock);

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  // Stop(0) if Stop was not called.
  ~HttpServer();

  // The bound port (the ephemeral one when config.port was 0).
  std::uint16_t port() const noexcept;

  // Graceful shutdown (what SIGTERM should call): stops accepting (new connections are
  // refused), closes idle and half-received connections, lets requests being handled or sent
  // finish and close, for up to `drain`; then closes everything left and joins the threads. A
  // handler still running at the deadline is waited for (handlers cannot be interrupted).
  // Idempotent; call from any thread except the server's own.
  void Stop(std::chrono::milliseconds drain);

  std::size_t ConnectionCountForTest() const;

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aloft::server::http
