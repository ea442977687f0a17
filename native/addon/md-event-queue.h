// The queue between the vendor's callback threads and the JavaScript thread.
//
// Bounded for market data: once `capacity` events wait, a depth event is
// refused (the caller counts it as dropped). Control events are always taken,
// even past the bound: they are rare, and losing one would wedge the consumer.
//
// Storage is a chain of fixed-size blocks with a small pool of spare blocks,
// so a push never copies the queue to grow it and, once warm, never allocates;
// the consumer reads events where they are, outside the lock (Take/Recycle).
// All members are guarded by the owner's mutex; nothing here locks.
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "md-event.h"

namespace tickflow {

class MdEventQueue {
 public:
  explicit MdEventQueue(std::size_t capacity) : capacity_(capacity) {}
  MdEventQueue(const MdEventQueue &) = delete;
  MdEventQueue &operator=(const MdEventQueue &) = delete;

  // 64 events of ~600 bytes: under glibc's mmap threshold, so a block comes from the heap, not a fresh mapping.
  static constexpr std::size_t kBlockEvents = 64;

  struct Block {
    MdEvent events[kBlockEvents];
    Block *next = nullptr;
  };

  ~MdEventQueue() {
    Clear();
    while (spare_ != nullptr) delete std::exchange(spare_, spare_->next);
  }

  /** Events waiting. */
  std::size_t size() const { return size_; }
  /** The most events that ever waited at once. */
  std::size_t highWater() const { return highWater_; }

  /**
   * A slot for one more event of `kind`, to be filled by the caller before the
   * lock is released, or null when the queue is full and `kind` may be dropped.
   */
  MdEvent *Reserve(MdEventKind kind) {
    if (IsDroppable(kind) && size_ >= capacity_) return nullptr;
    if (tail_ == nullptr || tailIndex_ == kBlockEvents) AppendBlock();
    MdEvent *slot = &tail_->events[tailIndex_++];
    highWater_ = std::max(highWater_, ++size_);
    return slot;
  }

  /** Consecutive events in one block. */
  struct Span {
    const MdEvent *events;
    std::size_t count;
  };

  /**
   * Takes up to `max` events, oldest first, without copying them: `spans`
   * (replaced) point into the queue's blocks. Blocks used up are detached into
   * `consumed`; the caller reads the spans after releasing the lock (producers
   * only write past the tail, and a detached block is not reused), then hands
   * `consumed` back with Recycle. Returns how many events remain.
   */
  std::size_t Take(std::size_t max, std::vector<Span> &spans, Block *&consumed) {
    spans.clear();
    consumed = nullptr;
    Block **consumedTail = &consumed;
    std::size_t n = std::min(max, size_);
    while (n > 0) {
      std::size_t end = head_ == tail_ ? tailIndex_ : kBlockEvents;
      std::size_t chunk = std::min(end - headIndex_, n);
      spans.push_back({&head_->events[headIndex_], chunk});
      headIndex_ += chunk;
      size_ -= chunk;
      n -= chunk;
      if (headIndex_ == kBlockEvents || size_ == 0) {
        // Used up (or emptied: producers start a fresh block rather than write beside what is being read).
        Block *block = head_;
        head_ = block->next;
        block->next = nullptr;
        *consumedTail = block;
        consumedTail = &block->next;
        headIndex_ = 0;
        if (head_ == nullptr) {
          tail_ = nullptr;
          tailIndex_ = 0;
        }
      }
    }
    return size_;
  }

  /** Takes back the blocks Take detached, once their events are read. */
  void Recycle(Block *consumed) {
    while (consumed != nullptr) {
      Block *block = std::exchange(consumed, consumed->next);
      if (spareCount_ < kMaxSpareBlocks) {
        block->next = spare_;
        spare_ = block;
        ++spareCount_;
      } else {
        delete block;
      }
    }
  }

  /** Drops every waiting event (blocks detached by Take stay with their taker). */
  void Clear() {
    while (head_ != nullptr) {
      Block *next = head_->next;
      delete head_;
      head_ = next;
    }
    tail_ = nullptr;
    headIndex_ = tailIndex_ = size_ = 0;
  }

 private:
  static constexpr std::size_t kMaxSpareBlocks = 16;


  void AppendBlock() {
    Block *block = spare_;
    if (block != nullptr) {
      spare_ = block->next;
      --spareCount_;
      block->next = nullptr;
    } else {
      block = new Block;
    }
    if (tail_ == nullptr) {
      head_ = tail_ = block;
      headIndex_ = 0;
    } else {
      tail_->next = block;
      tail_ = block;
    }
    tailIndex_ = 0;
  }

  const std::size_t capacity_;
  Block *head_ = nullptr;
  Block *tail_ = nullptr;
  std::size_t headIndex_ = 0;  // next event to take from head_
  std::size_t tailIndex_ = 0;  // next free slot in tail_
  std::size_t size_ = 0;
  std::size_t highWater_ = 0;
  Block *spare_ = nullptr;
  std::size_t spareCount_ = 0;
};

}  // namespace tickflow
