#include "ctp-layout.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ctp-md-api.h"
// The build fails here if a declaration in ctp-md-api.h drifts from the measured facts.
#include "ctp-layout-assertions.h"

namespace tickflow {
namespace {

// Every field of every struct in ctp-md-api.h, in declaration order.
#define TICKFLOW_REQ_USER_LOGIN_FIELDS(X) \
  X(TradingDay) X(BrokerID) X(UserID) X(Password) X(UserProductInfo) X(InterfaceProductInfo) X(ProtocolInfo) X(MacAddress) \
  X(OneTimePassword) X(reserve1) X(LoginRemark) X(ClientIPPort) X(ClientIPAddress)
#define TICKFLOW_RSP_USER_LOGIN_6_7_7_FIELDS(X)                                                                              \
  X(TradingDay) X(LoginTime) X(BrokerID) X(UserID) X(SystemName) X(FrontID) X(SessionID) X(MaxOrderRef) X(SHFETime) X(DCETime) \
  X(CZCETime) X(FFEXTime) X(INETime) X(SysVersion) X(GFEXTime)
#define TICKFLOW_RSP_USER_LOGIN_FIELDS(X) \
  TICKFLOW_RSP_USER_LOGIN_6_7_7_FIELDS(X) X(LoginDRIdentityID) X(UserDRIdentityID) X(LastLoginTime) X(ReserveInfo)
#define TICKFLOW_RSP_INFO_FIELDS(X) X(ErrorID) X(ErrorMsg)
#define TICKFLOW_SPECIFIC_INSTRUMENT_FIELDS(X) X(reserve1) X(InstrumentID)
#define TICKFLOW_DEPTH_MARKET_DATA_FIELDS(X)                                                                                     \
  X(TradingDay) X(reserve1) X(ExchangeID) X(reserve2) X(LastPrice) X(PreSettlementPrice) X(PreClosePrice) X(PreOpenInterest)      \
  X(OpenPrice) X(HighestPrice) X(LowestPrice) X(Volume) X(Turnover) X(OpenInterest) X(ClosePrice) X(SettlementPrice)              \
  X(UpperLimitPrice) X(LowerLimitPrice) X(PreDelta) X(CurrDelta) X(UpdateTime) X(UpdateMillisec) X(BidPrice1) X(BidVolume1)       \
  X(AskPrice1) X(AskVolume1) X(BidPrice2) X(BidVolume2) X(AskPrice2) X(AskVolume2) X(BidPrice3) X(BidVolume3) X(AskPrice3)       \
  X(AskVolume3) X(BidPrice4) X(BidVolume4) X(AskPrice4) X(AskVolume4) X(BidPrice5) X(BidVolume5) X(AskPrice5) X(AskVolume5)      \
  X(AveragePrice) X(ActionDay) X(InstrumentID) X(ExchangeInstID) X(BandingUpperPrice) X(BandingLowerPrice)
#define TICKFLOW_USER_LOGOUT_FIELDS(X) X(BrokerID) X(UserID)
#define TICKFLOW_FENS_USER_INFO_FIELDS(X) X(BrokerID) X(UserID) X(LoginMode)
#define TICKFLOW_FOR_QUOTE_RSP_FIELDS(X) \
  X(TradingDay) X(reserve1) X(ForQuoteSysID) X(ForQuoteTime) X(ActionDay) X(ExchangeID) X(InstrumentID)
#define TICKFLOW_MULTICAST_INSTRUMENT_FIELDS(X) \
  X(TopicID) X(reserve1) X(InstrumentNo) X(CodePrice) X(VolumeMultiple) X(PriceTick) X(InstrumentID)
#define TICKFLOW_QRY_MULTICAST_INSTRUMENT_FIELDS(X) X(TopicID) X(reserve1) X(InstrumentID)

// Every virtual method, in declaration order (the slot order comes from the compiler, not from this list).
#define TICKFLOW_MD_API_METHODS(X)                                                                                        \
  X(Release) X(Init) X(Join) X(GetTradingDay) X(RegisterFront) X(RegisterNameServer) X(RegisterFensUserInfo) X(RegisterSpi) \
  X(SubscribeMarketData) X(UnSubscribeMarketData) X(SubscribeForQuoteRsp) X(UnSubscribeForQuoteRsp) X(ReqUserLogin)        \
  X(ReqUserLogout) X(ReqQryMulticastInstrument)
#define TICKFLOW_MD_SPI_METHODS(X)                                                                                           \
  X(OnFrontConnected) X(OnFrontDisconnected) X(OnHeartBeatWarning) X(OnRspUserLogin) X(OnRspUserLogout)                     \
  X(OnRspQryMulticastInstrument) X(OnRspError) X(OnRspSubMarketData) X(OnRspUnSubMarketData) X(OnRspSubForQuoteRsp)          \
  X(OnRspUnSubForQuoteRsp) X(OnRtnDepthMarketData) X(OnRtnForQuoteRsp)

Napi::Object Field(Napi::Env env, std::size_t offset, std::size_t size) {
  Napi::Object field = Napi::Object::New(env);
  field.Set("offset", Napi::Number::New(env, static_cast<double>(offset)));
  field.Set("size", Napi::Number::New(env, static_cast<double>(size)));
  return field;
}

template <typename T>
Napi::Object StructLayout(Napi::Env env, Napi::Object fields) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("sizeof", Napi::Number::New(env, static_cast<double>(sizeof(T))));
  result.Set("alignof", Napi::Number::New(env, static_cast<double>(alignof(T))));
  result.Set("fields", fields);
  return result;
}

/**
 * The vtable slot of a virtual member function. In the Itanium C++ ABI a
 * pointer to a virtual member function holds 1 + the byte offset of its entry
 * in the vtable (the low bit marks it virtual) and an adjustment of 0 for a
 * class with a single base; a non-virtual one holds the function's address.
 */
template <typename MemberFunction>
std::ptrdiff_t VtableSlot(MemberFunction member) {
  struct ItaniumMemberPointer {
    std::uintptr_t ptr;
    std::ptrdiff_t adj;
  };
  static_assert(sizeof(MemberFunction) == sizeof(ItaniumMemberPointer), "an Itanium pointer to member function is two words");
  ItaniumMemberPointer raw{};
  std::memcpy(&raw, &member, sizeof raw);
  if ((raw.ptr & 1U) == 0 || raw.adj != 0) return -1;
  return static_cast<std::ptrdiff_t>((raw.ptr - 1) / sizeof(void *));
}

/** Method names ordered by vtable slot; throws if two share a slot or a slot is left empty. */
Napi::Array SlotOrder(Napi::Env env, const char *className, const std::vector<std::pair<const char *, std::ptrdiff_t>> &methods) {
  std::vector<const char *> bySlot(methods.size(), nullptr);
  for (const auto &[name, slot] : methods) {
    if (slot < 0 || static_cast<std::size_t>(slot) >= bySlot.size() || bySlot[static_cast<std::size_t>(slot)] != nullptr) {
      throw Napi::Error::New(env, std::string(className) + "::" + name + " has an unexpected vtable slot " + std::to_string(slot));
    }
    bySlot[static_cast<std::size_t>(slot)] = name;
  }
  Napi::Array result = Napi::Array::New(env, bySlot.size());
  for (std::size_t i = 0; i < bySlot.size(); ++i) result.Set(static_cast<uint32_t>(i), Napi::String::New(env, bySlot[i]));
  return result;
}

}  // namespace

