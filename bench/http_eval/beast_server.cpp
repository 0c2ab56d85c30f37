// Boost.Beast (1.74, header-only) candidate for the node's JSON API.
//
// Shape: one io_context run by 2 threads; every connection lives on its own
// strand, so its handlers never run concurrently even with 2 threads. The
// request is handed to the RuntimeWorker; the completion (called on the
// worker thread) posts the reply back onto the connection's strand. That
// post is the whole async story - Beast has no notion of "request handlers",
// we own the session loop.
//
// Built-in: body_limit / header_limit on the parser (we map body_limit to
// 413), per-operation timeouts via beast::tcp_stream::expires_after (covers
// idle keep-alive and slow clients), keep-alive semantics via
// request.keep_alive(). Not built-in: connection-count limit (a counter in
// the acceptor below), routing, 404/413 bodies.
#include "runtime_worker.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using http_eval::RuntimeWorker;

static std::atomic<std::size_t> g_connections{0};

class Session : public std::enable_shared_from_this<Session> {
public:
    Session(tcp::socket&& socket, RuntimeWorker& worker)
        : stream_(std::move(socket)), worker_(worker) { ++g_connections; }
    ~Session() { --g_connections; }

    void start() {
        // The socket was accepted onto a strand; start on it.
        net::dispatch(stream_.get_executor(),
                      beast::bind_front_handler(&Session::read, shared_from_this()));
    }

private:
    void read() {
        parser_.emplace();  // a fresh parser per request (limits are per message)
        parser_->header_limit(8 * 1024);
        parser_->body_limit(http_eval::kMaxBodyBytes);
        // One deadline for "idle keep-alive" and "slow client dribbling bytes".
        stream_.expires_after(std::chrono::seconds(http_eval::kIdleTimeoutSeconds));
        http::async_read(stream_, buffer_, *parser_,
                         beast::bind_front_handler(&Session::on_read, shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec == http::error::body_limit)  // Content-Length (or chunks) > 64 KiB
            return reply(413, false, R"({"error":{"code":"body_too_large"}})");
        if (ec) return close();  // EOF, timeout, malformed request
        auto& req = parser_->get();
        version_ = req.version();
        keep_alive_ = req.keep_alive();
        if (req.method() != http::verb::post || req.target() != "/v1/orders")
            return reply(404, keep_alive_, R"({"error":{"code":"not_found"}})");

        // The runtime may take arbitrarily long; the deadline restarts on write.
        stream_.expires_never();
        auto self = shared_from_this();
        bool queued = worker_.submit(std::move(req.body()), [self](std::string body) {
            // Runtime thread -> connection strand. Capturing `self` keeps the
            // session alive even if the client has gone meanwhile.
            net::post(self->stream_.get_executor(), [self, body = std::move(body)]() mutable {
                self->reply(201, self->keep_alive_, std::move(body));
            });
        });
        if (!queued) reply(503, false, R"({"error":{"code":"overloaded"}})");
    }

    void reply(unsigned status, bool keep_alive, std::string body) {
        res_ = {};
        res_.result(status);
        res_.version(version_);
        res_.set(http::field::content_type, "application/json");
        res_.keep_alive(keep_alive);
        res_.body() = std::move(body);
        res_.prepare_payload();
        stream_.expires_after(std::chrono::seconds(http_eval::kIdleTimeoutSeconds));
        http::async_write(stream_, res_,
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec || !self->res_.keep_alive()) return self->close();
                              self->read();  // keep-alive: next request
                          });
    }

    void close() {
        beast::error_code ec;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }  // the last shared_ptr going away closes the socket

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::string_body> res_;
    RuntimeWorker& worker_;
    unsigned version_ = 11;
    bool keep_alive_ = true;
};

class Listener {
public:
    Listener(net::io_context& ioc, unsigned short port, RuntimeWorker& worker)
        : ioc_(ioc), acceptor_(ioc), worker_(worker) {
        tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port);
        acceptor_.open(ep.protocol());
        acceptor_.set_option(net::socket_base::reuse_address(true));
        acceptor_.bind(ep);
        acceptor_.listen(net::socket_base::max_listen_connections);
        accept();
    }

private:
    void accept() {
        acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
            if (!ec) {
                // Connection limit: hand-written - Beast has none.
                if (g_connections.load() >= http_eval::kMaxConnections) {
                    s.close(ec);
                } else {
                    s.set_option(tcp::no_delay(true), ec);
                    std::make_shared<Session>(std::move(s), worker_)->start();
                }
            }
            accept();
        });
    }

    net::io_context& ioc_;
    tcp::acceptor acceptor_;
    RuntimeWorker& worker_;
};

int main(int argc, char** argv) {
    unsigned short port = argc > 1 ? static_cast<unsigned short>(std::atoi(argv[1])) : 18081;
    net::io_context ioc(2);       // declared first: destroyed after the worker
    RuntimeWorker worker;
    Listener listener(ioc, port, worker);
    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](beast::error_code, int) { ioc.stop(); });

    std::thread second([&] { ioc.run(); });  // 2 server threads in total
    std::printf("beast listening on 127.0.0.1:%u\n", port);
    std::fflush(stdout);
    ioc.run();
    second.join();
    return 0;
}
