#pragma once
// Commits that add events to the feed, as a signal feed followers sleep on instead of polling.
//
// Why: a follower that has caught up (the saga, runtime::subscribe, the node's long polls)
// used to look at the journal every 1-10 ms for new events: on an idle node ~1,000 wake-ups
// and read transactions a second, a few % of a core for nothing. Every event enters the feed
// through an entity actor's append, whose completion calls committed() on the journal's
// writer thread (append_slot.hpp); a follower arms its listener, looks at the feed once more,
// and sleeps until the listener's `wake` is called.
//
// The protocol, for a follower with its own mutex `mu`, condition variable `cv` and flag
// `woken` (set by `wake` under `mu`):
//     auto seen = signal.commits();
//     ... read the feed: nothing new ...
//     l->arm();
//     if (signal.commits() != seen) { l->disarm(); continue; } // a commit came in between
//     lock mu; cv.wait_until(.., [] { return woken || ...; }); woken = false; l->disarm();
// No wake-up is lost: the follower writes "armed" before it reads the count, committed()
// writes the count before it reads "armed" (all sequentially consistent), so one of them sees
// the other. Cost on the writer thread when nobody sleeps: one atomic increment and one load.
//
// Thread-safe. `wake` runs on the committing thread with the signal's mutex held: it must
// only lock its own mutex, set a flag and notify; a follower must not hold its mutex while it
// calls listen() or drops a listener.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace ordo {

class feed_signal {
public:
  class listener {
  public:
    /// The next commit calls `wake` once (then the listener is disarmed).
    void arm();
    /// No call of `wake` for commits from now on (one already running may still finish).
    void disarm();
    ~listener();

  private:
    friend class feed_signal;
    listener(feed_signal& s, std::function<void()> wake) : signal_(s), wake_(std::move(wake)) {}
    feed_signal& signal_;
    std::function<void()> wake_;
    std::atomic<bool> armed_{false};
  };

  /// A listener whose `wake` runs on a commit after arm(). Drop it before the signal.
  std::unique_ptr<listener> listen(std::function<void()> wake);

  /// Appends with events committed so far.
  uint64_t commits() const { return commits_.load(); }

  /// An append with events committed (the journal's writer thread): wakes armed listeners.
  void committed();

private:
  std::atomic<uint64_t> commits_{0};
  std::atomic<int> armed_{0}; // listeners armed now
  std::mutex mu_;
  std::vector<listener*> listeners_; // guarded by mu_
};

} // namespace ordo
