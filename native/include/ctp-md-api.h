// tickflow's own declarations of the CTP market-data C++ interface
// (CThostFtdcMdApi / CThostFtdcMdSpi and the structs they pass), written from
// the measured layout in native/ctp-abi.json (x86_64 Linux, Itanium C++ ABI).
// No vendor header is used: every size and offset below is checked at compile
// time by ctp-layout-assertions.h, generated from the same facts.
//
// Both the addon (which calls a vendor library through these declarations) and
// the CTP simulator (which implements them) include this file, so a
// layout mistake here would be invisible to a test that only pairs the two:
// the static assertions are what ties both to the vendor's binary interface.
#pragma once

// The vendor's struct and class names are kept: they are what the factory's
// mangled symbol names and every CTP document refer to.
// NOLINTBEGIN(readability-identifier-naming)

struct CThostFtdcReqUserLoginField {
  char TradingDay[9];
  char BrokerID[11];
  char UserID[16];
  char Password[41];
  char UserProductInfo[11];
  char InterfaceProductInfo[11];
  char ProtocolInfo[11];
  char MacAddress[21];
  char OneTimePassword[41];
  char reserve1[16];
  char LoginRemark[36];
  int ClientIPPort;
  char ClientIPAddress[33];
};

struct CThostFtdcRspUserLoginField {
  char TradingDay[9];
  char LoginTime[9];
  char BrokerID[11];
  char UserID[16];
  char SystemName[41];
  int FrontID;
  int SessionID;
  char MaxOrderRef[13];
  char SHFETime[9];
  char DCETime[9];
  char CZCETime[9];
  char FFEXTime[9];
  char INETime[9];
  char SysVersion[41];
  char GFEXTime[9];
  int LoginDRIdentityID;
  int UserDRIdentityID;
  char LastLoginTime[17];
  char ReserveInfo[65];
};

struct CThostFtdcRspUserLoginField_6_7_7 {
  char TradingDay[9];
  char LoginTime[9];
  char BrokerID[11];
  char UserID[16];
  char SystemName[41];
  int FrontID;
  int SessionID;
  char MaxOrderRef[13];
  char SHFETime[9];
  char DCETime[9];
  char CZCETime[9];
  char FFEXTime[9];
  char INETime[9];
  char SysVersion[41];
  char GFEXTime[9];
};

struct CThostFtdcRspInfoField {
  int ErrorID;
  char ErrorMsg[81];
};

struct CThostFtdcSpecificInstrumentField {
  char reserve1[31];
  char InstrumentID[81];
};

struct CThostFtdcDepthMarketDataField {
  char TradingDay[9];
  char reserve1[31];
  char ExchangeID[9];
  char reserve2[31];
  double LastPrice;
  double PreSettlementPrice;
  double PreClosePrice;
  double PreOpenInterest;
  double OpenPrice;
  double HighestPrice;
  double LowestPrice;
  int Volume;
  double Turnover;
  double OpenInterest;
  double ClosePrice;
  double SettlementPrice;
  double UpperLimitPrice;
  double LowerLimitPrice;
  double PreDelta;
  double CurrDelta;
  char UpdateTime[9];
  int UpdateMillisec;
  double BidPrice1;
  int BidVolume1;
  double AskPrice1;
  int AskVolume1;
  double BidPrice2;
  int BidVolume2;
  double AskPrice2;
  int AskVolume2;
  double BidPrice3;
  int BidVolume3;
  double AskPrice3;
  int AskVolume3;
  double BidPrice4;
  int BidVolume4;
  double AskPrice4;
  int AskVolume4;
  double BidPrice5;
  int BidVolume5;
  double AskPrice5;
  int AskVolume5;
  double AveragePrice;
  char ActionDay[9];
  char InstrumentID[81];
  char ExchangeInstID[81];
  double BandingUpperPrice;
  double BandingLowerPrice;
};

struct CThostFtdcUserLogoutField {
  char BrokerID[11];
  char UserID[16];
};

struct CThostFtdcFensUserInfoField {
  char BrokerID[11];
  char UserID[16];
  char LoginMode;
};

struct CThostFtdcForQuoteRspField {
  char TradingDay[9];
  char reserve1[31];
  char ForQuoteSysID[21];
  char ForQuoteTime[9];
  char ActionDay[9];
  char ExchangeID[9];
  char InstrumentID[81];
};

struct CThostFtdcMulticastInstrumentField {
  int TopicID;
  char reserve1[31];
  int InstrumentNo;
  double CodePrice;
  int VolumeMultiple;
  double PriceTick;
  char InstrumentID[81];
};

struct CThostFtdcQryMulticastInstrumentField {
  int TopicID;
  char reserve1[31];
  char InstrumentID[81];
};
// The 6.7.11 login response appends four fields; up to 6.7.7 it ends at
// LoginDRIdentityID's offset. Only fields common to both are ever read.

