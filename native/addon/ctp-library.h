// Loading a CTP market-data library (the vendor's thostmduserapi_se.so or
// the CTP simulator) with dlopen, and the JavaScript functions built on it.
#pragma once

#include <napi.h>

#include <string>

#include "ctp-md-api.h"

namespace tickflow {

/** A loaded CTP market-data library. Never unloaded: sessions may use it until the process ends. */
struct CtpLibrary {
  std::string path;
  void *handle = nullptr;
  CreateFtdcMdApi4 create4 = nullptr;  // 6.7.11
  CreateFtdcMdApi3 create3 = nullptr;  // 6.6.9–6.7.7; set only when create4 is absent
  std::string version;
  int factoryArity = 0;
};

/**
 * The library at `path`, loaded on first use and cached per path. Throws a
 * JavaScript Error with code CTP_LIBRARY_NOT_FOUND (dlopen failed) or
 * CTP_NOT_A_CTP_LIBRARY (loaded, but without the factory or GetApiVersion).
 */
const CtpLibrary &LoadCtpLibrary(Napi::Env env, const std::string &path);

/** `loadLibrary(path)` → `{ path, version, factoryArity }`. */
Napi::Value LoadLibraryJs(const Napi::CallbackInfo &info);

/** `simulatorControl(libraryPath, address, command)` → tickflow_ctp_simulator_control's result. */
Napi::Value SimulatorControlJs(const Napi::CallbackInfo &info);

}  // namespace tickflow
