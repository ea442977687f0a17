// Parsing of front addresses: tcp://HOST:PORT?key=value&… where the query
// carries the simulated market's parameters (see FrontParams).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tickflow_ctp_simulator {

struct InstrumentSpec {
  std::string exchange;  // SHFE, DCE, CZCE, CFFEX, INE, GFEX…: start prices and night rules
  std::string id;        // InstrumentID as sent in market data
};

constexpr uint64_t kMaxRate = 20000000;

struct FrontParams {
  uint64_t seed = 1;
  uint64_t rate = 20;  // ticks per second, all instruments together
  std::vector<InstrumentSpec> instruments;
  int64_t startMicros = 0;  // market time of tick 0
  bool hasFile = false;
  std::string file;  // decoded path of a recorded CSV
  bool exchangeId = false;
  std::string broker;  // empty: any BrokerID may log in
  uint32_t retryMs = 1000;
};

struct FrontAddress {
  std::string hostPort;  // the front's identity
  FrontParams params;
};

/** False if text is not tcp://HOST:PORT[?query]. Malformed parameters take their defaults. */
bool parseFrontAddress(const char *text, FrontAddress &out);

/**
 * HOST:PORT of an address given to tickflow_ctp_simulator_control, with or without the
 * tcp:// prefix, query ignored. False if there is no HOST:PORT.
 */
bool parseHostPort(const char *text, std::string &hostPort);

/** A tick rate: an integer in 1..kMaxRate. */
bool parseRate(const std::string &text, uint64_t &rate);

}  // namespace tickflow_ctp_simulator
