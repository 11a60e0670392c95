// Pieces of the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/). Pure
// functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace sluice::metrics {

// The Content-Type of RenderText() output.
inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]* and not starting with "__" (reserved by Prometheus).
bool IsValidLabelName(std::string_view name);

// In a label value: backslash, double quote and line feed become \\, \" and \n.
// Appends to `out`.
void AppendEscapedLabelValue(std::string_view value, std::string& out);
// In HELP text: backslash and line feed become \\ and \n. Appends to `out`.
void AppendEscapedHelp(std::string_view help, std::string& out);

// A sample value as Prometheus parses it: "NaN", "+Inf", "-Inf", integers
// without a decimal point ("42"), others in the shortest form that reads back
// to the same double ("0.25", "1e-07").
std::string FormatValue(double value);

}  // namespace sluice::metrics
