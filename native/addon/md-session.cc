#include "md-session.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "addon-data.h"
#include "coded-error.h"
#include "js-arguments.h"
#include "monotonic-clock.h"
#include "napi-status.h"
#include "open-sessions.h"

namespace tickflow {
namespace {

// About 600 MB of 600-byte events at the most.
constexpr double kMaxQueueCapacity = 1 << 20;
constexpr double kMaxBatch = 1 << 20;
// How long back-to-back drains may hold the JavaScript thread before yielding a turn of the
// event loop, and the pause between two drains after which they no longer count as one burst.
constexpr double kBurstBudgetUs = 4000;
constexpr double kBurstGapUs = 250;

}  // namespace

void DrainOnJsThread(Napi::Env env, Napi::Function, std::shared_ptr<SessionCore> *holder, void *) {
  // A null env: the function is being finalized with this call still queued.
  if (static_cast<napi_env>(env) == nullptr || holder == nullptr) return;
  MdSession *session = (*holder)->owner;
  if (session != nullptr) session->Drain(env);  // null: closed, deliver nothing
}

void MdSession::Drain(napi_env env) {
  std::shared_ptr<SessionCore> core = core_;
  if (!core) return;
  double now = MonotonicMicros();
  // Back-to-back drains (no gap: nothing else ran on this thread in between) form one burst.
  if (now - core->lastDrainEndUs > kBurstGapUs) core->burstStartUs = now;
  if (now - core->burstStartUs >= kBurstBudgetUs) {
    // Over budget: take nothing now. The pending mark stays set, so vendor threads do not
    // ask the thread-safe function for more drains in this turn; the immediate drains next.
    YieldThenDrain(env);
    core->lastDrainEndUs = now;
    return;
  }
  {
    TakenBlocks taken(*core);
    if (core->TakeBatch(batch_, taken) > 0) core->ScheduleDrain();
    // The spans are read (converted) outside the queue's lock; the blocks go back when `taken` leaves this scope.
    if (!batch_.empty()) Deliver(env, batch_);
  }
  core->lastDrainEndUs = MonotonicMicros();
}

napi_value MdSession::DrainAfterYield(napi_env env, napi_callback_info info) {
  void *data = nullptr;
  if (napi_get_cb_info(env, info, nullptr, nullptr, nullptr, &data) != napi_ok || data == nullptr) return nullptr;
  SessionCore &core = **static_cast<std::shared_ptr<SessionCore> *>(data);
  core.burstStartUs = core.lastDrainEndUs = MonotonicMicros();  // the event loop turned: a new burst
  if (core.owner != nullptr) core.owner->Drain(env);
  return nullptr;
}

void MdSession::YieldThenDrain(napi_env env) {
  RawHandleScope scope(env);
  auto *share = new std::shared_ptr<SessionCore>(core_);
  bool owned = false;  // true once the function's finalizer deletes `share`
  try {
    napi_value global = nullptr, setImmediate = nullptr, next = nullptr, immediate = nullptr, unref = nullptr, ignored = nullptr;
    Check(scope.ok() ? napi_ok : napi_generic_failure);
    Check(napi_create_function(env, "drainCtpEvents", NAPI_AUTO_LENGTH, &MdSession::DrainAfterYield, share, &next));
    Check(napi_add_finalizer(env, next, share, [](napi_env, void *data, void *) { delete static_cast<std::shared_ptr<SessionCore> *>(data); }, nullptr, nullptr));
    owned = true;
    Check(napi_get_global(env, &global));
    Check(napi_get_reference_value(env, Napi::Env(env).GetInstanceData<AddonData>()->setImmediate, &setImmediate));
    Check(napi_call_function(env, global, setImmediate, 1, &next, &immediate));
    // Like the thread-safe function, a pending drain does not keep the process alive.
    Check(napi_get_named_property(env, immediate, "unref", &unref));
    Check(napi_call_function(env, immediate, unref, 0, nullptr, &ignored));
  } catch (const NapiFailure &) {
    if (!owned) delete share;
    napi_value ignored = nullptr;
    napi_get_and_clear_last_exception(env, &ignored);
    // No setImmediate (an environment shutting down): go on through the thread-safe function.
    core_->burstStartUs = core_->lastDrainEndUs = MonotonicMicros();
    core_->ScheduleDrainNow();
  }
}

Napi::Function MdSession::Define(Napi::Env env) {
  return DefineClass(env, "MdSession",
                     {
                         InstanceMethod<&MdSession::RegisterFront>("registerFront"),
                         InstanceMethod<&MdSession::Init>("init"),
                         InstanceMethod<&MdSession::Login>("login"),
                         InstanceMethod<&MdSession::Logout>("logout"),
                         InstanceMethod<&MdSession::Subscribe>("subscribe"),
                         InstanceMethod<&MdSession::Unsubscribe>("unsubscribe"),
                         InstanceMethod<&MdSession::TradingDay>("tradingDay"),
                         InstanceMethod<&MdSession::Close>("close"),
                         InstanceMethod<&MdSession::Stats>("stats"),
                     });
}

MdSession::MdSession(const Napi::CallbackInfo &info) : Napi::ObjectWrap<MdSession>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "MdSession: options must be an object");
  Napi::Object options = info[0].As<Napi::Object>();
  std::string libraryPath = StringOption(env, options, "libraryPath");
  std::string flowPath = StringOption(env, options, "flowPath");
  std::size_t queueCapacity = CountOption(env, options, "queueCapacity", kMaxQueueCapacity);
  std::size_t maxBatch = CountOption(env, options, "maxBatch", kMaxBatch);
  Napi::Value onEvents = options.Get("onEvents");
  if (!onEvents.IsFunction()) throw Napi::TypeError::New(env, "MdSession: onEvents must be a function");
  Napi::Value onError = options.Get("onError");
  if (!onError.IsUndefined() && !onError.IsFunction()) throw Napi::TypeError::New(env, "MdSession: onError must be a function when given");

  const CtpLibrary &library = LoadCtpLibrary(env, libraryPath);
  struct stat flowStat {};
  if (stat(flowPath.c_str(), &flowStat) != 0 || !S_ISDIR(flowStat.st_mode)) {
    ThrowCoded(env, "CTP_CREATE_FAILED", "cannot create a CTP market-data API: the flow path " + flowPath + " is not an existing directory");
  }

  Napi::Object callbacks = Napi::Object::New(env);
  callbacks.Set("onEvents", onEvents);
  callbacks.Set("onError", onError);
  AddonData *data = env.GetInstanceData<AddonData>();
  Value().DefineProperty(Napi::PropertyDescriptor::Value(data->callbacksKey.Value(), callbacks, napi_default));

  std::size_t loginResponseSize = library.factoryArity == 4 ? sizeof(CThostFtdcRspUserLoginField) : sizeof(CThostFtdcRspUserLoginField_6_7_7);
  auto core = std::make_shared<SessionCore>(queueCapacity, maxBatch, loginResponseSize);
  maxBatch_ = maxBatch;
  batch_.reserve(std::min<std::size_t>(maxBatch / MdEventQueue::kBlockEvents + 2, 1024));

  // The thread-safe function holds the second share of the core, dropped by its finalizer.
  auto drainShare = std::make_unique<std::shared_ptr<SessionCore>>(core);
  DrainFunction drain = DrainFunction::New(env, "tickflow.ctp.MdSession", 0, 1, drainShare.get(),
                                           [](Napi::Env, void *, std::shared_ptr<SessionCore> *share) {
                                             (*share)->MarkDrainFinalized();
                                             delete share;
                                           });
  drainShare.release();  // the finalizer owns it now
  // An open session alone does not keep the process alive.
  drain.Unref(env);
  core->set_drain(drain);

  CThostFtdcMdApi *api = library.factoryArity == 4 ? library.create4(flowPath.c_str(), false, false, true)
                                                   : library.create3(flowPath.c_str(), false, false);
  if (api == nullptr) {
    core->Shutdown();
    ThrowCoded(env, "CTP_CREATE_FAILED",
               "the factory of " + library.path + " returned no API for the flow path " + flowPath + " (it must be an existing, writable directory)");
  }
  core->set_api(api);
  api->RegisterSpi(&core->spi());
  core->owner = this;
  core_ = std::move(core);
  AddOpenSession(core_.get());
  // Added after the thread-safe function was created: cleanup hooks run last-added first, so this
  // one releases the API before Node tears the thread-safe function down under the vendor threads.
  if (napi_add_env_cleanup_hook(env, &MdSession::CleanupHook, this) != napi_ok) {
    // Without the hook, a worker's teardown would free the thread-safe function under the vendor's threads.
    CloseSession();
    ThrowCoded(env, "CTP_CREATE_FAILED", "cannot register the environment cleanup hook of a CTP session on " + library.path);
  }
  cleanupHookAdded_ = true;
}

