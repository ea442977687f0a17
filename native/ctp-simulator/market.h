// The simulated market of one front: either a seeded random walk over the
// front's instruments or the rows of a recorded CSV file, as a sequence of
// ticks k = 0, 1, 2, … The content of tick k depends only on the front's
// parameters, k and the market time the front gives it, never on wall-clock
// time or on who is listening: two fronts with the same parameters produce
// identical ticks, which is what redundant-front tests rely on.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ctp-md-api.h"
#include "params.h"

namespace tickflow_ctp_simulator {

/** xoshiro256** seeded through splitmix64: small, fast and identical everywhere. */
class Random {
 public:
  explicit Random(uint64_t seed);
  uint64_t next();

 private:
  uint64_t state_[4];
};

class Market {
 public:
  explicit Market(const FrontParams &params);

  /** The stream a subscriber names by InstrumentID: 0..slotCount()-1, or -1 if the front has no such instrument. */
  int slotOf(const char *instrumentId) const;
  size_t slotCount() const { return slots_.size(); }

  /** False once a recorded file has no row k; a random walk never ends. */
  bool hasTick(uint64_t k) const { return !recorded_ || k < rows_.size(); }

  /**
   * Advances the market by tick k at the given market time and returns the
   * tick's slot (-1: a row nobody can subscribe to). Must be called for every
   * k in order, whether or not anyone receives the tick, so that the state
   * after tick k is the same on every front with these parameters.
   */
  int advance(uint64_t k, int64_t marketMicros);

  /** Writes the tick advance(k, marketMicros) just produced. */
  void fill(uint64_t k, int64_t marketMicros, CThostFtdcDepthMarketDataField &out);

  /** The trading day a login reports, given the market time now and the next tick to play. */
  void loginTradingDay(int64_t marketMicros, uint64_t nextTick, char out[9]);

 private:
  struct Instrument {
    std::string exchange;
    std::string id;
    bool dce = false;
    // Prices are counted in ticks of num/den price units so that every price
    // is an exact multiple of the tick size: price = ticks * num / den.
    int64_t tickNum = 1, tickDen = 1;
    int64_t baseTicks = 0, upperTicks = 0, lowerTicks = 0, lastTicks = 0;
    int64_t openTicks = 0, highTicks = 0, lowTicks = 0;
    bool traded = false;  // any volume yet this trading day
    int64_t tradingDay = -1;
    int64_t volume = 0;
    double turnover = 0;
    int64_t openInterest = 0, preOpenInterest = 0;
    bool bidBelow = false;  // BidPrice1 = last - tick (else last)
    int bidVolume = 0, askVolume = 0;

    double price(int64_t ticks) const { return static_cast<double>(ticks * tickNum) / static_cast<double>(tickDen); }
  };

  // Date and time strings of one market second, recomputed when the second changes.
  struct Second {
    int64_t second = INT64_MIN;
    int64_t tradingDay = 0;
    bool night = false;
    char updateTime[9] = {};
    char calendarDate[9] = {};
    char tradingDate[9] = {};
  };

  // A recorded tick and the slot of its InstrumentID (-1: none).
  struct Row {
    CThostFtdcDepthMarketDataField tick;
    int slot;
  };
  // A hasher of our own keeps the map's instantiation hidden like the rest
  // of the library instead of exported as std templates are.
  struct IdHash {
    size_t operator()(const std::string &id) const { return std::hash<std::string>()(id); }
  };

  void loadRecorded(const std::string &path);
  const Second &secondOf(int64_t marketMicros);

  FrontParams params_;
  bool recorded_ = false;
  Random random_;
  std::vector<Instrument> instruments_;
  std::unordered_map<std::string, int, IdHash> slots_;
  std::vector<Row> rows_;
  Second second_;
};

}  // namespace tickflow_ctp_simulator
