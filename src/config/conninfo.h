// Postgres connection strings: libpq key=value conninfo and the password-free
// "host:port/dbname" shown in logs and errors.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::config {

// `key='value' ...` with every value single-quoted and \ and ' escaped, so any
// value (spaces, quotes, empty) reaches libpq unchanged.
std::string BuildConninfo(const std::vector<std::pair<std::string, std::string>>& params);

// Whether `url` starts with postgres:// or postgresql:// (libpq's URI form).
bool IsPostgresUrl(std::string_view url);

// "host:port/dbname" of a postgres:// URL, without user or password. Host and
// port come from the authority or else from host=/port= query parameters,
// defaulting to localhost and 5432; several hosts are shown as written.
// Percent-escapes are decoded. Never fails: a malformed URL shows what could be
// read, and libpq reports the real problem when connecting.
std::string DisplayFromUrl(std::string_view url);

}  // namespace sluice::config
