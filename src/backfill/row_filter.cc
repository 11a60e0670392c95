#include "backfill/row_filter.h"

#include <memory>

#ifdef SLUICE_HAVE_FILTER
#include "filter/filter.h"
#endif

namespace sluice::backfill {

FilterCompiler SqlFilterCompiler() {
#ifdef SLUICE_HAVE_FILTER
  return [](const std::string& sql) -> Result<RowPredicate> {
    auto compiled = filter::Filter::Compile(sql);
    if (!compiled.ok()) return compiled.status();
    std::shared_ptr<const filter::Filter> f = std::move(compiled).value();
    return RowPredicate([f](const source::Change& change) { return f->Matches(change); });
  };
#else
  return nullptr;
#endif
}

}  // namespace sluice::backfill
