#include "front.h"

#include <algorithm>
#include <cstring>

#include "market-time.h"

namespace tickflow_ctp_simulator {

namespace {

// The api whose callback this thread is running, if any (see inCallbackOf).
thread_local const Core *tCallbackCore = nullptr;

// Runs fn(spi) unless the api is released, holding its callbackMutex so that
// Release can wait for an in-flight callback. The caller keeps the Core alive.
template <class Fn>
void runCallback(Core &core, Fn &&fn) {
  std::lock_guard<std::mutex> lock(core.callbackMutex);
  if (core.released) return;
  CThostFtdcMdSpi *spi = core.spi.load(std::memory_order_acquire);
  if (spi == nullptr) return;
  const Core *outer = tCallbackCore;
  tCallbackCore = &core;
  try {
    fn(spi);
  } catch (...) {
    // An exception thrown by the Spi must not unwind through the front thread.
  }
  tCallbackCore = outer;
}

template <size_t N, size_t M>
void copyField(char (&out)[N], const char (&in)[M]) {
  size_t length = 0;
  while (length < M && length + 1 < N && in[length] != '\0') ++length;
  std::memcpy(out, in, length);
  out[length] = '\0';
}

template <size_t N>
void copyText(char (&out)[N], const char *text) {
  std::strncpy(out, text, N - 1);
  out[N - 1] = '\0';
}

void setInfo(CThostFtdcRspInfoField &info, int errorId, const char *message) {
  std::memset(&info, 0, sizeof info);
  info.ErrorID = errorId;
  copyText(info.ErrorMsg, message);
}

// Error messages as a real front sends them: GB18030 bytes.
constexpr const char *kNoError = "CTP:No Error";
constexpr const char *kBadLogin = "CTP:\xb2\xbb\xba\xcf\xb7\xa8\xb5\xc4\xb5\xc7\xc2\xbc";        // CTP:不合法的登录
constexpr const char *kNotLoggedIn = "CTP:\xd3\xc3\xbb\xa7\xce\xb4\xb5\xc7\xc2\xbc";             // CTP:用户未登录
constexpr const char *kNoInstrument = "CTP:\xd5\xd2\xb2\xbb\xb5\xbd\xba\xcf\xd4\xbc";            // CTP:找不到合约
constexpr int kErrorBadLogin = 3;
constexpr int kErrorNotLoggedIn = 4;
constexpr int kErrorNoInstrument = 16;
constexpr int kReasonReadFailed = 0x1001;
constexpr int kReasonHeartbeatTimeout = 0x2001;

#if defined(TICKFLOW_CTP_SIMULATOR_FACTORY_ARITY) && TICKFLOW_CTP_SIMULATOR_FACTORY_ARITY == 3
// The older library hands out the 204-byte response; callers may only read that much.
using RspUserLogin = CThostFtdcRspUserLoginField_6_7_7;
#else
using RspUserLogin = CThostFtdcRspUserLoginField;
#endif

// With nobody to deliver to, the market is still advanced (its state must
// not depend on listeners) but in batches this far apart.
constexpr auto kIdleCatchUp = std::chrono::milliseconds(20);
// The shortest sleep between two passes of tick delivery.
constexpr auto kMinSleep = std::chrono::microseconds(500);
// The most tick delivery done before requests are looked at again.
constexpr auto kDeliveryBudget = std::chrono::milliseconds(1);
// How long process exit waits for front threads (one may be stuck in a Spi).
constexpr auto kExitGrace = std::chrono::seconds(2);

}  // namespace

bool inCallbackOf(const Core &core) { return tCallbackCore == &core; }

// ---- the front ----------------------------------------------------------

Front::Front(const FrontParams &params) : params_(params), market_(params) {
  // Anchored after the market is built: a recorded file's row 0 is due now.
  wallAnchor_ = Clock::now();
  lastCatchUp_ = wallAnchor_;
  marketAnchor_ = params_.startMicros;
  rate_ = params_.rate;
  subscribers_.resize(market_.slotCount());
}

void Front::start() {
  try {
    thread_ = std::thread([this] {
      try {
        run();
      } catch (...) {
        // Only allocation can fail in here; a dead front is all that is left.
      }
      std::lock_guard<std::mutex> lock(exitMutex_);
      finished_ = true;
      exited_.notify_all();
    });
  } catch (...) {
    // No thread: the front stays silent (apis never connect).
  }
}

void Front::post(Message &&message) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    inbox_.push_back(std::move(message));
  }
  wake_.notify_one();
}

