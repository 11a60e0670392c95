#include "common/json_writer.h"

#include <charconv>
#include <cstring>

namespace sluice {
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t len;
  uint32_t min;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  uint32_t cp = c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

void AppendJsonString(std::string& out, std::string_view value) {
  static const char kHex[] = "0123456789abcdef";
  size_t i = PlainJsonRun(value, 0);
  if (i == value.size()) {  // the usual case: nothing to escape or check
    out += '"';
    out.append(value);
    out += '"';
    return;
  }
  out.push_back('"');
  size_t run_start = 0;
  auto flush = [&](size_t end) {
    if (end > run_start) out.append(value.data() + run_start, end - run_start);
  };
  while (i < value.size()) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      i = PlainJsonRun(value, i);
      continue;
    }
    if (c >= 0x80) {
      size_t len = Utf8SequenceLength(value, i);
      if (len > 0) {
        i += len;
        continue;
      }
      flush(i);
      out.append("\xEF\xBF\xBD");
      ++i;
      run_start = i;
      continue;
    }
    flush(i);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
    ++i;
    run_start = i;
  }
  flush(i);
  out.push_back('"');
}

std::string JsonMemberKey(std::string_view name) {
  std::string out = ",";
  AppendJsonString(out, name);
  out.push_back(':');
  return out;
}

void AppendJsonInt(std::string& out, int64_t value) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, r.ptr);
}

void AppendJsonUint(std::string& out, uint64_t value) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, r.ptr);
}

}  // namespace sluice