class CThostFtdcMdSpi {
 public:
  virtual void OnFrontConnected() {}
  virtual void OnFrontDisconnected(int reason) { (void)reason; }
  virtual void OnHeartBeatWarning(int timeLapse) { (void)timeLapse; }
  virtual void OnRspUserLogin(CThostFtdcRspUserLoginField *login, CThostFtdcRspInfoField *info, int requestId, bool isLast) {
    (void)login, (void)info, (void)requestId, (void)isLast;
  }
  virtual void OnRspUserLogout(CThostFtdcUserLogoutField *logout, CThostFtdcRspInfoField *info, int requestId, bool isLast) {
    (void)logout, (void)info, (void)requestId, (void)isLast;
  }
  virtual void OnRspQryMulticastInstrument(CThostFtdcMulticastInstrumentField *instrument, CThostFtdcRspInfoField *info, int requestId, bool isLast) {
    (void)instrument, (void)info, (void)requestId, (void)isLast;
  }
  virtual void OnRspError(CThostFtdcRspInfoField *info, int requestId, bool isLast) { (void)info, (void)requestId, (void)isLast; }
  virtual void OnRspSubMarketData(CThostFtdcSpecificInstrumentField *instrument, CThostFtdcRspInfoField *info, int requestId, bool isLast) {
    (void)instrument, (void)info, (void)requestId, (void)isLast;
  }
  virtual void OnRspUnSubMarketData(CThostFtdcSpecificInstrumentField *instrument, CThostFtdcRspInfoField *info, int requestId, bool isLast) {
    (void)instrument, (void)info, (void)requestId, (void)isLast;
  }
  virtual void OnRspSubForQuoteRsp(CThostFtdcSpecificInstrumentField *instrument, CThostFtdcRspInfoField *info, int requestId, bool isLast) {
    (void)instrument, (void)info, (void)requestId, (void)isLast;
  }
  virtual void OnRspUnSubForQuoteRsp(CThostFtdcSpecificInstrumentField *instrument, CThostFtdcRspInfoField *info, int requestId, bool isLast) {
    (void)instrument, (void)info, (void)requestId, (void)isLast;
  }
  virtual void OnRtnDepthMarketData(CThostFtdcDepthMarketDataField *data) { (void)data; }
  virtual void OnRtnForQuoteRsp(CThostFtdcForQuoteRspField *quote) { (void)quote; }

 protected:
  // Not virtual, as in the vendor's class: slot 0 is OnFrontConnected.
  ~CThostFtdcMdSpi() = default;
};

class CThostFtdcMdApi {
 public:
  // The factory and the version are static members: the library exports them
  // under these mangled names. The addon never calls them by name (it looks
  // them up with dlsym); the CTP simulator defines one factory per build.
  static CThostFtdcMdApi *CreateFtdcMdApi(const char *flowPath, bool isUsingUdp, bool isMulticast);                          // up to 6.7.7
  static CThostFtdcMdApi *CreateFtdcMdApi(const char *flowPath, bool isUsingUdp, bool isMulticast, bool isProductionMode);   // 6.7.11
  static const char *GetApiVersion();

  virtual void Release() = 0;
  virtual void Init() = 0;
  virtual int Join() = 0;
  virtual const char *GetTradingDay() = 0;
  virtual void RegisterFront(char *frontAddress) = 0;
  virtual void RegisterNameServer(char *nsAddress) = 0;
  virtual void RegisterFensUserInfo(CThostFtdcFensUserInfoField *fensUserInfo) = 0;
  virtual void RegisterSpi(CThostFtdcMdSpi *spi) = 0;
  virtual int SubscribeMarketData(char *instrumentIds[], int count) = 0;
  virtual int UnSubscribeMarketData(char *instrumentIds[], int count) = 0;
  virtual int SubscribeForQuoteRsp(char *instrumentIds[], int count) = 0;
  virtual int UnSubscribeForQuoteRsp(char *instrumentIds[], int count) = 0;
  virtual int ReqUserLogin(CThostFtdcReqUserLoginField *login, int requestId) = 0;
  virtual int ReqUserLogout(CThostFtdcUserLogoutField *logout, int requestId) = 0;
  virtual int ReqQryMulticastInstrument(CThostFtdcQryMulticastInstrumentField *query, int requestId) = 0;

 protected:
  // No virtual destructor in the vendor's class: the object is freed only by Release().
  ~CThostFtdcMdApi() = default;
};

/** Signatures of the two factory symbols and of GetApiVersion, for dlsym. */
using CreateFtdcMdApi3 = CThostFtdcMdApi *(*)(const char *, bool, bool);
using CreateFtdcMdApi4 = CThostFtdcMdApi *(*)(const char *, bool, bool, bool);
using GetApiVersionFn = const char *(*)();

/** Mangled names (Itanium C++ ABI) of the symbols a CTP market-data library exports. */
constexpr const char *kCreateFtdcMdApi4Symbol = "_ZN15CThostFtdcMdApi15CreateFtdcMdApiEPKcbbb";
constexpr const char *kCreateFtdcMdApi3Symbol = "_ZN15CThostFtdcMdApi15CreateFtdcMdApiEPKcbb";
constexpr const char *kGetApiVersionSymbol = "_ZN15CThostFtdcMdApi13GetApiVersionEv";

// NOLINTEND(readability-identifier-naming)
