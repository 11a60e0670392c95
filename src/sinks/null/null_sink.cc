#include "sinks/null/null_sink.h"

namespace sluice {

void NullSink::Write(const Batch&, WriteDone done) { done(Status::Ok()); }

}  // namespace sluice
