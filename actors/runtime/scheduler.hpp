#pragma once
// The runtime's actor scheduler: CAF 0.17's work stealing, with one change in how a message
// from outside the actor threads (an HTTP thread, the journal writer) wakes a sleeping worker.
//
// CAF's work_stealing::external_enqueue signals the worker's condition variable while it
// still holds the mutex the worker sleeps with. The woken worker then blocks at once on that
// mutex and is woken a second time when the sender lets go: two wake-ups (context switches on
// a 2-core machine) per message into an idle worker — measured 2.0 wake-ups of the worker per
// request with one connection (perf sched_wakeup, docs/benchmarks.md, "The request path").
// Here the sender reads `sleeping` under the mutex and signals after releasing it. No wake-up
// is lost: the worker re-checks its queue under the mutex before it sleeps, and the job is in
// the queue before the sender takes the mutex.
//
// Everything else (queues, stealing, the poll strategies and their work-stealing.* settings)
// is CAF's. Installed by runtime::start with actor_system_config::load (which makes CAF skip
// its own scheduler); scheduler.max-threads still sets the number of workers.

#include <mutex>

#include <caf/policy/work_stealing.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/coordinator.hpp>

namespace ordo {

class prompt_wake_stealing : public caf::policy::work_stealing {
public:
  template <class Worker>
  void external_enqueue(Worker* self, caf::resumable* job) {
    d(self).queue.append(job);
    auto& wait = d(self).waitdata;
    bool sleeping;
    {
      std::lock_guard<std::mutex> guard{wait.lock};
      sleeping = wait.sleeping;
    }
    if (sleeping) wait.cv.notify_one();
  }
};

using runtime_scheduler = caf::scheduler::coordinator<prompt_wake_stealing>;

} // namespace ordo
