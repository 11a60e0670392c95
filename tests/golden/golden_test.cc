// Golden tests of the message format (DESIGN §2): SQL in, JSON out, like
// Postgres' contrib/test_decoding sql/ + expected/.
//
// Each cases/<name>.sql has a setup part and, after a line `-- workload`, a
// workload part. The setup runs in a fresh database before Sluice starts (its
// rows are not streamed); the workload runs once Sluice holds its slot. Every
// message the webhook receiver accepts is normalised and compared, in commit
// order, with expected/<name>.jsonl (one JSON object per line).
//
// Statements run one at a time on one connection, like psql: a statement ends
// with a line whose last character is `;`, so BEGIN ... COMMIT spans several
// statements and a statement may span several lines. Lines starting with `--`
// between statements are comments.
//
// Normalisation of volatile fields (each is checked before it is replaced):
//   commit_lsn       -> ordinal of the transaction in the case (1, 2, ...);
//                       must lie between the WAL positions before and after
//                       the workload
//   commit_timestamp -> "<ts>"; must be YYYY-MM-DDTHH:MM:SS.ffffffZ, within
//                       an hour of now, equal for all changes of a transaction
//   idempotency_key  -> "<key>"; must be base64("<commit_lsn>:<commit_idx>")
//   sink.id          -> "<id>"; must be a non-empty string
//   database.name    -> "<db>"; must be the configured database name
//   strings longer than 200 bytes -> "<string: N bytes, md5 HEX>" (compare
//                       with SELECT length(col), md5(col))
//
// SLUICE_UPDATE_GOLDEN=1 rewrites the expected files from the actual output.
// The expected files are the contract: review every rewritten line against
// DESIGN §2 before keeping it.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

namespace sluice::itest {
namespace {

namespace fs = std::filesystem;
using ordered_json = nlohmann::ordered_json;

constexpr std::string_view kWorkloadMarker = "-- workload";
constexpr size_t kMaxInlineString = 200;
constexpr auto kDeliveryTimeout = 30s;

fs::path GoldenDir() { return fs::path(SLUICE_GOLDEN_DIR); }
fs::path CasePath(const std::string& name) { return GoldenDir() / "cases" / (name + ".sql"); }
fs::path ExpectedPath(const std::string& name) {
  return GoldenDir() / "expected" / (name + ".jsonl");
}

bool UpdateMode() {
  const char* v = std::getenv("SLUICE_UPDATE_GOLDEN");
  return v != nullptr && std::string_view(v) == "1";
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

// The case names: cases/*.sql, sorted.
std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(GoldenDir() / "cases", ec)) {
    if (entry.path().extension() == ".sql") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// psql-like splitting: a statement ends with a line ending in ';'.
std::vector<std::string> SplitStatements(std::string_view text) {
  std::vector<std::string> statements;
  std::string current;
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    const std::string trimmed = Trim(line);
    if (current.empty() && (trimmed.empty() || trimmed.starts_with("--"))) continue;
    current += line;
    current += '\n';
    if (trimmed.ends_with(';')) {
      statements.push_back(std::move(current));
      current.clear();
    }
  }
  if (!Trim(current).empty()) statements.push_back(std::move(current));
  return statements;
}

struct GoldenCase {
  std::vector<std::string> setup;
  std::vector<std::string> workload;
};

// False when the file has no `-- workload` line.
bool ParseCase(const std::string& text, GoldenCase* out) {
  std::istringstream lines(text);
  std::string line;
  std::string setup;
  std::string workload;
  bool in_workload = false;
  while (std::getline(lines, line)) {
    if (!in_workload && Trim(line) == kWorkloadMarker) {
      in_workload = true;
      continue;
    }
    (in_workload ? workload : setup) += line + "\n";
  }
  out->setup = SplitStatements(setup);
  out->workload = SplitStatements(workload);
  return in_workload;
}

// Base64 written here rather than taken from src/common, so that a bug there
// cannot make the idempotency key check agree with itself.
std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n =
        (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(n >> shift) & 63]);
  }
  if (i + 1 == bytes.size()) {
    const uint32_t n = uint8_t(bytes[i]) << 16;
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    const uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
  }
  return out;
}

std::string Md5Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_md5(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 15]);
  }
  return hex;
}

// Replaces strings longer than kMaxInlineString, at any depth.
void AbbreviateLongStrings(ordered_json& value) {
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (s.size() > kMaxInlineString) {
      value = "<string: " + std::to_string(s.size()) + " bytes, md5 " + Md5Hex(s) + ">";
    }
  } else if (value.is_structured()) {
    for (auto& child : value) AbbreviateLongStrings(child);
  }
}

