#include "session-core.h"

#include <utility>

namespace tickflow {

void SessionCore::ScheduleDrain() {
  if (drainPending_.exchange(true)) return;
  ScheduleDrainNow();
}

void SessionCore::ScheduleDrainNow() {
  napi_status status = drain_.NonBlockingCall();
  if (status != napi_ok) {
    drainPending_.store(false);
    // napi_closing: the function is being torn down (close, environment exit); nothing to deliver to.
    if (status != napi_closing) callFailures_.fetch_add(1, std::memory_order_relaxed);
  }
}

std::size_t SessionCore::TakeBatch(std::vector<MdEventQueue::Span> &spans, TakenBlocks &taken) {
  // Cleared before taking: a push after this point asks for a new drain, so no event is stranded.
  drainPending_.store(false);
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.Take(maxBatch_, spans, taken.blocks_);
}

TakenBlocks::~TakenBlocks() { core_.Recycle(blocks_); }

void SessionCore::Recycle(MdEventQueue::Block *consumed) {
  if (consumed == nullptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.Recycle(consumed);
}

void SessionCore::ReleaseApi() {
  std::lock_guard<std::mutex> lock(releaseMutex_);
  closing_.store(true, std::memory_order_release);
  if (api_ != nullptr) std::exchange(api_, nullptr)->Release();
}

void SessionCore::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.Clear();
  }
  if (!drainFinalized_) {
    // Nothing calls it any more (the API is released): abort, and any drain still queued is discarded.
    drain_.Abort();
    drainFinalized_ = true;
  }
}

std::size_t SessionCore::queued() {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

std::size_t SessionCore::highWater() {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.highWater();
}

}  // namespace tickflow
