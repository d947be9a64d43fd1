// The only translation unit that includes Asio, Beast and Asio SSL (slow to compile): the
// listener, the plain and TLS sessions (one template), and the bodies we stream.

// g++ 12 reports -Wnull-dereference inside Asio's scheduler (scheduler.ipp) once it inlines it
// here; the warning is emitted after inlining, so the system-header exemption does not apply.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include "server/http/server.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <limits>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <utility>  // before Asio: Boost 1.74's Asio uses std::exchange without including it
#include <vector>

#include "core/crypto/x509.hpp"
#include "server/http/response_head.hpp"
#include "server/http/socket_stream.hpp"

namespace aloft::server::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using Clock_ = std::chrono::steady_clock;
// One io_context per I/O thread, and each connection lives on one of them (as nginx's workers
// do): all of a connection's handlers, its socket's and its timer's, run on that one thread,
// so no strand is needed to keep them apart, and none is paid for (a strand's locking and
// queueing cost ~7% of the CPU of a check-in; bench/README.md, "Check-in"). Naming the
// executor type, rather than Asio's type-erased any_io_executor, spares each read, write,
// timer and post the erased executor's dispatch and reference counting.
using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using TcpStream = beast::basic_stream<tcp, Executor>;
using Acceptor = net::basic_socket_acceptor<tcp, Executor>;

// TLS 1.2 suites: forward secrecy (ECDHE) with AEAD ciphers only. TLS 1.3 suites are OpenSSL's
// defaults, which are all AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::size_t kFileChunk = 64 * 1024;

// A byte range of an open file, sent with pread() in 64 KiB chunks: a large artifact is never
// in memory, and the range needs no seek on a shared descriptor.
struct FileRangeBody {
  struct value_type {
    value_type() = default;
    value_type(int fd, std::uint64_t offset, std::uint64_t length)
        : fd_(fd), offset_(offset), length_(length) {}
    value_type(value_type&& o) noexcept
        : fd_(std::exchange(o.fd_, -1)), offset_(o.offset_), length_(o.length_) {}
    value_type& operator=(value_type&& o) noexcept {
      if (this != &o) {
        Close();
        fd_ = std::exchange(o.fd_, -1);
        offset_ = o.offset_;
        length_ = o.length_;
      }
      return *this;
    }
    ~value_type() { Close(); }
    void Close() noexcept {
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
    }

    int fd_ = -1;
    std::uint64_t offset_ = 0;
    std::uint64_t length_ = 0;
  };

  static std::uint64_t size(const value_type& body) { return body.length_; }

  class writer {
   public:
    using const_buffers_type = net::const_buffer;

    template <bool isRequest, class Fields>
    writer(const bhttp::header<isRequest, Fields>& /*header*/, const value_type& body)
        : body_(body), position_(body.offset_), remaining_(body.length_) {}

    void init(beast::error_code& ec) { ec = {}; }

    boost::optional<std::pair<const_buffers_type, bool>> get(beast::error_code& ec) {
      ec = {};
      if (remaining_ == 0) return boost::none;
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(kFileChunk, remaining_));
      buffer_.resize(kFileChunk);
      ssize_t n = 0;
      do {
        n = ::pread(body_.fd_, buffer_.data(), want, static_cast<off_t>(position_));
      } while (n < 0 && errno == EINTR);
      if (n <= 0) {
        // A short file (it shrank after the response was built) is an error too: the headers
        // already promised `length` bytes.
        ec = beast::error_code(n < 0 ? errno : EIO, beast::system_category());
        return boost::none;
      }
      const auto got = static_cast<std::uint64_t>(n);
      position_ += got;
      remaining_ -= got;
      return {{net::const_buffer(buffer_.data(), static_cast<std::size_t>(n)), remaining_ > 0}};
    }

   private:
    const value_type& body_;
    std::uint64_t position_;
    std::uint64_t remaining_;
    std::vector<char> buffer_;
  };
};