int Front::control(const char *command) {
  if (command == nullptr) return -2;
  const std::string text(command);
  Message message;
  message.kind = Message::Kind::Control;
  if (text == "down") {
    message.command = Message::Command::Down;
  } else if (text == "up") {
    message.command = Message::Command::Up;
  } else if (text == "disconnect") {
    message.command = Message::Command::Disconnect;
  } else if (text == "stall") {
    message.command = Message::Command::Stall;
  } else if (text == "resume") {
    message.command = Message::Command::Resume;
  } else if (text.compare(0, 5, "rate=") == 0 && parseRate(text.substr(5), message.rate)) {
    message.command = Message::Command::Rate;
  } else {
    return -2;
  }
  post(std::move(message));
  return 0;
}

void Front::requestStop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stopRequested_.store(true, std::memory_order_relaxed);
  wake_.notify_one();
}

bool Front::waitStopped(Clock::time_point deadline) {
  if (!thread_.joinable()) return true;
  std::unique_lock<std::mutex> lock(exitMutex_);
  if (!exited_.wait_until(lock, deadline, [this] { return finished_; })) {
    // Stuck in a Spi: abandon it rather than hang the process's exit.
    lock.unlock();
    thread_.detach();
    return false;
  }
  lock.unlock();
  thread_.join();
  return true;
}

void Front::run() {
  std::vector<Message> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      for (;;) {
        if (stopping_) return;
        if (!inbox_.empty()) break;
        const Clock::time_point wake = nextWake();
        if (wake <= Clock::now()) break;
        if (wake == Clock::time_point::max()) {
          wake_.wait(lock);
        } else {
          wake_.wait_until(lock, wake);
        }
      }
      batch.swap(inbox_);
    }
    // With nobody listening, bring the market up to now first, so that a new
    // subscriber is not handed ticks that were due before it subscribed.
    if (!delivering()) deliverDueTicks(Clock::now(), false);
    for (Message &message : batch) {
      if (stopRequested_.load(std::memory_order_relaxed)) return;
      handle(message);
    }
    batch.clear();
    runDueAttempts(Clock::now());
    deliverDueTicks(Clock::now(), delivering());
  }
}

Clock::time_point Front::nextWake() const {
  Clock::time_point wake = Clock::time_point::max();
  if (!attempts_.empty()) wake = attempts_.front().due;
  if (market_.hasTick(nextTick_)) {
    Clock::time_point due = dueTime(nextTick_);
    // Delivered ticks come in batches at least kMinSleep apart: at high
    // rates, one wake-up per tick would cost more than the ticks.
    due = std::max(due, lastCatchUp_ + (delivering() ? kMinSleep : kIdleCatchUp));
    wake = std::min(wake, due);
  }
  return wake;
}

// ---- timing -------------------------------------------------------------

namespace {
// a * unit / rate without overflowing for any realistic tick count.
uint64_t scale(uint64_t a, uint64_t unit, uint64_t rate) { return a / rate * unit + a % rate * unit / rate; }
}  // namespace

Clock::time_point Front::dueTime(uint64_t k) const {
  return wallAnchor_ + std::chrono::nanoseconds(static_cast<int64_t>(scale(k - firstTick_, 1000000000, rate_)));
}

int64_t Front::marketMicros(uint64_t k) const { return marketAnchor_ + static_cast<int64_t>(scale(k - firstTick_, 1000000, rate_)); }

int64_t Front::marketMicrosAt(Clock::time_point now) const {
  if (now <= wallAnchor_) return marketAnchor_;
  return marketAnchor_ + std::chrono::duration_cast<std::chrono::microseconds>(now - wallAnchor_).count();
}

// ---- market data --------------------------------------------------------

