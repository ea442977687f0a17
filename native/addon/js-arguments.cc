#include "js-arguments.h"

#include <cmath>

namespace tickflow {

std::string StringOption(Napi::Env env, Napi::Object options, const char *name) {
  Napi::Value value = options.Get(name);
  if (!value.IsString()) throw Napi::TypeError::New(env, std::string("MdSession: ") + name + " must be a string");
  return value.As<Napi::String>().Utf8Value();
}

std::size_t CountOption(Napi::Env env, Napi::Object options, const char *name, double max) {
  Napi::Value value = options.Get(name);
  double count = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : NAN;
  if (!(count >= 1 && count <= max && std::floor(count) == count)) {
    throw Napi::RangeError::New(env, std::string("MdSession: ") + name + " must be an integer from 1 to " + std::to_string(static_cast<long long>(max)));
  }
  return static_cast<std::size_t>(count);
}

int RequestId(Napi::Env env, const Napi::CallbackInfo &info, std::size_t index) {
  if (info.Length() <= index || !info[index].IsNumber()) throw Napi::TypeError::New(env, "requestId must be a number");
  return info[index].As<Napi::Number>().Int32Value();
}

}  // namespace tickflow
