// The CTP simulator: a CTP market-data library whose fronts run in-process
// on simulated markets. This file: the exported factory, version and
// control function, and the api object handed to callers. The api object is
// a thin shell over a Core shared with the fronts (front.h), so that
// Release can delete it while a front still holds messages naming it.
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "ctp-layout-assertions.h"  // the structs we fill have the vendor's layout
#include "ctp-md-api.h"
#include "front.h"
#include "params.h"

#ifndef TICKFLOW_CTP_SIMULATOR_API_VERSION
#define TICKFLOW_CTP_SIMULATOR_API_VERSION "v6.7.11_tickflow_ctp_simulator"
#endif
#ifndef TICKFLOW_CTP_SIMULATOR_FACTORY_ARITY
#define TICKFLOW_CTP_SIMULATOR_FACTORY_ARITY 4
#endif

#define TICKFLOW_CTP_SIMULATOR_EXPORT __attribute__((visibility("default")))

namespace tickflow_ctp_simulator {
namespace {

class SimApi final : public CThostFtdcMdApi {
 public:
  SimApi() : core_(new Core) {}
  SimApi(const SimApi &) = delete;
  SimApi &operator=(const SimApi &) = delete;

  void Release() override;
  void Init() override;
  int Join() override;
  const char *GetTradingDay() override;
  void RegisterFront(char *frontAddress) override;
  void RegisterNameServer(char *) override {}
  void RegisterFensUserInfo(CThostFtdcFensUserInfoField *) override {}
  void RegisterSpi(CThostFtdcMdSpi *spi) override { core_->spi.store(spi, std::memory_order_release); }
  int SubscribeMarketData(char *instrumentIds[], int count) override;
  int UnSubscribeMarketData(char *instrumentIds[], int count) override;
  // Quote requests and multicast are not simulated: accepted, never answered.
  int SubscribeForQuoteRsp(char *[], int) override { return 0; }
  int UnSubscribeForQuoteRsp(char *[], int) override { return 0; }
  int ReqUserLogin(CThostFtdcReqUserLoginField *login, int requestId) override;
  int ReqUserLogout(CThostFtdcUserLogoutField *logout, int requestId) override;
  int ReqQryMulticastInstrument(CThostFtdcQryMulticastInstrumentField *, int) override { return 0; }

 private:
  ~SimApi() = default;  // only Release deletes

  /** Starts connecting to the registered front at core_->frontIndex, now. Call with core_->mutex held. */
  void connectLocked();
  /** Sends a request on the current connection: 0, or -1 if not connected. */
  int send(Message &&message);
  int sendInstruments(Message::Kind kind, char *instrumentIds[], int count);

