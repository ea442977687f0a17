// JavaScript errors with a `code` property, the one way the addon reports a
// failure: every error crosses into JavaScript as an exception, never as a
// message printed by native code.
#pragma once

#include <napi.h>

#include <string>

namespace tickflow {

/** Throws a JavaScript Error whose `code` property is `code` (CTP_LIBRARY_NOT_FOUND, CTP_CLOSED, …). */
[[noreturn]] inline void ThrowCoded(Napi::Env env, const char *code, const std::string &message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Value().Set("code", Napi::String::New(env, code));
  throw error;
}

}  // namespace tickflow
