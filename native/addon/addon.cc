// The tickflow_ctp addon: loads CTP market-data libraries with dlopen and runs
// sessions on them. See session-core.h for the threading and delivery design.
#include <napi.h>

#include "addon-data.h"
#include "ctp-layout.h"
#include "ctp-library.h"
#include "md-event-layout.h"
#include "md-session.h"

namespace tickflow {

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData(env));
  exports.Set("loadLibrary", Napi::Function::New<LoadLibraryJs>(env, "loadLibrary"));
  exports.Set("simulatorControl", Napi::Function::New<SimulatorControlJs>(env, "simulatorControl"));
  exports.Set("layout", Napi::Function::New<LayoutJs>(env, "layout"));
  exports.Set("eventLayout", Napi::Function::New<EventLayoutJs>(env, "eventLayout"));
  exports.Set("MdSession", MdSession::Define(env));
  return exports;
}

}  // namespace tickflow

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return tickflow::InitAddon(env, exports); }

NODE_API_MODULE(tickflow_ctp, Init)