std::string RandomSuffix() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(rng()));  // NOLINT
  return buf;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Shared server state. Sessions hold a reference; it outlives them (see member order in Impl).

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Called from Stop() on any thread: posts to the session's io_context.
  virtual void BeginShutdown() = 0;
};

struct HttpServer::Impl {
  ServerConfig config;
  const Router& router;
  std::optional<RateLimiter> ip_limiter;
  std::atomic<bool> stopping{false};
  bool stopped = false;

  mutable std::mutex sessions_mutex;
  std::condition_variable sessions_cv;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;

  // Declared after everything sessions use, so the io_contexts (and the sessions their
  // pending handlers own) are destroyed first. One per I/O thread and, with more than one I/O
  // thread, one more for the acceptor, whose thread only accepts and deals the new connections
  // out in turn: accepting must not wait for a handler (a login's Argon2 takes a while), and
  // a handler that blocks holds only its own thread's connections (the price of running
  // without strands). With a single I/O thread every connection waits for that thread anyway,
  // so it accepts them itself, as a single nginx worker does: the hand-over between two
  // threads cost 4% of the server's CPU per full TLS handshake (bench/README.md, session 11).
  std::optional<ssl::context> tls;
  // The I/O threads' (config.threads of them), then any acceptor's.
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work;
  std::optional<Acceptor> acceptor;  // on contexts.back()
  std::size_t next_context = 0;      // touched only by the acceptor's handlers
  std::uint16_t port = 0;
  std::vector<std::thread> threads;

  Impl(ServerConfig c, const Router& r, const Clock& clock) : config(std::move(c)), router(r) {
    // Concurrency hint 1: each io_context is run by one thread (posting from others is safe).
    const std::size_t count = config.threads == 1 ? 1 : config.threads + 1;
    for (std::size_t i = 0; i < count; ++i) {
      contexts.push_back(std::make_unique<net::io_context>(1));
    }
    acceptor.emplace(contexts.back()->get_executor());
    if (config.per_ip_limit) ip_limiter.emplace(clock, *config.per_ip_limit);
    if (!config.log) {
      config.log = [](std::string_view line) {
        std::fprintf(stderr, "aloftd http: %.*s\n", static_cast<int>(line.size()), line.data());
      };
    }
    if (config.upload_dir.empty()) config.upload_dir = std::filesystem::temp_directory_path();
  }

  ~Impl() {
    // A pending accept, owned by the acceptor's context, holds the new connection's socket,
    // which may belong to an I/O thread's context: destroy the acceptor first, or that socket
    // could outlive its context's services.
    acceptor.reset();
    work.clear();
    while (!contexts.empty()) contexts.pop_back();
  }

  void Register(SessionBase* s, std::weak_ptr<SessionBase> weak) {
    std::lock_guard lock(sessions_mutex);
    sessions.emplace(s, std::move(weak));
  }
  void Unregister(SessionBase* s) {
    {
      std::lock_guard lock(sessions_mutex);
      sessions.erase(s);
    }
    sessions_cv.notify_all();
  }
  std::size_t SessionCount() const {
    std::lock_guard lock(sessions_mutex);
    return sessions.size();
  }

  void Accept();
  void OnAccept(beast::error_code ec, Socket socket);
};

namespace {

using Impl = HttpServer::Impl;

enum class Phase : std::uint8_t { kHandshake, kIdle, kReadingHead, kBusy };

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = Stream::kTls;

