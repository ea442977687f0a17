// Status checks for the code that runs in a drain (converting events, calling
// onEvents and onError). It uses the raw Node-API and throws this instead of
// Napi::Error: building a Napi::Error needs JavaScript, and a drain can run
// while its environment stops running JavaScript (a worker being terminated),
// where node-addon-api's error path would abort the process.
#pragma once

#include <node_api.h>

namespace tickflow {

/** A Node-API call in the drain failed; the caller decides what can still be reported. */
struct NapiFailure {
  napi_status status;
};

inline void Check(napi_status status) {
  if (status != napi_ok) throw NapiFailure{status};
}

}  // namespace tickflow

namespace tickflow {

/** A handle scope opened with the raw Node-API; `ok()` is false if it could not be opened. */
class RawHandleScope {
 public:
  explicit RawHandleScope(napi_env env) : env_(env) {
    if (napi_open_handle_scope(env, &scope_) != napi_ok) scope_ = nullptr;
  }
  ~RawHandleScope() {
    if (scope_ != nullptr) napi_close_handle_scope(env_, scope_);
  }
  RawHandleScope(const RawHandleScope &) = delete;
  RawHandleScope &operator=(const RawHandleScope &) = delete;
  bool ok() const { return scope_ != nullptr; }

 private:
  napi_env env_;
  napi_handle_scope scope_ = nullptr;
};

}  // namespace tickflow