Napi::Value LayoutJs(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object structs = Napi::Object::New(env);

#define TICKFLOW_FIELD(name) fields.Set(#name, Field(env, offsetof(Type, name), sizeof(Type::name)));
#define TICKFLOW_STRUCT(type, FIELDS)                         \
  {                                                           \
    using Type = type;                                        \
    Napi::Object fields = Napi::Object::New(env);             \
    FIELDS(TICKFLOW_FIELD)                                    \
    structs.Set(#type, StructLayout<Type>(env, fields));            \
  }
  TICKFLOW_STRUCT(CThostFtdcReqUserLoginField, TICKFLOW_REQ_USER_LOGIN_FIELDS)
  TICKFLOW_STRUCT(CThostFtdcRspUserLoginField, TICKFLOW_RSP_USER_LOGIN_FIELDS)
  TICKFLOW_STRUCT(CThostFtdcRspUserLoginField_6_7_7, TICKFLOW_RSP_USER_LOGIN_6_7_7_FIELDS)
  TICKFLOW_STRUCT(CThostFtdcRspInfoField, TICKFLOW_RSP_INFO_FIELDS)
  TICKFLOW_STRUCT(CThostFtdcSpecificInstrumentField, TICKFLOW_SPECIFIC_INSTRUMENT_FIELDS)
  TICKFLOW_STRUCT(CThostFtdcDepthMarketDataField, TICKFLOW_DEPTH_MARKET_DATA_FIELDS)
  TICKFLOW_STRUCT(CThostFtdcUserLogoutField, TICKFLOW_USER_LOGOUT_FIELDS)
  TICKFLOW_STRUCT(CThostFtdcFensUserInfoField, TICKFLOW_FENS_USER_INFO_FIELDS)
  TICKFLOW_STRUCT(CThostFtdcForQuoteRspField, TICKFLOW_FOR_QUOTE_RSP_FIELDS)
  TICKFLOW_STRUCT(CThostFtdcMulticastInstrumentField, TICKFLOW_MULTICAST_INSTRUMENT_FIELDS)
  TICKFLOW_STRUCT(CThostFtdcQryMulticastInstrumentField, TICKFLOW_QRY_MULTICAST_INSTRUMENT_FIELDS)
#undef TICKFLOW_STRUCT
#undef TICKFLOW_FIELD

#define TICKFLOW_METHOD(name) {#name, VtableSlot(&Class::name)},
  Napi::Object vtables = Napi::Object::New(env);
  {
    using Class = CThostFtdcMdApi;
    vtables.Set("CThostFtdcMdApi", SlotOrder(env, "CThostFtdcMdApi", {TICKFLOW_MD_API_METHODS(TICKFLOW_METHOD)}));
  }
  {
    using Class = CThostFtdcMdSpi;
    vtables.Set("CThostFtdcMdSpi", SlotOrder(env, "CThostFtdcMdSpi", {TICKFLOW_MD_SPI_METHODS(TICKFLOW_METHOD)}));
  }
#undef TICKFLOW_METHOD

  Napi::Object result = Napi::Object::New(env);
  result.Set("structs", structs);
  result.Set("vtables", vtables);
  return result;
}

}  // namespace tickflow
