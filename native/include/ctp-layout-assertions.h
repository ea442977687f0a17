// Generated from native/ctp-abi.json by `npm run native:layout`; do not edit.
// Every size, alignment and offset measured for every SDK version, checked
// against our declarations at compile time.
#pragma once
#include <cstddef>
#include "ctp-md-api.h"

// CThostFtdcReqUserLoginField, SDK 6.7.2, 6.7.7, 6.7.11
static_assert(sizeof(CThostFtdcReqUserLoginField) == 264, "sizeof(CThostFtdcReqUserLoginField)");
static_assert(alignof(CThostFtdcReqUserLoginField) == 4, "alignof(CThostFtdcReqUserLoginField)");
static_assert(offsetof(CThostFtdcReqUserLoginField, TradingDay) == 0 && sizeof(CThostFtdcReqUserLoginField::TradingDay) == 9, "CThostFtdcReqUserLoginField::TradingDay");
static_assert(offsetof(CThostFtdcReqUserLoginField, BrokerID) == 9 && sizeof(CThostFtdcReqUserLoginField::BrokerID) == 11, "CThostFtdcReqUserLoginField::BrokerID");
static_assert(offsetof(CThostFtdcReqUserLoginField, UserID) == 20 && sizeof(CThostFtdcReqUserLoginField::UserID) == 16, "CThostFtdcReqUserLoginField::UserID");
static_assert(offsetof(CThostFtdcReqUserLoginField, Password) == 36 && sizeof(CThostFtdcReqUserLoginField::Password) == 41, "CThostFtdcReqUserLoginField::Password");
static_assert(offsetof(CThostFtdcReqUserLoginField, UserProductInfo) == 77 && sizeof(CThostFtdcReqUserLoginField::UserProductInfo) == 11, "CThostFtdcReqUserLoginField::UserProductInfo");
static_assert(offsetof(CThostFtdcReqUserLoginField, InterfaceProductInfo) == 88 && sizeof(CThostFtdcReqUserLoginField::InterfaceProductInfo) == 11, "CThostFtdcReqUserLoginField::InterfaceProductInfo");
static_assert(offsetof(CThostFtdcReqUserLoginField, ProtocolInfo) == 99 && sizeof(CThostFtdcReqUserLoginField::ProtocolInfo) == 11, "CThostFtdcReqUserLoginField::ProtocolInfo");
static_assert(offsetof(CThostFtdcReqUserLoginField, MacAddress) == 110 && sizeof(CThostFtdcReqUserLoginField::MacAddress) == 21, "CThostFtdcReqUserLoginField::MacAddress");
static_assert(offsetof(CThostFtdcReqUserLoginField, OneTimePassword) == 131 && sizeof(CThostFtdcReqUserLoginField::OneTimePassword) == 41, "CThostFtdcReqUserLoginField::OneTimePassword");
static_assert(offsetof(CThostFtdcReqUserLoginField, reserve1) == 172 && sizeof(CThostFtdcReqUserLoginField::reserve1) == 16, "CThostFtdcReqUserLoginField::reserve1");
static_assert(offsetof(CThostFtdcReqUserLoginField, LoginRemark) == 188 && sizeof(CThostFtdcReqUserLoginField::LoginRemark) == 36, "CThostFtdcReqUserLoginField::LoginRemark");
static_assert(offsetof(CThostFtdcReqUserLoginField, ClientIPPort) == 224 && sizeof(CThostFtdcReqUserLoginField::ClientIPPort) == 4, "CThostFtdcReqUserLoginField::ClientIPPort");
static_assert(offsetof(CThostFtdcReqUserLoginField, ClientIPAddress) == 228 && sizeof(CThostFtdcReqUserLoginField::ClientIPAddress) == 33, "CThostFtdcReqUserLoginField::ClientIPAddress");

