#include "md-event-layout.h"

#include <cstddef>

#include "md-event.h"

namespace tickflow {

static_assert(sizeof(MdEvent) % alignof(double) == 0, "every event of a batch starts 8-aligned, so its doubles are read as a Float64Array");
static_assert(offsetof(MdEvent, payload) % alignof(double) == 0, "the depth struct's doubles are 8-aligned within the event");

Napi::Value EventLayoutJs(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object fields = Napi::Object::New(env);
  fields.Set("kind", Napi::Number::New(env, offsetof(MdEvent, kind)));
  fields.Set("isLast", Napi::Number::New(env, offsetof(MdEvent, isLast)));
  fields.Set("hasInfo", Napi::Number::New(env, offsetof(MdEvent, hasInfo)));
  fields.Set("hasBody", Napi::Number::New(env, offsetof(MdEvent, hasBody)));
  fields.Set("value", Napi::Number::New(env, offsetof(MdEvent, value)));
  fields.Set("recvUs", Napi::Number::New(env, offsetof(MdEvent, recvUs)));
  fields.Set("depth", Napi::Number::New(env, offsetof(MdEvent, payload.depth)));
  fields.Set("replyInfo", Napi::Number::New(env, offsetof(MdEvent, payload.reply.info)));
  fields.Set("replyBody", Napi::Number::New(env, offsetof(MdEvent, payload.reply.body)));

  Napi::Object kinds = Napi::Object::New(env);
  auto kind = [&](const char *name, MdEventKind value) { kinds.Set(name, Napi::Number::New(env, static_cast<double>(value))); };
  kind("front-connected", MdEventKind::kFrontConnected);
  kind("front-disconnected", MdEventKind::kFrontDisconnected);
  kind("heartbeat-warning", MdEventKind::kHeartbeatWarning);
  kind("login", MdEventKind::kLogin);
  kind("logout", MdEventKind::kLogout);
  kind("error", MdEventKind::kError);
  kind("subscribed", MdEventKind::kSubscribed);
  kind("unsubscribed", MdEventKind::kUnsubscribed);
  kind("depth", MdEventKind::kDepth);

  Napi::Object layout = Napi::Object::New(env);
  layout.Set("sizeof", Napi::Number::New(env, sizeof(MdEvent)));
  layout.Set("fields", fields);
  layout.Set("kinds", kinds);
  return layout;
}

}  // namespace tickflow
