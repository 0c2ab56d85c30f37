#include "stats.hpp"

namespace ordo::loadgen {

void counters::count_status(int status) {
  ++responses;
  if (status >= 200 && status < 300)
    ++status_2xx;
  else if (status == 409)
    ++status_409;
  else if (status == 429)
    ++status_429;
  else if (status >= 400 && status < 500)
    ++status_4xx;
  else if (status >= 500 && status < 600)
    ++status_5xx;
  else
    ++status_other;
}

void counters::add(const counters& o) {
  responses += o.responses;
  status_2xx += o.status_2xx;
  status_409 += o.status_409;
  status_429 += o.status_429;
  status_4xx += o.status_4xx;
  status_5xx += o.status_5xx;
  status_other += o.status_other;
  conn_errors += o.conn_errors;
  timeouts += o.timeouts;
  unsent += o.unsent;
  proto_errors += o.proto_errors;
}

void run_stats::merge(const run_stats& o) {
  for (size_t i = 0; i < op_count; ++i)
    ops[i].merge(o.ops[i]);
  unassigned.add(o.unassigned);
  acked_orders += o.acked_orders;
  backlog_at_end += o.backlog_at_end;
  flow.merge(o.flow);
}

op_stats run_stats::total() const {
  op_stats t;
  for (const op_stats& s : ops)
    t.merge(s);
  t.c.add(unassigned);
  return t;
}

} // namespace ordo::loadgen
