#pragma once

// Byte sinks. Downloads stream through these so that no layer needs the whole payload in
// memory: an image of several gigabytes passes through a fixed buffer.

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace aloft::core::io {

class Writer {
 public:
  virtual ~Writer() = default;
  // Consumes all of `data` or fails; a failure ends the transfer (the caller stops writing).
  virtual Status Write(ByteView data) = 0;
};

// A Writer that also lends its own buffer, so that a producer that makes bytes (a decompressor)
// makes them in place instead of into a buffer of its own that Write() then copies: for a
// 256 MiB image, one copy of every byte fewer. Space() is never empty on success; Commit(n)
// takes the first n bytes of the span the last Space() returned as written, with the same
// checks as Write(). No Write() between a Space() and its Commit().
class InPlaceWriter : public Writer {
 public:
  virtual Result<std::span<std::uint8_t>> Space() = 0;
  virtual Status Commit(std::size_t n) = 0;
};

// Collects everything into memory, failing with kTooLarge past `max_bytes`.
class BytesWriter final : public Writer {
 public:
  explicit BytesWriter(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  Status Write(ByteView data) override;
  const Bytes& bytes() const& noexcept { return bytes_; }
  Bytes bytes() && noexcept { return std::move(bytes_); }

 private:
  std::size_t max_bytes_;
  Bytes bytes_;
};

}  // namespace aloft::core::io
