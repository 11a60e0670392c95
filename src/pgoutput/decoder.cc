#include "pgoutput/decoder.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

namespace sluice::pgoutput {
namespace {

// Bounds-checked big-endian reader over one message. Reads return false on
// failure and leave the error in error(); the first failure wins. Error text
// is only built on failure, so the happy path allocates nothing.
class Reader {
 public:
  // Starts after the type byte; offsets in errors count from the type byte.
  Reader(std::string_view bytes, const char* message_name)
      : bytes_(bytes), message_name_(message_name), pos_(1) {}

  size_t remaining() const { return bytes_.size() - pos_; }
  const Status& error() const { return error_; }

  // `what` names the field for error messages; `index` >= 0 is appended
  // ("tuple column 2").
  bool ReadU8(const char* what, uint8_t* out, int index = -1) {
    if (!Need(1, what, index)) return false;
    *out = static_cast<uint8_t>(bytes_[pos_]);
    pos_ += 1;
    return true;
  }

  bool ReadU16(const char* what, uint16_t* out, int index = -1) {
    if (!Need(2, what, index)) return false;
    const auto* p = Data();
    *out = static_cast<uint16_t>((p[0] << 8) | p[1]);
    pos_ += 2;
    return true;
  }

  bool ReadU32(const char* what, uint32_t* out, int index = -1) {
    if (!Need(4, what, index)) return false;
    const auto* p = Data();
    *out = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    pos_ += 4;
    return true;
  }

  bool ReadI32(const char* what, int32_t* out, int index = -1) {
    uint32_t v;
    if (!ReadU32(what, &v, index)) return false;
    *out = static_cast<int32_t>(v);
    return true;
  }

  bool ReadU64(const char* what, uint64_t* out, int index = -1) {
    if (!Need(8, what, index)) return false;
    const auto* p = Data();
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
    *out = v;
    pos_ += 8;
    return true;
  }

  bool ReadI64(const char* what, int64_t* out, int index = -1) {
    uint64_t v;
    if (!ReadU64(what, &v, index)) return false;
    *out = static_cast<int64_t>(v);
    return true;
  }

  // A timestamp in Postgres-epoch microseconds, returned as Unix epoch.
  bool ReadTimestamp(const char* what, int64_t* out) {
    int64_t v;
    if (!ReadI64(what, &v)) return false;
    *out = PostgresToUnixUs(v);
    return true;
  }

  // A NUL-terminated string; the view excludes the NUL.
  bool ReadString(const char* what, std::string_view* out, int index = -1) {
    const void* nul = std::memchr(bytes_.data() + pos_, '\0', remaining());
    if (nul == nullptr) {
      Fail("truncated", std::string(what) + Index(index) + " has no terminating NUL, " +
                            std::to_string(remaining()) + " bytes left");
      return false;
    }
    size_t len = static_cast<const char*>(nul) - (bytes_.data() + pos_);
    *out = bytes_.substr(pos_, len);
    pos_ += len + 1;
    return true;
  }

