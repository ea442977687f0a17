// A CTP market-data session's core: one CThostFtdcMdApi created through a loaded library's factory,
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
// remain, copies them into one buffer and calls onEvents(buffer, count, droppedSinceLastCall), which
// JavaScript decodes (native/ctp-event-decoder.ts).
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
#include <memory>
#include <mutex>
#include <vector>

#include "ctp-md-api.h"
#include "md-event-queue.h"
#include "md-spi.h"

namespace tickflow {

class SessionCore;
class MdSession;

/**
 * The queue blocks one drain took: they hold the events its spans point at,
 * and go back to the queue when the drain leaves its scope, on every path
 * (delivered, a JavaScript exception, an allocation failure).
 */
class TakenBlocks {
 public:
  explicit TakenBlocks(SessionCore &core) : core_(core) {}
  ~TakenBlocks();
  TakenBlocks(const TakenBlocks &) = delete;
  TakenBlocks &operator=(const TakenBlocks &) = delete;

 private:
  friend class SessionCore;
  SessionCore &core_;
  MdEventQueue::Block *blocks_ = nullptr;
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

  /** Clears the pending mark, then takes up to maxBatch events as spans (see MdEventQueue::Take) into `taken`; returns how many remain. */
  std::size_t TakeBatch(std::vector<MdEventQueue::Span> &spans, TakenBlocks &taken);
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

  friend class TakenBlocks;
  /** Gives back the blocks of a batch once read: only through TakenBlocks. */
  void Recycle(MdEventQueue::Block *consumed);
};

}  // namespace tickflow
