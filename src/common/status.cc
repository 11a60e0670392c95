#include "common/status.h"

namespace sluice {

std::string Status::ToString() const {
  if (ok()) return "ok";
  const char* cls = "retryable";
  if (rep_->error_class == ErrorClass::kPermanent) cls = "permanent";
  if (rep_->error_class == ErrorClass::kFatal) cls = "fatal";
  return std::string(cls) + ": " + rep_->message;
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  return Status(rep_->error_class, context + ": " + rep_->message);
}

}  // namespace sluice
