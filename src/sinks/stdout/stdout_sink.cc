#include "sinks/stdout/stdout_sink.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace sluice {

StreamSink::StreamSink(FILE* out, bool fsync_each_batch) : out_(out), fsync_(fsync_each_batch) {}

void StreamSink::Write(const Batch& batch, WriteDone done) {
  Status status;
  {
    std::lock_guard lock(mu_);
    std::string buf;
    for (const Message* m : batch.messages) {
      buf.append(m->json);
      buf.push_back('\n');
    }
    if (std::fwrite(buf.data(), 1, buf.size(), out_) != buf.size() || std::fflush(out_) != 0) {
      status = Status::Retryable(std::string("write failed: ") + std::strerror(errno));
    } else if (fsync_ && ::fsync(fileno(out_)) != 0 && errno != EINVAL) {
      status = Status::Retryable(std::string("fsync failed: ") + std::strerror(errno));
    }
  }
  done(std::move(status));
}

}  // namespace sluice