// CThostFtdcRspUserLoginField, SDK 6.7.2, 6.7.7
static_assert(sizeof(CThostFtdcRspUserLoginField_6_7_7) == 204, "sizeof(CThostFtdcRspUserLoginField_6_7_7)");
static_assert(alignof(CThostFtdcRspUserLoginField_6_7_7) == 4, "alignof(CThostFtdcRspUserLoginField_6_7_7)");
static_assert(offsetof(CThostFtdcRspUserLoginField_6_7_7, TradingDay) == 0 && sizeof(CThostFtdcRspUserLoginField_6_7_7::TradingDay) == 9, "CThostFtdcRspUserLoginField_6_7_7::TradingDay");
static_assert(offsetof(CThostFtdcRspUserLoginField_6_7_7, LoginTime) == 9 && sizeof(CThostFtdcRspUserLoginField_6_7_7::LoginTime) == 9, "CThostFtdcRspUserLoginField_6_7_7::LoginTime");
static_assert(offsetof(CThostFtdcRspUserLoginField_6_7_7, BrokerID) == 18 && sizeof(CThostFtdcRspUserLoginField_6_7_7::BrokerID) == 11, "CThostFtdcRspUserLoginField_6_7_7::BrokerID");
static_assert(offsetof(CThostFtdcRspUserLoginField_6_7_7, UserID) == 29 && sizeof(CThostFtdcRspUserLoginField_6_7_7::UserID) == 16, "CThostFtdcRspUserLoginField_6_7_7::UserID");
static_assert(offsetof(CThostFtdcRspUserLoginField_6_7_7, SystemName) == 45 && sizeof(CThostFtdcRspUserLoginField_6_7_7::SystemName) == 41, "CThostFtdcRspUserLoginField_6_7_7::SystemName");
static_assert(offsetof(CThostFtdcRspUserLoginField_6_7_7, FrontID) == 88 && sizeof(CThostFtdcRspUserLoginField_6_7_7::FrontID) == 4, "CThostFtdcRspUserLoginField_6_7_7::FrontID");
static_assert(offsetof(CThostFtdcRspUserLoginField_6_7_7, SessionID) == 92 && sizeof(CThostFtdcRspUserLoginField_6_7_7::SessionID) == 4, "CThostFtdcRspUserLoginField_6_7_7::SessionID");
static_assert(offsetof(CThostFtdcRspUserLoginField_6_7_7, MaxOrderRef) == 96 && sizeof(CThostFtdcRspUserLoginField_6_7_7::MaxOrderRef) == 13, "CThostFtdcRspUserLoginField_6_7_7::MaxOrderRef");
static_assert(offsetof(CThostFtdcRspUserLoginField_6_7_7, SHFETime) == 109 && sizeof(CThostFtdcRspUserLoginField_6_7_7::SHFETime) == 9, "CThostFtdcRspUserLoginField_6_7_7::SHFETime");
static_assert(offsetof(CThostFtdcRspUserLoginField_6_7_7, DCETime) == 118 && sizeof(CThostFtdcRspUserLoginField_6_7_7::DCETime) == 9, "CThostFtdcRspUserLoginField_6_7_7::DCETime");
static_assert(offsetof(CThostFtdcRspUserLoginField_6_7_7, CZCETime) == 127 && sizeof(CThostFtdcRspUserLoginField_6_7_7::CZCETime) == 9, "CThostFtdcRspUserLoginField_6_7_7::CZCETime");
static_assert(offsetof(CThostFtdcRspUserLoginField_6_7_7, FFEXTime) == 136 && sizeof(CThostFtdcRspUserLoginField_6_7_7::FFEXTime) == 9, "CThostFtdcRspUserLoginField_6_7_7::FFEXTime");
static_assert(offsetof(CThostFtdcRspUserLoginField_6_7_7, INETime) == 145 && sizeof(CThostFtdcRspUserLoginField_6_7_7::INETime) == 9, "CThostFtdcRspUserLoginField_6_7_7::INETime");
static_assert(offsetof(CThostFtdcRspUserLoginField_6_7_7, SysVersion) == 154 && sizeof(CThostFtdcRspUserLoginField_6_7_7::SysVersion) == 41, "CThostFtdcRspUserLoginField_6_7_7::SysVersion");
static_assert(offsetof(CThostFtdcRspUserLoginField_6_7_7, GFEXTime) == 195 && sizeof(CThostFtdcRspUserLoginField_6_7_7::GFEXTime) == 9, "CThostFtdcRspUserLoginField_6_7_7::GFEXTime");

