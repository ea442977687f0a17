// What the addon keeps per Node environment (main thread or worker).
#pragma once

#include <napi.h>

namespace tickflow {

struct AddonData {
  explicit AddonData(Napi::Env env)
      : callbacksKey(Napi::Persistent(Napi::Symbol::New(env, "tickflow.ctp.callbacks"))),
        setImmediate(Napi::Persistent(env.Global().Get("setImmediate").As<Napi::Function>())) {}

  // The key under which a session object holds its { onEvents, onError }: on
  // the object itself rather than in a strong reference, so a session whose
  // callbacks refer back to it can still be collected (and its finalizer close it).
  Napi::Reference<Napi::Symbol> callbacksKey;
  // Node's own setImmediate, taken when the addon loads: a drain that yields the event loop must
  // come back even if fake timers (tests) replace the global later, or the session would stall.
  Napi::FunctionReference setImmediate;
};

}  // namespace tickflow