void Front::deliverDueTicks(Clock::time_point now, bool deliver) {
  const Clock::time_point budgetEnd = now + kDeliveryBudget;
  unsigned count = 0;
  while (market_.hasTick(nextTick_) && dueTime(nextTick_) <= now) {
    produce(deliver);
    if ((++count & 63) == 0) {
      if (stopRequested_.load(std::memory_order_relaxed)) return;
      // Only delivery is cut short: silent catching up is cheap and bounded by kIdleCatchUp.
      if (deliver && Clock::now() >= budgetEnd) return;
    }
  }
  lastCatchUp_ = now;
}

void Front::produce(bool deliver) {
  const uint64_t k = nextTick_++;
  const int64_t micros = marketMicros(k);
  const int slot = market_.advance(k, micros);
  if (!deliver || slot < 0) return;
  const std::vector<Session *> &receivers = subscribers_[static_cast<size_t>(slot)];
  if (receivers.empty()) return;
  market_.fill(k, micros, tick_);
  // Callbacks cannot change receivers while this runs: api methods only post messages.
  for (Session *session : receivers) {
    copy_ = tick_;
    runCallback(*session->core, [this](CThostFtdcMdSpi *spi) { spi->OnRtnDepthMarketData(&copy_); });
  }
}

// ---- messages -----------------------------------------------------------

void Front::handle(Message &message) {
  switch (message.kind) {
    case Message::Kind::Attempt:
      attempts_.push_back(Attempt{message.due, std::move(message.core), message.epoch});
      std::push_heap(attempts_.begin(), attempts_.end(), attemptLater);
      return;
    case Message::Kind::Control:
      applyControl(message);
      return;
    case Message::Kind::Detach:
      dropSession(message.core.get());
      return;
    default:
      break;
  }
  Session *session = sessionFor(message);
  if (session == nullptr) return;  // sent on a connection that has since gone: lost, as on a network
  switch (message.kind) {
    case Message::Kind::Login:
      login(*session, message);
      break;
    case Message::Kind::Logout:
      logout(*session, message);
      break;
    case Message::Kind::Subscribe:
      subscribe(*session, message, true);
      break;
    case Message::Kind::Unsubscribe:
      subscribe(*session, message, false);
      break;
    default:
      break;
  }
}

Front::Session *Front::sessionFor(const Message &message) {
  auto found = sessions_.find(message.core.get());
  if (found == sessions_.end() || found->second->epoch != message.epoch) return nullptr;
  return found->second.get();
}

void Front::runDueAttempts(Clock::time_point now) {
  while (!attempts_.empty() && attempts_.front().due <= now) {
    std::pop_heap(attempts_.begin(), attempts_.end(), attemptLater);
    Attempt attempt = std::move(attempts_.back());
    attempts_.pop_back();
    tryConnect(attempt.core, attempt.epoch);
  }
}

void Front::tryConnect(const std::shared_ptr<Core> &core, uint64_t epoch) {
  Front *next = nullptr;
  uint64_t newEpoch = 0;
  {
    std::lock_guard<std::mutex> lock(core->mutex);
    if (core->releasing || core->epoch != epoch || core->fronts.empty()) return;  // stale attempt
    newEpoch = ++core->epoch;
    if (up_) {
      core->connected = this;
    } else {
      core->frontIndex = (core->frontIndex + 1) % core->fronts.size();
      next = core->fronts[core->frontIndex];
    }
  }
  if (next != nullptr) {
    // Refused: try the next registered front after this front's retry interval.
    Message retry;
    retry.kind = Message::Kind::Attempt;
    retry.core = core;
    retry.epoch = newEpoch;
    retry.due = Clock::now() + std::chrono::milliseconds(params_.retryMs);
    next->post(std::move(retry));
    return;
  }
  dropSession(core.get());
  auto session = std::make_unique<Session>();
  session->core = core;
  session->epoch = newEpoch;
  session->subscribed.assign(market_.slotCount(), false);
  sessions_[core.get()] = std::move(session);
  runCallback(*core, [](CThostFtdcMdSpi *spi) { spi->OnFrontConnected(); });
}

