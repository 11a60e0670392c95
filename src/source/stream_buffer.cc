#include "source/stream_buffer.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace sluice::source {
namespace {

// A record: u32 length, u32 annex length, u32 subxid, then the bytes and the
// annex.
constexpr size_t kHeaderBytes = 12;

uint32_t GetU32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

StreamBuffer::StreamBuffer(std::string spill_dir, uint64_t memory_cap)
    : spill_dir_(std::move(spill_dir)), memory_cap_(memory_cap) {}

StreamBuffer::~StreamBuffer() { Clear(); }

Status StreamBuffer::Append(uint32_t xid, uint32_t subxid, std::string_view bytes,
                            std::string_view annex) {
  Txn& txn = txns_[xid];
  char header[kHeaderBytes];
  const auto len = static_cast<uint32_t>(bytes.size());
  const auto annex_len = static_cast<uint32_t>(annex.size());
  std::memcpy(header, &len, 4);
  std::memcpy(header + 4, &annex_len, 4);
  std::memcpy(header + 8, &subxid, 4);
  const size_t record_bytes = kHeaderBytes + bytes.size() + annex.size();
  if (txn.file != nullptr) {
    if (std::fwrite(header, 1, kHeaderBytes, txn.file) != kHeaderBytes ||
        (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), txn.file) != bytes.size()) ||
        (!annex.empty() && std::fwrite(annex.data(), 1, annex.size(), txn.file) != annex.size())) {
      return Status::Retryable("cannot write spill file " + txn.path + ": " + std::strerror(errno));
    }
    spilled_bytes_ += record_bytes;
    return Status::Ok();
  }
  txn.memory.append(header, kHeaderBytes).append(bytes).append(annex);
  memory_bytes_ += record_bytes;
  while (memory_bytes_ > memory_cap_) {
    SLUICE_RETURN_IF_ERROR(SpillLargest());
  }
  return Status::Ok();
}

Status StreamBuffer::SpillLargest() {
  Txn* largest = nullptr;
  uint32_t largest_xid = 0;
  for (auto& [xid, txn] : txns_) {
    if (txn.file == nullptr && (!largest || txn.memory.size() > largest->memory.size())) {
      largest = &txn;
      largest_xid = xid;
    }
  }
  if (largest == nullptr || largest->memory.empty()) return Status::Ok();
  std::error_code ec;
  std::filesystem::create_directories(spill_dir_, ec);
  largest->path = spill_dir_ + "/txn-" + std::to_string(largest_xid) + ".spill";
  largest->file = std::fopen(largest->path.c_str(), "w+b");
  if (largest->file == nullptr) {
    return Status::Retryable("cannot create spill file " + largest->path + ": " +
                             std::strerror(errno));
  }
  if (std::fwrite(largest->memory.data(), 1, largest->memory.size(), largest->file) !=
      largest->memory.size()) {
    return Status::Retryable("cannot write spill file " + largest->path + ": " +
                             std::strerror(errno));
  }
  spilled_bytes_ += largest->memory.size();
  memory_bytes_ -= largest->memory.size();
  std::string().swap(largest->memory);
  return Status::Ok();
}

void StreamBuffer::Drop(Txn& txn) {
  memory_bytes_ -= txn.memory.size();
  std::string().swap(txn.memory);
  if (txn.file != nullptr) {
    std::fclose(txn.file);
    txn.file = nullptr;
    std::remove(txn.path.c_str());
  }
}

void StreamBuffer::Abort(uint32_t xid, uint32_t subxid) {
  auto it = txns_.find(xid);
  if (it == txns_.end()) return;
  if (subxid == xid || subxid == 0) {
    Drop(it->second);
    txns_.erase(it);
  } else {
    it->second.aborted_subxids.insert(subxid);
  }
}

Status StreamBuffer::Replay(
    uint32_t xid, const std::function<Status(std::string_view bytes, std::string_view annex)>& fn) {
  auto it = txns_.find(xid);
  if (it == txns_.end()) return Status::Ok();
  Txn& txn = it->second;
  Status result;
  auto skip = [&](uint32_t subxid) { return txn.aborted_subxids.count(subxid) > 0; };
  if (txn.file != nullptr) {
    std::fflush(txn.file);
    std::rewind(txn.file);
    std::vector<char> buf;
    char header[kHeaderBytes];
    while (result.ok() && std::fread(header, 1, kHeaderBytes, txn.file) == kHeaderBytes) {
      const uint32_t len = GetU32(header);
      const uint32_t annex_len = GetU32(header + 4);
      const uint32_t subxid = GetU32(header + 8);
      const size_t total = size_t{len} + annex_len;
      buf.resize(total);
      if (total > 0 && std::fread(buf.data(), 1, total, txn.file) != total) {
        result = Status::Retryable("spill file " + txn.path + " is truncated");
        break;
      }
      if (!skip(subxid)) {
        result =
            fn(std::string_view(buf.data(), len), std::string_view(buf.data() + len, annex_len));
      }
    }
  }
  size_t off = 0;
  while (result.ok() && off + kHeaderBytes <= txn.memory.size()) {
    const char* p = txn.memory.data() + off;
    const uint32_t len = GetU32(p);
    const uint32_t annex_len = GetU32(p + 4);
    const uint32_t subxid = GetU32(p + 8);
    p += kHeaderBytes;
    if (!skip(subxid)) result = fn(std::string_view(p, len), std::string_view(p + len, annex_len));
    off += kHeaderBytes + len + annex_len;
  }
  Drop(txn);
  txns_.erase(it);
  return result;
}

void StreamBuffer::Clear() {
  for (auto& [xid, txn] : txns_) Drop(txn);
  txns_.clear();
}

}  // namespace sluice::source
