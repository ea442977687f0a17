// One Spi callback as the vendor thread copied it: a fixed-size, trivially
// copyable record, so queueing it is a memcpy and no vendor memory is read
// after the callback returned.
#pragma once

#include <cstdint>
#include <type_traits>

#include "ctp-md-api.h"

namespace tickflow {

enum class MdEventKind : std::uint8_t {
  kFrontConnected,
  kFrontDisconnected,
  kHeartbeatWarning,
  kLogin,
  kLogout,
  kError,
  kSubscribed,
  kUnsubscribed,
  kDepth,
};

/** A reply to a request: the vendor's RspInfo (when it sent one) and the reply's own struct. */
struct MdReply {
  CThostFtdcRspInfoField info;
  union {
    // Sized for the 6.7.11 layout; a 6.7.7 library's 204 bytes fill its start.
    CThostFtdcRspUserLoginField login;
    CThostFtdcSpecificInstrumentField instrument;
  } body;
};

struct MdEvent {
  MdEventKind kind;
  bool isLast;
  bool hasInfo;     // the RspInfo pointer was not null
  bool hasBody;     // the login or instrument pointer was not null
  std::int32_t value;  // the disconnect reason, the heartbeat time lapse or the request id
  double recvUs;       // CLOCK_MONOTONIC µs when the vendor thread entered the callback
  union {
    CThostFtdcDepthMarketDataField depth;
    MdReply reply;
  } payload;
};

static_assert(std::is_trivially_copyable_v<MdEvent>, "events are copied with memcpy");

/** Whether the queue may drop this kind when full: market data only. A lost control event would wedge the consumer. */
constexpr bool IsDroppable(MdEventKind kind) { return kind == MdEventKind::kDepth; }

}  // namespace tickflow
