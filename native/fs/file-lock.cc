// tickflow_fs: the one file-system call Node does not offer, flock(2).
//
// An flock lock belongs to the open file description: the kernel drops it
// when the last descriptor closes, including when the process dies, so a
// crashed holder never leaves a stale lock. Descriptors are opened and
// closed by Node (fs.openSync / fs.closeSync); this only locks them.
#include <napi.h>

#include <sys/file.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace {

// tryLockExclusive(fd): true when this description now holds the exclusive
// lock, false when another description holds it; throws on any other error.
Napi::Value TryLockExclusive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "tryLockExclusive(fd): fd must be a number").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  const int fd = info[0].As<Napi::Number>().Int32Value();
  int result;
  do {
    result = flock(fd, LOCK_EX | LOCK_NB);
  } while (result != 0 && errno == EINTR);
  if (result == 0) return Napi::Boolean::New(env, true);
  if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
  const int code = errno;
  Napi::Error error = Napi::Error::New(env, std::string("flock: ") + std::strerror(code));
  error.Set("errno", Napi::Number::New(env, code));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("tryLockExclusive", Napi::Function::New(env, TryLockExclusive, "tryLockExclusive"));
  return exports;
}

}  // namespace

NODE_API_MODULE(tickflow_fs, Init)
