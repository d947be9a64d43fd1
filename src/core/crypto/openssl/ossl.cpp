#include "core/crypto/openssl/ossl.hpp"

#include <cstdio>
#include <cstdlib>
#include <limits>

namespace aloft::core::crypto::ossl {

std::string TakeErrors() {
  // Keep the message short: OpenSSL can stack a dozen entries for one decoder failure, and the
  // first few (oldest first) carry the cause.
  constexpr int kMaxReasons = 3;
  std::string reasons;
  int count = 0;
  unsigned long code = 0;  // NOLINT(google-runtime-int): OpenSSL's type
  while ((code = ERR_get_error()) != 0) {
    if (count == kMaxReasons) continue;  // keep draining
    const char* reason = ERR_reason_error_string(code);
    std::string text;
    if (reason != nullptr) {
      text = reason;
    } else {
      char buf[256];
      ERR_error_string_n(code, buf, sizeof(buf));
      text = buf;
    }
    if (reasons.find(text) != std::string::npos) continue;
    if (!reasons.empty()) reasons += "; ";
    reasons += text;
    ++count;
  }
  ERR_clear_error();
  if (reasons.empty()) return {};
  return " (" + reasons + ")";
}

tl::unexpected<Error> FailWithErrors(Errc code, std::string what) {
  return Fail(code, std::move(what) + TakeErrors());
}

std::string MemBioContents(BIO* bio) {
  char* data = nullptr;
  // BIO_get_mem_data is a macro with a C cast; call what it expands to.
  long len = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data);  // NOLINT(google-runtime-int)
  if (len <= 0 || data == nullptr) return {};
  return {data, static_cast<std::size_t>(len)};
}

BioPtr ReadOnlyBio(std::string_view data) {
  // BIO_new_mem_buf takes an int length; nothing we parse comes close, but do not wrap.
  if (data.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) return nullptr;
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

void Die(const char* what) noexcept {
  (void)std::fprintf(stderr, "aloft crypto: fatal: %s%s\n", what, TakeErrors().c_str());
  std::abort();
}

}  // namespace aloft::core::crypto::ossl
