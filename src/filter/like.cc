#include "filter/like.h"

#include <string>
#include <vector>

namespace sluice::filter {
namespace {

// Length of the UTF-8 character starting at s[i] (1 for stray bytes).
size_t CharLength(std::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
  if (i + n > s.size()) n = 1;
  return n;
}

std::string FoldAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

struct Element {
  enum class Kind : unsigned char { kAny, kOne, kLiteral, kTrailingEscape };
  Kind kind;
  std::string_view literal;
};

}  // namespace

Result<bool> LikeMatch(std::string_view text_in, std::string_view pattern_in, bool case_insensitive,
                       std::string_view escape) {
  std::string folded_text, folded_pattern;
  std::string_view text = text_in, pattern = pattern_in;
  if (case_insensitive) {
    folded_text = FoldAscii(text_in);
    folded_pattern = FoldAscii(pattern_in);
    text = folded_text;
    pattern = folded_pattern;
  }
  std::vector<Element> elements;
  for (size_t i = 0; i < pattern.size();) {
    const size_t len = CharLength(pattern, i);
    std::string_view ch = pattern.substr(i, len);
    i += len;
    if (!escape.empty() && ch == escape) {
      if (i >= pattern.size()) {
        // Postgres only fails when matching gets this far.
        elements.push_back({Element::Kind::kTrailingEscape, {}});
        break;
      }
      const size_t next = CharLength(pattern, i);
      elements.push_back({Element::Kind::kLiteral, pattern.substr(i, next)});
      i += next;
    } else if (ch == "%") {
      // Runs of % are one.
      if (elements.empty() || elements.back().kind != Element::Kind::kAny) {
        elements.push_back({Element::Kind::kAny, {}});
      }
    } else if (ch == "_") {
      elements.push_back({Element::Kind::kOne, {}});
    } else {
      elements.push_back({Element::Kind::kLiteral, ch});
    }
  }
  // Greedy matching with one backtrack point: correct for % and _ patterns.
  size_t ti = 0, pi = 0;
  size_t star_pi = std::string_view::npos, star_ti = 0;
  while (ti < text.size()) {
    if (pi < elements.size() && elements[pi].kind == Element::Kind::kTrailingEscape) {
      return Status::Permanent("LIKE pattern must not end with escape character");
    }
    if (pi < elements.size() && elements[pi].kind != Element::Kind::kAny) {
      const size_t len = CharLength(text, ti);
      if (elements[pi].kind == Element::Kind::kOne ||
          elements[pi].literal == text.substr(ti, len)) {
        ti += len;
        ++pi;
        continue;
      }
    } else if (pi < elements.size()) {
      star_pi = pi++;
      star_ti = ti;
      continue;
    }
    if (star_pi == std::string_view::npos) return false;
    pi = star_pi + 1;
    star_ti += CharLength(text, star_ti);
    ti = star_ti;
  }
  while (pi < elements.size() && elements[pi].kind == Element::Kind::kAny) ++pi;
  return pi == elements.size();
}

}  // namespace sluice::filter