MdSession::~MdSession() { CloseSession(); }

void MdSession::CleanupHook(void *session) {
  auto *self = static_cast<MdSession *>(session);
  self->cleanupHookAdded_ = false;  // being run: nothing to remove
  self->CloseSession();
}

void MdSession::CloseSession() {
  if (!core_) return;
  std::shared_ptr<SessionCore> core = std::move(core_);
  core->owner = nullptr;
  core->ReleaseApi();
  RemoveOpenSession(core.get());
  core->Shutdown();
  if (cleanupHookAdded_) {
    napi_remove_env_cleanup_hook(env_, &MdSession::CleanupHook, this);
    cleanupHookAdded_ = false;
  }
}

CThostFtdcMdApi &MdSession::OpenApi(Napi::Env env) const {
  if (!core_ || core_->api() == nullptr) ThrowCoded(env, "CTP_CLOSED", "the CTP market-data session is closed");
  return *core_->api();
}

void MdSession::Deliver(napi_env env, const std::vector<MdEventQueue::Span> &spans) {
  std::shared_ptr<SessionCore> core = core_;  // onEvents may close the session
  if (!core) return;
  RawHandleScope scope(env);
  if (!scope.ok()) return;
  try {
    napi_value callbacks = Callbacks(env);
    if (callbacks == nullptr) return;  // collected; the finalizer closes the session
    napi_value onEvents = nullptr, undefined = nullptr, result = nullptr;
    Check(napi_get_named_property(env, callbacks, "onEvents", &onEvents));
    std::size_t count = 0;
    for (const MdEventQueue::Span &span : spans) count += span.count;
    // The whole batch is one memcpy per span into one buffer and one call: JavaScript decodes it
    // (native/ctp-event-decoder.ts). Building each event here cost ~50 Node-API calls a tick.
    std::uint8_t *data = nullptr;
    napi_value args[3] = {DeliveryBuffer(env, count * sizeof(MdEvent), data), nullptr, nullptr};
    for (const MdEventQueue::Span &span : spans) {
      std::memcpy(data, span.events, span.count * sizeof(MdEvent));
      data += span.count * sizeof(MdEvent);
    }
    std::uint64_t dropped = core->dropped();
    Check(napi_create_uint32(env, static_cast<uint32_t>(count), &args[1]));
    Check(napi_create_double(env, static_cast<double>(dropped - core->droppedReported), &args[2]));
    core->droppedReported = dropped;
    core->delivered += count;
    core->batches += 1;
    Check(napi_get_undefined(env, &undefined));
    Check(napi_call_function(env, undefined, onEvents, 3, args, &result));
  } catch (const NapiFailure &) {
    CallbackFailed(env);
  }
}

