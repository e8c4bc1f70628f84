// The Zalo Official Account access token that both Zalo adapters (zalo_zns, zalo_oa) send with,
// and the file that keeps it across restarts.
//
// Facts (reference/vietnam-channels.md §1.4, second-hand [3P]): an access token lives about 25 h
// (`expires_in` "90000" seconds). It is renewed by POST
// https://oauth.zaloapp.com/v4/oa/access_token with the App Secret in a `secret_key` header and the
// form fields app_id, grant_type=refresh_token, refresh_token. A refresh token lives about 3 months
// and is SINGLE-USE: each refresh answers a new one, and the old one is then dead.
//
// ZaloTokenStore: the token file. One JSON object,
//   {"access_token": "...", "refresh_token": "...", "expires_at": <unix seconds>}
// written atomically: a temporary file beside it (mode 0600), fsync, rename over the old file,
// fsync of the directory. A reader therefore sees the old file or the new one, never a mix, and
// after save() returns the new one survives a power cut. An operator bootstraps (or
// re-authorises) by writing this file; access_token and expires_at may be left out, and then
// the first use refreshes.
//
// ZaloTokens: hands a valid access token to callers, asynchronously.
//  - It refreshes when a caller asks and the token expires within refresh_margin (or was
//    invalidated). Only one refresh is in flight; callers that ask meanwhile wait for it.
//  - Order of a refresh: the answer's new {access, refresh, expiry} is saved to the file FIRST;
//    only once save() has returned is the new access token handed to anyone. If the save fails,
//    the new set is kept in memory (never handed out), the waiting callers get kAuth naming the
//    file, and the next caller retries the save before anything else (no second refresh: the
//    old refresh token is already spent).
//  - Crash between the refresh answer and the save: the file still holds the old refresh
//    token, which Zalo has already consumed. There is nothing loa can do about that alone. On
//    the next start the refresh is answered "invalid refresh token"; every caller then gets
//    kAuth with the reason "Zalo rejected the refresh token in <file> ...: re-authorise the
//    OA and write the new tokens to <file>", and loa sends nothing to Zalo until the file
//    holds a different refresh token (it is re-read before each refresh, so no restart is
//    needed). The same happens when a refresh request reached Zalo but its answer was lost
//    (a timeout), and when the refresh token expired after ~3 months without use: ZaloTokens
//    refreshes only when asked, so a route idle for that long needs re-authorising too.
//    Recovery is always: re-authorise the OA (permission URL, §1.4), exchange the code, and
//    write the new tokens to the file.
//  - invalidate(token) is for a send that Zalo answered with an auth error: the next caller
//    triggers a refresh, unless `token` is no longer the current one (another caller already
//    refreshed it), so a burst of auth errors causes one refresh.
//  - After a failed refresh, callers get the same failure without a new request for
//    failure_cooldown (bounded load on the OAuth endpoint while the operator acts).
//  - Results: ok() with the access token; else kAuth (the operator must act: rejected refresh
//    token, bad app credentials, unreadable or unwritable file) or kRetryable / kThrottled
//    (OAuth endpoint timeout, 5xx, 429). Reasons name the file and never contain a token or
//    the app secret. Nothing here logs.
//  - One process per token file: the constructor takes an exclusive flock on "<file>.lock"
//    and throws when another process holds it, since two owners of a single-use refresh
//    token destroy each other's chain. Within a process, open() shares one ZaloTokens per
//    file between the adapters that use it. Dispatchers on several machines must not each
//    refresh the same OA's tokens (DESIGN.md §5): that needs a single owner, not provided here.
//
// Blocking: save() (write, fsync, rename, fsync) runs on the ZaloTokens strand, once per
// refresh (about once a day).
//
// Thread-safety: every ZaloTokens member is safe from any thread; the state lives on a strand.
// Callbacks run on the executor given at creation, never inline from async_access_token.
// ZaloTokenStore: const members are safe from any thread; one writer per file.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/gateway.hpp"
#include "adapters/settings_reader.hpp"

