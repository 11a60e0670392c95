#include "api/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "api/json_error.h"

namespace sluice::api {

namespace {

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// The token of "Bearer <token>" (scheme case-insensitive, RFC 7235); empty
// when the header is absent or uses another scheme.
std::string_view BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (!StartsWithIgnoreCase(authorization, kScheme)) return {};
  std::string_view rest = authorization.substr(kScheme.size());
  if (rest.empty() || (rest.front() != ' ' && rest.front() != '\t')) return {};
  const size_t begin = rest.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  rest = rest.substr(begin);
  return rest.substr(0, rest.find_last_not_of(" \t") + 1);
}

}  // namespace

Result<Authenticator> Authenticator::Create(const std::vector<config::ApiToken>& tokens,
                                            bool listening_on_loopback, std::string_view listen) {
  if (tokens.empty() && !listening_on_loopback) {
    return Status::Permanent(
        "server.listen \"" + std::string(listen) +
        "\" is not a loopback address and no api_tokens are configured: anyone who can reach "
        "it could read changes and acknowledge queued messages. Add api_tokens to sluice.yaml "
        "(e.g. api_tokens: [{name: ops, token: \"${SLUICE_TOKEN}\"}]) or listen on "
        "127.0.0.1");
  }
  std::vector<Token> hashed;
  hashed.reserve(tokens.size());
  for (const config::ApiToken& token : tokens) hashed.push_back({token.name, Sha256(token.token)});
  return Authenticator(std::move(hashed));
}

Authenticator::Digest Authenticator::Sha256(std::string_view data) {
  Digest digest{};
  unsigned int length = 0;
  // Cannot fail for SHA-256 with a valid output buffer; a zero digest would
  // simply match nothing.
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    digest.fill(0);
  }
  return digest;
}

Authenticator::Decision Authenticator::Check(std::string_view authorization) const {
  Decision decision;
  if (tokens_.empty()) return decision;
  const std::string_view presented = BearerToken(authorization);
  if (presented.empty()) {
    decision.rejection = Unauthorized(
        authorization.empty()
            ? "missing API token: send \"Authorization: Bearer <token>\" with a token from "
              "api_tokens"
            : "the Authorization header must be \"Bearer <token>\"");
    return decision;
  }
  const Digest digest = Sha256(presented);
  const Token* match = nullptr;
  for (const Token& token : tokens_) {
    // No early exit: every configured token is compared every time.
    const bool equal = CRYPTO_memcmp(digest.data(), token.digest.data(), digest.size()) == 0;
    if (equal && match == nullptr) match = &token;
  }
  if (match == nullptr) {
    decision.rejection = Unauthorized("invalid API token", "invalid_token");
    return decision;
  }
  decision.token_name = match->name;
  return decision;
}

}  // namespace sluice::api
