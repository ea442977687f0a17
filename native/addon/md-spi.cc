// The vendor's threads: every callback copies what it needs into the
// session's queue and returns (see session-core.h).
#include "md-spi.h"

#include <cstring>

#include "monotonic-clock.h"
#include "session-core.h"

namespace tickflow {

template <typename Fill>
void SessionCore::Push(MdEventKind kind, Fill &&fill) {
  if (closing_.load(std::memory_order_acquire)) return;
  bool queued = false;
  // Nothing may unwind into the vendor's thread: a queue block that cannot be allocated counts as a drop.
  try {
    std::lock_guard<std::mutex> lock(mutex_);
    if (MdEvent *slot = queue_.Reserve(kind)) {
      fill(*slot);
      slot->kind = kind;
      queued = true;
    }
  } catch (...) {
    queued = false;
  }
  if (!queued) dropped_.fetch_add(1, std::memory_order_relaxed);
  // Also after a drop: if the last request for a drain failed, this one retries it.
  ScheduleDrain();
}

void MdSpi::OnFrontConnected() noexcept {
  double recvUs = MonotonicMicros();
  core_.Push(MdEventKind::kFrontConnected, [&](MdEvent &e) {
    e.recvUs = recvUs;
    e.value = 0;
    e.isLast = e.hasInfo = e.hasBody = false;
  });
}

void MdSpi::OnFrontDisconnected(int reason) noexcept {
  double recvUs = MonotonicMicros();
  core_.Push(MdEventKind::kFrontDisconnected, [&](MdEvent &e) {
    e.recvUs = recvUs;
    e.value = reason;
    e.isLast = e.hasInfo = e.hasBody = false;
  });
}

void MdSpi::OnHeartBeatWarning(int timeLapse) noexcept {
  double recvUs = MonotonicMicros();
  core_.Push(MdEventKind::kHeartbeatWarning, [&](MdEvent &e) {
    e.recvUs = recvUs;
    e.value = timeLapse;
    e.isLast = e.hasInfo = e.hasBody = false;
  });
}

void MdSpi::OnRspUserLogin(CThostFtdcRspUserLoginField *login, CThostFtdcRspInfoField *info, int requestId, bool isLast) noexcept {
  double recvUs = MonotonicMicros();
  core_.Push(MdEventKind::kLogin, [&](MdEvent &e) {
    e.recvUs = recvUs;
    e.value = requestId;
    e.isLast = isLast;
    e.hasInfo = info != nullptr;
    if (info != nullptr) std::memcpy(&e.payload.reply.info, info, sizeof *info);
    e.hasBody = login != nullptr;
    if (login != nullptr) {
      // The library's own layout: 204 bytes up to 6.7.7, 296 in 6.7.11. Never read past it.
      std::memset(&e.payload.reply.body.login, 0, sizeof e.payload.reply.body.login);
      std::memcpy(&e.payload.reply.body.login, login, core_.loginResponseSize());
    }
  });
}

void MdSpi::OnRspUserLogout(CThostFtdcUserLogoutField *, CThostFtdcRspInfoField *info, int requestId, bool isLast) noexcept {
  Reply(MdEventKind::kLogout, nullptr, info, requestId, isLast);
}

void MdSpi::OnRspError(CThostFtdcRspInfoField *info, int requestId, bool isLast) noexcept {
  Reply(MdEventKind::kError, nullptr, info, requestId, isLast);
}

void MdSpi::OnRspSubMarketData(CThostFtdcSpecificInstrumentField *instrument, CThostFtdcRspInfoField *info, int requestId, bool isLast) noexcept {
  Reply(MdEventKind::kSubscribed, instrument, info, requestId, isLast);
}

void MdSpi::OnRspUnSubMarketData(CThostFtdcSpecificInstrumentField *instrument, CThostFtdcRspInfoField *info, int requestId, bool isLast) noexcept {
  Reply(MdEventKind::kUnsubscribed, instrument, info, requestId, isLast);
}

void MdSpi::Reply(MdEventKind kind, const CThostFtdcSpecificInstrumentField *instrument, const CThostFtdcRspInfoField *info, int requestId,
                  bool isLast) {
  double recvUs = MonotonicMicros();
  core_.Push(kind, [&](MdEvent &e) {
    e.recvUs = recvUs;
    e.value = requestId;
    e.isLast = isLast;
    e.hasInfo = info != nullptr;
    if (info != nullptr) std::memcpy(&e.payload.reply.info, info, sizeof *info);
    e.hasBody = instrument != nullptr;
    if (instrument != nullptr) std::memcpy(&e.payload.reply.body.instrument, instrument, sizeof *instrument);
  });
}

void MdSpi::OnRtnDepthMarketData(CThostFtdcDepthMarketDataField *data) noexcept {
  if (data == nullptr) return;  // nothing to deliver
  double recvUs = MonotonicMicros();
  core_.Push(MdEventKind::kDepth, [&](MdEvent &e) {
    e.recvUs = recvUs;
    e.value = 0;
    e.isLast = e.hasInfo = e.hasBody = false;
    std::memcpy(&e.payload.depth, data, sizeof *data);
  });
}

}  // namespace tickflow
