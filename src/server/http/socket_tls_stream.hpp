#pragma once
// TLS on the connection's own socket: OpenSSL reads and writes the descriptor itself, as nginx
// has it do, and Asio only waits for the socket to become readable or writable.
//
// Asio's ssl::stream instead moves every record through a BIO pair and its engine clears
// OpenSSL's error queue before each call: over HTTPS aloftd spent 8.6 µs a request more than
// over plain HTTP where nginx spends 4.2 (bench/README.md, "Session 10").
//
// Included by server.cpp only (the one translation unit that includes Asio and Beast). It is
// a Beast AsyncStream for one connection: one read and one write at a time, as Beast and the
// session issue them. Deadlines work as basic_stream's: expires_at/expires_after apply to the
// operations that wait after the call, and an operation still waiting at the deadline ends
// with beast::error::timeout (the socket's wait is cancelled).

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>

namespace aloft::server::http {

template <class TcpStream>
class SocketTlsStream {
 public:
  using next_layer_type = TcpStream;
  using executor_type = typename TcpStream::executor_type;
  using clock_type = std::chrono::steady_clock;

  // `tcp`'s socket is open and connected; `ctx` is the server's context (certificate, ciphers,
  // client verification). Check ok() before use: SSL_new can fail for lack of memory.
  SocketTlsStream(TcpStream&& tcp, SSL_CTX* ctx)
      : tcp_(std::move(tcp)),
        timer_(tcp_.get_executor()),
        watch_(std::make_shared<Watch>()),
        ssl_(SSL_new(ctx)) {
    watch_->socket = &tcp_.socket();
    if (ssl_ == nullptr) return;
    boost::system::error_code ec;
    tcp_.socket().non_blocking(true, ec);
    if (ec || SSL_set_fd(ssl_, static_cast<int>(tcp_.socket().native_handle())) != 1) {
      SSL_free(ssl_);
      ssl_ = nullptr;
      return;
    }
    SSL_set_accept_state(ssl_);
    // Read whole socket buffers, not a 5-byte record header and then its body: one recv per
    // request, as Asio's stream had. Partial writes and a moving buffer: Beast's buffers may
    // move between retries of a write that waited.
    SSL_set_read_ahead(ssl_, 1);
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  }
  ~SocketTlsStream() {
    watch_->alive = false;
    if (ssl_ != nullptr) SSL_free(ssl_);
  }
  SocketTlsStream(const SocketTlsStream&) = delete;
  SocketTlsStream& operator=(const SocketTlsStream&) = delete;

  bool ok() const noexcept { return ssl_ != nullptr; }
  executor_type get_executor() noexcept { return tcp_.get_executor(); }
  TcpStream& next_layer() noexcept { return tcp_; }
  SSL* native_handle() noexcept { return ssl_; }

  void expires_at(clock_type::time_point deadline) {
    tcp_.expires_at(deadline);  // for reads on the bare socket (the session's linger)
    deadline_ = deadline;
  }
  void expires_after(clock_type::duration d) { expires_at(clock_type::now() + d); }

