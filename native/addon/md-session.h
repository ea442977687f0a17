// `MdSession`: one CThostFtdcMdApi created through a loaded library's factory,
// our Spi registered on it, and the path from the vendor's callback threads to
// JavaScript.
//
// Threads. The vendor's threads enter MdSpi: each callback copies what it
// needs into the session's queue (a memcpy under a mutex held for that copy
// only) and returns. It never calls into JavaScript, never allocates a
// JavaScript value, never waits for the JavaScript thread and never prints.
//
// Delivery. After a push, if no drain is pending, the pusher marks one pending
// and asks the session's single thread-safe function for a call (non-blocking;
// every status is checked). The drain runs on the JavaScript thread: it clears
// the pending mark, takes up to maxBatch events, asks for another drain if any
// remain, converts them and calls onEvents(events, droppedSinceLastCall).
// Node runs up to 1000 thread-safe calls in one turn of the event loop, so a
// burst of back-to-back drains is bounded in time (kBurstBudgetUs): past it the
// next drain keeps the pending mark and waits for an unref'd setImmediate, and
// timers and I/O run in between even while the vendor outpaces JavaScript.
//
// Close. close(), the environment's cleanup hook and the finalizer all take
// one path: mark closing (callbacks stop queueing), Release() the API (after it
// returns no vendor thread is in our Spi), drop the queue, abort the
// thread-safe function. Drains already queued find the session closed and
// deliver nothing. A process that calls exit() runs no cleanup hook, so an
// atexit handler also releases every API still open before the libraries'
// static destructors run under the vendor threads.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ctp-library.h"
#include "ctp-md-api.h"
#include "md-event-queue.h"

namespace tickflow {

class SessionCore;
class MdSession;

/**
 * Makes process exit (exit() runs no environment cleanup hook) release every
 * open API before the static destructors of the libraries loaded so far;
 * called after each dlopen.
 */
void ReleaseSessionsBeforeLibraryTeardown();

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

/** The drain, run by the thread-safe function on the JavaScript thread. */
void DrainOnJsThread(Napi::Env env, Napi::Function, std::shared_ptr<SessionCore> *core, void *);
using DrainFunction = Napi::TypedThreadSafeFunction<std::shared_ptr<SessionCore>, void, DrainOnJsThread>;

/**
 * A session's state shared by the vendor threads, the JavaScript thread and
 * the thread-safe function. Owned jointly by the MdSession and the
 * thread-safe function (whose finalizer may run after the MdSession is gone).
 */
class SessionCore {
 public:
  SessionCore(std::size_t queueCapacity, std::size_t maxBatch, std::size_t loginResponseSize)
      : queue_(queueCapacity), maxBatch_(maxBatch), loginResponseSize_(loginResponseSize), spi_(*this) {}

  // Vendor threads.

  /** Queues one event filled by `fill`, or counts a market-data event as dropped when the queue is full. */
  template <typename Fill>
  void Push(MdEventKind kind, Fill &&fill);
  std::size_t loginResponseSize() const { return loginResponseSize_; }

  // Any thread.

  /** Asks the thread-safe function for a drain unless one is pending. */
  void ScheduleDrain();
  /** Asks the thread-safe function for a drain; the caller has marked it pending. */
  void ScheduleDrainNow();

  // The JavaScript thread.

  /** Clears the pending mark, then takes up to maxBatch events as spans (see MdEventQueue::Take); returns how many remain. */
  std::size_t TakeBatch(std::vector<MdEventQueue::Span> &spans, MdEventQueue::Block *&consumed);
  /** Gives back the blocks of a batch once read. */
  void Recycle(MdEventQueue::Block *consumed);
  /** Stops the callbacks queueing and releases the API; returns once no vendor thread is in our Spi. Idempotent; also run at exit. */
  void ReleaseApi();
  /** Drops every queued event and aborts the thread-safe function. */
  void Shutdown();

