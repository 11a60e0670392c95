#include "daemon/backfill_cli.h"

#include <curl/curl.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <vector>

#include "config/config_loader.h"
#include "daemon/daemon.h"

namespace sluice::daemon {
namespace {

using nlohmann::json;

struct HttpResult {
  bool reached = false;
  std::string error;  // transport error when !reached
  long status = 0;
  std::string body;
};

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

HttpResult Call(const std::string& method, const std::string& url, const std::string& token,
                const std::string& body) {
  HttpResult result;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    result.error = "cannot initialise libcurl";
    return result;
  }
  char error[CURL_ERROR_SIZE] = {0};
  struct curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Accept: application/json");
  std::string auth;
  if (!token.empty()) {
    auth = "Authorization: Bearer " + token;
    headers = curl_slist_append(headers, auth.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  // Starting a backfill checks the table in Postgres; pausing waits for the
  // worker to stop after its current page.
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 120000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    result.reached = true;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  } else {
    result.error = error[0] != '\0' ? error : curl_easy_strerror(rc);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return result;
}

std::string Escape(const std::string& segment) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return segment;
  char* escaped = curl_easy_escape(curl, segment.c_str(), static_cast<int>(segment.size()));
  std::string out = escaped ? escaped : segment;
  curl_free(escaped);
  curl_easy_cleanup(curl);
  return out;
}

// "0.0.0.0:7376" -> "http://127.0.0.1:7376": a wildcard listen address is
// reached on loopback.
std::string BaseUrlFromListen(const std::string& listen) {
  std::string host = listen.substr(0, listen.rfind(':'));
  const std::string port = listen.substr(listen.rfind(':') + 1);
  if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
  if (host == "[::]") host = "[::1]";
  return "http://" + host + ":" + port;
}

std::string Text(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::string Progress(const json& b) {
  const json& total = b["estimated_total"];
  if (!total.is_number() || total.get<int64_t>() <= 0) return "-";
  double pct = 100.0 * b["rows_read"].get<double>() / total.get<double>();
  if (b["state"] == "completed") pct = 100.0;
  if (pct > 100.0) pct = 100.0;
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%.1f%%", pct);
  return buf;
}

void PrintOne(const json& b) {
  const char* keys[] = {"id",
                        "sink",
                        "table",
                        "state",
                        "rows_read",
                        "rows_emitted",
                        "estimated_total",
                        "sort_column",
                        "start_position",
                        "filter",
                        "cursor",
                        "created_at",
                        "updated_at",
                        "completed_at",
                        "last_error",
                        "initial"};
  for (const char* key : keys) {
    if (!b.contains(key)) continue;
    std::printf("%-16s %s\n", (std::string(key) + ":").c_str(), Text(b[key]).c_str());
  }
  std::printf("%-16s %s\n", "progress:", Progress(b).c_str());
}

void PrintList(const json& list) {
  if (list.empty()) {
    std::printf("no backfills\n");
    return;
  }
  std::printf("%-6s %-10s %-32s %12s %12s %12s %8s  %s\n", "ID", "STATE", "TABLE", "READ",
              "EMITTED", "TOTAL", "PROGRESS", "UPDATED");
  for (const json& b : list) {
    std::printf("%-6s %-10s %-32s %12s %12s %12s %8s  %s\n", Text(b["id"]).c_str(),
                Text(b["state"]).c_str(), Text(b["table"]).c_str(), Text(b["rows_read"]).c_str(),
                Text(b["rows_emitted"]).c_str(), Text(b["estimated_total"]).c_str(),
                Progress(b).c_str(), Text(b["updated_at"]).c_str());
  }
}

}  // namespace

int RunBackfillCli(const BackfillCliOptions& o) {
  std::string base = o.api;
  std::string token = o.token;
  if (token.empty()) {
    if (const char* env = std::getenv("SLUICE_TOKEN")) token = env;
  }
  if (!o.config_path.empty() && (base.empty() || token.empty())) {
    auto loaded = config::LoadConfigFile(o.config_path, DefaultLoadOptions());
    if (!loaded.config) {
      std::fprintf(stderr, "%s", config::FormatErrors(loaded.errors).c_str());
      std::fprintf(stderr, "%s: cannot read the config for the API address\n",
                   o.config_path.c_str());
      return 2;
    }
    if (base.empty()) base = BaseUrlFromListen(loaded.config->listen);
    if (token.empty() && !loaded.config->api_tokens.empty()) {
      token = loaded.config->api_tokens.front().token;
    }
  }
  if (base.empty()) base = "http://127.0.0.1:7376";
  while (!base.empty() && base.back() == '/') base.pop_back();

  std::string method = "GET";
  std::string path = "/api/sinks/" + Escape(o.sink) + "/backfills";
  std::string body;
  if (o.action == "start") {
    method = "POST";
    json request = {{"table", o.table}};
    if (!o.sort_column.empty()) request["sort_column"] = o.sort_column;
    if (o.start_position) request["start_position"] = *o.start_position;
    if (!o.filter.empty()) request["filter"] = o.filter;
    body = request.dump();
  } else if (o.action == "list") {
  } else if (o.action == "show") {
    path += "/" + std::to_string(o.id);
  } else if (o.action == "pause" || o.action == "resume" || o.action == "cancel") {
    method = "POST";
    path += "/" + std::to_string(o.id) + "/" + o.action;
  } else {
    std::fprintf(stderr, "sluice backfill: unknown action \"%s\"\n", o.action.c_str());
    return 2;
  }

  curl_global_init(CURL_GLOBAL_DEFAULT);
  const HttpResult r = Call(method, base + path, token, body);
  curl_global_cleanup();
  if (!r.reached) {
    std::fprintf(stderr,
                 "sluice backfill: cannot reach the Sluice API at %s: %s. Is `sluice run` "
                 "running? Point --api (or -c sluice.yaml) at its server.listen address\n",
                 base.c_str(), r.error.c_str());
    return 1;
  }
  const json answer = json::parse(r.body, nullptr, false);
  if (r.status < 200 || r.status >= 300) {
    std::string message = r.body;
    std::string code;
    if (!answer.is_discarded() && answer.contains("error") && answer["error"].is_object()) {
      message = Text(answer["error"].value("message", json(r.body)));
      code = Text(answer["error"].value("code", json("")));
    }
    std::fprintf(stderr, "sluice backfill: %s (HTTP %ld%s%s)\n", message.c_str(), r.status,
                 code.empty() ? "" : " ", code.c_str());
    if (r.status == 401) {
      std::fprintf(stderr, "pass the API token with --token or SLUICE_TOKEN\n");
    }
    return 1;
  }
  if (answer.is_discarded() || !answer.contains("data")) {
    std::fprintf(stderr, "sluice backfill: unexpected answer from %s: %s\n", base.c_str(),
                 r.body.c_str());
    return 1;
  }
  if (o.json) {
    std::printf("%s\n", answer["data"].dump(2).c_str());
    return 0;
  }
  const json& data = answer["data"];
  if (o.action == "list") {
    PrintList(data);
    return 0;
  }
  if (o.action == "start") {
    std::printf("backfill %s started\n", Text(data["id"]).c_str());
  } else if (o.action != "show") {
    std::printf("backfill %s is %s\n", Text(data["id"]).c_str(), Text(data["state"]).c_str());
  }
  PrintOne(data);
  return 0;
}

}  // namespace sluice::daemon