void Front::disconnectAll(int reason) {
  std::vector<std::unique_ptr<Session>> dropped;
  dropped.reserve(sessions_.size());
  for (auto &entry : sessions_) dropped.push_back(std::move(entry.second));
  sessions_.clear();
  for (auto &receivers : subscribers_) receivers.clear();
  subscriptionCount_ = 0;
  for (const auto &session : dropped) {
    Core &core = *session->core;
    Front *next = nullptr;
    uint64_t retryEpoch = 0;
    {
      std::lock_guard<std::mutex> lock(core.mutex);
      // Otherwise the api is being released and its connection is already gone.
      if (!core.releasing && core.connected == this && core.epoch == session->epoch && !core.fronts.empty()) {
        core.connected = nullptr;
        retryEpoch = ++core.epoch;
        core.frontIndex = (core.frontIndex + 1) % core.fronts.size();
        next = core.fronts[core.frontIndex];
      }
    }
    if (next == nullptr) continue;
    runCallback(core, [reason](CThostFtdcMdSpi *spi) { spi->OnFrontDisconnected(reason); });
    // Posted after the callback so that a quick reconnection cannot overtake it.
    Message retry;
    retry.kind = Message::Kind::Attempt;
    retry.core = session->core;
    retry.epoch = retryEpoch;
    retry.due = Clock::now() + std::chrono::milliseconds(params_.retryMs);
    next->post(std::move(retry));
  }
}

void Front::dropSession(Core *core) {
  auto found = sessions_.find(core);
  if (found == sessions_.end()) return;
  dropSubscriptions(*found->second);
  sessions_.erase(found);
}

void Front::dropSubscriptions(Session &session) {
  for (size_t slot = 0; slot < session.subscribed.size(); ++slot) {
    if (!session.subscribed[slot]) continue;
    session.subscribed[slot] = false;
    auto &receivers = subscribers_[slot];
    receivers.erase(std::remove(receivers.begin(), receivers.end(), &session), receivers.end());
    --subscriptionCount_;
  }
}

void Front::login(Session &session, const Message &message) {
  const CThostFtdcReqUserLoginField &request = message.login;
  RspUserLogin response;
  std::memset(&response, 0, sizeof response);
  copyField(response.BrokerID, request.BrokerID);
  copyField(response.UserID, request.UserID);
  CThostFtdcRspInfoField info;
  if (!params_.broker.empty() && params_.broker != response.BrokerID) {
    setInfo(info, kErrorBadLogin, kBadLogin);
    session.loggedIn = false;
    dropSubscriptions(session);
  } else {
    setInfo(info, 0, kNoError);
    const int64_t now = marketMicrosAt(Clock::now());
    market_.loginTradingDay(now, nextTick_, response.TradingDay);
    formatTimeOfDay(now, response.LoginTime);
    copyText(response.SystemName, "tickflow-ctp-simulator");
    response.FrontID = 1;
    response.SessionID = nextSessionId_++;
    std::memcpy(response.SHFETime, response.LoginTime, sizeof response.LoginTime);
    std::memcpy(response.DCETime, response.LoginTime, sizeof response.LoginTime);
    std::memcpy(response.CZCETime, response.LoginTime, sizeof response.LoginTime);
    std::memcpy(response.FFEXTime, response.LoginTime, sizeof response.LoginTime);
    std::memcpy(response.INETime, response.LoginTime, sizeof response.LoginTime);
    std::memcpy(response.GFEXTime, response.LoginTime, sizeof response.LoginTime);
    session.loggedIn = true;
    std::lock_guard<std::mutex> lock(session.core->mutex);
    std::memcpy(session.core->tradingDay, response.TradingDay, sizeof response.TradingDay);
  }
  // For the 6.7.7 build this is the 204-byte struct: the caller reads it
  // through the newer declaration, as it would the vendor's older library.
  auto *out = reinterpret_cast<CThostFtdcRspUserLoginField *>(&response);
  const int requestId = message.requestId;
  runCallback(*session.core, [&](CThostFtdcMdSpi *spi) { spi->OnRspUserLogin(out, &info, requestId, true); });
}

void Front::logout(Session &session, const Message &message) {
  session.loggedIn = false;
  dropSubscriptions(session);
  CThostFtdcUserLogoutField response;
  std::memset(&response, 0, sizeof response);
  copyField(response.BrokerID, message.logout.BrokerID);
  copyField(response.UserID, message.logout.UserID);
  CThostFtdcRspInfoField info;
  setInfo(info, 0, kNoError);
  const int requestId = message.requestId;
  runCallback(*session.core, [&](CThostFtdcMdSpi *spi) { spi->OnRspUserLogout(&response, &info, requestId, true); });
}

