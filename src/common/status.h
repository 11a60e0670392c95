// Errors as values. A Status is OK or an error with a retry class and a message
// that says what failed, where, and what to do. OK holds no allocation.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace sluice {

// How the caller should react to an error.
enum class ErrorClass : unsigned char {
  kRetryable,  // Transient: try again later (network, 5xx, timeouts).
  kPermanent,  // This input will never succeed (bad message, 4xx, bad config).
  kFatal,      // The process cannot continue (slot gone, wal_level wrong).
};

class [[nodiscard]] Status {
 public:
  Status() = default;

  static Status Ok() { return Status(); }
  static Status Retryable(std::string message) {
    return Status(ErrorClass::kRetryable, std::move(message));
  }
  static Status Permanent(std::string message) {
    return Status(ErrorClass::kPermanent, std::move(message));
  }
  static Status Fatal(std::string message) {
    return Status(ErrorClass::kFatal, std::move(message));
  }

  bool ok() const { return rep_ == nullptr; }
  bool IsRetryable() const { return rep_ && rep_->error_class == ErrorClass::kRetryable; }
  bool IsPermanent() const { return rep_ && rep_->error_class == ErrorClass::kPermanent; }
  bool IsFatal() const { return rep_ && rep_->error_class == ErrorClass::kFatal; }
  // Only meaningful when !ok().
  ErrorClass error_class() const { return rep_ ? rep_->error_class : ErrorClass::kRetryable; }
  const std::string& message() const {
    static const std::string kEmpty;
    return rep_ ? rep_->message : kEmpty;
  }
  // "retryable: connection refused", or "ok".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context`: "context: message".
  Status WithContext(const std::string& context) const;

 private:
  Status(ErrorClass error_class, std::string message)
      : rep_(std::make_shared<const Rep>(Rep{error_class, std::move(message)})) {}
  struct Rep {
    ErrorClass error_class;
    std::string message;
  };
  std::shared_ptr<const Rep> rep_;
};

// A value or an error. Accessing value() of an error is a programmer error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design.
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: implicit by design.

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace sluice

#define SLUICE_CONCAT_INNER(a, b) a##b
#define SLUICE_CONCAT(a, b) SLUICE_CONCAT_INNER(a, b)

#define SLUICE_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::sluice::Status sluice_status_ = (expr);        \
    if (!sluice_status_.ok()) return sluice_status_; \
  } while (0)

#define SLUICE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#define SLUICE_ASSIGN_OR_RETURN(lhs, expr) \
  SLUICE_ASSIGN_OR_RETURN_IMPL(SLUICE_CONCAT(sluice_result_, __LINE__), lhs, expr)
