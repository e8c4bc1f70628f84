#include "engine/api_tokens.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <SQLiteCpp/Statement.h>
#include <stdexcept>

#include "campaigns/audit.hpp"

namespace loa::engine {

std::string_view to_string(ApiRole role) {
  switch (role) {
    case ApiRole::kViewer: return "viewer";
    case ApiRole::kOperator: return "operator";
    case ApiRole::kAdmin: return "admin";
  }
  return "?";
}

std::optional<ApiRole> parse_api_role(std::string_view text) {
  if (text == "viewer") return ApiRole::kViewer;
  if (text == "operator") return ApiRole::kOperator;
  if (text == "admin") return ApiRole::kAdmin;
  return std::nullopt;
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed (OpenSSL)");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xF];
  }
  return out;
}

namespace {

std::string random_token() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    throw std::runtime_error("no randomness for a token (OpenSSL RAND_bytes failed)");
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out = "loa_";
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {  // base64url without padding: 43 characters
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 0x3F];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 0x3F];
  return out;
}

ApiToken row_to_token(SQLite::Statement& st) {
  ApiToken t;
  t.id = st.getColumn(0).getInt64();
  t.name = st.getColumn(1).getString();
  t.role = parse_api_role(st.getColumn(2).getString()).value_or(ApiRole::kViewer);
  t.prefix = st.getColumn(3).getString();
  t.created_by = st.getColumn(4).getString();
  t.created_at = st.getColumn(5).getString();
  t.revoked_at = st.getColumn(6).isNull() ? "" : st.getColumn(6).getString();
  return t;
}

constexpr const char* kColumns = "id, name, role, prefix, created_by, created_at, revoked_at";

}  // namespace

NewToken create_token(SQLite::Database& db, ApiRole role, const std::string& name,
                      const std::string& actor) {
  if (name.empty() || name.size() > 100)
    throw std::invalid_argument("a token name has 1 to 100 characters");
  NewToken out;
  out.secret = random_token();
  SQLite::Statement st(db,
                       "INSERT INTO api_tokens(name, role, prefix, token_hash, created_by) "
                       "VALUES (?, ?, ?, ?, ?)");
  st.bind(1, name);
  st.bind(2, std::string(to_string(role)));
  st.bind(3, out.secret.substr(0, kTokenPrefixLength));
  st.bind(4, sha256_hex(out.secret));
  st.bind(5, actor);
  st.exec();
  const auto id = db.getLastInsertRowid();
  campaigns::record_audit(db, actor, "token.create", name,
                          "id " + std::to_string(id) + ", role " + std::string(to_string(role)));
  SQLite::Statement read(db, std::string("SELECT ") + kColumns + " FROM api_tokens WHERE id = ?");
  read.bind(1, static_cast<std::int64_t>(id));
  read.executeStep();
  out.token = row_to_token(read);
  return out;
}

std::vector<ApiToken> list_tokens(SQLite::Database& db) {
  SQLite::Statement st(db, std::string("SELECT ") + kColumns + " FROM api_tokens ORDER BY id");
  std::vector<ApiToken> out;
  while (st.executeStep()) out.push_back(row_to_token(st));
  return out;
}

int revoke_token(SQLite::Database& db, const std::string& id_or_name, const std::string& actor) {
  const bool numeric = !id_or_name.empty() &&
                       id_or_name.find_first_not_of("0123456789") == std::string::npos;
  SQLite::Statement st(db, std::string("UPDATE api_tokens SET revoked_at = "
                                       "strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE ") +
                               (numeric ? "id = ?" : "name = ?") + " AND revoked_at IS NULL");
  if (numeric)
    st.bind(1, static_cast<std::int64_t>(std::stoll(id_or_name)));
  else
    st.bind(1, id_or_name);
  const int n = st.exec();
  if (n > 0) campaigns::record_audit(db, actor, "token.revoke", id_or_name, std::to_string(n));
  return n;
}

std::optional<ApiToken> find_token(SQLite::Database& db, std::string_view secret) {
  if (secret.size() < kTokenPrefixLength || secret.size() > 256) return std::nullopt;
  const std::string hash = sha256_hex(secret);
  SQLite::Statement st(db, std::string("SELECT ") + kColumns +
                               ", token_hash FROM api_tokens WHERE prefix = ? AND revoked_at "
                               "IS NULL");
  st.bind(1, std::string(secret.substr(0, kTokenPrefixLength)));
  std::optional<ApiToken> found;
  while (st.executeStep()) {
    const std::string stored = st.getColumn(7).getString();
    if (stored.size() == hash.size() &&
        CRYPTO_memcmp(stored.data(), hash.data(), hash.size()) == 0)
      found = row_to_token(st);
  }
  return found;
}

}  // namespace loa::engine
