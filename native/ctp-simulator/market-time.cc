#include "market-time.h"

#include <cstring>

namespace tickflow_ctp_simulator {

namespace {

// Days before the first of each month in a common year.
constexpr int kDaysBeforeMonth[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};

// Leap years among years 1..year.
int64_t leapYearsThrough(int64_t year) { return year / 4 - year / 100 + year / 400; }

// Day number of January 1st of year.
int64_t yearStart(int64_t year) { return 365 * (year - 1) + leapYearsThrough(year - 1); }

int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

void writeTwoDigits(char *out, int value) {
  out[0] = static_cast<char>('0' + value / 10);
  out[1] = static_cast<char>('0' + value % 10);
}

}  // namespace

bool isLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int daysInMonth(int year, int month) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && isLeapYear(year) ? 29 : kDays[month - 1];
}

int64_t dayNumber(int year, int month, int day) {
  int64_t days = yearStart(year) + kDaysBeforeMonth[month - 1] + (day - 1);
  if (month > 2 && isLeapYear(year)) ++days;
  return days;
}

CivilDate civilDate(int64_t number) {
  // Estimate the year from the mean Gregorian year, then correct by at most one.
  int64_t year = floorDiv(number * 400, 146097) + 1;
  while (yearStart(year) > number) --year;
  while (yearStart(year + 1) <= number) ++year;
  int dayOfYear = static_cast<int>(number - yearStart(year));
  int month = 1;
  while (month < 12 && dayOfYear >= dayNumber(static_cast<int>(year), month + 1, 1) - yearStart(year)) ++month;
  int day = dayOfYear - static_cast<int>(dayNumber(static_cast<int>(year), month, 1) - yearStart(year)) + 1;
  return CivilDate{static_cast<int>(year), month, day};
}

int weekday(int64_t number) {
  int64_t w = number % 7;
  return static_cast<int>(w < 0 ? w + 7 : w);
}

int64_t tradingDayNumber(int64_t marketMicros) {
  int64_t day = floorDiv(marketMicros, kMicrosPerDay);
  int64_t secondOfDay = floorDiv(marketMicros, kMicrosPerSecond) - day * kSecondsPerDay;
  if (secondOfDay >= 18 * 3600) ++day;
  while (weekday(day) >= 5) ++day;
  return day;
}

bool isNightHour(int64_t marketMicros) {
  int64_t day = floorDiv(marketMicros, kMicrosPerDay);
  int64_t secondOfDay = floorDiv(marketMicros, kMicrosPerSecond) - day * kSecondsPerDay;
  return secondOfDay >= 18 * 3600 || secondOfDay < 6 * 3600;
}

void formatDate(int64_t number, char out[9]) {
  CivilDate date = civilDate(number);
  int year = date.year < 0 ? 0 : date.year % 10000;
  writeTwoDigits(out, year / 100);
  writeTwoDigits(out + 2, year % 100);
  writeTwoDigits(out + 4, date.month);
  writeTwoDigits(out + 6, date.day);
  out[8] = '\0';
}

void formatTimeOfDay(int64_t marketMicros, char out[9]) {
  int64_t day = floorDiv(marketMicros, kMicrosPerDay);
  int secondOfDay = static_cast<int>(floorDiv(marketMicros, kMicrosPerSecond) - day * kSecondsPerDay);
  writeTwoDigits(out, secondOfDay / 3600);
  out[2] = ':';
  writeTwoDigits(out + 3, secondOfDay / 60 % 60);
  out[5] = ':';
  writeTwoDigits(out + 6, secondOfDay % 60);
  out[8] = '\0';
}

bool parseMarketTime(const char *text, int64_t &marketMicros) {
  if (text == nullptr || std::strlen(text) != 15 || text[8] != 'T') return false;
  int digits[14];
  for (int i = 0, j = 0; i < 15; ++i) {
    if (i == 8) continue;
    if (text[i] < '0' || text[i] > '9') return false;
    digits[j++] = text[i] - '0';
  }
  auto number = [&](int from, int count) {
    int value = 0;
    for (int i = 0; i < count; ++i) value = value * 10 + digits[from + i];
    return value;
  };
  int year = number(0, 4), month = number(4, 2), day = number(6, 2);
  int hour = number(8, 2), minute = number(10, 2), second = number(12, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  if (hour > 23 || minute > 59 || second > 59) return false;
  marketMicros = (dayNumber(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 + second) * kMicrosPerSecond;
  return true;
}

}  // namespace tickflow_ctp_simulator
