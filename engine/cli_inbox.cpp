// `loa inbox list|show|assign|reply|close`: the operator inbox (campaigns/inbox.hpp) from the
// command line. `reply` queues the answer in the store through the channel the household used;
// the daemon's enqueuer puts it in that route's priority lane within a pass, so `loa serve`
// must be running for it to leave.
#include <SQLiteCpp/Transaction.h>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <iostream>

#include "campaigns/inbox.hpp"
#include "campaigns/phone.hpp"
#include "engine/cli.hpp"
#include "engine/clock.hpp"
#include "engine/inbox_json.hpp"
#include "engine/template_settings.hpp"

namespace loa::engine::cli {
namespace {

namespace json = boost::json;
using campaigns::InboxItem;

json::object to_json(const InboxItem& i) { return inbox_item_json(i); }

std::string sender(const InboxItem& i, bool mask) {
  std::string who = !i.phone.empty() ? (mask ? campaigns::mask_phone(i.phone) : i.phone)
                                     : "zalo:" + i.zalo_user;
  if (!i.household_name.empty()) who += " (" + i.household_name + ")";
  if (i.unknown_sender) who += " (unknown sender)";
  return who;
}

std::string area(const InboxItem& i) {
  std::string out;
  for (const auto* part : {&i.village, &i.commune, &i.province})
    if (!part->empty()) out += (out.empty() ? "" : ", ") + *part;
  return out;
}

std::string now_operator(const std::string& given) { return given.empty() ? actor() : given; }

}  // namespace

void register_inbox_commands(CLI::App& app, Context& ctx) {
  auto* inbox = app.add_subcommand(
      "inbox", "Household replies that wait for an operator: list, show, assign, reply, close");
  inbox->require_subcommand(1);

  struct ListArgs {
    std::vector<std::string> statuses;
    std::string campaign, area, assigned;
    int limit = 50;
    bool json = false;
  };
  auto list_args = std::make_shared<ListArgs>();
  auto* list = inbox->add_subcommand("list", "Replies waiting (open, assigned), newest first");
  list->add_option("--status", list_args->statuses,
                   "Statuses to list: new, handled, open, assigned, answered, closed (repeatable)");
  list->add_option("--campaign", list_args->campaign, "Only replies to this campaign");
  list->add_option("--area", list_args->area, "Only households of this province, commune or village");
  list->add_option("--assigned-to", list_args->assigned, "Only replies assigned to this operator");
  list->add_option("--limit", list_args->limit, "At most this many")->check(CLI::Range(1, 10000));
  list->add_flag("--json", list_args->json, "One JSON object per line");
  list->callback([&ctx, list_args] {
    auto& db = ctx.store();
    campaigns::InboxFilter f;
    f.statuses = list_args->statuses;
    f.campaign = list_args->campaign;
    f.area = list_args->area;
    f.assigned_to = list_args->assigned;
    f.limit = list_args->limit;
    const auto items = campaigns::list_inbox(db, f);
    for (const auto& i : items) {
      if (list_args->json) {
        std::cout << json::serialize(to_json(i)) << "\n";
        continue;
      }
      std::cout << "#" << i.id << "  " << i.received_at << "  [" << i.status
                << (i.assigned_to.empty() ? "" : " " + i.assigned_to) << "]  " << sender(i, true)
                << (area(i).empty() ? "" : "  " + area(i))
                << (i.campaign.empty() ? "" : "  campaign " + i.campaign) << "\n    "
                << i.text << "\n";
    }
    if (!list_args->json) {
      std::cout << items.size() << " repl" << (items.size() == 1 ? "y" : "ies") << " listed;";
      for (const auto& [status, n] : campaigns::inbox_counts(db))
        std::cout << " " << status << " " << with_commas(static_cast<std::uint64_t>(n));
      std::cout << "\n";
    }
    ctx.exit_code = kExitOk;
  });

  auto id = std::make_shared<std::int64_t>(0);
  auto show_json = std::make_shared<bool>(false);
  auto* show = inbox->add_subcommand("show", "One reply, with its household and answer");
  show->add_option("id", *id, "Reply id (from `loa inbox list`)")->required();
  show->add_flag("--json", *show_json, "As JSON");
  show->callback([&ctx, id, show_json] {
    auto item = campaigns::find_inbox_item(ctx.store(), *id);
    if (!item) throw campaigns::InboxError("reply " + std::to_string(*id) + ": no such reply");
    const auto& i = *item;
    if (*show_json) {
      std::cout << json::serialize(to_json(i)) << "\n";
    } else {
      std::cout << "reply      #" << i.id << " (" << i.status << ", rule " << i.rule << ")\n"
                << "received   " << i.received_at << " on route " << i.route << "\n"
                << "from       " << sender(i, false) << "\n"
                << "household  " << (i.household_id ? std::to_string(i.household_id) : "-")
                << (i.household_code.empty() ? "" : " " + i.household_code) << "  "
                << area(i) << "  language " << i.language << "\n"
                << "campaign   " << (i.campaign.empty() ? "-" : i.campaign) << "\n"
                << "assigned   " << (i.assigned_to.empty() ? "-" : i.assigned_to) << "\n"
                << "text       " << i.text << "\n";
      if (i.answer_message_id)
        std::cout << "answer     message " << i.answer_message_id << ": " << i.answer_state
                  << "\n";
    }
    ctx.exit_code = kExitOk;
  });

  struct ActArgs {
    std::int64_t id = 0;
    std::string text, who;
  };
  auto assign_args = std::make_shared<ActArgs>();
  auto* assign = inbox->add_subcommand("assign", "Assign a reply to an operator");
  assign->add_option("id", assign_args->id, "Reply id")->required();
  assign->add_option("operator", assign_args->who, "Operator")->required();
  assign->callback([&ctx, assign_args] {
    auto& db = ctx.store();
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    campaigns::assign_reply(db, assign_args->id, assign_args->who, SystemClock().now());
    tx.commit();
    std::cout << "reply " << assign_args->id << " assigned to " << assign_args->who << "\n";
    ctx.exit_code = kExitOk;
  });

  auto reply_args = std::make_shared<ActArgs>();
  auto* reply = inbox->add_subcommand(
      "reply", "Answer a reply through the channel the household used, in the priority lane");
  reply->add_option("id", reply_args->id, "Reply id")->required();
  reply->add_option("text", reply_args->text, "The answer")->required();
  reply->add_option("--as", reply_args->who, "Operator name (default: cli:<user>)");
  reply->callback([&ctx, reply_args] {
    const Config& config = ctx.config();
    auto& db = ctx.store();
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    const auto message =
        campaigns::answer_reply(db, reply_args->id, reply_args->text,
                                now_operator(reply_args->who), routes_from(config),
                                SystemClock().now(), carrier_routes(config));
    tx.commit();
    SQLite::Statement st(db, "SELECT route, channel, units FROM outbox WHERE id = ?");
    st.bind(1, message);
    st.executeStep();
    std::cout << "reply " << reply_args->id << " answered: message " << message << " queued on route "
              << st.getColumn(0).getString() << " (" << st.getColumn(1).getString() << ", "
              << st.getColumn(2).getInt() << " unit(s)) in the priority lane; "
              << "`loa inbox show " << reply_args->id << "` follows its delivery\n";
    ctx.exit_code = kExitOk;
  });

  auto close_args = std::make_shared<ActArgs>();
  auto* close = inbox->add_subcommand("close", "Close a reply (no answer needed, or done)");
  close->add_option("id", close_args->id, "Reply id")->required();
  close->add_option("--as", close_args->who, "Operator name (default: cli:<user>)");
  close->callback([&ctx, close_args] {
    auto& db = ctx.store();
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    campaigns::close_reply(db, close_args->id, now_operator(close_args->who), SystemClock().now());
    tx.commit();
    std::cout << "reply " << close_args->id << " closed\n";
    ctx.exit_code = kExitOk;
  });
}

}  // namespace loa::engine::cli
