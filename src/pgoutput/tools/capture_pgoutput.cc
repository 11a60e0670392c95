// capture_pgoutput: records the pgoutput messages a SQL script produces, one
// XLogData payload per line in hex, for the decoder's golden tests.
//
//   capture_pgoutput --conninfo "host=127.0.0.1 port=5432 dbname=postgres user=postgres"
//       --publication capture_pub --setup setup.sql --script script.sql --out out.hex
//
// Order of work: run --setup on a normal connection (tables, the publication:
// it must exist before the slot, or pgoutput cannot see it), create a
// temporary pgoutput slot on a replication=database connection and
// START_REPLICATION on it, run --script on the normal connection while the
// walsender decodes (so that open transactions get streamed while they are
// still open), then emit a non-transactional logical message with the prefix
// "capture_pgoutput.end" and write every XLogData payload until that message
// arrives (it is written too), or fail after --timeout-seconds.
//
// Scripts are split into statements at lines that end with ';' (so do not
// put a ';' at the end of a line inside a statement); each statement runs on
// its own, so transaction control in the script behaves as in psql. A line
// "-- capture: await-stream-stop" waits until the next Stream Stop arrives,
// e.g. to make sure an open transaction was streamed before it rolls back.
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::string_view kEndPrefix = "capture_pgoutput.end";
constexpr int64_t kPostgresEpochOffsetUs = 946684800000000LL;

struct Options {
  std::string conninfo;
  std::string publication;
  std::string setup_path;
  std::string script_path;
  std::string out_path;
  std::string proto_version = "2";
  bool streaming = true;
  int timeout_seconds = 60;
};

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "capture_pgoutput: " << message << "\n";
  std::exit(1);
}

void Usage() {
  std::cerr << "usage: capture_pgoutput --conninfo CONNINFO --publication NAME --script FILE\n"
               "         --out FILE [--setup FILE] [--proto-version N] [--no-streaming]\n"
               "         [--timeout-seconds N]\n";
  std::exit(2);
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Usage();
      return argv[++i];
    };
    if (arg == "--conninfo") {
      o.conninfo = value();
    } else if (arg == "--publication") {
      o.publication = value();
    } else if (arg == "--setup") {
      o.setup_path = value();
    } else if (arg == "--script") {
      o.script_path = value();
    } else if (arg == "--out") {
      o.out_path = value();
    } else if (arg == "--proto-version") {
      o.proto_version = value();
    } else if (arg == "--no-streaming") {
      o.streaming = false;
    } else if (arg == "--timeout-seconds") {
      o.timeout_seconds = std::atoi(value().c_str());
    } else {
      Usage();
    }
  }
  if (o.conninfo.empty() || o.publication.empty() || o.script_path.empty() || o.out_path.empty()) {
    Usage();
  }
  return o;
}

constexpr std::string_view kAwaitStreamStop = "-- capture: await-stream-stop";

std::vector<std::string> ReadStatements(const std::string& path) {
  std::ifstream in(path);
  if (!in) Die("cannot read " + path);
  std::vector<std::string> statements;
  std::string current;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(kAwaitStreamStop, 0) == 0) {
      if (current.find_first_not_of(" \t\r\n") != std::string::npos) statements.push_back(current);
      current.clear();
      statements.emplace_back(kAwaitStreamStop);
      continue;
    }
    current += line;
    current += '\n';
    size_t end = line.find_last_not_of(" \t\r");
    if (end != std::string::npos && line[end] == ';') {
      statements.push_back(current);
      current.clear();
    }
  }
  if (current.find_first_not_of(" \t\r\n") != std::string::npos) statements.push_back(current);
  return statements;
}

void RunStatement(PGconn* conn, const std::string& statement) {
  PGresult* res = PQexec(conn, statement.c_str());
  ExecStatusType status = PQresultStatus(res);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
    std::string error = PQresultErrorMessage(res);
    PQclear(res);
    Die("statement failed: " + error + "statement: " + statement);
  }
  PQclear(res);
}

PGconn* Connect(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) Die(std::string("connect: ") + PQerrorMessage(conn));
  return conn;
}

void ExecOrDie(PGconn* conn, const std::string& sql, ExecStatusType expected) {
  PGresult* res = PQexec(conn, sql.c_str());
  if (PQresultStatus(res) != expected) {
    std::string error = PQresultErrorMessage(res);
    PQclear(res);
    Die(sql + ": " + error);
  }
  PQclear(res);
}

uint64_t LoadU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void AppendU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

void SendStatus(PGconn* conn, uint64_t lsn) {
  int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  std::string msg = "r";
  AppendU64(msg, lsn);
  AppendU64(msg, lsn);
  AppendU64(msg, lsn);
  AppendU64(msg, static_cast<uint64_t>(now_us - kPostgresEpochOffsetUs));
  msg.push_back(0);
  if (PQputCopyData(conn, msg.data(), static_cast<int>(msg.size())) != 1 || PQflush(conn) != 0) {
    Die(std::string("sending status update: ") + PQerrorMessage(conn));
  }
}

// True for a non-transactional 'M' message with the end prefix. Outside a
// streamed block such a message carries no xid.
bool IsEndMarker(std::string_view payload) {
  if (payload.size() < 1 + 1 + 8 || payload[0] != 'M' || (payload[1] & 1) != 0) return false;
  std::string_view rest = payload.substr(10);
  return rest.size() > kEndPrefix.size() && rest.substr(0, kEndPrefix.size()) == kEndPrefix &&
         rest[kEndPrefix.size()] == '\0';
}

