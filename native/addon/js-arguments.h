// Reading the arguments JavaScript passes to MdSession: each check throws a
// TypeError or RangeError naming the argument and what it must be.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstring>
#include <string>

namespace tickflow {

/** `options[name]` as a string. */
std::string StringOption(Napi::Env env, Napi::Object options, const char *name);

/** `options[name]` as an integer from 1 to `max`. */
std::size_t CountOption(Napi::Env env, Napi::Object options, const char *name, double max);

/** `info[index]` as a request id. */
int RequestId(Napi::Env env, const Napi::CallbackInfo &info, std::size_t index);

/** Copies `value` into a NUL-terminated char array, or throws a RangeError naming the field and its limit. */
template <std::size_t N>
void CopyField(Napi::Env env, char (&target)[N], Napi::Object source, const char *name, const char *vendorName) {
  Napi::Value value = source.Get(name);
  if (value.IsUndefined()) return;
  if (!value.IsString()) throw Napi::TypeError::New(env, std::string(name) + " must be a string");
  std::string text = value.As<Napi::String>().Utf8Value();
  if (text.size() > N - 1 || text.find('\0') != std::string::npos) {
    throw Napi::RangeError::New(env, std::string(name) + " is " + std::to_string(text.size()) + " bytes; " + vendorName +
                                         " holds at most " + std::to_string(N - 1) + " bytes without NUL");
  }
  std::memcpy(target, text.data(), text.size());
  target[text.size()] = '\0';
}

}  // namespace tickflow
