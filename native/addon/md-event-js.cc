#include "md-event-js.h"

#include <cstring>
#include <string>

#include "napi-status.h"

namespace tickflow {
namespace {

// The fields of CThostFtdcDepthMarketDataField handed to JavaScript, in
// declaration order: all but the reserved ones (native/ctp-depth-market-data.ts).
#define TICKFLOW_DEPTH_DATA_FIELDS(X)                                                                                        \
  X(TradingDay) X(ExchangeID) X(LastPrice) X(PreSettlementPrice) X(PreClosePrice) X(PreOpenInterest) X(OpenPrice)          \
  X(HighestPrice) X(LowestPrice) X(Volume) X(Turnover) X(OpenInterest) X(ClosePrice) X(SettlementPrice) X(UpperLimitPrice)  \
  X(LowerLimitPrice) X(PreDelta) X(CurrDelta) X(UpdateTime) X(UpdateMillisec) X(BidPrice1) X(BidVolume1) X(AskPrice1)       \
  X(AskVolume1) X(BidPrice2) X(BidVolume2) X(AskPrice2) X(AskVolume2) X(BidPrice3) X(BidVolume3) X(AskPrice3) X(AskVolume3) \
  X(BidPrice4) X(BidVolume4) X(AskPrice4) X(AskVolume4) X(BidPrice5) X(BidVolume5) X(AskPrice5) X(AskVolume5)               \
  X(AveragePrice) X(ActionDay) X(InstrumentID) X(ExchangeInstID) X(BandingUpperPrice) X(BandingLowerPrice)

#define TICKFLOW_COUNT(name) +1
constexpr std::size_t kDepthDataFields = 0 TICKFLOW_DEPTH_DATA_FIELDS(TICKFLOW_COUNT);
#undef TICKFLOW_COUNT

std::string FactorySource() {
  std::string names;
#define TICKFLOW_NAME(name) names += (names.empty() ? "" : ", ") + std::string(#name);
  TICKFLOW_DEPTH_DATA_FIELDS(TICKFLOW_NAME)
#undef TICKFLOW_NAME
  return "(() => {\n"
         "  'use strict';\n"
         "  return {\n"
         "    frontConnected: (recvUs) => ({ kind: 'front-connected', recvUs }),\n"
         "    frontDisconnected: (reason, recvUs) => ({ kind: 'front-disconnected', reason, recvUs }),\n"
         "    heartbeatWarning: (timeLapse, recvUs) => ({ kind: 'heartbeat-warning', timeLapse, recvUs }),\n"
         "    login: (requestId, isLast, error, login, recvUs) => ({ kind: 'login', requestId, isLast, error, login, recvUs }),\n"
         "    loginInfo: (TradingDay, LoginTime, BrokerID, UserID, SystemName, FrontID, SessionID) =>\n"
         "      ({ TradingDay, LoginTime, BrokerID, UserID, SystemName, FrontID, SessionID }),\n"
         "    logout: (requestId, isLast, error, recvUs) => ({ kind: 'logout', requestId, isLast, error, recvUs }),\n"
         "    error: (requestId, isLast, error, recvUs) => ({ kind: 'error', requestId, isLast, error, recvUs }),\n"
         "    rspError: (errorId, message) => ({ errorId, message }),\n"
         "    subscribed: (instrumentId, requestId, isLast, error, recvUs) =>\n"
         "      ({ kind: 'subscribed', instrumentId, requestId, isLast, error, recvUs }),\n"
         "    unsubscribed: (instrumentId, requestId, isLast, error, recvUs) =>\n"
         "      ({ kind: 'unsubscribed', instrumentId, requestId, isLast, error, recvUs }),\n"
         "    depth: (recvUs, " + names + ") => ({ kind: 'depth', data: { " + names + " }, recvUs }),\n"
         "  };\n"
         "})()";
}

Napi::FunctionReference Factory(Napi::Object factories, const char *name) {
  return Napi::Persistent(factories.Get(name).As<Napi::Function>());
}

/** A char array read up to its first NUL within its size. Latin-1 keeps every byte (market-data fields are ASCII). */
template <std::size_t N>
napi_value Js(napi_env env, const char (&chars)[N]) {
  napi_value result = nullptr;
  Check(napi_create_string_latin1(env, chars, strnlen(chars, N), &result));
  return result;
}
napi_value Js(napi_env env, double value) {
  napi_value result = nullptr;
  Check(napi_create_double(env, value, &result));
  return result;
}
napi_value Js(napi_env env, int value) {
  napi_value result = nullptr;
  Check(napi_create_int32(env, value, &result));
  return result;
}
napi_value Js(napi_env env, bool value) {
  napi_value result = nullptr;
  Check(napi_get_boolean(env, value, &result));
  return result;
}
napi_value Null(napi_env env) {
  napi_value result = nullptr;
  Check(napi_get_null(env, &result));
  return result;
}

template <std::size_t N>
napi_value Call(napi_env env, const Napi::FunctionReference &factory, const napi_value (&args)[N]) {
  napi_value function = nullptr;
  napi_value undefined = nullptr;
  napi_value result = nullptr;
  Check(napi_get_reference_value(env, factory, &function));
  Check(napi_get_undefined(env, &undefined));
  Check(napi_call_function(env, undefined, function, N, args, &result));
  return result;
}

}  // namespace

MdEventFactories::MdEventFactories(Napi::Env env) {
  napi_value compiled = nullptr;
  napi_status status = napi_run_script(env, Napi::String::New(env, FactorySource()), &compiled);
  NAPI_THROW_IF_FAILED_VOID(env, status);
  Napi::Object factories = Napi::Object(env, compiled);
  frontConnected_ = Factory(factories, "frontConnected");
  frontDisconnected_ = Factory(factories, "frontDisconnected");
  heartbeatWarning_ = Factory(factories, "heartbeatWarning");
  login_ = Factory(factories, "login");
  loginInfo_ = Factory(factories, "loginInfo");
  logout_ = Factory(factories, "logout");
  error_ = Factory(factories, "error");
  rspError_ = Factory(factories, "rspError");
  subscribed_ = Factory(factories, "subscribed");
  unsubscribed_ = Factory(factories, "unsubscribed");
  depth_ = Factory(factories, "depth");
}

napi_value MdEventFactories::ToJs(napi_env env, const MdEvent &event) const {
  napi_value recvUs = Js(env, event.recvUs);
  switch (event.kind) {
    case MdEventKind::kDepth: {
      const CThostFtdcDepthMarketDataField &d = event.payload.depth;
      const napi_value args[] = {
          recvUs,
#define TICKFLOW_ARG(name) Js(env, d.name),
          TICKFLOW_DEPTH_DATA_FIELDS(TICKFLOW_ARG)
#undef TICKFLOW_ARG
      };
      static_assert(sizeof args / sizeof args[0] == 1 + kDepthDataFields, "recvUs and every field");
      return Call(env, depth_, args);
    }
    case MdEventKind::kFrontConnected:
      return Call(env, frontConnected_, {recvUs});
    case MdEventKind::kFrontDisconnected:
      return Call(env, frontDisconnected_, {Js(env, static_cast<int>(event.value)), recvUs});
    case MdEventKind::kHeartbeatWarning:
      return Call(env, heartbeatWarning_, {Js(env, static_cast<int>(event.value)), recvUs});
    default:
      break;
  }

  // A reply to a request.
  const MdReply &reply = event.payload.reply;
  napi_value requestId = Js(env, static_cast<int>(event.value));
  napi_value isLast = Js(env, event.isLast);
  napi_value error = Null(env);
  if (event.hasInfo && reply.info.ErrorID != 0) {
    napi_value message = nullptr;
    Check(napi_create_buffer_copy(env, strnlen(reply.info.ErrorMsg, sizeof reply.info.ErrorMsg), reply.info.ErrorMsg, nullptr, &message));
    error = Call(env, rspError_, {Js(env, reply.info.ErrorID), message});
  }
  switch (event.kind) {
    case MdEventKind::kLogin: {
      napi_value login = Null(env);
      if (event.hasBody) {
        // Only fields common to the 204-byte (≤ 6.7.7) and 296-byte (6.7.11) layouts.
        const CThostFtdcRspUserLoginField &l = reply.body.login;
        login = Call(env, loginInfo_,
                     {Js(env, l.TradingDay), Js(env, l.LoginTime), Js(env, l.BrokerID), Js(env, l.UserID), Js(env, l.SystemName), Js(env, l.FrontID),
                      Js(env, l.SessionID)});
      }
      return Call(env, login_, {requestId, isLast, error, login, recvUs});
    }
    case MdEventKind::kLogout:
      return Call(env, logout_, {requestId, isLast, error, recvUs});
    case MdEventKind::kError:
      return Call(env, error_, {requestId, isLast, error, recvUs});
    case MdEventKind::kSubscribed:
    case MdEventKind::kUnsubscribed: {
      napi_value instrumentId = event.hasBody ? Js(env, reply.body.instrument.InstrumentID) : Js(env, "");
      return Call(env, event.kind == MdEventKind::kSubscribed ? subscribed_ : unsubscribed_, {instrumentId, requestId, isLast, error, recvUs});
    }
    default:
      throw NapiFailure{napi_invalid_arg};  // not a kind the queue holds
  }
}

}  // namespace tickflow
