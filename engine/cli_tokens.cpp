// `loa token create|list|revoke`: bearer tokens of the REST API (engine/api_tokens.hpp).
#include <iostream>

#include "engine/api_tokens.hpp"
#include "engine/cli.hpp"

namespace loa::engine::cli {

void register_token_commands(CLI::App& app, Context& ctx) {
  auto* token = app.add_subcommand("token", "REST API bearer tokens: create, list, revoke");
  token->require_subcommand(1);

  auto role = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto* create = token->add_subcommand(
      "create", "Make a token and print it once (only its SHA-256 is kept)");
  create->add_option("--role", *role, "admin, operator or viewer")
      ->required()
      ->check(CLI::IsMember({"admin", "operator", "viewer"}));
  create->add_option("--name", *name, "Who or what uses it (default: the role)");
  create->callback([&ctx, role, name] {
    const std::string n = name->empty() ? *role : *name;
    const NewToken t = create_token(ctx.store(), *parse_api_role(*role), n, actor());
    std::cout << t.secret << "\n";
    std::cerr << "token " << t.token.id << " '" << t.token.name << "' (" << *role
              << "): shown once; keep it secret. Use it as 'Authorization: Bearer <token>'.\n";
    ctx.exit_code = kExitOk;
  });

  token->add_subcommand("list", "List tokens (never the secrets)")->callback([&ctx] {
    std::cout << "id\tname\trole\tprefix\tcreated_at\tcreated_by\tstate\n";
    for (const auto& t : list_tokens(ctx.store()))
      std::cout << t.id << "\t" << t.name << "\t" << to_string(t.role) << "\t" << t.prefix
                << "…\t" << t.created_at << "\t" << t.created_by << "\t"
                << (t.revoked_at.empty() ? "valid" : "revoked " + t.revoked_at) << "\n";
    ctx.exit_code = kExitOk;
  });

  auto which = std::make_shared<std::string>();
  auto* revoke = token->add_subcommand("revoke", "Revoke a token by id, or every token of a name");
  revoke->add_option("TOKEN", *which, "Token id or name")->required();
  revoke->callback([&ctx, which] {
    const int n = revoke_token(ctx.store(), *which, actor());
    if (n == 0) {
      std::cerr << "loa: no valid token with id or name '" << *which << "'\n";
      ctx.exit_code = kExitFailure;
      return;
    }
    std::cout << "revoked " << n << " token(s)\n";
    ctx.exit_code = kExitOk;
  });
}

}  // namespace loa::engine::cli
