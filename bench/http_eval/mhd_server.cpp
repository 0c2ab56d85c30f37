// GNU libmicrohttpd (0.9.75) candidate for the node's JSON API.
//
// Shape: MHD's own thread pool of 2 threads, each with its own epoll loop
// (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, THREAD_POOL_SIZE 2).
// The access handler is a C callback that MHD calls several times per
// request: once for the headers, once per body chunk, and once more when the
// body is complete. On that last call we MHD_suspend_connection(), hand the
// body to the RuntimeWorker, and return. The completion (worker thread)
// stores the answer and calls MHD_resume_connection(), which wakes the
// connection's pool thread; MHD then calls the handler again and we queue
// the response. MHD_ALLOW_SUSPEND_RESUME is required for this.
//
// Built-in: connection limit (MHD_OPTION_CONNECTION_LIMIT), idle timeout
// (MHD_OPTION_CONNECTION_TIMEOUT; suspended connections are exempt), header
// size via the per-connection memory pool (MHD_OPTION_CONNECTION_MEMORY_LIMIT),
// keep-alive. Not built-in: a body-size limit (we check Content-Length and
// count bytes ourselves), routing.
#include "runtime_worker.hpp"

#include <microhttpd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

using http_eval::RuntimeWorker;

namespace {

// Per-request state, created on the first call, freed in request_completed.
struct Request {
    std::string body;
    bool too_large = false;
    bool submitted = false;
    unsigned status = 0;       // set by the worker before resume
    std::string answer;
};

MHD_Result send(MHD_Connection* c, unsigned status, const std::string& body) {
    MHD_Response* r = MHD_create_response_from_buffer(
        body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);  // MHD holds its own reference
    return ret;
}

MHD_Result handle(void* cls, MHD_Connection* c, const char* url, const char* method,
                  const char*, const char* upload_data, size_t* upload_size, void** con_cls) {
    auto* worker = static_cast<RuntimeWorker*>(cls);
    auto* req = static_cast<Request*>(*con_cls);

    if (req == nullptr) {  // first call: headers only
        if (std::strcmp(method, "POST") != 0 || std::strcmp(url, "/v1/orders") != 0)
            return send(c, 404, R"({"error":{"code":"not_found"}})");
        // Body limit is ours to write. Refusing on Content-Length before the
        // body is read makes MHD close the connection after the 413.
        const char* cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl != nullptr && std::strtoull(cl, nullptr, 10) > http_eval::kMaxBodyBytes)
            return send(c, 413, R"({"error":{"code":"body_too_large"}})");
        *con_cls = req = new Request;
        return MHD_YES;
    }

    if (*upload_size != 0) {  // a body chunk (chunked bodies are counted too)
        if (req->body.size() + *upload_size > http_eval::kMaxBodyBytes) req->too_large = true;
        if (!req->too_large) req->body.append(upload_data, *upload_size);
        *upload_size = 0;  // consumed
        return MHD_YES;
    }

    if (req->too_large) return send(c, 413, R"({"error":{"code":"body_too_large"}})");

    if (!req->submitted) {  // body complete: hand off and suspend
        req->submitted = true;
        // Suspend *before* submitting so that a fast resume can never come
        // first. The suspension takes effect when we return.
        MHD_suspend_connection(c);
        bool queued = worker->submit(std::move(req->body), [c, req](std::string answer) {
            req->status = 201;
            req->answer = std::move(answer);
            MHD_resume_connection(c);  // thread-safe; wakes the pool thread
        });
        if (!queued) {
            req->status = 503;
            req->answer = R"({"error":{"code":"overloaded"}})";
            MHD_resume_connection(c);
        }
        return MHD_YES;
    }

    // Called again after resume: the answer is there.
    return send(c, req->status, req->answer);
}

void request_completed(void*, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
    delete static_cast<Request*>(*con_cls);
    *con_cls = nullptr;
}

volatile std::sig_atomic_t g_stop = 0;

}  // namespace

int main(int argc, char** argv) {
    unsigned short port = argc > 1 ? static_cast<unsigned short>(std::atoi(argv[1])) : 18082;
    RuntimeWorker worker;  // outlives the daemon (declared first, stopped last)

    sockaddr_in addr{};    // loopback only, like the node's default
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    MHD_Daemon* d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
            MHD_USE_ERROR_LOG,
        port, nullptr, nullptr, &handle, &worker,
        MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&addr),
        MHD_OPTION_THREAD_POOL_SIZE, 2u,
        MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(http_eval::kMaxConnections),
        MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(http_eval::kIdleTimeoutSeconds),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<size_t>(32 * 1024),  // headers must fit
        MHD_OPTION_NOTIFY_COMPLETED, &request_completed, nullptr,
        MHD_OPTION_END);
    if (d == nullptr) {
        std::fprintf(stderr, "MHD_start_daemon failed\n");
        return 1;
    }
    std::printf("libmicrohttpd listening on port %u\n", port);
    std::fflush(stdout);

    std::signal(SIGINT, [](int) { g_stop = 1; });
    std::signal(SIGTERM, [](int) { g_stop = 1; });
    while (!g_stop) pause();
    MHD_stop_daemon(d);
    return 0;
}