// CThostFtdcRspInfoField, SDK 6.7.2, 6.7.7, 6.7.11
static_assert(sizeof(CThostFtdcRspInfoField) == 88, "sizeof(CThostFtdcRspInfoField)");
static_assert(alignof(CThostFtdcRspInfoField) == 4, "alignof(CThostFtdcRspInfoField)");
static_assert(offsetof(CThostFtdcRspInfoField, ErrorID) == 0 && sizeof(CThostFtdcRspInfoField::ErrorID) == 4, "CThostFtdcRspInfoField::ErrorID");
static_assert(offsetof(CThostFtdcRspInfoField, ErrorMsg) == 4 && sizeof(CThostFtdcRspInfoField::ErrorMsg) == 81, "CThostFtdcRspInfoField::ErrorMsg");

// CThostFtdcSpecificInstrumentField, SDK 6.7.2, 6.7.7, 6.7.11
static_assert(sizeof(CThostFtdcSpecificInstrumentField) == 112, "sizeof(CThostFtdcSpecificInstrumentField)");
static_assert(alignof(CThostFtdcSpecificInstrumentField) == 1, "alignof(CThostFtdcSpecificInstrumentField)");
static_assert(offsetof(CThostFtdcSpecificInstrumentField, reserve1) == 0 && sizeof(CThostFtdcSpecificInstrumentField::reserve1) == 31, "CThostFtdcSpecificInstrumentField::reserve1");
static_assert(offsetof(CThostFtdcSpecificInstrumentField, InstrumentID) == 31 && sizeof(CThostFtdcSpecificInstrumentField::InstrumentID) == 81, "CThostFtdcSpecificInstrumentField::InstrumentID");

