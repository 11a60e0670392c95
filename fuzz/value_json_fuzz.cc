// AppendValueJson on arbitrary text: the output must always be one valid
// JSON value without a raw newline, whatever the type says. The first byte
// picks the type: a scalar kind, or an array of one (with ',' or ';').
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "values/value_json.h"

namespace {

using sluice::values::ArrayOf;
using sluice::values::TypeInfo;
using sluice::values::TypeRef;
using sluice::values::ValueKind;

constexpr ValueKind kScalarKinds[] = {
    ValueKind::kText,    ValueKind::kInteger,     ValueKind::kFloat,
    ValueKind::kNumeric, ValueKind::kBool,        ValueKind::kJson,
    ValueKind::kBytea,   ValueKind::kTimestampTz, ValueKind::kTimestamp};
constexpr size_t kScalarCount = std::size(kScalarKinds);

TypeRef Scalar(size_t i) {
  return std::make_shared<const TypeInfo>(TypeInfo{kScalarKinds[i % kScalarCount], nullptr});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

  // 0..8: scalars; 9..17: arrays; 18..26: arrays with ';'; 27..35: arrays of
  // arrays (a domain over an array type, say).
  const size_t pick = selector % (4 * kScalarCount);
  TypeRef type = Scalar(pick);
  if (pick >= kScalarCount && pick < 2 * kScalarCount) type = ArrayOf(type);
  if (pick >= 2 * kScalarCount && pick < 3 * kScalarCount) type = ArrayOf(type, ';');
  if (pick >= 3 * kScalarCount) type = ArrayOf(ArrayOf(type));

  // Append after existing content, as a message writer does, so that a
  // fallback that rewinds too far shows up as invalid JSON.
  std::string out = "[";
  sluice::values::AppendValueJson(out, *type, text);
  out.push_back(']');

  if (out.find('\n') != std::string::npos) std::abort();
  if (!nlohmann::json::accept(out)) {
    // nlohmann rejects numbers beyond a double's range, which JSON allows and
    // jsonb can hold (numeric): tolerate exactly that error.
    try {
      (void)nlohmann::json::parse(out);
    } catch (const nlohmann::json::out_of_range& e) {
      if (e.id != 406 || kScalarKinds[pick % kScalarCount] != ValueKind::kJson) std::abort();
      return 0;
    } catch (const nlohmann::json::exception&) {
    }
    std::abort();
  }

  // Differential check: JSON that a strict parser accepts is embedded as the
  // same value. (nlohmann's lexer takes a NUL byte for the end of input.)
  if (type->kind == ValueKind::kJson && text.find('\0') == std::string_view::npos &&
      nlohmann::json::accept(text)) {
    nlohmann::json expected = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    nlohmann::json actual = nlohmann::json::parse(out, nullptr, false);
    if (actual.size() != 1 || actual[0] != expected) std::abort();
  }
  return 0;
}