  // An int32 length followed by that many bytes.
  bool ReadCounted(const char* what, std::string_view* out, int index = -1) {
    int32_t len;
    if (!ReadI32(what, &len, index)) return false;
    if (len < 0) {
      MalformedLast(
          4, std::string(what) + Index(index) + " has negative length " + std::to_string(len));
      return false;
    }
    if (!Need(static_cast<size_t>(len), what, index)) return false;
    *out = bytes_.substr(pos_, static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return true;
  }

  bool ExpectEnd() {
    if (pos_ == bytes_.size()) return true;
    Fail("malformed", std::to_string(remaining()) + " trailing bytes after a complete message");
    return false;
  }

  void Malformed(const std::string& detail) { Fail("malformed", detail); }
  // For a problem with the `n` bytes just read: reports their offset.
  void MalformedLast(size_t n, const std::string& detail) {
    pos_ -= n;
    Fail("malformed", detail);
    pos_ += n;
  }

 private:
  const unsigned char* Data() const {
    return reinterpret_cast<const unsigned char*>(bytes_.data()) + pos_;
  }

  static std::string Index(int index) {
    return index >= 0 ? " " + std::to_string(index) : std::string();
  }

  bool Need(size_t n, const char* what, int index) {
    if (remaining() >= n) return true;
    Fail("truncated", std::string(what) + Index(index) + " needs " + std::to_string(n) +
                          " bytes, " + std::to_string(remaining()) + " left");
    return false;
  }

  void Fail(const char* problem, const std::string& detail) {
    if (!error_.ok()) return;
    error_ = Status::Permanent("pgoutput: " + std::string(problem) + " " + message_name_ +
                               " at offset " + std::to_string(pos_) + ": " + detail);
  }

  std::string_view bytes_;
  const char* message_name_;
  size_t pos_;
  Status error_;
};

#define SLUICE_READ(expr)          \
  do {                             \
    if (!(expr)) return r.error(); \
  } while (0)

bool ReadXid(Reader& r, bool in_stream, std::optional<uint32_t>* xid) {
  if (!in_stream) return true;
  uint32_t v;
  if (!r.ReadU32("xid", &v)) return false;
  *xid = v;
  return true;
}

// TupleData: int16 column count, then per column a kind byte and, for 't' and
// 'b', an int32 length and the bytes.
bool ReadTuple(Reader& r, TupleData* tuple) {
  uint16_t count;
  if (!r.ReadU16("tuple column count", &count)) return false;
  // Every column takes at least one byte: do not let a corrupt count reserve
  // more than the message could hold.
  tuple->columns.reserve(std::min<size_t>(count, r.remaining()));
  for (int i = 0; i < count; ++i) {
    uint8_t kind;
    if (!r.ReadU8("tuple column", &kind, i)) return false;
    TupleColumn column;
    switch (kind) {
      case 'n':
        column.kind = TupleColumn::Kind::kNull;
        break;
      case 'u':
        column.kind = TupleColumn::Kind::kUnchangedToast;
        break;
      case 't':
      case 'b':
        column.kind = kind == 't' ? TupleColumn::Kind::kText : TupleColumn::Kind::kBinary;
        if (!r.ReadCounted("tuple column", &column.value, i)) return false;
        break;
      default:
        r.MalformedLast(1, "tuple column " + std::to_string(i) + " has unknown kind byte " +
                               std::to_string(kind));
        return false;
    }
    tuple->columns.push_back(column);
  }
  return true;
}

Result<Message> DecodeBegin(Reader& r) {
  Begin m;
  SLUICE_READ(r.ReadU64("final lsn", &m.final_lsn));
  SLUICE_READ(r.ReadTimestamp("commit timestamp", &m.commit_time_us));
  SLUICE_READ(r.ReadU32("xid", &m.xid));
  SLUICE_READ(r.ExpectEnd());
  return Message(m);
}

Result<Message> DecodeCommit(Reader& r) {
  Commit m;
  SLUICE_READ(r.ReadU8("flags", &m.flags));
  SLUICE_READ(r.ReadU64("commit lsn", &m.commit_lsn));
  SLUICE_READ(r.ReadU64("end lsn", &m.end_lsn));
  SLUICE_READ(r.ReadTimestamp("commit timestamp", &m.commit_time_us));
  SLUICE_READ(r.ExpectEnd());
  return Message(m);
}

Result<Message> DecodeOrigin(Reader& r) {
  Origin m;
  SLUICE_READ(r.ReadU64("origin lsn", &m.commit_lsn));
  SLUICE_READ(r.ReadString("origin name", &m.name));
  SLUICE_READ(r.ExpectEnd());
  return Message(m);
}

Result<Message> DecodeRelation(Reader& r, bool in_stream) {
  Relation m;
  SLUICE_READ(ReadXid(r, in_stream, &m.xid));
  SLUICE_READ(r.ReadU32("relation oid", &m.oid));
  SLUICE_READ(r.ReadString("namespace", &m.schema));
  SLUICE_READ(r.ReadString("relation name", &m.name));
  uint8_t identity;
  SLUICE_READ(r.ReadU8("replica identity", &identity));
  m.replica_identity = static_cast<char>(identity);
  uint16_t count;
  SLUICE_READ(r.ReadU16("column count", &count));
  // Each column takes at least 10 bytes (flags, NUL, type oid, typmod).
  m.columns.reserve(std::min<size_t>(count, r.remaining() / 10));
  for (int i = 0; i < count; ++i) {
    RelationColumn column;
    SLUICE_READ(r.ReadU8("flags of column", &column.flags, i));
    SLUICE_READ(r.ReadString("name of column", &column.name, i));
    SLUICE_READ(r.ReadU32("type oid of column", &column.type_oid, i));
    SLUICE_READ(r.ReadI32("type modifier of column", &column.type_modifier, i));
    m.columns.push_back(column);
  }
  SLUICE_READ(r.ExpectEnd());
  return Message(std::move(m));
}

Result<Message> DecodeType(Reader& r, bool in_stream) {
  Type m;
  SLUICE_READ(ReadXid(r, in_stream, &m.xid));
  SLUICE_READ(r.ReadU32("type oid", &m.oid));
  SLUICE_READ(r.ReadString("namespace", &m.schema));
  SLUICE_READ(r.ReadString("type name", &m.name));
  SLUICE_READ(r.ExpectEnd());
  return Message(m);
}

Status UnexpectedTupleTag(Reader& r, uint8_t tag, const char* expected) {
  r.MalformedLast(
      1, std::string("expected tuple tag ") + expected + ", got byte " + std::to_string(tag));
  return r.error();
}

Result<Message> DecodeInsert(Reader& r, bool in_stream) {
  Insert m;
  SLUICE_READ(ReadXid(r, in_stream, &m.xid));
  SLUICE_READ(r.ReadU32("relation oid", &m.relation_oid));
  uint8_t tag;
  SLUICE_READ(r.ReadU8("tuple tag", &tag));
  if (tag != 'N') return UnexpectedTupleTag(r, tag, "'N'");
  SLUICE_READ(ReadTuple(r, &m.new_tuple));
  SLUICE_READ(r.ExpectEnd());
  return Message(std::move(m));
}

Result<Message> DecodeUpdate(Reader& r, bool in_stream) {
  Update m;
  SLUICE_READ(ReadXid(r, in_stream, &m.xid));
  SLUICE_READ(r.ReadU32("relation oid", &m.relation_oid));
  uint8_t tag;
  SLUICE_READ(r.ReadU8("tuple tag", &tag));
  if (tag == 'K' || tag == 'O') {
    m.old_is_key_only = tag == 'K';
    SLUICE_READ(ReadTuple(r, &m.old_tuple.emplace()));
    SLUICE_READ(r.ReadU8("new tuple tag", &tag));
  }
  if (tag != 'N') return UnexpectedTupleTag(r, tag, "'K', 'O' or 'N'");
  SLUICE_READ(ReadTuple(r, &m.new_tuple));
  SLUICE_READ(r.ExpectEnd());
  return Message(std::move(m));
}

Result<Message> DecodeDelete(Reader& r, bool in_stream) {
  Delete m;
  SLUICE_READ(ReadXid(r, in_stream, &m.xid));
  SLUICE_READ(r.ReadU32("relation oid", &m.relation_oid));
  uint8_t tag;
  SLUICE_READ(r.ReadU8("tuple tag", &tag));
  if (tag != 'K' && tag != 'O') return UnexpectedTupleTag(r, tag, "'K' or 'O'");
  m.old_is_key_only = tag == 'K';
  SLUICE_READ(ReadTuple(r, &m.old_tuple));
  SLUICE_READ(r.ExpectEnd());
  return Message(std::move(m));
}

Result<Message> DecodeTruncate(Reader& r, bool in_stream) {
  Truncate m;
  SLUICE_READ(ReadXid(r, in_stream, &m.xid));
  int32_t count;
  SLUICE_READ(r.ReadI32("relation count", &count));
  if (count < 0) {
    r.MalformedLast(4, "negative relation count " + std::to_string(count));
    return r.error();
  }
  SLUICE_READ(r.ReadU8("options", &m.options));
  if (r.remaining() / 4 < static_cast<size_t>(count)) {
    r.Malformed(std::to_string(count) + " relation oids need " +
                std::to_string(static_cast<uint64_t>(count) * 4) + " bytes, " +
                std::to_string(r.remaining()) + " left");
    return r.error();
  }
  m.relation_oids.resize(static_cast<size_t>(count));
  for (int32_t i = 0; i < count; ++i) {
    SLUICE_READ(r.ReadU32("relation oid", &m.relation_oids[i], i));
  }
  SLUICE_READ(r.ExpectEnd());
  return Message(std::move(m));
}

Result<Message> DecodeLogicalMessage(Reader& r, bool in_stream) {
  LogicalMessage m;
  SLUICE_READ(ReadXid(r, in_stream, &m.xid));
  uint8_t flags;
  SLUICE_READ(r.ReadU8("flags", &flags));
  m.transactional = (flags & 1) != 0;
  SLUICE_READ(r.ReadU64("lsn", &m.lsn));
  SLUICE_READ(r.ReadString("prefix", &m.prefix));
  SLUICE_READ(r.ReadCounted("content", &m.content));
  SLUICE_READ(r.ExpectEnd());
  return Message(m);
}

Result<Message> DecodeStreamStart(Reader& r) {
  StreamStart m;
  SLUICE_READ(r.ReadU32("xid", &m.xid));
  uint8_t first;
  SLUICE_READ(r.ReadU8("first segment flag", &first));
  m.first_segment = first == 1;
  SLUICE_READ(r.ExpectEnd());
  return Message(m);
}

Result<Message> DecodeStreamStop(Reader& r) {
  SLUICE_READ(r.ExpectEnd());
  return Message(StreamStop{});
}

Result<Message> DecodeStreamCommit(Reader& r) {
  StreamCommit m;
  SLUICE_READ(r.ReadU32("xid", &m.xid));
  SLUICE_READ(r.ReadU8("flags", &m.flags));
  SLUICE_READ(r.ReadU64("commit lsn", &m.commit_lsn));
  SLUICE_READ(r.ReadU64("end lsn", &m.end_lsn));
  SLUICE_READ(r.ReadTimestamp("commit timestamp", &m.commit_time_us));
  SLUICE_READ(r.ExpectEnd());
  return Message(m);
}

Result<Message> DecodeStreamAbort(Reader& r) {
  StreamAbort m;
  SLUICE_READ(r.ReadU32("xid", &m.xid));
  SLUICE_READ(r.ReadU32("subxid", &m.subxid));
  // Protocol 4 appends the abort LSN and time; earlier protocols end here.
  if (r.remaining() > 0) {
    Lsn abort_lsn;
    int64_t abort_time_us;
    SLUICE_READ(r.ReadU64("abort lsn", &abort_lsn));
    SLUICE_READ(r.ReadTimestamp("abort timestamp", &abort_time_us));
    m.abort_lsn = abort_lsn;
    m.abort_time_us = abort_time_us;
  }
  SLUICE_READ(r.ExpectEnd());
  return Message(m);
}

#undef SLUICE_READ

const char* MessageName(char type) {
  switch (type) {
    case 'B':
      return "Begin";
    case 'C':
      return "Commit";
    case 'O':
      return "Origin";
    case 'R':
      return "Relation";
    case 'Y':
      return "Type";
    case 'I':
      return "Insert";
    case 'U':
      return "Update";
    case 'D':
      return "Delete";
    case 'T':
      return "Truncate";
    case 'M':
      return "Message";
    case 'S':
      return "Stream Start";
    case 'E':
      return "Stream Stop";
    case 'c':
      return "Stream Commit";
    case 'A':
      return "Stream Abort";
    default:
      return nullptr;
  }
}

std::string DescribeByte(char c) {
  auto u = static_cast<unsigned char>(c);
  std::string out = "0x";
  static const char kHex[] = "0123456789abcdef";
  out.push_back(kHex[u >> 4]);
  out.push_back(kHex[u & 0xF]);
  if (u >= 0x20 && u < 0x7F) {
    out += " '";
    out.push_back(c);
    out += "'";
  }
  return out;
}

Result<Message> DecodeBody(char type, Reader& r, bool in_stream) {
  switch (type) {
    case 'B':
      return DecodeBegin(r);
    case 'C':
      return DecodeCommit(r);
    case 'O':
      return DecodeOrigin(r);
    case 'R':
      return DecodeRelation(r, in_stream);
    case 'Y':
      return DecodeType(r, in_stream);
    case 'I':
      return DecodeInsert(r, in_stream);
    case 'U':
      return DecodeUpdate(r, in_stream);
    case 'D':
      return DecodeDelete(r, in_stream);
    case 'T':
      return DecodeTruncate(r, in_stream);
    case 'M':
      return DecodeLogicalMessage(r, in_stream);
    case 'S':
      return DecodeStreamStart(r);
    case 'E':
      return DecodeStreamStop(r);
    case 'c':
      return DecodeStreamCommit(r);
    case 'A':
      return DecodeStreamAbort(r);
    default:
      return Status::Permanent("pgoutput: unknown message type " + DescribeByte(type) +
                               " at offset 0");
  }
}

}  // namespace

Result<Message> Decoder::Decode(std::string_view bytes) {
  if (bytes.empty()) return Status::Permanent("pgoutput: empty message at offset 0");
  const char type = bytes[0];
  const char* name = MessageName(type);
  if (name == nullptr) {
    return Status::Permanent("pgoutput: unknown message type " + DescribeByte(type) +
                             " at offset 0");
  }
  // Transaction framing never happens inside a streamed block; seeing it
  // there means the stream is out of sync with this decoder.
  const bool framing = type == 'B' || type == 'C' || type == 'c' || type == 'A' || type == 'S';
  if (in_stream_ && framing) {
    return Status::Permanent(std::string("pgoutput: unexpected ") + name +
                             " inside a streamed block at offset 0");
  }
  if (!in_stream_ && type == 'E') {
    return Status::Permanent(
        "pgoutput: unexpected Stream Stop outside a streamed block at offset 0");
  }

  Reader r(bytes, name);
  Result<Message> result = DecodeBody(type, r, in_stream_);
  if (result.ok()) {
    if (type == 'S') in_stream_ = true;
    if (type == 'E') in_stream_ = false;
  }
  return result;
}

}  // namespace sluice::pgoutput
