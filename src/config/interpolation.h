// ${VAR} interpolation of config scalars (DESIGN §7).
//   ${VAR}            the value of VAR; an error when VAR is unset.
//   ${VAR:-default}   the value of VAR, or `default` when VAR is unset or empty.
//   $$                a literal $.
// Any other $ is kept as written. Names are [A-Za-z_][A-Za-z0-9_]*; a default
// is literal text up to the first } and may not contain ${.
#pragma once

#include <string>
#include <string_view>

#include "config/config_loader.h"

namespace sluice::config {

struct Interpolated {
  std::string text;
  bool substituted = false;  // at least one ${...} was expanded
  std::string error;         // non-empty: `text` is meaningless
};

Interpolated Interpolate(std::string_view text, const EnvLookup& env);

}  // namespace sluice::config
