// Turning queued events into JavaScript objects on the JavaScript thread.
//
// Each kind of event is built by a small JavaScript factory compiled once per
// environment (an object literal of fixed shape): one call per event instead of
// one property store per field from C++, no key string created per field per
// tick, and every event of a kind shares one hidden class.
//
// Raw Node-API throughout: a failure throws NapiFailure (see napi-status.h).
#pragma once

#include <napi.h>

#include "md-event.h"

namespace tickflow {

class MdEventFactories {
 public:
  /** Compiles the factories in `env`. */
  explicit MdEventFactories(Napi::Env env);

  /** The JavaScript object for `event` (a plain object of fixed shape per kind). */
  napi_value ToJs(napi_env env, const MdEvent &event) const;

 private:
  Napi::FunctionReference frontConnected_;
  Napi::FunctionReference frontDisconnected_;
  Napi::FunctionReference heartbeatWarning_;
  Napi::FunctionReference login_;
  Napi::FunctionReference loginInfo_;
  Napi::FunctionReference logout_;
  Napi::FunctionReference error_;
  Napi::FunctionReference rspError_;
  Napi::FunctionReference subscribed_;
  Napi::FunctionReference unsubscribed_;
  Napi::FunctionReference depth_;
};

}  // namespace tickflow