napi_value MdSession::DeliveryBuffer(napi_env env, std::size_t bytes, std::uint8_t *&data) {
  napi_value buffer = nullptr;
  void *raw = nullptr;
  std::size_t length = 0;
  if (!deliveryBuffer_.IsEmpty()) {
    Check(napi_get_reference_value(env, deliveryBuffer_, &buffer));
    // A detached buffer (nothing of ours detaches it) reports length 0 and is replaced like a small one.
    if (buffer != nullptr) Check(napi_get_arraybuffer_info(env, buffer, &raw, &length));
  }
  if (buffer == nullptr || length < bytes) {
    // Doubling up to maxBatch events: a session's batches settle on one buffer, reused by every drain.
    std::size_t capacity = std::max(bytes, std::min(2 * length, maxBatch_ * sizeof(MdEvent)));
    Check(napi_create_arraybuffer(env, capacity, &raw, &buffer));
    napi_ref ref = nullptr;
    Check(napi_create_reference(env, buffer, 1, &ref));
    deliveryBuffer_ = Napi::Reference<Napi::ArrayBuffer>(env, ref);
  }
  data = static_cast<std::uint8_t *>(raw);
  return buffer;
}

napi_value MdSession::Callbacks(napi_env env) {
  napi_value self = nullptr, key = nullptr, callbacks = nullptr;
  Check(napi_get_reference_value(env, static_cast<const Napi::Reference<Napi::Object> &>(*this), &self));
  if (self == nullptr) return nullptr;
  Check(napi_get_reference_value(env, Napi::Env(env).GetInstanceData<AddonData>()->callbacksKey, &key));
  Check(napi_get_property(env, self, key, &callbacks));
  return callbacks;
}