  Session(Impl& server, Socket&& socket)
      : server_(server),
        executor_(socket.get_executor()),
        stream_(MakeStream(server, std::move(socket))) {
    beast::error_code ec;
    auto endpoint = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) peer_ = endpoint.address().to_string();
  }
  ~Session() override {
    RemoveUpload();
    server_.Unregister(this);
  }

  void Run() {
    server_.Register(this, this->shared_from_this());
    net::dispatch(executor_, [self = this->shared_from_this()] { self->Begin(); });
  }

  void BeginShutdown() override {
    net::post(executor_, [self = this->shared_from_this()] {
      // Idle, half-received and handshaking connections close now; busy ones close after
      // their response (keep-alive is off once `stopping` is set).
      if (self->phase_ != Phase::kBusy) self->Close();
    });
  }

 private:
  static Stream MakeStream(Impl& server, Socket&& socket) {
    if constexpr (kTls) {
      return Stream(TcpStream(std::move(socket)), server.tls->native_handle());
    } else {
      return Stream(TcpStream(std::move(socket)));
    }
  }

  TcpStream& Tcp() { return beast::get_lowest_layer(stream_); }

  // The deadline of the operations that start next (see SocketStream).
  void ExpiresAt(Clock_::time_point deadline) { stream_.expires_at(deadline); }
  void ExpiresAfter(Clock_::duration d) { ExpiresAt(Clock_::now() + d); }

  void Begin() {
    if (server_.stopping || !stream_.ok()) return Close();
    if constexpr (kTls) {
      phase_ = Phase::kHandshake;
      ExpiresAfter(server_.config.header_timeout);
      stream_.async_handshake(
          [self = this->shared_from_this()](beast::error_code ec) { self->OnHandshake(ec); });
    } else {
      ReadHead();
    }
  }

  void OnHandshake(beast::error_code ec) {
    if (ec) return Close();
    if constexpr (kTls) {
      SSL* ssl_handle = stream_.native_handle();
      X509* cert = SSL_get0_peer_certificate(ssl_handle);
      if (cert != nullptr && SSL_get_verify_result(ssl_handle) == X509_V_OK) {
        unsigned char* der = nullptr;
        int len = i2d_X509(cert, &der);
        if (len > 0 && der != nullptr) {
          auto summary =
              core::crypto::SummarizeCertificateDer(ByteView(der, static_cast<std::size_t>(len)));
          if (summary) {
            client_cert_ =
                ClientCertificate{summary->subject_common_name, summary->sha256_fingerprint};
          }
        }
        OPENSSL_free(der);
      }
    }
    ReadHead();
  }

  // Between requests: wait up to idle_timeout for the first byte of the next one (unless
  // pipelined bytes are already buffered), then give the head header_timeout.
  void WaitForNextRequest() {
    if (server_.stopping) return Close();
    if (buffer_.size() > 0) return ReadHead();
    phase_ = Phase::kIdle;
    ExpiresAfter(server_.config.idle_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadHead();
                            });
  }

  void ReadHead() {
    if (server_.stopping) return Close();
    phase_ = Phase::kReadingHead;
    head_parser_.emplace();
    head_parser_->header_limit(static_cast<std::uint32_t>(server_.config.max_header_bytes));
    head_parser_->eager(false);
    // Beast checks Content-Length against the parser's body limit (1 MB by default) as soon as
    // the head arrives; the route's own limit is applied once the route is known (413).
    head_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    ExpiresAfter(server_.config.header_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *head_parser_,
        [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->OnHead(ec); });
  }

  void OnHead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::eof) {
      return Close();
    }
    phase_ = Phase::kBusy;
    started_ = Clock_::now();
    request_read_whole_ = false;
    request_.Clear();
    method_name_.clear();
    route_ = nullptr;
    if (ec == bhttp::error::header_limit) {
      return SendError(431, errors::kHeadersTooLarge, "request header fields too large", false);
    }
    if (ec) {
      if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
        return SendError(400, errors::kBadRequest, "malformed request", false);
      }
      return Close();  // a transport error: nobody to answer
    }
    auto& head = head_parser_->get();
    method_name_ = std::string(head.method_string());
    request_.method = ParseMethod(method_name_);
    request_.method_name = method_name_;
    request_.target.assign(head.target().data(), head.target().size());
    request_.peer_address = peer_;
    request_.tls = kTls;
    request_.client_certificate = client_cert_;
    request_.headers.Reserve(static_cast<std::size_t>(std::distance(head.begin(), head.end())));
    for (const auto& field : head) {
      request_.headers.Add(std::string(field.name_string()), std::string(field.value()));
    }
    // Early answers can keep the connection only when no unread body follows the head.
    const bool no_body = head_parser_->is_done();
    request_read_whole_ = no_body;
    const bool keep = no_body && head.keep_alive();
    keep_alive_request_ = head.keep_alive();

    if (head.version() != 11 && head.version() != 10) {
      return SendError(400, errors::kBadRequest, "unsupported HTTP version", false);
    }
    auto target = ParseTarget(request_.target);
    if (!target) return SendError(400, errors::kBadRequest, target.error().message(), keep);
    request_.path = std::move(target->path);
    request_.segments = std::move(target->segments);
    request_.query = std::move(target->query);

    if (server_.ip_limiter) {
      RateDecision decision = server_.ip_limiter->Take(peer_);
      if (!decision.allowed) {
        Response r = Response::Error(429, errors::kRateLimited, "too many requests");
        r.headers.Set("Retry-After", std::to_string(decision.retry_after.count()));
        return Send(std::move(r), keep);
      }
    }

    RouteMatch match = server_.router.Find(request_.method, request_.segments);
    if (match.route == nullptr) {
      if (match.allowed.empty()) return SendError(404, errors::kNotFound, "no such resource", keep);
      Response r = Response::Error(405, errors::kMethodNotAllowed, "method not allowed");
      r.headers.Set("Allow", AllowHeader(match.allowed));
      return Send(std::move(r), keep);
    }
    route_ = match.route;
    params_ = std::move(match.params);

    const RouteOptions& options = route_->options;
    if (auto length = head_parser_->content_length(); length && *length > options.max_body_bytes) {
      return SendError(413, errors::kTooLarge, "request body too large", false);
    }
    if (no_body) return Handle();

    const auto deadline =
        started_ + options.request_timeout.value_or(server_.config.request_timeout);
    ExpiresAt(deadline);
    if (beast::iequals(head[bhttp::field::expect], "100-continue")) {
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = this->shared_from_this()](beast::error_code wec, std::size_t) {
                         if (wec) return self->Close();
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    const RouteOptions& options = route_->options;
    if (options.stream_body_to_file) {
      upload_path_ = server_.config.upload_dir / ("aloft-upload-" + RandomSuffix());
      file_parser_.emplace(std::move(*head_parser_));
      file_parser_->body_limit(options.max_body_bytes);
      beast::error_code ec;
      file_parser_->get().body().open(upload_path_.c_str(), beast::file_mode::write_new, ec);
      if (ec) {
        server_.config.log("cannot create an upload file: " + ec.message());
        upload_path_.clear();
        return SendError(500, errors::kInternal, "internal error", false);
      }
      bhttp::async_read(stream_, buffer_, *file_parser_,
                        [self = this->shared_from_this()](beast::error_code rec, std::size_t) {
                          self->OnBody(rec);
                        });
    } else {
      body_parser_.emplace(std::move(*head_parser_));
      body_parser_->body_limit(options.max_body_bytes);
      bhttp::async_read(stream_, buffer_, *body_parser_,
                        [self = this->shared_from_this()](beast::error_code rec, std::size_t) {
                          self->OnBody(rec);
                        });
    }
  }

  void OnBody(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      RemoveUpload();
      return SendError(413, errors::kTooLarge, "request body too large", false);
    }
    if (ec == beast::error::timeout) {
      RemoveUpload();
      return SendError(408, errors::kTimeout, "request took too long", false);
    }
    if (ec) {
      RemoveUpload();
      if (ec.category() == bhttp::make_error_code(bhttp::error::bad_chunk).category()) {
        return SendError(400, errors::kBadRequest, "malformed request body", false);
      }
      return Close();
    }
    request_read_whole_ = true;
    if (file_parser_) {
      beast::error_code close_ec;
      file_parser_->get().body().file().close(close_ec);
      request_.body_file = upload_path_;
      std::error_code size_ec;
      request_.body_size = std::filesystem::file_size(upload_path_, size_ec);
      keep_alive_request_ = file_parser_->get().keep_alive();
      file_parser_.reset();
    } else {
      request_.body = std::move(body_parser_->get().body());
      request_.body_size = request_.body.size();
      keep_alive_request_ = body_parser_->get().keep_alive();
      body_parser_.reset();
    }
    Handle();
  }

  void Handle() {
    Response response = InvokeHandler(*route_, request_, params_, server_.config.log);
    RemoveUpload();
    Send(std::move(response), keep_alive_request_);
  }

  void SendError(int status, std::string_view code, std::string_view message, bool keep_alive) {
    Send(Response::Error(status, code, message), keep_alive);
  }

  void Send(Response response, bool keep_alive) {
    phase_ = Phase::kBusy;
    ApplySecurityHeaders(response, kTls);
    keep_alive = keep_alive && !server_.stopping;
    status_ = response.status;
    const bool head_only = request_.method == Method::kHead;
    body_bytes_ = head_only ? 0 : response.BodySize();
    if (response.file && !head_only) {
      int fd = ::open(response.file->path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        server_.config.log("cannot open a response file: " + std::string(std::strerror(errno)));
        Response error = Response::Error(500, errors::kInternal, "internal error");
        return Send(std::move(error), keep_alive);
      }
      bhttp::response<FileRangeBody> message;
      Fill(message, response, keep_alive);
      message.body() = FileRangeBody::value_type(fd, response.file->offset, response.file->length);
      message.prepare_payload();
      return Write(std::make_shared<Outgoing<FileRangeBody>>(std::move(message)));
    }
    SendBuffered(response, keep_alive, head_only);
  }

  // An in-memory response (or a HEAD answer): our own head (response_head.hpp) and the body,
  // in one buffer when the body is small, which spares the TLS layer a copy to join them.
  void SendBuffered(Response& response, bool keep_alive, bool head_only) {
    out_head_.clear();
    out_body_.clear();
    const std::size_t dropped =
        AppendResponseHead(response, response.BodySize(), keep_alive, out_head_);
    if (dropped > 0) {
      server_.config.log("left out " + std::to_string(dropped) +
                         " malformed response header field(s) of route '" +
                         (route_ != nullptr ? route_->options.name : std::string()) + "'");
    }
    if (!head_only && !StatusHasNoContent(response.status)) {
      if (response.body.size() <= kCoalesceBytes) {
        out_head_ += response.body;
      } else {
        out_body_ = std::move(response.body);
      }
    }
    out_written_ = 0;
    out_keep_alive_ = keep_alive;
    WriteBuffered();
  }

  // One piece at a time, so that write_stall_timeout bounds each piece (see Write).
  void WriteBuffered() {
    ExpiresAfter(server_.config.write_stall_timeout);
    std::array<net::const_buffer, 2> pieces;
    if (out_written_ < out_head_.size()) {
      pieces = {net::buffer(out_head_) + out_written_, net::buffer(out_body_)};
    } else {
      pieces = {net::buffer(out_body_) + (out_written_ - out_head_.size()), net::const_buffer()};
    }
    stream_.async_write_some(
        pieces, [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
          if (ec) {
            self->Observe();
            return self->Close();
          }
          self->out_written_ += n;
          if (self->out_written_ < self->out_head_.size() + self->out_body_.size()) {
            return self->WriteBuffered();
          }
          self->Observe();
          // Keep a keep-alive connection's buffer for its next response, unless a large one
          // grew it: thousands of idle connections must not each hold a large buffer.
          if (self->out_head_.capacity() > 2 * kCoalesceBytes) std::string().swap(self->out_head_);
          std::string().swap(self->out_body_);
          if (!self->out_keep_alive_) return self->LingerClose();
          self->WaitForNextRequest();
        });
  }

  // The serializer builds its body writer on construction, so the message must be complete
  // before it: build the message first, then move it in here.
  template <class Body>
  struct Outgoing {
    explicit Outgoing(bhttp::response<Body>&& m) : message(std::move(m)), serializer(message) {}
    bhttp::response<Body> message;
    bhttp::response_serializer<Body> serializer;
  };

  template <class Body>
  static void Fill(bhttp::response<Body>& message, const Response& response, bool keep_alive) {
    message.version(11);
    message.result(static_cast<unsigned>(response.status));
    for (const auto& [name, value] : response.headers.fields()) {
      if (IsWritableField(name, value)) message.insert(name, value);
    }
    message.keep_alive(keep_alive);
  }

  // Writes in pieces so that write_stall_timeout bounds each piece, not the whole response:
  // a large download on a slow link is fine, a reader that stops reading is not.
  template <class Body>
  void Write(std::shared_ptr<Outgoing<Body>> out) {
    ExpiresAfter(server_.config.write_stall_timeout);
    bhttp::async_write_some(
        stream_, out->serializer,
        [self = this->shared_from_this(), out](beast::error_code ec, std::size_t) mutable {
          if (ec) {
            self->Observe();
            return self->Close();
          }
          if (!out->serializer.is_done()) return self->Write(std::move(out));
          self->Observe();
          if (!out->message.keep_alive()) return self->LingerClose();
          self->WaitForNextRequest();
        });
  }

  void Observe() {
    if (!server_.config.observer) return;
    RequestLog log;
    log.method = method_name_;
    log.route = route_ != nullptr ? route_->options.name : std::string();
    log.status = status_;
    log.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock_::now() - started_);
    log.body_bytes_sent = body_bytes_;
    log.peer_address = peer_;
    server_.config.observer(log);
  }

  void RemoveUpload() {
    if (file_parser_) {
      beast::error_code ec;
      file_parser_->get().body().file().close(ec);
      file_parser_.reset();
    }
    if (!upload_path_.empty()) {
      std::error_code ec;
      std::filesystem::remove(upload_path_, ec);
      upload_path_.clear();
    }
  }

  // After a response that ends the connection: stop sending, then read and discard what the
  // client is still sending (an oversized body) for a moment before closing. Closing with
  // unread bytes would make the kernel send a reset, and the client might lose the response.
  // When the whole request was read and nothing more has come, there is nothing to wait for
  // (nginx's `lingering_close on` makes the same call): the common `Connection: close`
  // request closes at once, which spares it two shutdowns, two reads and a timer (about 1% of
  // the server's CPU per full TLS handshake, bench/README.md, session 11).
  void LingerClose() {
    if (closed_) return;
    if (request_read_whole_ && NothingMoreToRead()) return Close();
    beast::error_code ec;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    phase_ = Phase::kIdle;  // Stop() may close it at once
    linger_deadline_ = Clock_::now() + kLinger;
    Discard();
  }

  void Discard() {
    if (closed_) return;
    // Raw reads on the TCP stream (the bytes are thrown away, TLS or not): its deadline.
    Tcp().expires_at(linger_deadline_);
    Tcp().async_read_some(net::buffer(discard_),
                          [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                            if (ec) return self->Close();
                            self->Discard();
                          });
  }

  // No bytes of the client's are waiting: not in our buffer, not in OpenSSL's, not in the
  // kernel's receive queue (FIONREAD). A client that sends after `Connection: close` may lose
  // the response, as RFC 9112 section 9.6 warns it.
  bool NothingMoreToRead() {
    if (buffer_.size() > 0) return false;
    if constexpr (kTls) {
      if (SSL_has_pending(stream_.native_handle()) == 1) return false;
    }
    beast::error_code ec;
    const std::size_t queued = Tcp().socket().available(ec);
    return !ec && queued == 0;
  }

  // Closes the TCP connection (for TLS without close_notify: every response is delimited by
  // Content-Length, so a truncation is visible to the client anyway).
  void Close() {
    if (closed_) return;
    closed_ = true;
    Tcp().close();  // a FIN after what is queued, or a reset when unread bytes remain
  }

  Impl& server_;
  Executor executor_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::string peer_;
  std::optional<ClientCertificate> client_cert_;
  Phase phase_ = Phase::kHandshake;
  bool closed_ = false;
  static constexpr std::chrono::milliseconds kLinger{1000};
  Clock_::time_point linger_deadline_{};
  std::array<char, 4096> discard_{};

  std::optional<bhttp::request_parser<bhttp::empty_body>> head_parser_;
  std::optional<bhttp::request_parser<bhttp::string_body>> body_parser_;
  std::optional<bhttp::request_parser<bhttp::file_body>> file_parser_;
  std::filesystem::path upload_path_;

  // The response being written by WriteBuffered.
  static constexpr std::size_t kCoalesceBytes = 4096;
  std::string out_head_;  // head, and the body when it is at most kCoalesceBytes
  std::string out_body_;  // a larger body
  std::size_t out_written_ = 0;
  bool out_keep_alive_ = false;

  Request request_;
  std::string method_name_;
  const Route* route_ = nullptr;
  RouteParams params_;
  bool keep_alive_request_ = false;
  bool request_read_whole_ = false;  // head and body, so a closing answer need not linger
  Clock_::time_point started_{};
  int status_ = 0;
  std::uint64_t body_bytes_ = 0;
};

