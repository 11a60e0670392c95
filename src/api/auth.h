// Bearer-token authentication for the API (/api/*).
//
// Policy, decided once at start-up:
// - api_tokens configured: every /api request needs
//   "Authorization: Bearer <token>" with one of them.
// - no api_tokens and the server listens on a loopback address: /api is open
//   (only local processes can reach it; the quickstart needs no token).
// - no api_tokens and a non-loopback address: Create() fails and Sluice does
//   not start. An open API on the network would let anyone read change data
//   and acknowledge (delete) queued messages; we would rather refuse than
//   serve it, and the fix (add a token) takes one line of config.
//
// Tokens are compared in constant time: the presented token and every
// configured one are hashed with SHA-256 and the digests compared with
// CRYPTO_memcmp, against all tokens without an early exit, so neither the
// length nor the content of a token leaks through timing. Thread-safe (const
// after Create).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_message.h"
#include "common/status.h"
#include "config/config.h"

namespace sluice::api {

class Authenticator {
 public:
  // `listen` is the configured address, for the error message.
  static Result<Authenticator> Create(const std::vector<config::ApiToken>& tokens,
                                      bool listening_on_loopback, std::string_view listen);

  struct Decision {
    // The matching token's name; empty when the API is open.
    std::string token_name;
    // The 401 to send (JSON envelope, WWW-Authenticate: Bearer) when refused.
    std::optional<Response> rejection;
    bool allowed() const { return !rejection.has_value(); }
  };
  // `authorization` is the Authorization header's value ("" when absent).
  Decision Check(std::string_view authorization) const;

  // False when no tokens are configured (loopback only).
  bool required() const { return !tokens_.empty(); }

 private:
  using Digest = std::array<unsigned char, 32>;
  struct Token {
    std::string name;
    Digest digest;
  };
  explicit Authenticator(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}
  static Digest Sha256(std::string_view data);

  std::vector<Token> tokens_;
};

}  // namespace sluice::api