  const std::shared_ptr<Core> core_;
  char tradingDay_[9] = {};
};

void SimApi::connectLocked() {
  Message attempt;
  attempt.kind = Message::Kind::Attempt;
  attempt.core = core_;
  attempt.epoch = ++core_->epoch;
  attempt.due = Clock::now();
  core_->fronts[core_->frontIndex]->post(std::move(attempt));
}

void SimApi::Release() {
  try {
    const std::shared_ptr<Core> core = core_;
    Front *connected = nullptr;
    {
      std::lock_guard<std::mutex> lock(core->mutex);
      core->releasing = true;
      connected = core->connected;
      core->connected = nullptr;
      ++core->epoch;  // every attempt and request in flight is now stale
    }
    core->releasedChanged.notify_all();
    if (inCallbackOf(*core)) {
      core->released = true;  // this thread already holds callbackMutex
    } else {
      // Waits for a callback in flight; none starts after this. (Two apis releasing each other from
      // their own callbacks on two front threads would wait for each other; tickflow never does that.)
      std::lock_guard<std::mutex> lock(core->callbackMutex);
      core->released = true;
    }
    if (connected != nullptr) {
      Message detach;
      detach.kind = Message::Kind::Detach;
      detach.core = core;
      connected->post(std::move(detach));
    }
  } catch (...) {
    // Nothing above allocates except the message; the api is released regardless.
  }
  delete this;
}

void SimApi::Init() {
  try {
    std::lock_guard<std::mutex> lock(core_->mutex);
    if (core_->initialized || core_->releasing) return;
    core_->initialized = true;
    core_->frontIndex = 0;
    if (!core_->fronts.empty()) connectLocked();  // else: waits for a well-formed RegisterFront
  } catch (...) {
  }
}

int SimApi::Join() {
  const std::shared_ptr<Core> core = core_;  // `this` is deleted by the Release that wakes us
  std::unique_lock<std::mutex> lock(core->mutex);
  core->releasedChanged.wait(lock, [&core] { return core->releasing; });
  return 0;
}

const char *SimApi::GetTradingDay() {
  std::lock_guard<std::mutex> lock(core_->mutex);
  std::memcpy(tradingDay_, core_->tradingDay, sizeof tradingDay_);
  return tradingDay_;
}

void SimApi::RegisterFront(char *frontAddress) {
  try {
    FrontAddress address;
    if (!parseFrontAddress(frontAddress, address)) return;  // malformed: never connected to
    Front *front = obtainFront(address);
    std::lock_guard<std::mutex> lock(core_->mutex);
    if (core_->releasing) return;
    core_->fronts.push_back(front);
    if (core_->initialized && core_->fronts.size() == 1) connectLocked();
  } catch (...) {
  }
}

int SimApi::send(Message &&message) {
  try {
    std::lock_guard<std::mutex> lock(core_->mutex);
    if (core_->releasing || core_->connected == nullptr) return -1;
    message.core = core_;
    message.epoch = core_->epoch;
    core_->connected->post(std::move(message));
    return 0;
  } catch (...) {
    return -1;
  }
}

int SimApi::sendInstruments(Message::Kind kind, char *instrumentIds[], int count) {
  if (count < 0 || (count > 0 && instrumentIds == nullptr)) return -1;
  try {
    Message message;
    message.kind = kind;
    message.instruments.reserve(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) message.instruments.push_back(InstrumentName{instrumentIds[i] != nullptr ? instrumentIds[i] : ""});
    return send(std::move(message));
  } catch (...) {
    return -1;
  }
}

int SimApi::SubscribeMarketData(char *instrumentIds[], int count) { return sendInstruments(Message::Kind::Subscribe, instrumentIds, count); }

int SimApi::UnSubscribeMarketData(char *instrumentIds[], int count) {
  return sendInstruments(Message::Kind::Unsubscribe, instrumentIds, count);
}

int SimApi::ReqUserLogin(CThostFtdcReqUserLoginField *login, int requestId) {
  Message message;
  message.kind = Message::Kind::Login;
  message.requestId = requestId;
  if (login != nullptr) message.login = *login;
  return send(std::move(message));
}

int SimApi::ReqUserLogout(CThostFtdcUserLogoutField *logout, int requestId) {
  Message message;
  message.kind = Message::Kind::Logout;
  message.requestId = requestId;
  if (logout != nullptr) message.logout = *logout;
  return send(std::move(message));
}

CThostFtdcMdApi *createApi(const char *flowPath) {
  try {
    // As the vendor's library does, an empty flow path means the current directory.
    std::string directory = flowPath != nullptr && flowPath[0] != '\0' ? flowPath : ".";
    struct stat info;
    if (stat(directory.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) return nullptr;
    if (directory.back() != '/') directory.push_back('/');
    // The vendor writes its flow files here; leave a trace of the same kind.
    if (FILE *flow = std::fopen((directory + "tickflow-ctp-simulator.con").c_str(), "wb")) {
      std::fputs("tickflow-ctp-simulator\n", flow);
      std::fclose(flow);
    }
    return new SimApi();
  } catch (...) {
    return nullptr;
  }
}

}  // namespace
}  // namespace tickflow_ctp_simulator

#if TICKFLOW_CTP_SIMULATOR_FACTORY_ARITY == 3
TICKFLOW_CTP_SIMULATOR_EXPORT CThostFtdcMdApi *CThostFtdcMdApi::CreateFtdcMdApi(const char *flowPath, bool, bool) {
  return tickflow_ctp_simulator::createApi(flowPath);
}
#else
TICKFLOW_CTP_SIMULATOR_EXPORT CThostFtdcMdApi *CThostFtdcMdApi::CreateFtdcMdApi(const char *flowPath, bool, bool, bool) {
  return tickflow_ctp_simulator::createApi(flowPath);
}
#endif

TICKFLOW_CTP_SIMULATOR_EXPORT const char *CThostFtdcMdApi::GetApiVersion() { return TICKFLOW_CTP_SIMULATOR_API_VERSION; }

/**
 * Test hook: acts on the front named by address's HOST:PORT (tcp:// and query
 * optional). 0 on success, -1 if no such front exists yet, -2 for an unknown
 * command. Commands: down, up, disconnect, stall, resume, rate=N.
 */
extern "C" TICKFLOW_CTP_SIMULATOR_EXPORT int tickflow_ctp_simulator_control(const char *frontAddress, const char *command) {
  try {
    std::string hostPort;
    if (!tickflow_ctp_simulator::parseHostPort(frontAddress, hostPort)) return -1;
    tickflow_ctp_simulator::Front *front = tickflow_ctp_simulator::findFront(hostPort);
    if (front == nullptr) return -1;
    return front->control(command);
  } catch (...) {
    return -1;
  }
}
