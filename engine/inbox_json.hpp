// One inbox item (campaigns/inbox.hpp) as JSON, the same shape for `loa inbox list|show --json`
// and the REST API (engine/api_inbox.cpp). Phones are given as stored: the caller is an
// authorised operator, not a log.
//
// Thread-safety: a pure function.
#pragma once

#include <boost/json/object.hpp>

#include "campaigns/inbox.hpp"

namespace loa::engine {

boost::json::object inbox_item_json(const campaigns::InboxItem& item);

}  // namespace loa::engine