/** Takes the pending exception, if there is one. */
static napi_value TakeException(napi_env env) {
  bool pending = false;
  napi_value exception = nullptr;
  if (napi_is_exception_pending(env, &pending) != napi_ok || !pending) return nullptr;
  if (napi_get_and_clear_last_exception(env, &exception) != napi_ok) return nullptr;
  return exception;
}

void MdSession::CallbackFailed(napi_env env) {
  // Never rethrown to Node (that would be an uncaught exception): onError gets it, else the next stats().
  // Nothing pending: the environment has stopped running JavaScript, and there is no one to tell.
  napi_value error = TakeException(env);
  if (error == nullptr) return;
  try {
    napi_value callbacks = Callbacks(env), onError = nullptr, undefined = nullptr, result = nullptr;
    napi_valuetype type = napi_undefined;
    if (callbacks != nullptr) {
      Check(napi_get_named_property(env, callbacks, "onError", &onError));
      Check(napi_typeof(env, onError, &type));
    }
    if (type == napi_function) {
      Check(napi_get_undefined(env, &undefined));
      Check(napi_call_function(env, undefined, onError, 1, &error, &result));
      return;
    }
  } catch (const NapiFailure &) {
    if (napi_value onErrorFailed = TakeException(env)) error = onErrorFailed;
  }
  // Kept in a one-element array: a thrown value need not be an object, and only objects can be referenced here.
  napi_value holder = nullptr;
  napi_ref ref = nullptr;
  if (napi_create_array_with_length(env, 1, &holder) == napi_ok && napi_set_element(env, holder, 0, error) == napi_ok &&
      napi_create_reference(env, holder, 1, &ref) == napi_ok) {
    keptError_ = Napi::ObjectReference(env, ref);
  } else {
    TakeException(env);
  }
}

Napi::Value MdSession::RegisterFront(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CThostFtdcMdApi &api = OpenApi(env);
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "registerFront: address must be a string");
  fronts_.push_back(info[0].As<Napi::String>().Utf8Value());
  api.RegisterFront(fronts_.back().data());
  return env.Undefined();
}

Napi::Value MdSession::Init(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CThostFtdcMdApi &api = OpenApi(env);
  if (initialized_) ThrowCoded(env, "CTP_ALREADY_INITIALIZED", "init() was already called on this CTP market-data session");
  initialized_ = true;
  api.Init();
  return env.Undefined();
}

Napi::Value MdSession::Login(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CThostFtdcMdApi &api = OpenApi(env);
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "login: credentials must be an object");
  Napi::Object credentials = info[0].As<Napi::Object>();
  CThostFtdcReqUserLoginField request{};
  CopyField(env, request.BrokerID, credentials, "brokerId", "BrokerID");
  CopyField(env, request.UserID, credentials, "userId", "UserID");
  CopyField(env, request.Password, credentials, "password", "Password");
  CopyField(env, request.UserProductInfo, credentials, "userProductInfo", "UserProductInfo");
  return Napi::Number::New(env, api.ReqUserLogin(&request, RequestId(env, info, 1)));
}

