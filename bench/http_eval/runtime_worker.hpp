// Shared by all candidate servers: a stand-in for the Ordo runtime.
//
// The real node hands each command to the actor runtime and answers when the
// runtime is done, on a runtime thread, not on the HTTP thread. This class
// reproduces exactly that hand-off so the servers are compared on the part
// that matters to us (async completion from a foreign thread), not on a
// synchronous "hello world".
//
// - ONE worker thread (the runtime side),
// - a BOUNDED queue: submit() never blocks the caller (an I/O thread must not
//   block); when the queue is full it returns false and the server answers 503,
// - the completion is called on the worker thread with the 201 body; each
//   server decides how to get back onto its connection from there.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace http_eval {

constexpr std::size_t kMaxBodyBytes = 64 * 1024;     // larger bodies -> 413
constexpr std::size_t kMaxConnections = 1024;        // beyond this: refuse
constexpr int kIdleTimeoutSeconds = 30;              // idle / slow client
constexpr std::size_t kQueueCapacity = 4096;         // runtime inbox bound

class RuntimeWorker {
public:
    using Completion = std::function<void(std::string response_body)>;

    RuntimeWorker() : thread_([this] { run(); }) {}
    ~RuntimeWorker() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            stop_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }
    RuntimeWorker(const RuntimeWorker&) = delete;
    RuntimeWorker& operator=(const RuntimeWorker&) = delete;

    // Called on an HTTP thread. Never blocks; false means "queue full".
    bool submit(std::string body, Completion done) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (queue_.size() >= kQueueCapacity) return false;
            queue_.emplace_back(std::move(body), std::move(done));
        }
        cv_.notify_one();
        return true;
    }

private:
    void run() {
        std::deque<std::pair<std::string, Completion>> batch;
        for (;;) {
            {
                std::unique_lock<std::mutex> lock(mu_);
                cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
                if (stop_ && queue_.empty()) return;
                batch.swap(queue_);  // drain everything queued, one lock
            }
            for (auto& [body, done] : batch) done(answer(body));
            batch.clear();
        }
    }

    // ~200-byte command answer, shaped like docs/api.md. The body length goes
    // into it so the compiler cannot drop the read of the request body.
    std::string answer(const std::string& body) {
        ++seq_;
        std::string s = R"({"outcome":"accepted","order_id":"01JD8Z6Q0000000000000)";
        s += std::to_string(seq_ % 100000);
        s += R"(","duplicate":false,"first_seq":")" + std::to_string(seq_) +
             R"(","last_seq":")" + std::to_string(seq_) +
             R"(","request_bytes":)" + std::to_string(body.size()) +
             R"(,"status":"ORDER_STATUS_PLACED","events":[{"type":"OrderPlaced","version":1}]})";
        return s;
    }

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::pair<std::string, Completion>> queue_;
    bool stop_ = false;
    unsigned long seq_ = 0;
    std::thread thread_;  // last: started after the members above exist
};

}  // namespace http_eval
