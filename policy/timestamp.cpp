#include "policy/timestamp.hpp"

#include <cctype>
#include <cstdio>
#include <ctime>

namespace hitl {

namespace {

// Days from 1970-01-01 to the given civil date (Howard Hinnant's algorithm);
// avoids timegm's dependence on the process time zone.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool read_digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size())
    return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

bool expect(std::string_view s, size_t& pos, char c) {
  if (pos < s.size() && s[pos] == c) {
    ++pos;
    return true;
  }
  return false;
}

// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
// civil_from_days).
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

void put_digits(char* at, int64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

} // namespace

timestamp now() {
  return std::chrono::time_point_cast<duration>(
    std::chrono::system_clock::now());
}

// Every response, event and audit entry formats a few timestamps: digits
// are written in place, without gmtime_r and snprintf, for the years 0 to
// 9999; the rest take the general path, which prints the same form.
std::string format_iso(timestamp t) {
  int64_t us = to_micros(t);
  int64_t secs = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
  int64_t frac = us - secs * 1000000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t sod = secs - days * 86400;
  int64_t year;
  unsigned month, day;
  civil_from_days(days, year, month, day);
  if (year >= 0 && year <= 9999) {
    std::string s(27, ' ');
    char* p = s.data();
    put_digits(p, year, 4);
    p[4] = '-';
    put_digits(p + 5, month, 2);
    p[7] = '-';
    put_digits(p + 8, day, 2);
    p[10] = 'T';
    put_digits(p + 11, sod / 3600, 2);
    p[13] = ':';
    put_digits(p + 14, sod / 60 % 60, 2);
    p[16] = ':';
    put_digits(p + 17, sod % 60, 2);
    p[19] = '.';
    put_digits(p + 20, frac, 6);
    p[26] = 'Z';
    return s;
  }
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  // Sized for the widest ints the format could print, so that GCC's
  // -Wformat-truncation has nothing to say.
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<long long>(frac));
  return buf;
}

std::optional<timestamp> parse_iso(std::string_view s) {
  size_t pos = 0;
  int y, mo, d, h, mi, se;
  if (!read_digits(s, pos, 4, y) || !expect(s, pos, '-')
      || !read_digits(s, pos, 2, mo) || !expect(s, pos, '-')
      || !read_digits(s, pos, 2, d))
    return std::nullopt;
  if (!(expect(s, pos, 'T') || expect(s, pos, 't') || expect(s, pos, ' ')))
    return std::nullopt;
  if (!read_digits(s, pos, 2, h) || !expect(s, pos, ':')
      || !read_digits(s, pos, 2, mi) || !expect(s, pos, ':')
      || !read_digits(s, pos, 2, se))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
    return std::nullopt;
  int64_t frac_us = 0;
  if (expect(s, pos, '.')) {
    int digits = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (digits < 6) {
        frac_us = frac_us * 10 + (s[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (digits == 0)
      return std::nullopt;
    for (; digits < 6; ++digits)
      frac_us *= 10;
  }
  int64_t offset_s = 0;
  if (expect(s, pos, 'Z') || expect(s, pos, 'z')) {
    // UTC
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!read_digits(s, pos, 2, oh))
      return std::nullopt;
    expect(s, pos, ':');
    if (!read_digits(s, pos, 2, om))
      return std::nullopt;
    offset_s = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (pos != s.size())
    return std::nullopt;
  int64_t secs = days_from_civil(y, static_cast<unsigned>(mo),
                                 static_cast<unsigned>(d))
                   * 86400
                 + h * 3600 + mi * 60 + se - offset_s;
  return from_micros(secs * 1000000 + frac_us);
}

} // namespace hitl
