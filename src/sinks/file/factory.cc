#include "sinks/file/factory.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "config/fields.h"
#include "sinks/stdout/stdout_sink.h"

namespace sluice {
namespace {

// Owns the FILE* it appends to.
class FileSink : public Sink {
 public:
  FileSink(FILE* file, bool fsync) : file_(file), stream_(file, fsync) {}
  ~FileSink() override { std::fclose(file_); }
  void Write(const Batch& batch, WriteDone done) override { stream_.Write(batch, std::move(done)); }

 private:
  FILE* file_;
  StreamSink stream_;
};

void Validate(const config::SinkConfig& sink, const config::Config&, config::ConfigErrors& errors) {
  config::MapReader reader(sink.destination, errors);
  reader.String("type", true);
  auto path = reader.String("path", true);
  if (path && path->empty()) reader.Error(*reader.Child("path"), "path must not be empty");
  reader.Bool("fsync");
  reader.Finish();
}

Result<std::unique_ptr<Sink>> Create(const SinkContext& context) {
  config::ConfigErrors errors;
  config::MapReader reader(context.sink->destination, errors);
  const std::string path = reader.String("path").value_or("");
  const bool fsync = reader.Bool("fsync").value_or(false);
  FILE* f = std::fopen(path.c_str(), "ab");
  if (f == nullptr) {
    return Status::Fatal("sink " + context.sink->name + ": cannot open " + path + ": " +
                         std::strerror(errno));
  }
  return std::unique_ptr<Sink>(std::make_unique<FileSink>(f, fsync));
}

}  // namespace

SinkFactory FileSinkFactory() { return SinkFactory{"file", &Validate, &Create}; }

}  // namespace sluice
