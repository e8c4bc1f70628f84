// The `loa` command line. Command groups live in engine/cli_<group>.cpp; see engine/cli.hpp
// for the exit codes.
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <iostream>

#include "campaigns/campaign.hpp"
#include "campaigns/inbox.hpp"
#include "engine/cli.hpp"
#include "engine/daemon.hpp"
#include "engine/store.hpp"

int main(int argc, char** argv) {
  // The files loa creates hold households' phone numbers and categories: the store, import
  // reports, spooled uploads, the spawned Redis's AOF (it inherits this mask). Readable by
  // loa's user only, as under systemd (ops/systemd/loa.service UMask=0077); a shell's usual
  // 022 left them 0644.
  ::umask(0077);
  namespace cli = loa::engine::cli;
  CLI::App app{"loa: a messaging broadcast engine for SMS and Zalo campaigns", "loa"};
  app.require_subcommand(1);
  app.fallthrough();
  cli::Context ctx;
  app.add_option("-c,--config", ctx.config_file, "TOML configuration file (default: built-in)")
      ->check(CLI::ExistingFile);
  app.footer(
      "Every configuration key can also be set by an environment variable LOA_SECTION_KEY,\n"
      "e.g. LOA_HTTP_LISTEN=0.0.0.0:8080. See `loa config reference`.");

  cli::register_daemon_commands(app, ctx);
  cli::register_contact_commands(app, ctx);
  cli::register_template_commands(app, ctx);
  cli::register_campaign_commands(app, ctx);
  cli::register_route_commands(app, ctx);
  cli::register_inbox_commands(app, ctx);
  cli::register_report_commands(app, ctx);
  cli::register_token_commands(app, ctx);

  try {
    app.parse(argc, argv);
    return ctx.exit_code;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return cli::kExitUsage;
  } catch (const loa::engine::ConfigError& e) {
    std::cerr << "loa: config error: " << e.what() << "\n";
    return cli::kExitUsage;
  } catch (const loa::campaigns::InboxError& e) {
    std::cerr << "loa: " << e.what() << "\n";
    return cli::kExitUsage;
  } catch (const loa::campaigns::CampaignError& e) {
    std::cerr << "loa: " << e.what() << "\n";
    return cli::kExitUsage;
  } catch (const loa::engine::StartupError& e) {
    spdlog::error("cannot start: {}", e.what());
    return cli::kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "loa: " << e.what() << "\n";
    return cli::kExitFailure;
  }
}
