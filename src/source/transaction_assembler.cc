#include "source/transaction_assembler.h"

#include <cstring>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "common/json_writer.h"
#include "common/log.h"

namespace sluice::source {
namespace {

void ConvertTuple(const pgoutput::TupleData& tuple, std::vector<ColumnValue>& out) {
  out.clear();
  out.reserve(tuple.columns.size());
  for (const auto& c : tuple.columns) {
    ColumnValue v;
    switch (c.kind) {
      case pgoutput::TupleColumn::Kind::kNull:
        v.kind = ColumnValue::Kind::kNull;
        break;
      case pgoutput::TupleColumn::Kind::kUnchangedToast:
        v.kind = ColumnValue::Kind::kUnchangedToast;
        break;
      case pgoutput::TupleColumn::Kind::kText:
      case pgoutput::TupleColumn::Kind::kBinary:
        v.kind = ColumnValue::Kind::kText;
        v.text = c.value;
        break;
    }
    out.push_back(v);
  }
}

// An annex (see RenderAhead): u64 relation version, u32 record length, the
// record, the changes.
constexpr size_t kAnnexHeader = 12;

// The columns a message's record and changes are rendered from: the same
// names, in the same order, with the same types.
bool SameColumns(const RelationInfo& a, const RelationInfo& b) {
  if (a.oid != b.oid || a.columns.size() != b.columns.size()) return false;
  for (size_t i = 0; i < a.columns.size(); ++i) {
    if (a.columns[i].name != b.columns[i].name || a.columns[i].type != b.columns[i].type) {
      return false;
    }
  }
  return true;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

template <typename T>
std::optional<uint32_t> XidOf(const T& m) {
  if constexpr (requires { m.xid; }) {
    if constexpr (std::is_same_v<std::decay_t<decltype(m.xid)>, std::optional<uint32_t>>) {
      return m.xid;
    }
  }
  return std::nullopt;
}

}  // namespace

TransactionAssembler::TransactionAssembler(Catalog& catalog, ChangeHandler& handler,
                                           std::string spill_dir, uint64_t stream_memory_cap)
    : catalog_(catalog), handler_(handler), streams_(std::move(spill_dir), stream_memory_cap) {}

void TransactionAssembler::Reset() {
  in_txn_ = false;
  in_stream_block_ = false;
  replaying_ = false;
  decoder_.set_in_stream(false);
  streams_.Clear();
  ahead_.clear();
  annotations_.clear();
}

void TransactionAssembler::Keepalive(Lsn wal_end) {
  if (!in_txn_ && !in_stream_block_ && streams_.open_transactions() == 0) handler_.OnIdle(wal_end);
}

Status TransactionAssembler::Process(std::string_view payload) {
  auto decoded = decoder_.Decode(payload);
  if (!decoded.ok()) return decoded.status();
  return Handle(*decoded, payload);
}

Status TransactionAssembler::Handle(const pgoutput::Message& message, std::string_view raw) {
  // Inside a streamed block, data messages are buffered until the stream
  // commits; the block markers themselves are handled below.
  if (in_stream_block_ && !replaying_) {
    const bool is_marker = std::holds_alternative<pgoutput::StreamStart>(message) ||
                           std::holds_alternative<pgoutput::StreamStop>(message) ||
                           std::holds_alternative<pgoutput::StreamCommit>(message) ||
                           std::holds_alternative<pgoutput::StreamAbort>(message);
    if (!is_marker) {
      // Schema messages are kept even if the subtransaction that carried
      // them rolls back: pgoutput does not send them again for the
      // transaction, and later changes need them.
      const bool is_schema = std::holds_alternative<pgoutput::Relation>(message) ||
                             std::holds_alternative<pgoutput::Type>(message);
      if (const auto* rel = std::get_if<pgoutput::Relation>(&message)) NoteAheadRelation(*rel);
      const std::string_view annex = is_schema ? std::string_view() : RenderAhead(message);
      const auto subxid = std::visit([](const auto& m) { return XidOf(m); }, message);
      return streams_.Append(stream_xid_, is_schema ? stream_xid_ : subxid.value_or(stream_xid_),
                             raw, annex);
    }
  }
  return std::visit(
      [&](const auto& m) -> Status {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, pgoutput::Begin>) {
          in_txn_ = true;
          txn_ = TransactionInfo{m.xid, m.final_lsn, 0, m.commit_time_us};
          commit_idx_ = 0;
          annotations_.clear();
          handler_.OnBegin(txn_);
          return Status::Ok();
        } else if constexpr (std::is_same_v<T, pgoutput::Commit>) {
          if (!in_txn_) return Status::Permanent("pgoutput: Commit without Begin");
          txn_.end_lsn = m.end_lsn;
          in_txn_ = false;
          ++stats_.transactions;
          handler_.OnCommit(txn_);
          return Status::Ok();
        } else if constexpr (std::is_same_v<T, pgoutput::Relation>) {
          return HandleRelation(m);
        } else if constexpr (std::is_same_v<T, pgoutput::Insert> ||
                             std::is_same_v<T, pgoutput::Update> ||
                             std::is_same_v<T, pgoutput::Delete>) {
          return EmitRow(*AsRowMessage(message));
        } else if constexpr (std::is_same_v<T, pgoutput::Truncate>) {
          return EmitTruncate(m);
        } else if constexpr (std::is_same_v<T, pgoutput::LogicalMessage>) {
          // --- backfill watermarks ---
          if (m.transactional && in_txn_ && StartsWith(m.prefix, "sluice:backfill.")) {
            return handler_.OnLogicalMessage(m.prefix, m.content);
          }
          // --- end backfill watermarks ---
          HandleLogicalMessage(m);
          return Status::Ok();
        } else if constexpr (std::is_same_v<T, pgoutput::StreamStart>) {
          in_stream_block_ = true;
          stream_xid_ = m.xid;
          if (m.first_segment) ++stats_.streamed_transactions;
          return Status::Ok();
        } else if constexpr (std::is_same_v<T, pgoutput::StreamStop>) {
          in_stream_block_ = false;
          return Status::Ok();
        } else if constexpr (std::is_same_v<T, pgoutput::StreamCommit>) {
          return ReplayStream(m);
        } else if constexpr (std::is_same_v<T, pgoutput::StreamAbort>) {
          if (m.subxid == m.xid) {
            ++stats_.aborted_streams;
            ahead_.erase(m.xid);
          }
          streams_.Abort(m.xid, m.subxid);
          return Status::Ok();
        } else {
          // Origin and Type carry nothing Sluice needs: types are resolved
          // through the catalog when a Relation names them.
          return Status::Ok();
        }
      },
      message);
}

Status TransactionAssembler::ReplayStream(const pgoutput::StreamCommit& commit) {
  in_txn_ = true;
  txn_ = TransactionInfo{commit.xid, commit.commit_lsn, 0, commit.commit_time_us};
  commit_idx_ = 0;
  annotations_.clear();
  handler_.OnBegin(txn_);
  replaying_ = true;
  // The transaction's Relation messages describe the schema as it saw it;
  // later transactions must keep what the server sent them (it will not
  // send it again), so the replay works on a copy of the cache.
  auto saved_relations = relations_;
  const bool saved_in_stream = decoder_.in_stream();
  decoder_.set_in_stream(true);
  auto ahead = ahead_.find(commit.xid);
  replay_ahead_ = ahead == ahead_.end() ? nullptr : &ahead->second;
  compared_ahead_version_ = 0;
  Status status =
      streams_.Replay(commit.xid, [&](std::string_view raw, std::string_view annex) -> Status {
        auto decoded = decoder_.Decode(raw);
        if (!decoded.ok()) return decoded.status();
        replay_annex_ = annex;
        Status handled = Handle(*decoded, raw);
        replay_annex_ = {};
        return handled;
      });
  replay_ahead_ = nullptr;
  ahead_.erase(commit.xid);
  decoder_.set_in_stream(saved_in_stream);
  replaying_ = false;
  relations_ = std::move(saved_relations);
  if (!status.ok()) return status;
  txn_.end_lsn = commit.end_lsn;
  in_txn_ = false;
  ++stats_.transactions;
  handler_.OnCommit(txn_);
  return Status::Ok();
}

Result<std::shared_ptr<RelationInfo>> TransactionAssembler::DescribeRelation(
    const pgoutput::Relation& rel) {
  auto info = std::make_shared<RelationInfo>();
  info->oid = rel.oid;
  info->schema = rel.schema.empty() ? "pg_catalog" : std::string(rel.schema);
  info->table = std::string(rel.name);
  info->replica_identity = rel.replica_identity;
  info->version = ++relation_version_;
  info->columns.reserve(rel.columns.size());
  for (const auto& c : rel.columns) {
    ColumnInfo col;
    col.name = std::string(c.name);
    col.json_key = JsonMemberKey(col.name);
    col.type_oid = c.type_oid;
    col.type_modifier = c.type_modifier;
    col.replica_identity = c.IsKey();
    auto type = catalog_.ResolveType(c.type_oid);
    if (!type.ok())
      return type.status().WithContext("resolving type of " + info->schema + "." + info->table +
                                       "." + col.name);
    col.type = *type ? *type : values::TextType();
    info->columns.push_back(std::move(col));
  }
  return info;
}

Status TransactionAssembler::HandleRelation(const pgoutput::Relation& rel) {
  auto described = DescribeRelation(rel);
  if (!described.ok()) return described.status();
  std::shared_ptr<RelationInfo> info = std::move(*described);
  auto pk = catalog_.PrimaryKey(rel.oid);
  if (!pk.ok()) {
    return pk.status().WithContext("reading primary key of " + info->schema + "." + info->table);
  }
  for (const std::string& name : *pk) {
    for (size_t i = 0; i < info->columns.size(); ++i) {
      if (info->columns[i].name == name) info->key_columns.push_back(i);
    }
  }
  if (info->key_columns.empty() && rel.replica_identity != 'f') {
    for (size_t i = 0; i < info->columns.size(); ++i) {
      if (info->columns[i].replica_identity) info->key_columns.push_back(i);
    }
  }
  relations_[rel.oid] = std::move(info);
  return Status::Ok();
}

std::optional<TransactionAssembler::RowMessage> TransactionAssembler::AsRowMessage(
    const pgoutput::Message& message) {
  if (const auto* m = std::get_if<pgoutput::Insert>(&message)) {
    return RowMessage{Action::kInsert, m->relation_oid, &m->new_tuple, nullptr, false};
  }
  if (const auto* m = std::get_if<pgoutput::Update>(&message)) {
    return RowMessage{Action::kUpdate, m->relation_oid, &m->new_tuple,
                      m->old_tuple ? &*m->old_tuple : nullptr, m->old_is_key_only};
  }
  if (const auto* m = std::get_if<pgoutput::Delete>(&message)) {
    return RowMessage{Action::kDelete, m->relation_oid, nullptr, &m->old_tuple, m->old_is_key_only};
  }
  return std::nullopt;
}

bool TransactionAssembler::FillRow(const RowMessage& row, RelationRef relation, Change& c) {
  c.action = row.action;
  c.relation = std::move(relation);
  c.new_values.clear();
  c.old_values.clear();
  if (row.new_tuple) ConvertTuple(*row.new_tuple, c.new_values);
  c.has_old = row.old_tuple != nullptr;
  c.old_is_key_only = row.old_is_key_only;
  if (row.old_tuple) ConvertTuple(*row.old_tuple, c.old_values);
  const size_t ncols = c.relation->columns.size();
  return (!row.new_tuple || c.new_values.size() == ncols) &&
         (!row.old_tuple || c.old_values.size() == ncols);
}

Status TransactionAssembler::EmitRow(const RowMessage& row) {
  if (!in_txn_) return Status::Permanent("pgoutput: row change outside a transaction");
  auto it = relations_.find(row.relation_oid);
  if (it == relations_.end()) {
    return Status::Permanent("pgoutput: change for relation " + std::to_string(row.relation_oid) +
                             " before its Relation message");
  }
  Change& c = change_;
  c.rendered_record = {};
  c.rendered_changes = {};
  c.position = Position{txn_.commit_lsn, commit_idx_++};
  c.commit_time_us = txn_.commit_time_us;
  c.truncated.clear();
  c.annotations = annotations_;
  if (!FillRow(row, it->second, c)) {
    return Status::Permanent("pgoutput: tuple for " + c.relation->schema + "." + c.relation->table +
                             " has a different column count than its " + "Relation message");
  }
  if (c.action == Action::kUpdate && c.relation->replica_identity != 'f') {
    for (const auto& v : c.new_values) {
      if (v.kind == ColumnValue::Kind::kUnchangedToast &&
          toast_warned_.insert(row.relation_oid).second) {
        log::Warn(
            "unchanged TOAST value sent as \"unchanged_toast\"; set REPLICA IDENTITY FULL "
            "on the table to receive the value",
            {{"table", c.relation->schema + "." + c.relation->table}});
        break;
      }
    }
  }
  if (!replay_annex_.empty()) UseRenderedAhead(c);
  ++stats_.changes;
  return handler_.OnChange(c);
}

void TransactionAssembler::NoteAheadRelation(const pgoutput::Relation& rel) {
  // Without its types (the catalog could not be read), the transaction's
  // changes of this table are rendered at the commit instead.
  auto described = DescribeRelation(rel);
  ahead_[stream_xid_].latest[rel.oid] = described.ok() ? std::move(*described) : nullptr;
}

std::string_view TransactionAssembler::RenderAhead(const pgoutput::Message& message) {
  const std::optional<RowMessage> row = AsRowMessage(message);
  if (!row) return {};
  AheadRelations& ahead = ahead_[stream_xid_];
  RelationRef relation;
  if (auto it = ahead.latest.find(row->relation_oid); it != ahead.latest.end()) {
    relation = it->second;
  } else if (auto cached = relations_.find(row->relation_oid); cached != relations_.end()) {
    relation = cached->second;
  }
  // A tuple that does not fit is left for the commit to report.
  if (!relation || !FillRow(*row, relation, ahead_change_)) return {};
  annex_.assign(kAnnexHeader, '\0');
  ahead_changes_.clear();
  if (!handler_.RenderAhead(ahead_change_, annex_, ahead_changes_)) return {};
  const uint64_t version = relation->version;
  const auto record_len = static_cast<uint32_t>(annex_.size() - kAnnexHeader);
  std::memcpy(annex_.data(), &version, 8);
  std::memcpy(annex_.data() + 8, &record_len, 4);
  annex_.append(ahead_changes_);
  ahead.by_version.emplace(version, std::move(relation));
  ++stats_.rendered_ahead;
  return annex_;
}

void TransactionAssembler::UseRenderedAhead(Change& c) {
  if (replay_ahead_ == nullptr || replay_annex_.size() < kAnnexHeader) return;
  uint64_t version;
  uint32_t record_len;
  std::memcpy(&version, replay_annex_.data(), 8);
  std::memcpy(&record_len, replay_annex_.data() + 8, 4);
  if (kAnnexHeader + record_len > replay_annex_.size()) return;
  if (version != c.relation->version &&
      (version != compared_ahead_version_ || c.relation->version != compared_version_)) {
    auto it = replay_ahead_->by_version.find(version);
    compared_ahead_version_ = version;
    compared_version_ = c.relation->version;
    compared_same_ = it != replay_ahead_->by_version.end() && it->second &&
                     SameColumns(*it->second, *c.relation);
  }
  if (version != c.relation->version && !compared_same_) return;
  c.rendered_record = replay_annex_.substr(kAnnexHeader, record_len);
  c.rendered_changes = replay_annex_.substr(kAnnexHeader + record_len);
  ++stats_.rendered_ahead_used;
}

Status TransactionAssembler::EmitTruncate(const pgoutput::Truncate& truncate) {
  if (!in_txn_) return Status::Permanent("pgoutput: Truncate outside a transaction");
  std::vector<RelationRef> tables;
  for (uint32_t oid : truncate.relation_oids) {
    auto it = relations_.find(oid);
    if (it == relations_.end()) {
      return Status::Permanent("pgoutput: Truncate of relation " + std::to_string(oid) +
                               " before its Relation message");
    }
    tables.push_back(it->second);
  }
  // One change per table, each with its own commit_idx, so that a sink
  // scoped to some of the tables gets exactly those.
  for (const RelationRef& table : tables) {
    Change& c = change_;
    c.action = Action::kTruncate;
    c.position = Position{txn_.commit_lsn, commit_idx_++};
    c.commit_time_us = txn_.commit_time_us;
    c.relation = table;
    c.truncated = tables;
    c.annotations = annotations_;
    c.new_values.clear();
    c.old_values.clear();
    c.has_old = false;
    ++stats_.changes;
    SLUICE_RETURN_IF_ERROR(handler_.OnChange(c));
  }
  return Status::Ok();
}

void TransactionAssembler::HandleLogicalMessage(const pgoutput::LogicalMessage& message) {
  if (!message.transactional || !in_txn_) return;
  const std::string_view prefix = message.prefix;
  const bool set = prefix == "sluice:transaction_annotations.set" ||
                   prefix == "sequin:transaction_annotations.set";
  const bool clear = prefix == "sluice:transaction_annotations.clear" ||
                     prefix == "sequin:transaction_annotations.clear";
  if (clear) {
    annotations_.clear();
  } else if (set) {
    auto parsed = nlohmann::json::parse(message.content.begin(), message.content.end(), nullptr,
                                        /*allow_exceptions=*/false);
    if (!parsed.is_discarded()) {
      // Compact: messages are one line each in line-oriented sinks.
      annotations_ = parsed.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      log::Warn("transaction annotations are not valid JSON; ignored",
                {{"commit_lsn", FormatLsn(txn_.commit_lsn)}});
    }
  } else if (StartsWith(prefix, "sluice:")) {
    log::Debug("unknown sluice logical message", {{"prefix", std::string(prefix)}});
  }
}

}  // namespace sluice::source
