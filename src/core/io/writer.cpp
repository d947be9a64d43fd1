#include "core/io/writer.hpp"

#include <string>

namespace aloft::core::io {

Status BytesWriter::Write(ByteView data) {
  if (data.size() > max_bytes_ - bytes_.size()) {
    return Fail(Errc::kTooLarge, "more than " + std::to_string(max_bytes_) + " bytes");
  }
  bytes_.insert(bytes_.end(), data.begin(), data.end());
  return Ok();
}

}  // namespace aloft::core::io
