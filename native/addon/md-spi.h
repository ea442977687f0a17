// Our CThostFtdcMdSpi, entered by the vendor's threads.
#pragma once

#include "ctp-md-api.h"
#include "md-event.h"

namespace tickflow {

class SessionCore;

/** Our CThostFtdcMdSpi: copies every callback into the session's queue. */
class MdSpi final : public CThostFtdcMdSpi {
 public:
  explicit MdSpi(SessionCore &core) : core_(core) {}

  void OnFrontConnected() noexcept override;
  void OnFrontDisconnected(int reason) noexcept override;
  void OnHeartBeatWarning(int timeLapse) noexcept override;
  void OnRspUserLogin(CThostFtdcRspUserLoginField *login, CThostFtdcRspInfoField *info, int requestId, bool isLast) noexcept override;
  void OnRspUserLogout(CThostFtdcUserLogoutField *logout, CThostFtdcRspInfoField *info, int requestId, bool isLast) noexcept override;
  void OnRspError(CThostFtdcRspInfoField *info, int requestId, bool isLast) noexcept override;
  void OnRspSubMarketData(CThostFtdcSpecificInstrumentField *instrument, CThostFtdcRspInfoField *info, int requestId, bool isLast) noexcept override;
  void OnRspUnSubMarketData(CThostFtdcSpecificInstrumentField *instrument, CThostFtdcRspInfoField *info, int requestId, bool isLast) noexcept override;
  void OnRtnDepthMarketData(CThostFtdcDepthMarketDataField *data) noexcept override;
  // OnRspQryMulticastInstrument, the for-quote responses and OnRtnForQuoteRsp: not delivered (the base class ignores them).

 private:
  void Reply(MdEventKind kind, const CThostFtdcSpecificInstrumentField *instrument, const CThostFtdcRspInfoField *info, int requestId, bool isLast);

  SessionCore &core_;
};

}  // namespace tickflow