using PlainSession = Session<SocketStream<TcpStream, PlainIo>>;
using TlsSession = Session<SocketStream<TcpStream, TlsIo>>;

Result<ssl::context> MakeTlsContext(const TlsConfig& tls) {
  ssl::context ctx(ssl::context::tls_server);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::no_compression | ssl::context::single_dh_use);
  SSL_CTX* native = ctx.native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return Fail(Errc::kInternal, "cannot require TLS 1.2");
  }
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_num_tickets(native, tls.session_tickets) != 1) {
    return Fail(Errc::kInternal, "cannot set the number of TLS session tickets");
  }
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return Fail(Errc::kInternal, "cannot set the TLS 1.2 cipher list");
  }
  beast::error_code ec;
  ctx.use_certificate_chain_file(tls.certificate_chain_file.string(), ec);
  if (ec) return Fail(Errc::kInvalidArgument, "TLS certificate chain: " + ec.message());
  ctx.use_private_key_file(tls.private_key_file.string(), ssl::context::pem, ec);
  if (ec) return Fail(Errc::kInvalidArgument, "TLS private key: " + ec.message());
  if (SSL_CTX_check_private_key(native) != 1) {
    return Fail(Errc::kInvalidArgument, "the TLS private key does not match the certificate");
  }
  if (tls.client_auth != ClientAuth::kNone) {
    if (tls.client_ca_file.empty()) {
      return Fail(Errc::kInvalidArgument, "client certificates need a client CA file");
    }
    ctx.load_verify_file(tls.client_ca_file.string(), ec);
    if (ec) return Fail(Errc::kInvalidArgument, "client CA file: " + ec.message());
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str());
    if (names == nullptr) return Fail(Errc::kInvalidArgument, "client CA file has no certificate");
    SSL_CTX_set_client_CA_list(native, names);
    ssl::verify_mode mode = ssl::verify_peer;
    if (tls.client_auth == ClientAuth::kRequired) mode |= ssl::verify_fail_if_no_peer_cert;
    ctx.set_verify_mode(mode, ec);
    if (ec) return Fail(Errc::kInternal, "cannot set the verify mode: " + ec.message());
    // Resumed sessions keep the verified certificate; OpenSSL needs a context ID for that.
    static constexpr unsigned char kSessionContext[] = "aloftd";
    SSL_CTX_set_session_id_context(native, kSessionContext, sizeof(kSessionContext) - 1);
  }
  return ctx;
}

}  // namespace

