// The receive timestamp of every event: CLOCK_MONOTONIC in microseconds, the
// clock libuv's hrtime reads, so `recvUs` compares directly with
// `Number(process.hrtime.bigint()) / 1000` in JavaScript.
#pragma once

#include <time.h>

namespace tickflow {

/** CLOCK_MONOTONIC now, in microseconds. Async-signal-safe, no allocation: callable on any vendor thread. */
inline double MonotonicMicros() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) / 1e3;
}

}  // namespace tickflow