// CThostFtdcDepthMarketDataField, SDK 6.7.2, 6.7.7, 6.7.11
static_assert(sizeof(CThostFtdcDepthMarketDataField) == 584, "sizeof(CThostFtdcDepthMarketDataField)");
static_assert(alignof(CThostFtdcDepthMarketDataField) == 8, "alignof(CThostFtdcDepthMarketDataField)");
static_assert(offsetof(CThostFtdcDepthMarketDataField, TradingDay) == 0 && sizeof(CThostFtdcDepthMarketDataField::TradingDay) == 9, "CThostFtdcDepthMarketDataField::TradingDay");
static_assert(offsetof(CThostFtdcDepthMarketDataField, reserve1) == 9 && sizeof(CThostFtdcDepthMarketDataField::reserve1) == 31, "CThostFtdcDepthMarketDataField::reserve1");
static_assert(offsetof(CThostFtdcDepthMarketDataField, ExchangeID) == 40 && sizeof(CThostFtdcDepthMarketDataField::ExchangeID) == 9, "CThostFtdcDepthMarketDataField::ExchangeID");
static_assert(offsetof(CThostFtdcDepthMarketDataField, reserve2) == 49 && sizeof(CThostFtdcDepthMarketDataField::reserve2) == 31, "CThostFtdcDepthMarketDataField::reserve2");
static_assert(offsetof(CThostFtdcDepthMarketDataField, LastPrice) == 80 && sizeof(CThostFtdcDepthMarketDataField::LastPrice) == 8, "CThostFtdcDepthMarketDataField::LastPrice");
static_assert(offsetof(CThostFtdcDepthMarketDataField, PreSettlementPrice) == 88 && sizeof(CThostFtdcDepthMarketDataField::PreSettlementPrice) == 8, "CThostFtdcDepthMarketDataField::PreSettlementPrice");
static_assert(offsetof(CThostFtdcDepthMarketDataField, PreClosePrice) == 96 && sizeof(CThostFtdcDepthMarketDataField::PreClosePrice) == 8, "CThostFtdcDepthMarketDataField::PreClosePrice");
static_assert(offsetof(CThostFtdcDepthMarketDataField, PreOpenInterest) == 104 && sizeof(CThostFtdcDepthMarketDataField::PreOpenInterest) == 8, "CThostFtdcDepthMarketDataField::PreOpenInterest");
static_assert(offsetof(CThostFtdcDepthMarketDataField, OpenPrice) == 112 && sizeof(CThostFtdcDepthMarketDataField::OpenPrice) == 8, "CThostFtdcDepthMarketDataField::OpenPrice");
static_assert(offsetof(CThostFtdcDepthMarketDataField, HighestPrice) == 120 && sizeof(CThostFtdcDepthMarketDataField::HighestPrice) == 8, "CThostFtdcDepthMarketDataField::HighestPrice");
static_assert(offsetof(CThostFtdcDepthMarketDataField, LowestPrice) == 128 && sizeof(CThostFtdcDepthMarketDataField::LowestPrice) == 8, "CThostFtdcDepthMarketDataField::LowestPrice");
static_assert(offsetof(CThostFtdcDepthMarketDataField, Volume) == 136 && sizeof(CThostFtdcDepthMarketDataField::Volume) == 4, "CThostFtdcDepthMarketDataField::Volume");
static_assert(offsetof(CThostFtdcDepthMarketDataField, Turnover) == 144 && sizeof(CThostFtdcDepthMarketDataField::Turnover) == 8, "CThostFtdcDepthMarketDataField::Turnover");
static_assert(offsetof(CThostFtdcDepthMarketDataField, OpenInterest) == 152 && sizeof(CThostFtdcDepthMarketDataField::OpenInterest) == 8, "CThostFtdcDepthMarketDataField::OpenInterest");
static_assert(offsetof(CThostFtdcDepthMarketDataField, ClosePrice) == 160 && sizeof(CThostFtdcDepthMarketDataField::ClosePrice) == 8, "CThostFtdcDepthMarketDataField::ClosePrice");
static_assert(offsetof(CThostFtdcDepthMarketDataField, SettlementPrice) == 168 && sizeof(CThostFtdcDepthMarketDataField::SettlementPrice) == 8, "CThostFtdcDepthMarketDataField::SettlementPrice");
static_assert(offsetof(CThostFtdcDepthMarketDataField, UpperLimitPrice) == 176 && sizeof(CThostFtdcDepthMarketDataField::UpperLimitPrice) == 8, "CThostFtdcDepthMarketDataField::UpperLimitPrice");
static_assert(offsetof(CThostFtdcDepthMarketDataField, LowerLimitPrice) == 184 && sizeof(CThostFtdcDepthMarketDataField::LowerLimitPrice) == 8, "CThostFtdcDepthMarketDataField::LowerLimitPrice");
static_assert(offsetof(CThostFtdcDepthMarketDataField, PreDelta) == 192 && sizeof(CThostFtdcDepthMarketDataField::PreDelta) == 8, "CThostFtdcDepthMarketDataField::PreDelta");
static_assert(offsetof(CThostFtdcDepthMarketDataField, CurrDelta) == 200 && sizeof(CThostFtdcDepthMarketDataField::CurrDelta) == 8, "CThostFtdcDepthMarketDataField::CurrDelta");
static_assert(offsetof(CThostFtdcDepthMarketDataField, UpdateTime) == 208 && sizeof(CThostFtdcDepthMarketDataField::UpdateTime) == 9, "CThostFtdcDepthMarketDataField::UpdateTime");
static_assert(offsetof(CThostFtdcDepthMarketDataField, UpdateMillisec) == 220 && sizeof(CThostFtdcDepthMarketDataField::UpdateMillisec) == 4, "CThostFtdcDepthMarketDataField::UpdateMillisec");
static_assert(offsetof(CThostFtdcDepthMarketDataField, BidPrice1) == 224 && sizeof(CThostFtdcDepthMarketDataField::BidPrice1) == 8, "CThostFtdcDepthMarketDataField::BidPrice1");
static_assert(offsetof(CThostFtdcDepthMarketDataField, BidVolume1) == 232 && sizeof(CThostFtdcDepthMarketDataField::BidVolume1) == 4, "CThostFtdcDepthMarketDataField::BidVolume1");
static_assert(offsetof(CThostFtdcDepthMarketDataField, AskPrice1) == 240 && sizeof(CThostFtdcDepthMarketDataField::AskPrice1) == 8, "CThostFtdcDepthMarketDataField::AskPrice1");
static_assert(offsetof(CThostFtdcDepthMarketDataField, AskVolume1) == 248 && sizeof(CThostFtdcDepthMarketDataField::AskVolume1) == 4, "CThostFtdcDepthMarketDataField::AskVolume1");
static_assert(offsetof(CThostFtdcDepthMarketDataField, BidPrice2) == 256 && sizeof(CThostFtdcDepthMarketDataField::BidPrice2) == 8, "CThostFtdcDepthMarketDataField::BidPrice2");
static_assert(offsetof(CThostFtdcDepthMarketDataField, BidVolume2) == 264 && sizeof(CThostFtdcDepthMarketDataField::BidVolume2) == 4, "CThostFtdcDepthMarketDataField::BidVolume2");
static_assert(offsetof(CThostFtdcDepthMarketDataField, AskPrice2) == 272 && sizeof(CThostFtdcDepthMarketDataField::AskPrice2) == 8, "CThostFtdcDepthMarketDataField::AskPrice2");
static_assert(offsetof(CThostFtdcDepthMarketDataField, AskVolume2) == 280 && sizeof(CThostFtdcDepthMarketDataField::AskVolume2) == 4, "CThostFtdcDepthMarketDataField::AskVolume2");
static_assert(offsetof(CThostFtdcDepthMarketDataField, BidPrice3) == 288 && sizeof(CThostFtdcDepthMarketDataField::BidPrice3) == 8, "CThostFtdcDepthMarketDataField::BidPrice3");
static_assert(offsetof(CThostFtdcDepthMarketDataField, BidVolume3) == 296 && sizeof(CThostFtdcDepthMarketDataField::BidVolume3) == 4, "CThostFtdcDepthMarketDataField::BidVolume3");
static_assert(offsetof(CThostFtdcDepthMarketDataField, AskPrice3) == 304 && sizeof(CThostFtdcDepthMarketDataField::AskPrice3) == 8, "CThostFtdcDepthMarketDataField::AskPrice3");
static_assert(offsetof(CThostFtdcDepthMarketDataField, AskVolume3) == 312 && sizeof(CThostFtdcDepthMarketDataField::AskVolume3) == 4, "CThostFtdcDepthMarketDataField::AskVolume3");
static_assert(offsetof(CThostFtdcDepthMarketDataField, BidPrice4) == 320 && sizeof(CThostFtdcDepthMarketDataField::BidPrice4) == 8, "CThostFtdcDepthMarketDataField::BidPrice4");
static_assert(offsetof(CThostFtdcDepthMarketDataField, BidVolume4) == 328 && sizeof(CThostFtdcDepthMarketDataField::BidVolume4) == 4, "CThostFtdcDepthMarketDataField::BidVolume4");
static_assert(offsetof(CThostFtdcDepthMarketDataField, AskPrice4) == 336 && sizeof(CThostFtdcDepthMarketDataField::AskPrice4) == 8, "CThostFtdcDepthMarketDataField::AskPrice4");
static_assert(offsetof(CThostFtdcDepthMarketDataField, AskVolume4) == 344 && sizeof(CThostFtdcDepthMarketDataField::AskVolume4) == 4, "CThostFtdcDepthMarketDataField::AskVolume4");
static_assert(offsetof(CThostFtdcDepthMarketDataField, BidPrice5) == 352 && sizeof(CThostFtdcDepthMarketDataField::BidPrice5) == 8, "CThostFtdcDepthMarketDataField::BidPrice5");
static_assert(offsetof(CThostFtdcDepthMarketDataField, BidVolume5) == 360 && sizeof(CThostFtdcDepthMarketDataField::BidVolume5) == 4, "CThostFtdcDepthMarketDataField::BidVolume5");
static_assert(offsetof(CThostFtdcDepthMarketDataField, AskPrice5) == 368 && sizeof(CThostFtdcDepthMarketDataField::AskPrice5) == 8, "CThostFtdcDepthMarketDataField::AskPrice5");
static_assert(offsetof(CThostFtdcDepthMarketDataField, AskVolume5) == 376 && sizeof(CThostFtdcDepthMarketDataField::AskVolume5) == 4, "CThostFtdcDepthMarketDataField::AskVolume5");
static_assert(offsetof(CThostFtdcDepthMarketDataField, AveragePrice) == 384 && sizeof(CThostFtdcDepthMarketDataField::AveragePrice) == 8, "CThostFtdcDepthMarketDataField::AveragePrice");
static_assert(offsetof(CThostFtdcDepthMarketDataField, ActionDay) == 392 && sizeof(CThostFtdcDepthMarketDataField::ActionDay) == 9, "CThostFtdcDepthMarketDataField::ActionDay");
static_assert(offsetof(CThostFtdcDepthMarketDataField, InstrumentID) == 401 && sizeof(CThostFtdcDepthMarketDataField::InstrumentID) == 81, "CThostFtdcDepthMarketDataField::InstrumentID");
static_assert(offsetof(CThostFtdcDepthMarketDataField, ExchangeInstID) == 482 && sizeof(CThostFtdcDepthMarketDataField::ExchangeInstID) == 81, "CThostFtdcDepthMarketDataField::ExchangeInstID");
static_assert(offsetof(CThostFtdcDepthMarketDataField, BandingUpperPrice) == 568 && sizeof(CThostFtdcDepthMarketDataField::BandingUpperPrice) == 8, "CThostFtdcDepthMarketDataField::BandingUpperPrice");
static_assert(offsetof(CThostFtdcDepthMarketDataField, BandingLowerPrice) == 576 && sizeof(CThostFtdcDepthMarketDataField::BandingLowerPrice) == 8, "CThostFtdcDepthMarketDataField::BandingLowerPrice");

