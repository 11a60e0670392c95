#include "sinks/common/standard_webhooks.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/base64.h"

namespace sluice {
namespace {

constexpr std::string_view kSecretPrefix = "whsec_";
constexpr std::string_view kVersionPrefix = "v1,";

std::string HmacSha256(std::string_view key, std::string_view id, int64_t timestamp,
                       std::string_view body) {
  std::string to_sign;
  to_sign.reserve(id.size() + body.size() + 24);
  to_sign.append(id);
  to_sign.push_back('.');
  to_sign.append(std::to_string(timestamp));
  to_sign.push_back('.');
  to_sign.append(body);

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  // One-shot HMAC cannot fail for SHA-256 with in-memory inputs except on
  // allocation failure, in which case digest_len stays 0 and the signature
  // simply never verifies.
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(to_sign.data()), to_sign.size(), digest, &digest_len);
  return std::string(reinterpret_cast<const char*>(digest), digest_len);
}

}  // namespace

Result<StandardWebhooksSigner> StandardWebhooksSigner::FromSecret(std::string_view secret) {
  if (secret.empty()) return Status::Permanent("signing secret is empty");
  if (secret.starts_with(kSecretPrefix)) {
    std::optional<std::string> key = Base64Decode(secret.substr(kSecretPrefix.size()));
    if (!key || key->empty()) {
      return Status::Permanent(
          "signing secret starts with \"whsec_\" but the rest is not valid base64 (standard "
          "alphabet, padded); use the secret exactly as issued, or a secret without the prefix "
          "to use its raw bytes");
    }
    return StandardWebhooksSigner(std::move(*key));
  }
  return StandardWebhooksSigner(std::string(secret));
}

std::string StandardWebhooksSigner::Sign(std::string_view id, int64_t timestamp,
                                         std::string_view body) const {
  std::string out(kVersionPrefix);
  AppendBase64(out, HmacSha256(key_, id, timestamp, body));
  return out;
}

void StandardWebhooksSigner::AddHeaders(
    std::string_view id, int64_t timestamp, std::string_view body,
    std::vector<std::pair<std::string, std::string>>& headers) const {
  headers.emplace_back(kWebhookIdHeader, std::string(id));
  headers.emplace_back(kWebhookTimestampHeader, std::to_string(timestamp));
  headers.emplace_back(kWebhookSignatureHeader, Sign(id, timestamp, body));
}

bool StandardWebhooksSigner::Verify(std::string_view id, int64_t timestamp, std::string_view body,
                                    std::string_view signature_header) const {
  const std::string expected = Sign(id, timestamp, body);
  bool match = false;
  size_t pos = 0;
  while (pos <= signature_header.size()) {
    size_t end = signature_header.find(' ', pos);
    if (end == std::string_view::npos) end = signature_header.size();
    std::string_view candidate = signature_header.substr(pos, end - pos);
    // Check every entry (no early exit) so timing does not reveal which matched.
    if (candidate.size() == expected.size() &&
        CRYPTO_memcmp(candidate.data(), expected.data(), expected.size()) == 0) {
      match = true;
    }
    pos = end + 1;
  }
  return match;
}

}  // namespace sluice
