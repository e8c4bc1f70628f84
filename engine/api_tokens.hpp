// Bearer tokens of the REST API (engine/api.hpp): made by `loa token create`, kept hashed.
//
// Contract:
//  - A token is "loa_" + 43 characters of base64url (32 random bytes from OpenSSL's RAND_bytes).
//    create_token() returns it once; the store keeps only its SHA-256 (hex) and its first
//    kTokenPrefixLength characters, which are not secret and find the row.
//  - find_token() hashes what it is given, reads the rows with that prefix and compares the
//    hashes with CRYPTO_memcmp (constant time); a revoked token is not found.
//  - Roles are ordered: viewer < operator < admin. An endpoint names its minimum role.
//  - Errors: std::invalid_argument for a bad role or name; SQLite exceptions pass through.
//
// Thread-safety: free functions over the caller's connection (one thread at a time).
#pragma once

#include <SQLiteCpp/Database.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loa::engine {

enum class ApiRole : std::uint8_t { kViewer = 1, kOperator = 2, kAdmin = 3 };
std::string_view to_string(ApiRole role);
std::optional<ApiRole> parse_api_role(std::string_view text);

inline constexpr std::size_t kTokenPrefixLength = 12;  // "loa_" and 8 random characters

struct ApiToken {
  std::int64_t id = 0;
  std::string name;
  ApiRole role = ApiRole::kViewer;
  std::string prefix;
  std::string created_by;
  std::string created_at;
  std::string revoked_at;  // empty while valid
};

struct NewToken {
  ApiToken token;
  std::string secret;  // the whole token: shown once, never stored
};

NewToken create_token(SQLite::Database& db, ApiRole role, const std::string& name,
                      const std::string& actor);
std::vector<ApiToken> list_tokens(SQLite::Database& db);
// Revokes by id or by name (every valid token of that name). Returns how many were revoked.
int revoke_token(SQLite::Database& db, const std::string& id_or_name, const std::string& actor);
// The valid token that `secret` is, if any.
std::optional<ApiToken> find_token(SQLite::Database& db, std::string_view secret);

// Lower-case hex SHA-256 of `text`.
std::string sha256_hex(std::string_view text);

}  // namespace loa::engine
