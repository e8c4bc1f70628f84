// The `loa` command line's shared plumbing. Each command group registers its subcommands on
// the CLI11 app from its own file (engine/cli_<group>.cpp), so a new group is one file plus one
// line in engine/main.cpp.
//
// Exit codes: kExitOk; kExitFailure for a runtime failure (including "the input had rejected
// rows" where a command says so); kExitUsage for bad usage, bad configuration or an environment
// that cannot run loa. Commands may throw ConfigError or StartupError (-> 2), StoreError and
// other exceptions (-> 1); main() prints them as one line.
//
// Thread-safety: single-threaded; the CLI runs on the main thread.
#pragma once

#include <SQLiteCpp/Database.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "engine/config.hpp"

namespace loa::engine::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

class Context {
 public:
  std::string config_file;
  int exit_code = kExitUsage;  // set by the command that ran

  // The configuration (defaults, --config file, environment), loaded once; also sets up
  // logging. Throws ConfigError.
  const Config& config();
  // The store, opened read-write (creating the data dir) and migrated, once. Throws StoreError.
  SQLite::Database& store();
  // True when the store file exists (a dry run reads from it but never creates it).
  bool store_exists();

 private:
  std::optional<Config> config_;
  std::unique_ptr<SQLite::Database> store_;
};

// "cli:<user>", the actor of audit rows written by the command line.
std::string actor();
// 1234567 -> "1,234,567".
std::string with_commas(std::uint64_t n);

void register_daemon_commands(CLI::App& app, Context& ctx);    // serve, db, config, version
void register_contact_commands(CLI::App& app, Context& ctx);   // contacts, audience, segments
void register_template_commands(CLI::App& app, Context& ctx);  // sms, template, templates
void register_campaign_commands(CLI::App& app, Context& ctx);  // campaign
void register_route_commands(CLI::App& app, Context& ctx);     // routes
void register_report_commands(CLI::App& app, Context& ctx);    // report
void register_token_commands(CLI::App& app, Context& ctx);     // token

}  // namespace loa::engine::cli
