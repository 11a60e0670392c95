// YAML text -> config::Node. The only code that includes yaml-cpp: no yaml-cpp
// type or exception crosses this boundary.
#pragma once

#include <string>
#include <string_view>

#include "config/config_loader.h"
#include "config/node.h"

namespace sluice::config {

// Inputs larger than this are rejected before parsing.
inline constexpr size_t kMaxYamlBytes = 8u << 20;

// Parses one YAML document. Every scalar value (not keys) is interpolated
// (interpolation.h) with `env`; a plain scalar that interpolates to nothing or
// to `null` becomes a null node. Aliases are expanded into copies (the copy's
// path is where the alias is written, its line where the anchor is); `<<`
// merge keys are applied. Problems are appended to `errors`, never thrown:
// syntax errors (parsing stops: the result is a null node), duplicate keys,
// non-string keys, unset variables, recursive aliases, more than one document,
// and documents that expand to too many values or nest too deeply (the result
// is a null node). Empty text is a null node.
Node ParseYaml(std::string_view text, const std::string& file_name, const EnvLookup& env,
               ConfigErrors& errors);

}  // namespace sluice::config
