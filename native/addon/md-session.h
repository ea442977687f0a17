// The JavaScript class `MdSession`: creates the API through a loaded
// library's factory, registers our Spi, drains the session's queue on the
// JavaScript thread and delivers it to onEvents. The threading, delivery and
// close design is described in session-core.h.
#pragma once

#include <napi.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "ctp-library.h"
#include "md-event-queue.h"
#include "session-core.h"

namespace tickflow {

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

  /** Copies the batch into the delivery buffer and calls onEvents(buffer, count, dropped). */
  void Deliver(napi_env env, const std::vector<MdEventQueue::Span> &spans);
  /** The session's delivery buffer, replaced by a larger one if it holds fewer than `bytes`; `data` is where it starts. */
  napi_value DeliveryBuffer(napi_env env, std::size_t bytes, std::uint8_t *&data);
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
  std::size_t maxBatch_ = 1;
  Napi::Reference<Napi::ArrayBuffer> deliveryBuffer_;  // the batches' raw MdEvents (reused)
  Napi::ObjectReference keptError_;  // [the exception], reported once by stats()
};

}  // namespace tickflow
