// `loa serve`, `loa db migrate`, `loa config check|reference`, `loa version`.
#include <iostream>

#include "engine/cli.hpp"
#include "engine/daemon.hpp"
#include "engine/gateways.hpp"
#include "engine/logging.hpp"
#include "engine/store.hpp"
#include "engine/version.hpp"

namespace loa::engine::cli {

const Config& Context::config() {
  if (!config_) {
    config_ = load_config(config_file.empty() ? std::nullopt
                                              : std::optional<std::filesystem::path>(config_file));
    configure_logging(config_->log);
  }
  return *config_;
}

SQLite::Database& Context::store() {
  if (!store_) {
    const auto path = config().store_path();
    std::error_code ec;
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    store_ = std::make_unique<SQLite::Database>(
        open_store(path, StoreMode::kReadWrite, config().store.busy_timeout_ms));
    migrate(*store_);
  }
  return *store_;
}

bool Context::store_exists() { return std::filesystem::exists(config().store_path()); }

std::string actor() {
  const char* user = std::getenv("USER");
  return std::string("cli:") + (user != nullptr && *user != '\0' ? user : "unknown");
}

std::string with_commas(std::uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

namespace {

int run_serve(Context& ctx, const std::string& role_text) {
  const auto role = parse_role(role_text);
  Daemon daemon(ctx.config(), role);
  daemon.start();
  daemon.wait();
  return daemon.exit_code();
}

int run_migrate(Context& ctx) {
  const auto& config = ctx.config();
  const auto path = config.store_path();
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  auto db = open_store(path, StoreMode::kReadWrite, config.store.busy_timeout_ms);
  auto report = migrate(db);
  if (report.applied.empty()) {
    std::cout << "store " << path.string() << " is up to date at version " << report.to_version
              << "\n";
  } else {
    for (const auto& name : report.applied) std::cout << "applied " << name << "\n";
    std::cout << "store " << path.string() << " migrated from version " << report.from_version
              << " to " << report.to_version << "\n";
  }
  return kExitOk;
}

int run_config_reference() {
  for (const auto& k : config_reference())
    std::cout << k.path << " (" << k.type << ", default " << k.default_value
              << (k.env.empty() ? std::string() : ", env " + k.env) << ")\n    " << k.doc << "\n";
  return kExitOk;
}

}  // namespace

void register_daemon_commands(CLI::App& app, Context& ctx) {
  auto role = std::make_shared<std::string>("all");
  auto* serve =
      app.add_subcommand("serve", "Run the daemon (Ctrl-C or SIGTERM stops it gracefully)");
  serve->add_option("--role", *role, "all, planner (store, API, webhooks) or dispatcher")
      ->check(CLI::IsMember({"all", "planner", "dispatcher"}));
  serve->callback([&ctx, role] { ctx.exit_code = run_serve(ctx, *role); });

  auto* db = app.add_subcommand("db", "Store maintenance");
  db->require_subcommand(1);
  db->add_subcommand("migrate", "Apply pending schema migrations (idempotent)")
      ->callback([&ctx] { ctx.exit_code = run_migrate(ctx); });

  auto* config = app.add_subcommand("config", "Inspect configuration");
  config->require_subcommand(1);
  config->add_subcommand("check", "Validate and print the effective configuration")
      ->callback([&ctx] {
        check_gateways(ctx.config());  // a ConfigError exits 2, as at start-up
        std::cout << describe_config(ctx.config());
        ctx.exit_code = kExitOk;
      });
  config->add_subcommand("reference", "List every key, its default and its variable")
      ->callback([&ctx] { ctx.exit_code = run_config_reference(); });

  app.add_subcommand("version", "Print the version")->callback([&ctx] {
    std::cout << "loa " << kVersion << "\n";
    ctx.exit_code = kExitOk;
  });
}

}  // namespace loa::engine::cli
