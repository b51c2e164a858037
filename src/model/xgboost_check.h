// Turns XGBoost C API failures into ModelError. Internal to src/model.
#pragma once

#include <xgboost/c_api.h>

#include <string>
#include <string_view>

#include "model/model_error.h"

namespace txguard {

// Returns XGBoost's last error message without the stack trace it appends.
inline std::string xgboostLastError() {
  std::string message = XGBGetLastError();
  const auto trace = message.find("\nStack trace:");
  if (trace != std::string::npos) message.resize(trace);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

// Throws ModelError("<operation> failed: <XGBoost's message>") when `status` is
// not 0, the C API's failure code.
inline void checkXgboost(int status, std::string_view operation) {
  if (status != 0) {
    throw ModelError(std::string(operation) + " failed: " + xgboostLastError());
  }
}

// Frees a DMatrix on scope exit.
class DMatrixGuard {
 public:
  DMatrixGuard() = default;
  ~DMatrixGuard() {
    if (handle_ != nullptr) XGDMatrixFree(handle_);
  }
  DMatrixGuard(const DMatrixGuard&) = delete;
  DMatrixGuard& operator=(const DMatrixGuard&) = delete;

  DMatrixHandle* out() { return &handle_; }
  DMatrixHandle get() const { return handle_; }

 private:
  DMatrixHandle handle_ = nullptr;
};

// The library's version, "major.minor.patch".
inline std::string xgboostVersion() {
  int major = 0;
  int minor = 0;
  int patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace txguard
