#pragma once
// A connection's stream that does its I/O on the socket itself and lets Asio only wait for the
// socket to become readable or writable: a read or write that can proceed costs one system
// call and no trip through the event loop's operation machinery.
//
//   SocketStream<TcpStream, TlsIo>    OpenSSL reads and writes the descriptor, as nginx has it
//                                     do. Asio's ssl::stream instead moved every record through
//                                     a BIO pair and cleared OpenSSL's error queue before each
//                                     call (0.87x the CPU per HTTPS check-in without it).
//   SocketStream<TcpStream, PlainIo>  recv and sendmsg (gathering up to 16 buffers), instead of
//                                     beast::basic_stream's operations, which arm and cancel a
//                                     timer for every read and write.
//
// Included by server.cpp only (the one translation unit that includes Asio and Beast). It is
// a Beast AsyncStream for one connection with one operation in flight at a time, which is how
// the session uses it (it reads a request, answers it, then reads the next; its linger reads
// go to the bare TCP stream, under that stream's own deadline): the deadline timer is shared
// by all operations. Deadlines work
// as basic_stream's: expires_at/expires_after apply to the operations that wait after the
// call, and an operation still waiting at the deadline ends with beast::error::timeout (the
// socket's wait is cancelled). The timer runs only while an operation actually waits.

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>

namespace aloft::server::http {

// What an I/O attempt asks for next.
enum class SocketNext { kDone, kWaitRead, kWaitWrite };

// Up to 16 buffers of a write, copied out of whatever sequence Beast passed.
struct GatherBuffers {
  static constexpr std::size_t kMax = 16;
  std::array<boost::asio::const_buffer, kMax> buffers{};
  std::size_t count = 0;

  template <class ConstBuffers>
  static GatherBuffers From(const ConstBuffers& sequence) {
    GatherBuffers g;
    for (auto it = boost::asio::buffer_sequence_begin(sequence);
         it != boost::asio::buffer_sequence_end(sequence) && g.count < kMax; ++it) {
      boost::asio::const_buffer b(*it);
      if (b.size() > 0) g.buffers[g.count++] = b;
    }
    return g;
  }
};

// The first non-empty buffer of a read: Beast reads into one prepared buffer.
template <class MutableBuffers>
boost::asio::mutable_buffer FirstBuffer(const MutableBuffers& sequence) {
  for (auto it = boost::asio::buffer_sequence_begin(sequence);
       it != boost::asio::buffer_sequence_end(sequence); ++it) {
    boost::asio::mutable_buffer b(*it);
    if (b.size() > 0) return b;
  }
  return {};
}

// Plain TCP: recv and sendmsg on the non-blocking descriptor.
class PlainIo {
 public:
  static constexpr bool kTls = false;
  explicit PlainIo(int fd) : fd_(fd) {}
  bool ok() const noexcept { return true; }