std::string Hex(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
  }
  return out;
}

// Reads the replication stream into the output file.
class Capture {
 public:
  Capture(PGconn* repl, std::ofstream* out, std::chrono::steady_clock::time_point deadline)
      : repl_(repl), out_(out), deadline_(deadline) {}
  ~Capture() {
    if (buf_ != nullptr) PQfreemem(buf_);
  }
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  // Writes whatever has arrived, without waiting.
  void Drain() {
    while (ReadOne(/*wait=*/false)) {
    }
  }

  // Writes messages until one satisfies `done`.
  template <typename Predicate>
  void Until(Predicate done) {
    while (true) {
      std::string_view payload;
      if (ReadOne(/*wait=*/true, &payload) && !payload.empty() && done(payload)) return;
    }
  }

  const std::map<char, int>& counts() const { return counts_; }

 private:
  // Handles one CopyData message; false when none was available and `wait`
  // is false. `payload` is set for XLogData (valid until the next call).
  bool ReadOne(bool wait, std::string_view* payload = nullptr) {
    if (buf_ != nullptr) {
      PQfreemem(buf_);
      buf_ = nullptr;
    }
    while (true) {
      int len = PQgetCopyData(repl_, &buf_, 1);
      if (len == 0) {
        // Nothing buffered: pull what the socket has, then look again.
        if (PQconsumeInput(repl_) == 0) Die(std::string("reading: ") + PQerrorMessage(repl_));
        len = PQgetCopyData(repl_, &buf_, 1);
      }
      if (len > 0) return Handle(std::string_view(buf_, static_cast<size_t>(len)), payload);
      if (len == -1) Die("replication stream ended before the end marker");
      if (len < -1) Die(std::string("reading: ") + PQerrorMessage(repl_));
      if (!wait) return false;
      if (std::chrono::steady_clock::now() > deadline_) Die("timed out");
      pollfd pfd{PQsocket(repl_), POLLIN, 0};
      poll(&pfd, 1, 200);
    }
  }

  bool Handle(std::string_view msg, std::string_view* payload) {
    if (msg[0] == 'w' && msg.size() >= 25) {
      std::string_view data = msg.substr(25);
      last_lsn_ = std::max(last_lsn_, LoadU64(msg.data() + 9));
      *out_ << Hex(data) << "\n";
      if (!data.empty()) counts_[data[0]]++;
      if (payload != nullptr) *payload = data;
    } else if (msg[0] == 'k' && msg.size() >= 18) {
      last_lsn_ = std::max(last_lsn_, LoadU64(msg.data() + 1));
      if (msg[17] != 0) SendStatus(repl_, last_lsn_);
    }
    return true;
  }

  PGconn* repl_;
  std::ofstream* out_;
  std::chrono::steady_clock::time_point deadline_;
  char* buf_ = nullptr;
  uint64_t last_lsn_ = 0;
  std::map<char, int> counts_;
};

}  // namespace

int main(int argc, char** argv) {
  Options options = ParseOptions(argc, argv);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.timeout_seconds);

  PGconn* sql = Connect(options.conninfo);
  if (!options.setup_path.empty()) {
    for (const auto& statement : ReadStatements(options.setup_path)) {
      if (statement != kAwaitStreamStop) RunStatement(sql, statement);
    }
  }
  std::vector<std::string> script = ReadStatements(options.script_path);

  PGconn* repl = Connect(options.conninfo + " replication=database");
  std::string slot = "capture_pgoutput_" + std::to_string(getpid());
  ExecOrDie(repl,
            "CREATE_REPLICATION_SLOT " + slot + " TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT",
            PGRES_TUPLES_OK);
  char* quoted_pub = PQescapeLiteral(repl, options.publication.c_str(), options.publication.size());
  std::string start = "START_REPLICATION SLOT " + slot + " LOGICAL 0/0 (proto_version '" +
                      options.proto_version + "', publication_names " + quoted_pub +
                      ", messages 'true'" + (options.streaming ? ", streaming 'on'" : "") + ")";
  PQfreemem(quoted_pub);
  ExecOrDie(repl, start, PGRES_COPY_BOTH);

  std::ofstream out(options.out_path, std::ios::trunc);
  if (!out) Die("cannot write " + options.out_path);
  Capture capture(repl, &out, deadline);

  for (const auto& statement : script) {
    if (statement == kAwaitStreamStop) {
      capture.Until([](std::string_view payload) { return payload[0] == 'E'; });
    } else {
      RunStatement(sql, statement);
      capture.Drain();
    }
  }
  RunStatement(sql,
               "SELECT pg_logical_emit_message(false, '" + std::string(kEndPrefix) + "', 'done')");
  PQfinish(sql);
  capture.Until(IsEndMarker);

  out.close();
  if (!out) Die("writing " + options.out_path + " failed");
  PQputCopyEnd(repl, nullptr);
  PQfinish(repl);

  std::ostringstream summary;
  for (const auto& [type, count] : capture.counts()) summary << " " << type << "=" << count;
  std::cerr << "capture_pgoutput: wrote " << options.out_path << ":" << summary.str() << "\n";
  return 0;
}