// CThostFtdcUserLogoutField, SDK 6.7.2, 6.7.7, 6.7.11
static_assert(sizeof(CThostFtdcUserLogoutField) == 27, "sizeof(CThostFtdcUserLogoutField)");
static_assert(alignof(CThostFtdcUserLogoutField) == 1, "alignof(CThostFtdcUserLogoutField)");
static_assert(offsetof(CThostFtdcUserLogoutField, BrokerID) == 0 && sizeof(CThostFtdcUserLogoutField::BrokerID) == 11, "CThostFtdcUserLogoutField::BrokerID");
static_assert(offsetof(CThostFtdcUserLogoutField, UserID) == 11 && sizeof(CThostFtdcUserLogoutField::UserID) == 16, "CThostFtdcUserLogoutField::UserID");

// CThostFtdcFensUserInfoField, SDK 6.7.2, 6.7.7, 6.7.11
static_assert(sizeof(CThostFtdcFensUserInfoField) == 28, "sizeof(CThostFtdcFensUserInfoField)");
static_assert(alignof(CThostFtdcFensUserInfoField) == 1, "alignof(CThostFtdcFensUserInfoField)");
static_assert(offsetof(CThostFtdcFensUserInfoField, BrokerID) == 0 && sizeof(CThostFtdcFensUserInfoField::BrokerID) == 11, "CThostFtdcFensUserInfoField::BrokerID");
static_assert(offsetof(CThostFtdcFensUserInfoField, UserID) == 11 && sizeof(CThostFtdcFensUserInfoField::UserID) == 16, "CThostFtdcFensUserInfoField::UserID");
static_assert(offsetof(CThostFtdcFensUserInfoField, LoginMode) == 27 && sizeof(CThostFtdcFensUserInfoField::LoginMode) == 1, "CThostFtdcFensUserInfoField::LoginMode");