  template <class Handler>
  auto async_handshake(Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::beast::error_code)>(
        Op<Handshake>{*this, {}}, handler, tcp_);
  }

  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::beast::error_code, std::size_t)>(
        Op<Read>{*this, Read{First<boost::asio::mutable_buffer>(buffers)}}, handler, tcp_);
  }

  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::beast::error_code, std::size_t)>(
        Op<Write>{*this, Write{First<boost::asio::const_buffer>(buffers)}}, handler, tcp_);
  }

 private:
  // What the timer's handler may touch: the stream can be gone by the time it runs.
  struct Watch {
    bool alive = true;
    bool fired = false;
    std::uint64_t generation = 0;
    typename TcpStream::socket_type* socket = nullptr;
  };

  enum class Next { kDone, kWaitRead, kWaitWrite };

  // The first non-empty buffer: like Asio's stream, one TLS write or read per call.
  template <class Buffer, class Buffers>
  static Buffer First(const Buffers& buffers) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      Buffer b(*it);
      if (b.size() > 0) return b;
    }
    return Buffer();
  }

  // After an SSL call returned `ret` <= 0: wait, or the error the operation ends with. The
  // error queue is left empty, so that SSL_get_error stays right for the next call on this
  // thread.
  Next Failed(int ret, boost::beast::error_code& ec) {
    const int reason = SSL_get_error(ssl_, ret);
    if (reason == SSL_ERROR_WANT_READ) return Next::kWaitRead;
    if (reason == SSL_ERROR_WANT_WRITE) return Next::kWaitWrite;
    if (reason == SSL_ERROR_ZERO_RETURN) {
      ec = boost::asio::error::eof;  // close_notify
    } else if (reason == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
      ec = errno != 0 ? boost::beast::error_code(errno, boost::system::system_category())
                      : boost::beast::error_code(boost::asio::ssl::error::stream_truncated);
    } else {
      ec = boost::beast::error_code(static_cast<int>(ERR_get_error()),
                                    boost::asio::error::get_ssl_category());
    }
    ERR_clear_error();
    return Next::kDone;
  }

  // Another thread-local user of OpenSSL (a handler's crypto) may have left an error queued,
  // which would make SSL_get_error report SSL_ERROR_SSL for a plain "want read". Clearing the
  // queue costs a loop over its 16 slots; looking at it costs one read.
  static void ClearStaleErrors() {
    if (ERR_peek_error() != 0) ERR_clear_error();
  }

  struct Handshake {
    Next Step(SocketTlsStream& s, boost::beast::error_code& ec, std::size_t& /*n*/) {
      ClearStaleErrors();
      const int ret = SSL_do_handshake(s.ssl_);
      return ret == 1 ? Next::kDone : s.Failed(ret, ec);
    }
  };
  struct Read {
    boost::asio::mutable_buffer buffer;
    Next Step(SocketTlsStream& s, boost::beast::error_code& ec, std::size_t& n) {
      if (buffer.size() == 0) return Next::kDone;
      ClearStaleErrors();
      const int ret = SSL_read_ex(s.ssl_, buffer.data(), buffer.size(), &n);
      return ret == 1 ? Next::kDone : s.Failed(ret, ec);
    }
  };
  struct Write {
    boost::asio::const_buffer buffer;
    Next Step(SocketTlsStream& s, boost::beast::error_code& ec, std::size_t& n) {
      if (buffer.size() == 0) return Next::kDone;
      ClearStaleErrors();
      const int ret = SSL_write_ex(s.ssl_, buffer.data(), buffer.size(), &n);
      return ret == 1 ? Next::kDone : s.Failed(ret, ec);
    }
  };

  // One operation: try the SSL call; when OpenSSL wants the socket, wait for it (under the
  // deadline) and try again. A result on the first try is posted, never delivered from inside
  // the initiating call.
  template <class Action>
  struct Op {
    SocketTlsStream& s;
    Action action;
    bool started = false;
    bool finished = false;
    boost::beast::error_code ec{};
    std::size_t n = 0;

    template <class Self>
    void operator()(Self& self) {
      if (finished) return Complete(self);  // the posted result of the first try
      const bool first = !started;
      started = true;
      if (s.ssl_ == nullptr) {
        ec = boost::asio::error::no_memory;
        return Finish(self, first);
      }
      switch (action.Step(s, ec, n)) {
        case Next::kDone: return Finish(self, first);
        case Next::kWaitRead: return s.Wait(boost::asio::socket_base::wait_read, std::move(self));
        case Next::kWaitWrite: return s.Wait(boost::asio::socket_base::wait_write, std::move(self));
      }
    }

    template <class Self>
    void operator()(Self& self, boost::beast::error_code wait_ec) {
      const bool timed_out = s.Disarm();
      if (timed_out) {
        ec = boost::beast::error::timeout;
        return Complete(self);
      }
      if (wait_ec) {
        ec = wait_ec;
        return Complete(self);
      }
      (*this)(self);
    }

    template <class Self>
    void Finish(Self& self, bool first) {
      finished = true;
      if (first) return boost::asio::post(s.get_executor(), std::move(self));
      Complete(self);
    }

    template <class Self>
    void Complete(Self& self) {
      if constexpr (std::is_same_v<Action, Handshake>) {
        self.complete(ec);
      } else {
        self.complete(ec, n);
      }
    }
  };

  template <class Self>
  void Wait(boost::asio::socket_base::wait_type what, Self&& self) {
    Arm();
    tcp_.socket().async_wait(what, std::forward<Self>(self));
  }

  void Arm() {
    watch_->fired = false;
    const std::uint64_t generation = ++watch_->generation;
    if (deadline_ == clock_type::time_point::max()) return;
    timer_.expires_at(deadline_);
    timer_.async_wait([watch = watch_, generation](boost::beast::error_code ec) {
      if (ec || !watch->alive || watch->generation != generation) return;
      watch->fired = true;
      boost::beast::error_code ignored;
      watch->socket->cancel(ignored);
    });
  }

  // True when the deadline passed while waiting.
  bool Disarm() {
    const bool fired = watch_->fired;
    ++watch_->generation;
    if (deadline_ != clock_type::time_point::max()) timer_.cancel();
    return fired;
  }

  TcpStream tcp_;
  boost::asio::basic_waitable_timer<clock_type, boost::asio::wait_traits<clock_type>,
                                    executor_type>
      timer_;
  std::shared_ptr<Watch> watch_;
  SSL* ssl_;
  clock_type::time_point deadline_ = clock_type::time_point::max();
};

}  // namespace aloft::server::http
