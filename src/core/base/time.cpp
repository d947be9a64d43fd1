#include "core/base/time.hpp"

#include <cstdio>

namespace aloft {
namespace {
bool ParseDigits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}
}  // namespace

Result<Timestamp> ParseTimestamp(std::string_view text) {
  // 2030-01-01T00:00:00Z is exactly 20 characters.
  auto bad = [&] {
    return Fail(Errc::kInvalidArgument,
                "timestamp '" + std::string(text.substr(0, 40)) + "' is not YYYY-MM-DDTHH:MM:SSZ");
  };
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
      text[13] != ':' || text[16] != ':' || text[19] != 'Z') {
    return bad();
  }
  int y, mo, d, h, mi, s;
  if (!ParseDigits(text, 0, 4, y) || !ParseDigits(text, 5, 2, mo) || !ParseDigits(text, 8, 2, d) ||
      !ParseDigits(text, 11, 2, h) || !ParseDigits(text, 14, 2, mi) ||
      !ParseDigits(text, 17, 2, s)) {
    return bad();
  }
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return bad();
  return Timestamp{sys_days{ymd}} + hours{h} + minutes{mi} + seconds{s};
}

std::string FormatTimestamp(Timestamp t) {
  using namespace std::chrono;
  auto days = floor<std::chrono::days>(t);
  year_month_day ymd{days};
  hh_mm_ss hms{t - days};
  // Years before 0 or after 9999 cannot be written in this form; metadata never needs them.
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", int{ymd.year()},
                unsigned{ymd.month()}, unsigned{ymd.day()}, static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

}  // namespace aloft