namespace loa::adapters {

class HttpClient;

struct ZaloTokenSet {
  std::string access_token;                            // may be empty: refresh before use
  std::string refresh_token;                           // single-use
  std::chrono::system_clock::time_point expires_at{};  // of access_token; epoch when unknown
};

class ZaloTokenStore {
 public:
  explicit ZaloTokenStore(std::filesystem::path path);
  virtual ~ZaloTokenStore() = default;

  const std::filesystem::path& path() const { return path_; }

  // The file's tokens, or nullopt with `error` saying why, naming the file (missing, unreadable,
  // not the JSON above, no refresh_token).
  std::optional<ZaloTokenSet> load(std::string& error) const;

  // Replaces the file atomically (see above). Returns "" on success, else what failed, naming
  // the file and the step; the old file is then untouched and the temporary file removed.
  [[nodiscard]] std::string save(const ZaloTokenSet& tokens) const;

 protected:
  // Test seam, called after the temporary file is written and synced and before the rename: a
  // non-empty answer aborts the save with that error, as a crash at that point would.
  virtual std::string before_rename(const std::filesystem::path& /*temporary*/) const { return {}; }

 private:
  std::filesystem::path path_;
};

// Settings keys (SettingsReader): token_file, app_id, app_secret (required); oauth_url,
// refresh_margin_ms, oauth_timeout_ms, refresh_failure_cooldown_ms.
struct ZaloTokenSettings {
  std::filesystem::path token_file;
  std::string app_id;
  std::string app_secret;  // the App Secret (not the OA Secret Key of webhooks)
  std::string oauth_url = "https://oauth.zaloapp.com/v4/oa/access_token";
  std::chrono::milliseconds refresh_margin{std::chrono::hours(1)};  // of a ~25 h token
  std::chrono::milliseconds timeout{10000};                         // of the refresh request
  std::chrono::milliseconds failure_cooldown{30000};
  // Wall clock, since expiry is persisted as wall time; null means system_clock::now.
  std::function<std::chrono::system_clock::time_point()> clock;

  static ZaloTokenSettings from(const SettingsReader& settings);
};

struct ZaloTokenResult {
  std::string access_token;              // set when ok()
  SendClass failure = SendClass::kAuth;  // when not ok(): kAuth, kRetryable or kThrottled
  std::string reason;                    // when not ok()
  bool ok() const { return !access_token.empty(); }
};

struct ZaloTokenStats {
  std::uint64_t refreshes = 0;         // refresh requests sent to the OAuth endpoint
  std::uint64_t persist_failures = 0;  // saves that failed after a successful refresh
};

class ZaloTokens : public std::enable_shared_from_this<ZaloTokens> {
 public:
  using Done = std::function<void(ZaloTokenResult)>;

  // Loads the token file. Throws std::runtime_error naming the file when it cannot be loaded or
  // is locked by another process, std::invalid_argument for missing settings. A null store
  // means a ZaloTokenStore on settings.token_file.
  static std::shared_ptr<ZaloTokens> create(boost::asio::any_io_executor ex,
                                            std::shared_ptr<HttpClient> http,
                                            ZaloTokenSettings settings,
                                            std::shared_ptr<ZaloTokenStore> store = nullptr);

  // The process's ZaloTokens for settings.token_file while one is alive (throws
  // std::invalid_argument if it was created with another app_id), else a new one as create().
  static std::shared_ptr<ZaloTokens> open(boost::asio::any_io_executor ex,
                                          std::shared_ptr<HttpClient> http,
                                          ZaloTokenSettings settings);

  ~ZaloTokens();
  ZaloTokens(const ZaloTokens&) = delete;
  ZaloTokens& operator=(const ZaloTokens&) = delete;

  void async_access_token(Done done);
  void invalidate(std::string access_token);

  const std::filesystem::path& token_file() const;
  ZaloTokenStats stats() const;

 private:
  struct State;
  ZaloTokens(boost::asio::any_io_executor ex, std::shared_ptr<HttpClient> http,
             ZaloTokenSettings settings, std::shared_ptr<ZaloTokenStore> store);
  std::unique_ptr<State> state_;
};

}  // namespace loa::adapters