  MdSpi &spi() { return spi_; }
  CThostFtdcMdApi *api() const { return api_; }
  void set_api(CThostFtdcMdApi *api) { api_ = api; }
  void set_drain(DrainFunction drain) { drain_ = drain; }
  void MarkDrainFinalized() { drainFinalized_ = true; }

  std::size_t queued();
  std::size_t highWater();
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  std::uint64_t callFailures() const { return callFailures_.load(std::memory_order_relaxed); }

  // JavaScript-thread state.
  MdSession *owner = nullptr;  // null once closed: queued drains deliver nothing
  std::uint64_t delivered = 0;
  std::uint64_t batches = 0;
  std::uint64_t droppedReported = 0;
  // Drains back to back form a burst. A drain that leaves events behind asks
  // for the next through the thread-safe function, which Node runs in the same
  // turn of the event loop (up to 1000 calls); past a time budget the next
  // drain goes through setImmediate instead, so timers and I/O still run while
  // the vendor outpaces JavaScript.
  double burstStartUs = 0;
  double lastDrainEndUs = 0;

 private:
  std::mutex mutex_;  // guards queue_
  MdEventQueue queue_;
  const std::size_t maxBatch_;
  const std::size_t loginResponseSize_;
  std::atomic<bool> closing_{false};
  std::atomic<bool> drainPending_{false};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> callFailures_{0};
  DrainFunction drain_;
  bool drainFinalized_ = false;
  std::mutex releaseMutex_;  // serialises ReleaseApi between close() and the atexit handler
  CThostFtdcMdApi *api_ = nullptr;
  MdSpi spi_;
};

/** The JavaScript class `MdSession`. */
class MdSession : public Napi::ObjectWrap<MdSession> {
 public:
  static Napi::Function Define(Napi::Env env);

  explicit MdSession(const Napi::CallbackInfo &info);
  ~MdSession() override;

  /** One drain: takes a batch, schedules the next drain if events remain, delivers. JavaScript thread. */
  void Drain(napi_env env);

 private:
  Napi::Value RegisterFront(const Napi::CallbackInfo &info);
  Napi::Value Init(const Napi::CallbackInfo &info);
  Napi::Value Login(const Napi::CallbackInfo &info);
  Napi::Value Logout(const Napi::CallbackInfo &info);
  Napi::Value Subscribe(const Napi::CallbackInfo &info);
  Napi::Value Unsubscribe(const Napi::CallbackInfo &info);
  Napi::Value TradingDay(const Napi::CallbackInfo &info);
  Napi::Value Close(const Napi::CallbackInfo &info);
  Napi::Value Stats(const Napi::CallbackInfo &info);

  /** Converts `events` and calls onEvents. */
  void Deliver(napi_env env, const std::vector<MdEventQueue::Span> &spans);
  /** Schedules the next drain after the event loop's next turn (an unref'd setImmediate). */
  void YieldThenDrain(napi_env env);
  static napi_value DrainAfterYield(napi_env env, napi_callback_info info);
  /** This object's { onEvents, onError }, or null if the object was collected. */
  napi_value Callbacks(napi_env env);
  /** The API, or a CTP_CLOSED error. */
  CThostFtdcMdApi &OpenApi(Napi::Env env) const;
  Napi::Value SubscribeOrUnsubscribe(const Napi::CallbackInfo &info, bool subscribe);
  /** onEvents (or converting its events) failed: hand the pending exception to onError, else keep it for stats(). */
  void CallbackFailed(napi_env env);
  void CloseSession();
  static void CleanupHook(void *session);

  napi_env env_;
  std::shared_ptr<SessionCore> core_;
  std::deque<std::string> fronts_;  // RegisterFront's arguments, kept for the session's life
  bool initialized_ = false;
  bool cleanupHookAdded_ = false;
  std::vector<MdEventQueue::Span> batch_;  // the drain's spans (reused)
  Napi::ObjectReference keptError_;  // [the exception], reported once by stats()
};

}  // namespace tickflow
