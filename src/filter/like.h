// LIKE / ILIKE matching as Postgres does it for UTF-8 text: `%` matches any
// run of characters, `_` exactly one character (not byte), the escape
// character makes the next one literal. ILIKE folds ASCII letters only (as
// Postgres with the C ctype).
#pragma once

#include <string_view>

#include "common/status.h"

namespace sluice::filter {

// `escape`: the escape character (one UTF-8 character) or empty for none.
// Errors: a pattern that ends with the escape character, when matching
// reaches it (as in Postgres, 'abc' LIKE 'abc\\' is false, 'abcd' LIKE
// 'abc\\' an error).
Result<bool> LikeMatch(std::string_view text, std::string_view pattern, bool case_insensitive,
                       std::string_view escape = "\\");

}  // namespace sluice::filter