// Seconds since the epoch of "YYYY-MM-DDTHH:MM:SS.ffffffZ", or -1.
int64_t ParseCommitTimestamp(const std::string& ts) {
  static const std::regex kIso(R"(^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{6}Z$)");
  std::smatch m;
  if (!std::regex_match(ts, m, kIso)) return -1;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  return static_cast<int64_t>(timegm(&tm));
}

// "16/B374D848" -> integer; 0 when malformed.
uint64_t ParseLsn(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()) return 0;
  return (std::stoull(text.substr(0, slash), nullptr, 16) << 32) |
         std::stoull(text.substr(slash + 1), nullptr, 16);
}

// The messages of every request the receiver got. The sink is a batched
// webhook with batch_size 1, so every body must be {"data": [one message]}.
std::vector<ordered_json> ReceivedMessages(const testing::HttpReceiver& receiver) {
  std::vector<ordered_json> messages;
  for (const auto& request : receiver.Requests()) {
    ordered_json body = ordered_json::parse(request.body, nullptr, false);
    if (body.is_object() && body.size() == 1 && body.contains("data") && body["data"].is_array()) {
      EXPECT_EQ(body["data"].size(), 1u) << "batch_size is 1: " << request.body;
      // Messages are newline-free so that file and stdout sinks can write
      // one per line.
      EXPECT_EQ(request.body.find('\n'), std::string::npos)
          << "raw newline in a message: " << request.body;
      for (auto& m : body["data"]) messages.push_back(std::move(m));
    } else {
      ADD_FAILURE() << "a batched webhook body is not {\"data\": [...]}: " << request.body;
      messages.push_back(std::move(body));
    }
  }
  return messages;
}

struct NormaliseContext {
  std::string database_name;
  uint64_t lsn_before = 0;  // WAL position before the workload
  uint64_t lsn_after = 0;   // and after it
};

bool HasPosition(const ordered_json& m) {
  return m.is_object() && m.contains("metadata") && m["metadata"].is_object() &&
         m["metadata"].contains("commit_lsn") && m["metadata"]["commit_lsn"].is_number_unsigned() &&
         m["metadata"].contains("commit_idx") && m["metadata"]["commit_idx"].is_number_unsigned();
}

std::pair<uint64_t, uint64_t> PositionOf(const ordered_json& m) {
  if (!HasPosition(m)) return {0, 0};
  return {m["metadata"]["commit_lsn"].get<uint64_t>(), m["metadata"]["commit_idx"].get<uint64_t>()};
}

// Sorts into commit order, checks and replaces the volatile fields. A check
// that fails is a test failure and leaves the raw value in place, so that the
// diff shows it too.
std::vector<ordered_json> Normalise(std::vector<ordered_json> messages,
                                    const NormaliseContext& ctx) {
  std::stable_sort(messages.begin(), messages.end(),
                   [](const auto& a, const auto& b) { return PositionOf(a) < PositionOf(b); });
  const int64_t now = std::time(nullptr);
  std::map<uint64_t, int> ordinal_of_lsn;
  std::map<uint64_t, std::string> timestamp_of_lsn;
  for (ordered_json& m : messages) {
    if (!HasPosition(m)) {
      ADD_FAILURE() << "message without metadata.commit_lsn/commit_idx: " << m.dump();
      continue;
    }
    ordered_json& meta = m["metadata"];
    const auto [lsn, idx] = PositionOf(m);
    EXPECT_TRUE(lsn > ctx.lsn_before && lsn <= ctx.lsn_after)
        << "commit_lsn " << lsn << " is outside the workload's WAL range (" << ctx.lsn_before
        << ", " << ctx.lsn_after << "]";
    const int ordinal =
        ordinal_of_lsn.emplace(lsn, static_cast<int>(ordinal_of_lsn.size()) + 1).first->second;

    if (meta.contains("commit_timestamp") && meta["commit_timestamp"].is_string()) {
      const std::string ts = meta["commit_timestamp"].get<std::string>();
      const int64_t secs = ParseCommitTimestamp(ts);
      const auto [ts_it, first] = timestamp_of_lsn.emplace(lsn, ts);
      if (secs < 0) {
        ADD_FAILURE() << "commit_timestamp " << ts << " is not YYYY-MM-DDTHH:MM:SS.ffffffZ";
      } else if (std::abs(secs - now) > 3600) {
        ADD_FAILURE() << "commit_timestamp " << ts << " is more than an hour from now";
      } else if (!first && ts_it->second != ts) {
        ADD_FAILURE() << "commit_timestamp " << ts << " differs from " << ts_it->second
                      << " of the same transaction";
      } else {
        meta["commit_timestamp"] = "<ts>";
      }
    }
    if (meta.contains("idempotency_key")) {
      const std::string want = Base64(std::to_string(lsn) + ":" + std::to_string(idx));
      if (meta["idempotency_key"] == want) {
        meta["idempotency_key"] = "<key>";
      } else {
        ADD_FAILURE() << "idempotency_key " << meta["idempotency_key"].dump() << " is not " << want
                      << " = base64(\"" << lsn << ":" << idx << "\")";
      }
    }
    if (meta.contains("sink") && meta["sink"].is_object() && meta["sink"].contains("id")) {
      if (meta["sink"]["id"].is_string() && !meta["sink"]["id"].get<std::string>().empty()) {
        meta["sink"]["id"] = "<id>";
      } else {
        ADD_FAILURE() << "metadata.sink.id is not a non-empty string: " << meta["sink"]["id"];
      }
    }
    if (meta.contains("database") && meta["database"].is_object() &&
        meta["database"].contains("name") && meta["database"]["name"] == ctx.database_name) {
      meta["database"]["name"] = "<db>";
    }
    meta["commit_lsn"] = ordinal;
    AbbreviateLongStrings(m);
  }
  return messages;
}