// CThostFtdcForQuoteRspField, SDK 6.7.2, 6.7.7, 6.7.11
static_assert(sizeof(CThostFtdcForQuoteRspField) == 169, "sizeof(CThostFtdcForQuoteRspField)");
static_assert(alignof(CThostFtdcForQuoteRspField) == 1, "alignof(CThostFtdcForQuoteRspField)");
static_assert(offsetof(CThostFtdcForQuoteRspField, TradingDay) == 0 && sizeof(CThostFtdcForQuoteRspField::TradingDay) == 9, "CThostFtdcForQuoteRspField::TradingDay");
static_assert(offsetof(CThostFtdcForQuoteRspField, reserve1) == 9 && sizeof(CThostFtdcForQuoteRspField::reserve1) == 31, "CThostFtdcForQuoteRspField::reserve1");
static_assert(offsetof(CThostFtdcForQuoteRspField, ForQuoteSysID) == 40 && sizeof(CThostFtdcForQuoteRspField::ForQuoteSysID) == 21, "CThostFtdcForQuoteRspField::ForQuoteSysID");
static_assert(offsetof(CThostFtdcForQuoteRspField, ForQuoteTime) == 61 && sizeof(CThostFtdcForQuoteRspField::ForQuoteTime) == 9, "CThostFtdcForQuoteRspField::ForQuoteTime");
static_assert(offsetof(CThostFtdcForQuoteRspField, ActionDay) == 70 && sizeof(CThostFtdcForQuoteRspField::ActionDay) == 9, "CThostFtdcForQuoteRspField::ActionDay");
static_assert(offsetof(CThostFtdcForQuoteRspField, ExchangeID) == 79 && sizeof(CThostFtdcForQuoteRspField::ExchangeID) == 9, "CThostFtdcForQuoteRspField::ExchangeID");
static_assert(offsetof(CThostFtdcForQuoteRspField, InstrumentID) == 88 && sizeof(CThostFtdcForQuoteRspField::InstrumentID) == 81, "CThostFtdcForQuoteRspField::InstrumentID");