  SocketNext Read(boost::asio::mutable_buffer b, std::size_t& n, boost::beast::error_code& ec) {
    for (;;) {
      const ssize_t got = ::recv(fd_, b.data(), b.size(), 0);
      if (got > 0) {
        n = static_cast<std::size_t>(got);
        return SocketNext::kDone;
      }
      if (got == 0) {
        ec = boost::asio::error::eof;
        return SocketNext::kDone;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return SocketNext::kWaitRead;
      ec = boost::beast::error_code(errno, boost::system::system_category());
      return SocketNext::kDone;
    }
  }

  SocketNext Write(const GatherBuffers& g, std::size_t& n, boost::beast::error_code& ec) {
    std::array<iovec, GatherBuffers::kMax> iov{};
    for (std::size_t i = 0; i < g.count; ++i) {
      iov[i].iov_base = const_cast<void*>(g.buffers[i].data());  // NOLINT: iovec is not const
      iov[i].iov_len = g.buffers[i].size();
    }
    msghdr message{};
    message.msg_iov = iov.data();
    message.msg_iovlen = g.count;
    for (;;) {
      // MSG_NOSIGNAL: a peer that has gone makes this an EPIPE error, not a SIGPIPE.
      const ssize_t sent = ::sendmsg(fd_, &message, MSG_NOSIGNAL);
      if (sent >= 0) {
        n = static_cast<std::size_t>(sent);
        return SocketNext::kDone;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return SocketNext::kWaitWrite;
      ec = boost::beast::error_code(errno, boost::system::system_category());
      return SocketNext::kDone;
    }
  }

 private:
  int fd_;
};

// TLS: OpenSSL on the descriptor.
class TlsIo {
 public:
  static constexpr bool kTls = true;

  // `ctx` is the server's context (certificate, ciphers, client verification). ok() is false
  // when SSL_new or SSL_set_fd failed (memory).
  TlsIo(int fd, SSL_CTX* ctx) : ssl_(SSL_new(ctx)) {
    if (ssl_ == nullptr) return;
    if (SSL_set_fd(ssl_, fd) != 1) {
      SSL_free(ssl_);
      ssl_ = nullptr;
      return;
    }
    SSL_set_accept_state(ssl_);
    // Read whole socket buffers, not a 5-byte record header and then its body: one recv per
    // request. Partial writes and a moving buffer: Beast's buffers may move between retries
    // of a write that waited.
    SSL_set_read_ahead(ssl_, 1);
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  }
  ~TlsIo() {
    if (ssl_ != nullptr) SSL_free(ssl_);
  }
  TlsIo(const TlsIo&) = delete;
  TlsIo& operator=(const TlsIo&) = delete;

  bool ok() const noexcept { return ssl_ != nullptr; }
  SSL* native_handle() noexcept { return ssl_; }

  SocketNext Handshake(boost::beast::error_code& ec) {
    ClearStaleErrors();
    const int ret = SSL_do_handshake(ssl_);
    return ret == 1 ? SocketNext::kDone : Failed(ret, ec);
  }
  SocketNext Read(boost::asio::mutable_buffer b, std::size_t& n, boost::beast::error_code& ec) {
    ClearStaleErrors();
    const int ret = SSL_read_ex(ssl_, b.data(), b.size(), &n);
    return ret == 1 ? SocketNext::kDone : Failed(ret, ec);
  }
  // One record per call, from the first buffer (as Asio's stream did).
  SocketNext Write(const GatherBuffers& g, std::size_t& n, boost::beast::error_code& ec) {
    ClearStaleErrors();
    const int ret = SSL_write_ex(ssl_, g.buffers[0].data(), g.buffers[0].size(), &n);
    return ret == 1 ? SocketNext::kDone : Failed(ret, ec);
  }

 private:
  // Another thread-local user of OpenSSL (a handler's crypto) may have left an error queued,
  // which would make SSL_get_error report SSL_ERROR_SSL for a plain "want read". Clearing the
  // queue costs a loop over its 16 slots; looking at it costs one read.
  static void ClearStaleErrors() {
    if (ERR_peek_error() != 0) ERR_clear_error();
  }

  // After an SSL call returned `ret` <= 0: wait, or the error the operation ends with. The
  // error queue is left empty, so that SSL_get_error stays right for the next call on this
  // thread.
  SocketNext Failed(int ret, boost::beast::error_code& ec) {
    const int reason = SSL_get_error(ssl_, ret);
    if (reason == SSL_ERROR_WANT_READ) return SocketNext::kWaitRead;
    if (reason == SSL_ERROR_WANT_WRITE) return SocketNext::kWaitWrite;
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
    return SocketNext::kDone;
  }

  SSL* ssl_;
};

template <class TcpStream, class Io>
class SocketStream {
 public:
  using next_layer_type = TcpStream;
  using executor_type = typename TcpStream::executor_type;
  using clock_type = std::chrono::steady_clock;
  static constexpr bool kTls = Io::kTls;

  // `tcp`'s socket is open and connected; `io_args` follow the descriptor into Io's
  // constructor (TlsIo: the SSL_CTX). Check ok() before use.
  template <class... IoArgs>
  explicit SocketStream(TcpStream&& tcp, IoArgs&&... io_args)
      : tcp_(std::move(tcp)),
        io_(static_cast<int>(tcp_.socket().native_handle()), std::forward<IoArgs>(io_args)...),
        timer_(tcp_.get_executor()),
        watch_(std::make_shared<Watch>()) {
    watch_->socket = &tcp_.socket();
    boost::system::error_code ec;
    tcp_.socket().non_blocking(true, ec);
    nonblocking_ = !ec;
  }
  ~SocketStream() { watch_->alive = false; }
  SocketStream(const SocketStream&) = delete;
  SocketStream& operator=(const SocketStream&) = delete;

  bool ok() const noexcept { return nonblocking_ && io_.ok(); }
  executor_type get_executor() noexcept { return tcp_.get_executor(); }
  TcpStream& next_layer() noexcept { return tcp_; }
  SSL* native_handle() noexcept requires Io::kTls { return io_.native_handle(); }

  void expires_at(clock_type::time_point deadline) { deadline_ = deadline; }
  void expires_after(clock_type::duration d) { expires_at(clock_type::now() + d); }

  template <class Handler>
  requires Io::kTls auto async_handshake(Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::beast::error_code)>(
        Op<Handshake>{*this, {}}, handler, tcp_);
  }

  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::beast::error_code, std::size_t)>(
        Op<Read>{*this, Read{FirstBuffer(buffers)}}, handler, tcp_);
  }

  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::beast::error_code, std::size_t)>(
        Op<Write>{*this, Write{GatherBuffers::From(buffers)}}, handler, tcp_);
  }

 private:
  // What the timer's handler may touch: the stream can be gone by the time it runs.
  struct Watch {
    bool alive = true;
    bool fired = false;
    std::uint64_t generation = 0;
    typename TcpStream::socket_type* socket = nullptr;
  };

  struct Handshake {
    SocketNext Step(Io& io, boost::beast::error_code& ec, std::size_t& /*n*/) {
      return io.Handshake(ec);
    }
  };
  struct Read {
    boost::asio::mutable_buffer buffer;
    SocketNext Step(Io& io, boost::beast::error_code& ec, std::size_t& n) {
      return buffer.size() == 0 ? SocketNext::kDone : io.Read(buffer, n, ec);
    }
  };
  struct Write {
    GatherBuffers buffers;
    SocketNext Step(Io& io, boost::beast::error_code& ec, std::size_t& n) {
      return buffers.count == 0 ? SocketNext::kDone : io.Write(buffers, n, ec);
    }
  };

  // One operation: try the I/O; when the socket is not ready, wait for it (under the
  // deadline) and try again. A result on the first try is posted, never delivered from inside
  // the initiating call.
  template <class Action>
  struct Op {
    SocketStream& s;
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
      if (!s.ok()) {
        ec = boost::asio::error::no_memory;
        return Finish(self, first);
      }
      switch (action.Step(s.io_, ec, n)) {
        case SocketNext::kDone:
          return Finish(self, first);
        case SocketNext::kWaitRead:
          return s.Wait(boost::asio::socket_base::wait_read, std::move(self));
        case SocketNext::kWaitWrite:
          return s.Wait(boost::asio::socket_base::wait_write, std::move(self));
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
    assert(!waiting_ && "one operation in flight at a time (see the class comment)");
    waiting_ = true;
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
    waiting_ = false;
    const bool fired = watch_->fired;
    ++watch_->generation;
    if (deadline_ != clock_type::time_point::max()) timer_.cancel();
    return fired;
  }

  TcpStream tcp_;
  Io io_;
  boost::asio::basic_waitable_timer<clock_type, boost::asio::wait_traits<clock_type>, executor_type>
      timer_;
  std::shared_ptr<Watch> watch_;
  bool nonblocking_ = false;
  bool waiting_ = false;  // an operation is waiting for the socket
  clock_type::time_point deadline_ = clock_type::time_point::max();
};

}  // namespace aloft::server::http