std::vector<nlohmann::json> ReadExpected(const fs::path& path) {
  std::vector<nlohmann::json> out;
  std::istringstream lines(ReadFile(path));
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (Trim(line).empty()) continue;
    nlohmann::json value = nlohmann::json::parse(line, nullptr, false);
    if (value.is_discarded()) {
      ADD_FAILURE() << path.string() << ":" << number << ": not valid JSON";
      continue;
    }
    out.push_back(std::move(value));
  }
  return out;
}

// Line by line: what was expected, what arrived, and a JSON patch from one to
// the other.
std::string Diff(const std::vector<nlohmann::json>& expected,
                 const std::vector<nlohmann::json>& actual) {
  std::ostringstream out;
  const size_t n = std::max(expected.size(), actual.size());
  for (size_t i = 0; i < n; ++i) {
    const bool has_expected = i < expected.size();
    const bool has_actual = i < actual.size();
    if (has_expected && has_actual && expected[i] == actual[i]) continue;
    out << "message " << (i + 1) << ":\n";
    out << "  expected: " << (has_expected ? expected[i].dump() : "(none)") << "\n";
    out << "  actual:   " << (has_actual ? actual[i].dump() : "(none)") << "\n";
    if (has_expected && has_actual) {
      out << "  patch:    " << nlohmann::json::diff(expected[i], actual[i]).dump() << "\n";
    }
  }
  return out.str();
}

// One libpq connection, statements one at a time (like psql).
class SqlSession {
 public:
  explicit SqlSession(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {}
  ~SqlSession() { PQfinish(conn_); }
  SqlSession(const SqlSession&) = delete;
  SqlSession& operator=(const SqlSession&) = delete;

  std::string ConnectError() const {
    return PQstatus(conn_) == CONNECTION_OK ? "" : PQerrorMessage(conn_);
  }
  // "" on success, else the server's error.
  std::string Run(const std::string& sql) {
    PGresult* res = PQexec(conn_, sql.c_str());
    const ExecStatusType status = PQresultStatus(res);
    std::string error;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      error = PQresultErrorMessage(res);
      if (error.empty()) error = PQerrorMessage(conn_);
    }
    PQclear(res);
    return error;
  }

 private:
  PGconn* conn_;
};

class GoldenTest : public ::testing::TestWithParam<std::string> {
 protected:
  void TearDown() override {
    sluice_.Stop();
    receiver_.Stop();
    if (!db_.empty()) {
      // The slot would otherwise keep WAL for the rest of the run.
      Eventually(
          [&] {
            return SharedCluster()
                .Exec(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                    "WHERE slot_name = '" +
                    db_ + "_slot'")
                .ok();
          },
          10s);
    }
    if (!data_dir_.empty()) fs::remove_all(data_dir_);
  }

  std::string QueryText(const std::string& sql) {
    auto v = SharedCluster().QueryValue(sql, db_);
    return v.ok() && v->has_value() ? **v : "";
  }

  std::string db_;
  std::string data_dir_;
  testing::HttpReceiver receiver_;
  InProcessSluice sluice_;
};