// CThostFtdcMulticastInstrumentField, SDK 6.7.2, 6.7.7, 6.7.11
static_assert(sizeof(CThostFtdcMulticastInstrumentField) == 152, "sizeof(CThostFtdcMulticastInstrumentField)");
static_assert(alignof(CThostFtdcMulticastInstrumentField) == 8, "alignof(CThostFtdcMulticastInstrumentField)");
static_assert(offsetof(CThostFtdcMulticastInstrumentField, TopicID) == 0 && sizeof(CThostFtdcMulticastInstrumentField::TopicID) == 4, "CThostFtdcMulticastInstrumentField::TopicID");
static_assert(offsetof(CThostFtdcMulticastInstrumentField, reserve1) == 4 && sizeof(CThostFtdcMulticastInstrumentField::reserve1) == 31, "CThostFtdcMulticastInstrumentField::reserve1");
static_assert(offsetof(CThostFtdcMulticastInstrumentField, InstrumentNo) == 36 && sizeof(CThostFtdcMulticastInstrumentField::InstrumentNo) == 4, "CThostFtdcMulticastInstrumentField::InstrumentNo");
static_assert(offsetof(CThostFtdcMulticastInstrumentField, CodePrice) == 40 && sizeof(CThostFtdcMulticastInstrumentField::CodePrice) == 8, "CThostFtdcMulticastInstrumentField::CodePrice");
static_assert(offsetof(CThostFtdcMulticastInstrumentField, VolumeMultiple) == 48 && sizeof(CThostFtdcMulticastInstrumentField::VolumeMultiple) == 4, "CThostFtdcMulticastInstrumentField::VolumeMultiple");
static_assert(offsetof(CThostFtdcMulticastInstrumentField, PriceTick) == 56 && sizeof(CThostFtdcMulticastInstrumentField::PriceTick) == 8, "CThostFtdcMulticastInstrumentField::PriceTick");
static_assert(offsetof(CThostFtdcMulticastInstrumentField, InstrumentID) == 64 && sizeof(CThostFtdcMulticastInstrumentField::InstrumentID) == 81, "CThostFtdcMulticastInstrumentField::InstrumentID");

// CThostFtdcQryMulticastInstrumentField, SDK 6.7.2, 6.7.7, 6.7.11
static_assert(sizeof(CThostFtdcQryMulticastInstrumentField) == 116, "sizeof(CThostFtdcQryMulticastInstrumentField)");
static_assert(alignof(CThostFtdcQryMulticastInstrumentField) == 4, "alignof(CThostFtdcQryMulticastInstrumentField)");
static_assert(offsetof(CThostFtdcQryMulticastInstrumentField, TopicID) == 0 && sizeof(CThostFtdcQryMulticastInstrumentField::TopicID) == 4, "CThostFtdcQryMulticastInstrumentField::TopicID");
static_assert(offsetof(CThostFtdcQryMulticastInstrumentField, reserve1) == 4 && sizeof(CThostFtdcQryMulticastInstrumentField::reserve1) == 31, "CThostFtdcQryMulticastInstrumentField::reserve1");
static_assert(offsetof(CThostFtdcQryMulticastInstrumentField, InstrumentID) == 35 && sizeof(CThostFtdcQryMulticastInstrumentField::InstrumentID) == 81, "CThostFtdcQryMulticastInstrumentField::InstrumentID");

