#pragma once
// Runs scenarios against a running node over its HTTP API (`ordoctl scenario FILE`): each
// command goes to the operations-only injection endpoints (POST /v1/admin/order-commands,
// /v1/admin/inventory-commands), states are read with GET. `restart` and `saga on|off`
// cannot be done from outside and fail the step with a message saying so.

#include <string>

#include "app/scenario/scenario.hpp"
#include "net/http_client.hpp"

namespace ordo::scenario {

run_report run_remote_file(const std::string& path, net::http_client& node,
                           bool keep_going = false);

} // namespace ordo::scenario
