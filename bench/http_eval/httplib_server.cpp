// cpp-httplib (0.11, Debian's shared-library build) candidate.
//
// Shape: cpp-httplib is blocking, thread-per-connection. Its listener thread
// accepts and enqueues each *connection* into a task queue; we give it a
// ThreadPool of 2 (the 2-core budget). A pool thread then owns that
// connection for its whole keep-alive life: read request, call the handler,
// write, read the next request... So the async hand-off can only be faked:
// the handler submits to the RuntimeWorker and BLOCKS on a future.
//
// Consequence: at most 2 connections are being served at any moment. Every
// other accepted connection waits in the pool's (unbounded, in 0.11) queue
// until a pool thread lets go of its connection: after keep_alive_max_count
// requests, after keep_alive_timeout of idleness, or on close. An idle or
// slow client pins one of the 2 threads for up to the read/keep-alive
// timeout. Raising the pool size is the library's only answer.
//
// Built-in: body limit (set_payload_max_length -> 413), read/write timeouts,
// keep-alive timeout and max requests per connection. Not built-in: a
// connection-count limit (the pool queue is unbounded), async responses.
#include "runtime_worker.hpp"

#include <httplib.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <future>

using http_eval::RuntimeWorker;

static httplib::Server* g_server = nullptr;

int main(int argc, char** argv) {
    int port = argc > 1 ? std::atoi(argv[1]) : 18083;
    // Requests served per connection before the pool thread releases it.
    // Library default is 5; it is what keeps other connections from starving.
    size_t keep_alive_max = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 5;

    RuntimeWorker worker;
    httplib::Server server;
    g_server = &server;

    server.new_task_queue = [] { return new httplib::ThreadPool(2); };
    server.set_payload_max_length(http_eval::kMaxBodyBytes);      // 413 built-in
    server.set_read_timeout(http_eval::kIdleTimeoutSeconds, 0);   // per read() call
    server.set_write_timeout(http_eval::kIdleTimeoutSeconds, 0);
    server.set_keep_alive_timeout(5);                             // idle keep-alive
    server.set_keep_alive_max_count(keep_alive_max);
    server.set_tcp_nodelay(true);

    server.Post("/v1/orders", [&](const httplib::Request& req, httplib::Response& res) {
        // req.body is already fully read by the library.
        auto answer = std::make_shared<std::promise<std::string>>();
        auto future = answer->get_future();
        if (!worker.submit(req.body, [answer](std::string body) { answer->set_value(std::move(body)); })) {
            res.status = 503;
            res.set_content(R"({"error":{"code":"overloaded"}})", "application/json");
            return;
        }
        // Blocks this pool thread (one of only 2) until the runtime answers.
        res.status = 201;
        res.set_content(future.get(), "application/json");
    });

    std::signal(SIGINT, [](int) { g_server->stop(); });   // stop() is what the
    std::signal(SIGTERM, [](int) { g_server->stop(); });  // library offers
    std::printf("cpp-httplib listening on 127.0.0.1:%d (keep_alive_max_count=%zu)\n",
                port, keep_alive_max);
    std::fflush(stdout);
    if (!server.listen("127.0.0.1", port)) {
        std::fprintf(stderr, "listen failed\n");
        return 1;
    }
    return 0;
}
