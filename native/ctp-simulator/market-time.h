// Calendar arithmetic for the simulated market's clock. Market time is the
// exchange's local time (UTC+8) as a plain count of microseconds since
// 0001-01-01 00:00:00 in the proleptic Gregorian calendar: no time zones and
// no leap seconds are involved, so the same arithmetic gives the same dates
// on every machine.
#pragma once

#include <cstdint>

namespace tickflow_ctp_simulator {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kMicrosPerDay = kSecondsPerDay * kMicrosPerSecond;

struct CivilDate {
  int year;
  int month;  // 1-12
  int day;    // 1-31
};

bool isLeapYear(int year);
int daysInMonth(int year, int month);

/** Day number of a date, 0 for 0001-01-01 (a Monday). */
int64_t dayNumber(int year, int month, int day);
CivilDate civilDate(int64_t dayNumber);

/** 0 = Monday … 6 = Sunday. */
int weekday(int64_t dayNumber);

/**
 * The trading day a market instant belongs to: from 18:00 on, the next
 * weekday (the night session opens the next trading day); before 18:00, that
 * date if it is a weekday, else the next weekday. No holidays.
 */
int64_t tradingDayNumber(int64_t marketMicros);

/** True for the hours the night session's ticks carry: 18:00-24:00 and 00:00-06:00. */
bool isNightHour(int64_t marketMicros);

/** Writes YYYYMMDD and a NUL into out (9 bytes). */
void formatDate(int64_t dayNumber, char out[9]);
/** Writes HH:MM:SS and a NUL into out (9 bytes). */
void formatTimeOfDay(int64_t marketMicros, char out[9]);

/** Parses YYYYMMDDTHHMMSS into market microseconds; false if malformed. */
bool parseMarketTime(const char *text, int64_t &marketMicros);

}  // namespace tickflow_ctp_simulator
