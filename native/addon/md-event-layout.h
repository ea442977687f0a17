// MdEvent as JavaScript reads it: a drain copies the events it took, as they
// lie in the queue, into one ArrayBuffer, and native/ctp-event-decoder.ts
// decodes them there with the offsets this reports.
#pragma once

#include <napi.h>

namespace tickflow {

/** `eventLayout()`: { sizeof, fields: { name: offset }, kinds: { name: value } } of MdEvent. */
Napi::Value EventLayoutJs(const Napi::CallbackInfo &info);

}  // namespace tickflow
