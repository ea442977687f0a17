#include <napi.h>
#include "ctp-layout-assertions.h"
Napi::Object Init(Napi::Env env, Napi::Object exports) { return exports; }
NODE_API_MODULE(tickflow_ctp, Init)
