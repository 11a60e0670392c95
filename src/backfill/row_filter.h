// A backfill's SQL filter (DESIGN §5) as a RowPredicate over the read rows.
#pragma once

#include <functional>
#include <string>

#include "backfill/coordinator.h"
#include "common/status.h"

namespace sluice::backfill {

using FilterCompiler = std::function<Result<RowPredicate>(const std::string& sql)>;

// Compiles with filter::Filter; an empty function when this build has no
// SQL filter module (a backfill with a filter is then refused).
FilterCompiler SqlFilterCompiler();

}  // namespace sluice::backfill
