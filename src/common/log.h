// Structured logging: one line per event on stderr, JSON by default
// ({"ts":...,"level":"info","msg":"connected","slot":"s1"}) or human text.
// Thread-safe; a line is written with a single write so lines never interleave.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace sluice::log {

enum class Level : unsigned char { kDebug, kInfo, kWarn, kError };
enum class Format : unsigned char { kJson, kText };

// A key and its value; numbers and booleans are written unquoted in JSON.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, int v) : key(k), value(std::to_string(v)), raw(true) {}
  Field(std::string_view k, long v) : key(k), value(std::to_string(v)), raw(true) {}
  Field(std::string_view k, long long v) : key(k), value(std::to_string(v)), raw(true) {}
  Field(std::string_view k, unsigned v) : key(k), value(std::to_string(v)), raw(true) {}
  Field(std::string_view k, unsigned long v) : key(k), value(std::to_string(v)), raw(true) {}
  Field(std::string_view k, unsigned long long v) : key(k), value(std::to_string(v)), raw(true) {}
  Field(std::string_view k, double v);
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), raw(true) {}
  std::string_view key;
  std::string value;
  bool raw = false;
};

void SetLevel(Level level);
void SetFormat(Format format);
Level CurrentLevel();
// "debug", "info", "warn"/"warning", "error"; false if unknown.
bool ParseLevel(std::string_view text, Level* level);

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields);

inline void Debug(std::string_view msg, std::initializer_list<Field> fields = {}) {
  if (CurrentLevel() <= Level::kDebug) Write(Level::kDebug, msg, fields);
}
inline void Info(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, msg, fields);
}
inline void Warn(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kWarn, msg, fields);
}
inline void Error(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kError, msg, fields);
}

}  // namespace sluice::log
