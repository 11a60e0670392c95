#include "backfill/watermark.h"

#include <nlohmann/json.hpp>
#include <random>

namespace sluice::backfill {

std::string WatermarkContent(const Watermark& watermark) {
  return "{\"backfill\":" + std::to_string(watermark.backfill_id) +
         ",\"page\":" + std::to_string(watermark.page) +
         ",\"run\":" + std::to_string(watermark.run) + "}";
}

std::optional<Watermark> ParseWatermark(std::string_view prefix, std::string_view content) {
  Watermark w;
  if (prefix == kLowWatermarkPrefix) {
    w.high = false;
  } else if (prefix == kHighWatermarkPrefix) {
    w.high = true;
  } else {
    return std::nullopt;
  }
  auto json = nlohmann::json::parse(content.begin(), content.end(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) return std::nullopt;
  auto id = json.find("backfill");
  auto page = json.find("page");
  auto run = json.find("run");
  if (id == json.end() || page == json.end() || run == json.end()) return std::nullopt;
  if (!id->is_number_integer() || !page->is_number_unsigned() || !run->is_number_unsigned()) {
    return std::nullopt;
  }
  w.backfill_id = id->get<int64_t>();
  w.page = page->get<uint64_t>();
  w.run = run->get<uint64_t>();
  return w;
}

uint64_t NewRunId() {
  std::random_device rd;
  const uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return (r & ((uint64_t{1} << 53) - 1)) | 1;  // never 0
}

}  // namespace sluice::backfill