void Front::subscribe(Session &session, const Message &message, bool subscribing) {
  const size_t count = message.instruments.size();
  for (size_t i = 0; i < count; ++i) {
    const std::string &id = message.instruments[i].id;
    CThostFtdcSpecificInstrumentField instrument;
    std::memset(&instrument, 0, sizeof instrument);
    copyText(instrument.InstrumentID, id.c_str());
    CThostFtdcRspInfoField info;
    const int slot = market_.slotOf(id.c_str());
    const auto index = static_cast<size_t>(slot);
    if (subscribing) {
      if (!session.loggedIn) {
        setInfo(info, kErrorNotLoggedIn, kNotLoggedIn);
      } else if (slot < 0) {
        setInfo(info, kErrorNoInstrument, kNoInstrument);
      } else {
        setInfo(info, 0, kNoError);
        if (!session.subscribed[index]) {
          session.subscribed[index] = true;
          subscribers_[index].push_back(&session);
          ++subscriptionCount_;
        }
      }
    } else if (slot >= 0 && session.subscribed[index]) {
      setInfo(info, 0, kNoError);
      session.subscribed[index] = false;
      auto &receivers = subscribers_[index];
      receivers.erase(std::remove(receivers.begin(), receivers.end(), &session), receivers.end());
      --subscriptionCount_;
    } else {
      setInfo(info, kErrorNoInstrument, kNoInstrument);
    }
    const bool last = i + 1 == count;
    runCallback(*session.core, [&](CThostFtdcMdSpi *spi) {
      if (subscribing) {
        spi->OnRspSubMarketData(&instrument, &info, 0, last);
      } else {
        spi->OnRspUnSubMarketData(&instrument, &info, 0, last);
      }
    });
  }
}

void Front::applyControl(const Message &message) {
  switch (message.command) {
    case Message::Command::Down:
      up_ = false;
      disconnectAll(kReasonReadFailed);
      break;
    case Message::Command::Up:
      up_ = true;
      break;
    case Message::Command::Disconnect:
      disconnectAll(kReasonHeartbeatTimeout);
      break;
    case Message::Command::Stall:
      stalled_ = true;
      break;
    case Message::Command::Resume:
      stalled_ = false;
      break;
    case Message::Command::Rate: {
      // Re-anchor at now: the next tick is due now, market time carries on
      // from where it is, and tick indices keep counting.
      const Clock::time_point now = Clock::now();
      marketAnchor_ = marketMicrosAt(now);
      wallAnchor_ = now;
      firstTick_ = nextTick_;
      rate_ = message.rate;
      break;
    }
  }
}

// ---- the registry -------------------------------------------------------

namespace {

struct Registry {
  std::mutex mutex;
  std::unordered_map<std::string, Front *> fronts;
  bool shuttingDown = false;
};

// Never destroyed: an api released after static destruction (from another
// library's destructor, say) still finds its fronts' memory intact.
Registry &registry() {
  static Registry *instance = new Registry;
  return *instance;
}

// At process exit (or dlclose), stops every front thread so that none runs
// into a half-destroyed process; apis not released are simply abandoned.
struct StopFrontsAtExit {
  ~StopFrontsAtExit() {
    std::vector<Front *> fronts;
    {
      Registry &r = registry();
      std::lock_guard<std::mutex> lock(r.mutex);
      r.shuttingDown = true;
      for (auto &entry : r.fronts) fronts.push_back(entry.second);
    }
    for (Front *front : fronts) front->requestStop();
    const Clock::time_point deadline = Clock::now() + kExitGrace;
    for (Front *front : fronts) front->waitStopped(deadline);
  }
} stopFrontsAtExit;

}  // namespace

Front *obtainFront(const FrontAddress &address) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto found = r.fronts.find(address.hostPort);
  if (found != r.fronts.end()) return found->second;
  auto *front = new Front(address.params);
  r.fronts.emplace(address.hostPort, front);
  if (!r.shuttingDown) front->start();
  return front;
}

Front *findFront(const std::string &hostPort) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto found = r.fronts.find(hostPort);
  return found == r.fronts.end() ? nullptr : found->second;
}

}  // namespace tickflow_ctp_simulator