void HttpServer::Impl::Accept() {
  net::io_context& home = *contexts[next_context];
  next_context = (next_context + 1) % config.threads;
  acceptor->async_accept(home.get_executor(), [this](beast::error_code ec, Socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void HttpServer::Impl::OnAccept(beast::error_code ec, Socket socket) {
  if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
  if (ec) {
    config.log("accept: " + ec.message());
  } else if (stopping || SessionCount() >= config.max_connections) {
    beast::error_code ignored;
    socket.close(ignored);  // over capacity: refuse at once rather than queue
  } else if (tls) {
    std::make_shared<TlsSession>(*this, std::move(socket))->Run();
  } else {
    std::make_shared<PlainSession>(*this, std::move(socket))->Run();
  }
  Accept();
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(std::chrono::milliseconds(0)); }

std::uint16_t HttpServer::port() const noexcept { return impl_->port; }

std::size_t HttpServer::ConnectionCountForTest() const { return impl_->SessionCount(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(ServerConfig config, const Router& router,
                                                      const Clock& clock) {
  if (!config.tls && !config.allow_plain_http) {
    return Fail(Errc::kInvalidArgument, "plain HTTP is not allowed: configure TLS");
  }
  if (config.threads == 0) config.threads = 1;
  // OpenSSL writes TLS records to the socket with write(2) (TlsIo in socket_stream.hpp), which
  // raises SIGPIPE when the peer has gone, and its default action would end the process. Asio's own
  // writes pass MSG_NOSIGNAL; OpenSSL's socket BIO has no such flag. nginx ignores it too.
  std::signal(SIGPIPE, SIG_IGN);
  auto impl = std::make_unique<Impl>(std::move(config), router, clock);
  if (impl->config.tls) {
    auto ctx = MakeTlsContext(*impl->config.tls);
    if (!ctx) return Fail(std::move(ctx).error());
    impl->tls.emplace(std::move(*ctx));
  }
  beast::error_code ec;
  auto address = net::ip::make_address(impl->config.address, ec);
  if (ec) return Fail(Errc::kInvalidArgument, "bad listen address '" + impl->config.address + "'");
  tcp::endpoint endpoint(address, impl->config.port);
  auto& acceptor = *impl->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Fail(Errc::kUnavailable, "cannot listen on " + impl->config.address + ":" +
                                        std::to_string(impl->config.port) + ": " + ec.message());
  }
  impl->port = acceptor.local_endpoint().port();
  for (auto& context : impl->contexts) impl->work.emplace_back(context->get_executor());
  impl->Accept();
  Impl* raw = impl.get();
  for (auto& context : raw->contexts) {
    raw->threads.emplace_back([raw, ioc = context.get()] {
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          raw->config.log(std::string("I/O thread: ") + e.what());
        }
      }
    });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::Stop(std::chrono::milliseconds drain) {
  Impl& s = *impl_;
  if (s.stopped) return;
  s.stopped = true;
  s.stopping = true;
  // Close the listening socket on its thread and wait for that, so that once Stop has begun
  // draining, new connections are refused by the kernel.
  {
    std::promise<void> closed;
    net::post(s.acceptor->get_executor(), [&s, &closed] {
      beast::error_code ec;
      s.acceptor->close(ec);
      closed.set_value();
    });
    closed.get_future().wait();
  }
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard lock(s.sessions_mutex);
    for (auto& [raw, weak] : s.sessions) {
      if (auto session = weak.lock()) live.push_back(std::move(session));
    }
  }
  for (auto& session : live) session->BeginShutdown();
  live.clear();  // sessions must be free to go away while we wait
  {
    std::unique_lock lock(s.sessions_mutex);
    s.sessions_cv.wait_for(lock, drain, [&s] { return s.sessions.empty(); });
  }
  s.work.clear();
  for (auto& context : s.contexts) context->stop();
  for (auto& thread : s.threads) thread.join();
  s.threads.clear();
}

}  // namespace aloft::server::http