TEST_P(GoldenTest, MessagesMatchExpected) {
  const std::string name = GetParam();
  GoldenCase golden;
  ASSERT_TRUE(ParseCase(ReadFile(CasePath(name)), &golden))
      << CasePath(name) << " has no line \"" << kWorkloadMarker << "\"";
  ASSERT_FALSE(golden.workload.empty()) << CasePath(name) << " has an empty workload";

  const bool update = UpdateMode();
  std::vector<nlohmann::json> expected;
  if (!update) {
    ASSERT_TRUE(fs::exists(ExpectedPath(name)))
        << ExpectedPath(name) << " is missing; create it with SLUICE_UPDATE_GOLDEN=1, then "
        << "review every line against DESIGN §2";
    expected = ReadExpected(ExpectedPath(name));
  }

  db_ = "golden_" + name;
  CreateDatabase(db_);
  SqlSession session(SharedCluster().ConnInfo(db_));
  ASSERT_EQ(session.ConnectError(), "");
  for (const std::string& sql : golden.setup) {
    const std::string error = session.Run(sql);
    ASSERT_EQ(error, "") << "setup statement failed:\n" << sql;
  }

  ASSERT_TRUE(receiver_.Start().ok());
  data_dir_ = TempDir("golden-data");
  SinkSpec sink;
  sink.name = "golden";
  sink.url = receiver_.url() + "/golden";
  sink.extra = "    actions: [insert, update, delete, truncate]\n    batch_size: 1\n";
  const std::string yaml = ConfigYaml(data_dir_, SharedCluster().Url(db_), db_, {sink});
  Status started = sluice_.Start(LoadYaml(yaml));
  ASSERT_TRUE(started.ok()) << started.message();
  const std::string slot = db_ + "_slot";
  ASSERT_TRUE(Eventually(
      [&] {
        return QueryText("SELECT active FROM pg_replication_slots WHERE slot_name = '" + slot +
                         "'") == "t";
      },
      kDeliveryTimeout))
      << "Sluice did not take slot " << slot;

  NormaliseContext ctx;
  ctx.database_name = db_;
  ctx.lsn_before = ParseLsn(QueryText("SELECT pg_current_wal_lsn()::text"));
  ASSERT_NE(ctx.lsn_before, 0u);
  for (const std::string& sql : golden.workload) {
    const std::string error = session.Run(sql);
    ASSERT_EQ(error, "") << "workload statement failed:\n" << sql;
  }
  const std::string end_lsn = QueryText("SELECT pg_current_wal_lsn()::text");
  ctx.lsn_after = ParseLsn(end_lsn);
  ASSERT_NE(ctx.lsn_after, 0u);

  // The slot confirms a position only once everything before it has been
  // delivered (DESIGN §1.1), so once it passes the end of the workload every
  // message is in. The expected count is a second, independent condition.
  EXPECT_TRUE(Eventually(
      [&] {
        return QueryText("SELECT confirmed_flush_lsn >= '" + end_lsn +
                         "'::pg_lsn FROM pg_replication_slots WHERE slot_name = '" + slot + "'") ==
               "t";
      },
      kDeliveryTimeout))
      << "slot " << slot << " did not confirm " << end_lsn;
  if (!update) {
    receiver_.WaitFor(
        [&](const std::vector<testing::ReceivedRequest>& requests) {
          return requests.size() >= expected.size();
        },
        kDeliveryTimeout);
  }
  sluice_.Stop();

  const std::vector<ordered_json> normalised = Normalise(ReceivedMessages(receiver_), ctx);
  if (update) {
    std::ofstream out(ExpectedPath(name), std::ios::binary | std::ios::trunc);
    for (const ordered_json& m : normalised) out << m.dump() << "\n";
    ASSERT_TRUE(out.good()) << "cannot write " << ExpectedPath(name);
    std::printf("wrote %zu messages to %s\n", normalised.size(), ExpectedPath(name).c_str());
    return;
  }
  std::vector<nlohmann::json> actual;
  for (const ordered_json& m : normalised) actual.push_back(nlohmann::json::parse(m.dump()));
  EXPECT_TRUE(actual == expected) << ExpectedPath(name).string() << " (" << expected.size()
                                  << " messages) differs from the actual output (" << actual.size()
                                  << " messages):\n"
                                  << Diff(expected, actual);
}

INSTANTIATE_TEST_SUITE_P(Cases, GoldenTest, ::testing::ValuesIn(CaseNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace sluice::itest
