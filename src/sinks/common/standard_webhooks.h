// Standard Webhooks signing (https://www.standardwebhooks.com): three headers
// that let a receiver check that a request comes from the holder of a shared
// secret, is not a replay of an old one, and can be deduplicated.
//
//   webhook-id:        a unique message id (Sluice: the idempotency key)
//   webhook-timestamp: Unix seconds when the request was signed
//   webhook-signature: "v1," + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>"))
//
// The receiver recomputes the HMAC over the raw body bytes and compares it,
// and rejects timestamps too far from its own clock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace sluice {

inline constexpr char kWebhookIdHeader[] = "webhook-id";
inline constexpr char kWebhookTimestampHeader[] = "webhook-timestamp";
inline constexpr char kWebhookSignatureHeader[] = "webhook-signature";

// Signs requests with one secret. Immutable after creation; thread-safe.
class StandardWebhooksSigner {
 public:
  // A secret that starts with "whsec_" carries its key base64-encoded after the
  // prefix (the spec's format); any other secret is used as raw key bytes.
  // Permanent error for an empty secret or a "whsec_" secret that is not
  // valid base64. The error never contains the secret.
  static Result<StandardWebhooksSigner> FromSecret(std::string_view secret);

  // "v1,<base64 signature>" for the given id, timestamp and exact body bytes.
  std::string Sign(std::string_view id, int64_t timestamp, std::string_view body) const;

  // Appends webhook-id, webhook-timestamp and webhook-signature to `headers`.
  void AddHeaders(std::string_view id, int64_t timestamp, std::string_view body,
                  std::vector<std::pair<std::string, std::string>>& headers) const;

  // The receiver's check: true when `signature_header` (one or more
  // space-separated "v1,<sig>" entries) holds a valid signature for the
  // given id, timestamp and body. Compares in constant time. Does not check
  // the timestamp's age: that needs the receiver's clock and tolerance.
  bool Verify(std::string_view id, int64_t timestamp, std::string_view body,
              std::string_view signature_header) const;

 private:
  explicit StandardWebhooksSigner(std::string key) : key_(std::move(key)) {}
  std::string key_;  // raw HMAC key bytes
};

}  // namespace sluice