// CThostFtdcRspUserLoginField, SDK 6.7.11
static_assert(sizeof(CThostFtdcRspUserLoginField) == 296, "sizeof(CThostFtdcRspUserLoginField)");
static_assert(alignof(CThostFtdcRspUserLoginField) == 4, "alignof(CThostFtdcRspUserLoginField)");
static_assert(offsetof(CThostFtdcRspUserLoginField, TradingDay) == 0 && sizeof(CThostFtdcRspUserLoginField::TradingDay) == 9, "CThostFtdcRspUserLoginField::TradingDay");
static_assert(offsetof(CThostFtdcRspUserLoginField, LoginTime) == 9 && sizeof(CThostFtdcRspUserLoginField::LoginTime) == 9, "CThostFtdcRspUserLoginField::LoginTime");
static_assert(offsetof(CThostFtdcRspUserLoginField, BrokerID) == 18 && sizeof(CThostFtdcRspUserLoginField::BrokerID) == 11, "CThostFtdcRspUserLoginField::BrokerID");
static_assert(offsetof(CThostFtdcRspUserLoginField, UserID) == 29 && sizeof(CThostFtdcRspUserLoginField::UserID) == 16, "CThostFtdcRspUserLoginField::UserID");
static_assert(offsetof(CThostFtdcRspUserLoginField, SystemName) == 45 && sizeof(CThostFtdcRspUserLoginField::SystemName) == 41, "CThostFtdcRspUserLoginField::SystemName");
static_assert(offsetof(CThostFtdcRspUserLoginField, FrontID) == 88 && sizeof(CThostFtdcRspUserLoginField::FrontID) == 4, "CThostFtdcRspUserLoginField::FrontID");
static_assert(offsetof(CThostFtdcRspUserLoginField, SessionID) == 92 && sizeof(CThostFtdcRspUserLoginField::SessionID) == 4, "CThostFtdcRspUserLoginField::SessionID");
static_assert(offsetof(CThostFtdcRspUserLoginField, MaxOrderRef) == 96 && sizeof(CThostFtdcRspUserLoginField::MaxOrderRef) == 13, "CThostFtdcRspUserLoginField::MaxOrderRef");
static_assert(offsetof(CThostFtdcRspUserLoginField, SHFETime) == 109 && sizeof(CThostFtdcRspUserLoginField::SHFETime) == 9, "CThostFtdcRspUserLoginField::SHFETime");
static_assert(offsetof(CThostFtdcRspUserLoginField, DCETime) == 118 && sizeof(CThostFtdcRspUserLoginField::DCETime) == 9, "CThostFtdcRspUserLoginField::DCETime");
static_assert(offsetof(CThostFtdcRspUserLoginField, CZCETime) == 127 && sizeof(CThostFtdcRspUserLoginField::CZCETime) == 9, "CThostFtdcRspUserLoginField::CZCETime");
static_assert(offsetof(CThostFtdcRspUserLoginField, FFEXTime) == 136 && sizeof(CThostFtdcRspUserLoginField::FFEXTime) == 9, "CThostFtdcRspUserLoginField::FFEXTime");
static_assert(offsetof(CThostFtdcRspUserLoginField, INETime) == 145 && sizeof(CThostFtdcRspUserLoginField::INETime) == 9, "CThostFtdcRspUserLoginField::INETime");
static_assert(offsetof(CThostFtdcRspUserLoginField, SysVersion) == 154 && sizeof(CThostFtdcRspUserLoginField::SysVersion) == 41, "CThostFtdcRspUserLoginField::SysVersion");
static_assert(offsetof(CThostFtdcRspUserLoginField, GFEXTime) == 195 && sizeof(CThostFtdcRspUserLoginField::GFEXTime) == 9, "CThostFtdcRspUserLoginField::GFEXTime");
static_assert(offsetof(CThostFtdcRspUserLoginField, LoginDRIdentityID) == 204 && sizeof(CThostFtdcRspUserLoginField::LoginDRIdentityID) == 4, "CThostFtdcRspUserLoginField::LoginDRIdentityID");
static_assert(offsetof(CThostFtdcRspUserLoginField, UserDRIdentityID) == 208 && sizeof(CThostFtdcRspUserLoginField::UserDRIdentityID) == 4, "CThostFtdcRspUserLoginField::UserDRIdentityID");
static_assert(offsetof(CThostFtdcRspUserLoginField, LastLoginTime) == 212 && sizeof(CThostFtdcRspUserLoginField::LastLoginTime) == 17, "CThostFtdcRspUserLoginField::LastLoginTime");
static_assert(offsetof(CThostFtdcRspUserLoginField, ReserveInfo) == 229 && sizeof(CThostFtdcRspUserLoginField::ReserveInfo) == 65, "CThostFtdcRspUserLoginField::ReserveInfo");
