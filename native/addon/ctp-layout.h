// `layout()`: our declarations of the CTP structs and classes as this compiler
// laid them out, for the test that compares them with native/ctp-abi.json.
#pragma once

#include <napi.h>

namespace tickflow {

/** `layout()` → `{ structs: { name: { sizeof, alignof, fields: { name: { offset, size } } } }, vtables: { CThostFtdcMdApi: [...], CThostFtdcMdSpi: [...] } }`. */
Napi::Value LayoutJs(const Napi::CallbackInfo &info);

}  // namespace tickflow