Napi::Value MdSession::Logout(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CThostFtdcMdApi &api = OpenApi(env);
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "logout: user must be an object");
  Napi::Object user = info[0].As<Napi::Object>();
  CThostFtdcUserLogoutField request{};
  CopyField(env, request.BrokerID, user, "brokerId", "BrokerID");
  CopyField(env, request.UserID, user, "userId", "UserID");
  return Napi::Number::New(env, api.ReqUserLogout(&request, RequestId(env, info, 1)));
}

Napi::Value MdSession::Subscribe(const Napi::CallbackInfo &info) { return SubscribeOrUnsubscribe(info, true); }
Napi::Value MdSession::Unsubscribe(const Napi::CallbackInfo &info) { return SubscribeOrUnsubscribe(info, false); }

Napi::Value MdSession::SubscribeOrUnsubscribe(const Napi::CallbackInfo &info, bool subscribe) {
  Napi::Env env = info.Env();
  CThostFtdcMdApi &api = OpenApi(env);
  const char *method = subscribe ? "subscribe" : "unsubscribe";
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, std::string(method) + ": ids must be an array of strings");
  Napi::Array ids = info[0].As<Napi::Array>();
  constexpr std::size_t kMaxIdBytes = sizeof(CThostFtdcSpecificInstrumentField::InstrumentID) - 1;
  std::vector<std::string> copies;
  copies.reserve(ids.Length());
  for (uint32_t i = 0; i < ids.Length(); ++i) {
    Napi::Value id = ids.Get(i);
    if (!id.IsString()) throw Napi::TypeError::New(env, std::string(method) + ": ids[" + std::to_string(i) + "] must be a string");
    std::string text = id.As<Napi::String>().Utf8Value();
    if (text.size() > kMaxIdBytes || text.find('\0') != std::string::npos) {
      throw Napi::RangeError::New(env, std::string(method) + ": ids[" + std::to_string(i) + "] is " + std::to_string(text.size()) +
                                           " bytes; an instrument id holds at most " + std::to_string(kMaxIdBytes) + " bytes without NUL");
    }
    copies.push_back(std::move(text));
  }
  if (copies.empty()) return Napi::Number::New(env, 0);
  std::vector<char *> pointers;
  pointers.reserve(copies.size());
  for (std::string &copy : copies) pointers.push_back(copy.data());
  int count = static_cast<int>(pointers.size());
  int result = subscribe ? api.SubscribeMarketData(pointers.data(), count) : api.UnSubscribeMarketData(pointers.data(), count);
  return Napi::Number::New(env, result);
}

Napi::Value MdSession::TradingDay(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  const char *day = OpenApi(env).GetTradingDay();
  return Napi::String::New(env, day != nullptr ? std::string(day, strnlen(day, 64)) : std::string());
}

Napi::Value MdSession::Close(const Napi::CallbackInfo &info) {
  CloseSession();
  return info.Env().Undefined();
}

Napi::Value MdSession::Stats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  OpenApi(env);
  Napi::Object stats = Napi::Object::New(env);
  stats.Set("queued", Napi::Number::New(env, static_cast<double>(core_->queued())));
  stats.Set("dropped", Napi::Number::New(env, static_cast<double>(core_->dropped())));
  stats.Set("delivered", Napi::Number::New(env, static_cast<double>(core_->delivered)));
  stats.Set("batches", Napi::Number::New(env, static_cast<double>(core_->batches)));
  stats.Set("callFailures", Napi::Number::New(env, static_cast<double>(core_->callFailures())));
  stats.Set("highWater", Napi::Number::New(env, static_cast<double>(core_->highWater())));
  // An exception onEvents threw with no onError to take it, reported once.
  stats.Set("callbackError", keptError_.IsEmpty() ? env.Undefined() : keptError_.Value().Get(0u));
  keptError_.Reset();
  return stats;
}

}  // namespace tickflow
