// The loa command line: `loa serve`, `loa db migrate`, `loa config check`, `loa version`.
//
// Exit codes: 0 success; 1 a runtime failure; 2 bad usage, bad configuration or an
// environment that cannot run loa (unwritable data dir, missing redis-server, port in use).
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "engine/config.hpp"
#include "engine/daemon.hpp"
#include "engine/logging.hpp"
#include "engine/store.hpp"
#include "engine/version.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

using loa::engine::Config;

int cmd_serve(const Config& config, const std::string& role_text) {
  const auto role = loa::engine::parse_role(role_text);
  loa::engine::Daemon daemon(config, role);
  daemon.start();
  daemon.wait();
  return kExitOk;
}

int cmd_migrate(const Config& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.store_path().parent_path().empty()
                                          ? std::filesystem::path(".")
                                          : config.store_path().parent_path(),
                                      ec);
  auto db = loa::engine::open_store(config.store_path(), loa::engine::StoreMode::kReadWrite,
                                    config.store.busy_timeout_ms);
  auto report = loa::engine::migrate(db);
  if (report.applied.empty()) {
    std::cout << "store " << config.store_path().string() << " is up to date at version "
              << report.to_version << "\n";
  } else {
    for (const auto& name : report.applied) std::cout << "applied " << name << "\n";
    std::cout << "store " << config.store_path().string() << " migrated from version "
              << report.from_version << " to " << report.to_version << "\n";
  }
  return kExitOk;
}

int cmd_config_reference() {
  for (const auto& k : loa::engine::config_reference())
    std::cout << k.path << " (" << k.type << ", default " << k.default_value << ", env " << k.env
              << ")\n    " << k.doc << "\n";
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"loa: a messaging broadcast engine for SMS and Zalo campaigns", "loa"};
  app.require_subcommand(1);
  app.fallthrough();
  std::string config_file;
  app.add_option("-c,--config", config_file, "TOML configuration file (default: built-in)")
      ->check(CLI::ExistingFile);
  app.footer(
      "Every configuration key can also be set by an environment variable LOA_SECTION_KEY,\n"
      "e.g. LOA_HTTP_LISTEN=0.0.0.0:8080. See `loa config reference`.");

  std::string role = "all";
  auto* serve = app.add_subcommand("serve", "Run the daemon (Ctrl-C or SIGTERM stops it gracefully)");
  serve->add_option("--role", role, "all, planner (store, API, webhooks) or dispatcher")
      ->check(CLI::IsMember({"all", "planner", "dispatcher"}));

  auto* db = app.add_subcommand("db", "Store maintenance");
  db->require_subcommand(1);
  auto* migrate = db->add_subcommand("migrate", "Apply pending schema migrations (idempotent)");

  auto* config_cmd = app.add_subcommand("config", "Inspect configuration");
  config_cmd->require_subcommand(1);
  auto* check = config_cmd->add_subcommand("check", "Validate and print the effective configuration");
  auto* reference = config_cmd->add_subcommand("reference", "List every key, its default and its variable");

  auto* version = app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  if (version->parsed()) {
    std::cout << "loa " << loa::engine::kVersion << "\n";
    return kExitOk;
  }
  if (reference->parsed()) return cmd_config_reference();

  Config config;
  try {
    config = loa::engine::load_config(config_file.empty()
                                          ? std::nullopt
                                          : std::optional<std::filesystem::path>(config_file));
  } catch (const loa::engine::ConfigError& e) {
    std::cerr << "loa: config error: " << e.what() << "\n";
    return kExitUsage;
  }
  loa::engine::configure_logging(config.log);

  try {
    if (check->parsed()) {
      std::cout << loa::engine::describe_config(config);
      return kExitOk;
    }
    if (migrate->parsed()) return cmd_migrate(config);
    if (serve->parsed()) return cmd_serve(config, role);
  } catch (const loa::engine::ConfigError& e) {
    std::cerr << "loa: config error: " << e.what() << "\n";
    return kExitUsage;
  } catch (const loa::engine::StartupError& e) {
    spdlog::error("cannot start: {}", e.what());
    return kExitUsage;
  } catch (const loa::engine::StoreError& e) {
    spdlog::error("{}", e.what());
    return kExitFailure;
  } catch (const std::exception& e) {
    spdlog::critical("loa failed: {}", e.what());
    return kExitFailure;
  }
  return kExitUsage;
}
