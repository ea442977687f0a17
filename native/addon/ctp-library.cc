#include "ctp-library.h"

#include <dlfcn.h>

#include <map>
#include <memory>
#include <mutex>

#include "coded-error.h"
#include "open-sessions.h"

namespace tickflow {
namespace {

constexpr const char *kSimulatorControlSymbol = "tickflow_ctp_simulator_control";
using SimulatorControlFn = int (*)(const char *address, const char *command);

// Process-wide, like the dlopen handles themselves. Deliberately leaked: a
// static destructor must not free entries a vendor thread might still reach
// while the process exits.
std::mutex &CacheMutex() {
  static auto *mutex = new std::mutex;
  return *mutex;
}
std::map<std::string, std::unique_ptr<CtpLibrary>> &Cache() {
  static auto *cache = new std::map<std::string, std::unique_ptr<CtpLibrary>>;
  return *cache;
}

std::string DlError() {
  const char *message = dlerror();
  return message != nullptr ? message : "unknown dlopen error";
}

std::string StringArgument(const Napi::CallbackInfo &info, std::size_t index, const char *name) {
  if (info.Length() <= index || !info[index].IsString()) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a string");
  }
  return info[index].As<Napi::String>().Utf8Value();
}

}  // namespace

const CtpLibrary &LoadCtpLibrary(Napi::Env env, const std::string &path) {
  std::lock_guard<std::mutex> lock(CacheMutex());
  auto found = Cache().find(path);
  if (found != Cache().end()) return *found->second;

  dlerror();
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    ThrowCoded(env, "CTP_LIBRARY_NOT_FOUND", "cannot load the CTP library " + path + ": " + DlError());
  }

  ReleaseSessionsBeforeLibraryTeardown();
  auto library = std::make_unique<CtpLibrary>();
  library->path = path;
  library->handle = handle;
  // The 4-argument factory first: a 6.7.11 library must never be called with 3 arguments.
  if (void *create4 = dlsym(handle, kCreateFtdcMdApi4Symbol)) {
    library->create4 = reinterpret_cast<CreateFtdcMdApi4>(create4);
    library->factoryArity = 4;
  } else if (void *create3 = dlsym(handle, kCreateFtdcMdApi3Symbol)) {
    library->create3 = reinterpret_cast<CreateFtdcMdApi3>(create3);
    library->factoryArity = 3;
  }
  auto getVersion = reinterpret_cast<GetApiVersionFn>(dlsym(handle, kGetApiVersionSymbol));
  if (library->factoryArity == 0 || getVersion == nullptr) {
    std::string exported =
        library->factoryArity == 0
            ? std::string("neither ") + kCreateFtdcMdApi4Symbol + " nor " + kCreateFtdcMdApi3Symbol + (getVersion == nullptr ? std::string(" nor ") + kGetApiVersionSymbol : "")
            : std::string("no ") + kGetApiVersionSymbol;
    // Nothing of ours uses it: give the reference back.
    dlclose(handle);
    ThrowCoded(env, "CTP_NOT_A_CTP_LIBRARY", path + " is not a CTP market-data library: it exports " + exported);
  }
  const char *version = getVersion();
  library->version = version != nullptr ? version : "";
  return *Cache().emplace(path, std::move(library)).first->second;
}

Napi::Value LoadLibraryJs(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const CtpLibrary &library = LoadCtpLibrary(env, StringArgument(info, 0, "path"));
  Napi::Object result = Napi::Object::New(env);
  result.Set("path", library.path);
  result.Set("version", library.version);
  result.Set("factoryArity", library.factoryArity);
  return result;
}

Napi::Value SimulatorControlJs(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string libraryPath = StringArgument(info, 0, "libraryPath");
  std::string address = StringArgument(info, 1, "address");
  std::string command = StringArgument(info, 2, "command");
  const CtpLibrary &library = LoadCtpLibrary(env, libraryPath);
  auto control = reinterpret_cast<SimulatorControlFn>(dlsym(library.handle, kSimulatorControlSymbol));
  if (control == nullptr) {
    ThrowCoded(env, "CTP_NOT_A_SIMULATOR", libraryPath + " is not the CTP simulator: it does not export " + kSimulatorControlSymbol);
  }
  return Napi::Number::New(env, control(address.c_str(), command.c_str()));
}

}  // namespace tickflow
