// A simulated front: one thread that owns a market and the sessions of the
// apis connected to it, and does everything for them (connection attempts,
// requests, market data). Apis talk to a front only by posting messages to
// its inbox; all Spi callbacks run on front threads.
//
// Locks, always taken in this order, never the other way round:
//   Core::callbackMutex  held by a front thread while it runs a callback
//   Core::mutex          an api's connection state
//   Front::mutex_        a front's inbox
// A front thread holds none of them while it works on its own state (that
// state is touched by its thread only), so a callback may call any api
// method, and those methods only lock Core::mutex and post to an inbox.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ctp-md-api.h"
#include "market.h"
#include "params.h"

namespace tickflow_ctp_simulator {

using Clock = std::chrono::steady_clock;
class Front;

/**
 * The part of an api that fronts refer to. It outlives the api object (which
 * Release deletes) for as long as a front still holds a message or a session
 * naming it; once `released` is set no callback reaches the Spi.
 */
struct Core {
  std::mutex callbackMutex;
  bool released = false;  // guarded by callbackMutex
  std::atomic<CThostFtdcMdSpi *> spi{nullptr};

  std::mutex mutex;
  std::condition_variable releasedChanged;  // Join waits on it
  // Guarded by mutex:
  std::vector<Front *> fronts;  // registered, in order; fronts are never destroyed
  size_t frontIndex = 0;        // the front tried last
  bool initialized = false;
  bool releasing = false;
  Front *connected = nullptr;
  // Bumped by every connect, disconnect and retry. A message carries the
  // value it was sent under; a different value now means it is stale (its
  // connection is gone) and is dropped.
  uint64_t epoch = 0;
  char tradingDay[9] = {};
};

/** True on a front thread while it runs a callback of this api (which then holds its callbackMutex). */
bool inCallbackOf(const Core &core);

/** An InstrumentID in a request (a struct of ours keeps std::vector's instantiation hidden). */
struct InstrumentName {
  std::string id;
};

/** What an api or tickflow_ctp_simulator_control asks of a front. */
struct Message {
  enum class Kind { Attempt, Login, Logout, Subscribe, Unsubscribe, Detach, Control };
  Kind kind = Kind::Control;
  std::shared_ptr<Core> core;
  uint64_t epoch = 0;
  Clock::time_point due;  // Attempt
  int requestId = 0;
  CThostFtdcReqUserLoginField login{};
  CThostFtdcUserLogoutField logout{};
  std::vector<InstrumentName> instruments;
  // Control
  enum class Command { Down, Up, Disconnect, Stall, Resume, Rate } command = Command::Up;
  uint64_t rate = 0;
};

/** Created on first use and never destroyed (see obtainFront); its thread stops at process exit. */
class Front {
 public:
  explicit Front(const FrontParams &params);
  Front(const Front &) = delete;
  Front &operator=(const Front &) = delete;

  void start();
  void post(Message &&message);
  /** Parses and queues a control command: 0, or -2 if unknown. */
  int control(const char *command);

  /** Asks the thread to stop; then waitStopped joins it, or gives up at the deadline. */
  void requestStop();
  bool waitStopped(Clock::time_point deadline);

 private:
  struct Session {
    std::shared_ptr<Core> core;
    uint64_t epoch = 0;
    bool loggedIn = false;
    std::vector<bool> subscribed;  // by market slot
  };
  struct Attempt {
    Clock::time_point due;
    std::shared_ptr<Core> core;
    uint64_t epoch;
  };

  void run();
  Clock::time_point nextWake() const;
  static bool attemptLater(const Attempt &a, const Attempt &b) { return a.due > b.due; }
  void handle(Message &message);
  void runDueAttempts(Clock::time_point now);
  void tryConnect(const std::shared_ptr<Core> &core, uint64_t epoch);
  void deliverDueTicks(Clock::time_point now, bool deliver);
  void produce(bool deliver);
  void login(Session &session, const Message &message);
  void logout(Session &session, const Message &message);
  void subscribe(Session &session, const Message &message, bool subscribing);
  void applyControl(const Message &message);
  void disconnectAll(int reason);
  /** Removes the api's session and its subscriptions, if it has one here. */
  void dropSession(Core *core);
  void dropSubscriptions(Session &session);
  Session *sessionFor(const Message &message);
  bool delivering() const { return !stalled_ && subscriptionCount_ > 0; }

  // Tick timing, re-anchored by rate changes: tick k >= firstTick is due at
  // wallAnchor + (k - firstTick) / rate s, at market time marketAnchor + (k - firstTick) * 1e6 / rate us.
  Clock::time_point dueTime(uint64_t k) const;
  int64_t marketMicros(uint64_t k) const;
  int64_t marketMicrosAt(Clock::time_point now) const;

  const FrontParams params_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Message> inbox_;  // guarded by mutex_
  bool stopping_ = false;       // guarded by mutex_
  std::atomic<bool> stopRequested_{false};
  std::thread thread_;
  std::mutex exitMutex_;
  std::condition_variable exited_;
  bool finished_ = false;  // guarded by exitMutex_

  // Everything below belongs to the front thread.
  Market market_;
  bool up_ = true;
  bool stalled_ = false;
  uint64_t nextTick_ = 0;
  uint64_t firstTick_ = 0;
  Clock::time_point wallAnchor_;
  int64_t marketAnchor_ = 0;
  uint64_t rate_ = 1;
  Clock::time_point lastCatchUp_;  // when the market was last fully caught up
  int nextSessionId_ = 1;
  std::vector<Attempt> attempts_;  // a min-heap by due time
  std::unordered_map<Core *, std::unique_ptr<Session>> sessions_;
  std::vector<std::vector<Session *>> subscribers_;  // by market slot
  size_t subscriptionCount_ = 0;
  CThostFtdcDepthMarketDataField tick_{};  // the tick being delivered
  CThostFtdcDepthMarketDataField copy_{};  // what each Spi is handed, so one cannot change another's
};

/** The fronts of this process by HOST:PORT, created on first use, never destroyed. */
Front *obtainFront(const FrontAddress &address);
Front *findFront(const std::string &hostPort);

}  // namespace tickflow_ctp_simulator
