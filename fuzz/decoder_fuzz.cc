// Feeds arbitrary bytes to the pgoutput decoder (outside and inside a
// streamed block) and to the CopyData parser. Beyond not crashing, checks
// that every string a decoded message holds is a view into the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <type_traits>

#include "pgoutput/copy_data.h"
#include "pgoutput/decoder.h"

namespace sluice::pgoutput {
namespace {

std::string_view g_input;

void CheckView(std::string_view v) {
  if (v.empty()) return;
  const char* begin = g_input.data();
  const char* end = begin + g_input.size();
  if (v.data() < begin || v.data() + v.size() > end) std::abort();
}

void CheckTuple(const TupleData& tuple) {
  for (const TupleColumn& col : tuple.columns) {
    if (col.kind != TupleColumn::Kind::kText && col.kind != TupleColumn::Kind::kBinary &&
        !col.value.empty()) {
      std::abort();
    }
    CheckView(col.value);
  }
}

void CheckMessage(const Message& message) {
  std::visit(
      [](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Origin>) {
          CheckView(m.name);
        } else if constexpr (std::is_same_v<T, Relation>) {
          CheckView(m.schema);
          CheckView(m.name);
          for (const RelationColumn& col : m.columns) CheckView(col.name);
        } else if constexpr (std::is_same_v<T, Type>) {
          CheckView(m.schema);
          CheckView(m.name);
        } else if constexpr (std::is_same_v<T, Insert>) {
          CheckTuple(m.new_tuple);
        } else if constexpr (std::is_same_v<T, Update>) {
          if (m.old_tuple.has_value()) CheckTuple(*m.old_tuple);
          CheckTuple(m.new_tuple);
        } else if constexpr (std::is_same_v<T, Delete>) {
          CheckTuple(m.old_tuple);
        } else if constexpr (std::is_same_v<T, LogicalMessage>) {
          CheckView(m.prefix);
          CheckView(m.content);
        }
      },
      message);
}

void DecodeBoth(std::string_view bytes) {
  for (bool in_stream : {false, true}) {
    Decoder decoder;
    decoder.set_in_stream(in_stream);
    Result<Message> m = decoder.Decode(bytes);
    if (m.ok()) {
      CheckMessage(*m);
    } else if (!m.status().IsPermanent() || decoder.in_stream() != in_stream) {
      std::abort();
    }
  }
}

void FuzzOne(std::string_view input) {
  g_input = input;
  DecodeBoth(g_input);
  Result<CopyDataMessage> copy = ParseCopyData(g_input);
  if (copy.ok()) {
    if (const auto* x = std::get_if<XLogData>(&*copy)) {
      CheckView(x->payload);
      DecodeBoth(x->payload);
    }
  }
}

}  // namespace
}  // namespace sluice::pgoutput

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sluice::pgoutput::FuzzOne(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
