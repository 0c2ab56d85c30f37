// The HTTP/1.1 listener on Boost.Beast (chosen by measurement: bench/http_eval/README.md,
// docs/dependencies.md). One io_context run by http.threads threads; with more than one, each
// connection lives on its own strand, so its handlers never run concurrently (with one, the
// thread alone serializes them). A request is handed to the API
// handler; its answer may come from any thread (a command answers after its commit) and is
// posted back onto the connection's strand. The session holds itself alive (shared_ptr)
// until the answer is written, even if the client left meanwhile.
//
// Limits: header and body size on the parser (431 / 413), the read buffer (head + body +
// chunk framing: 413), one deadline per read covering idle keep-alive and slow clients
// (http.idle_timeout: the connection is closed), a connection count (http.connections_max)
// and a count per client IP address (http.connections_per_client_max), both refused with 503. No pipelining: the next
// request is read after the answer to the previous one is written.
#include "app/node/http_server.hpp"
#include "app/node/http_request_parse.hpp"

#include <algorithm>
#include <atomic>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/core.h>

#include "app/node/errors.hpp"
#include "messages/json/json.hpp"
#include "app/node/log.hpp"

namespace ordo::node {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

class beast_server;

using namespace beast_request;

class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket&& s, beast_server& server, std::string client);
  ~session();
  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }
  /// Closes the connection (from any thread); an answer still owed is dropped.
  void close_from_outside() {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
  }

private:
  void read();
  void on_header(beast::error_code ec, size_t head_bytes);
  void on_read(beast::error_code ec);
  void dispatch_request();
  void reply(http_response r, bool keep_alive, bool counted);
  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

public:
  std::list<std::weak_ptr<session>>::iterator listed_; // in beast_server::sessions_

private:
  beast::tcp_stream stream_;
  beast_server& server_;
  beast::flat_buffer buffer_; // capped: read_buffer_max
  std::string client_;        // the peer's IP address (connections per client)
  std::optional<request_parser> parser_;
  http::response<http::string_body> res_;
  unsigned version_ = 11;
};

class beast_server final : public http_server {
public:
  beast_server(const http_config& cfg, http_handler handler, metrics& m)
      : cfg_(cfg), handler_(std::move(handler)), metrics_(m), ioc_(static_cast<int>(cfg.threads)),
        acceptor_(serial_executor()) {}

  ~beast_server() override { stop(); }

  caf::expected<void> listen() {
    auto colon = cfg_.listen.rfind(':');
    std::string host = cfg_.listen.substr(0, colon);
    if (host == "localhost") host = "127.0.0.1";
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    beast::error_code ec;
    auto addr = net::ip::make_address(host, ec);
    if (ec)
      return make_error(node_errc::listen_failed,
                        fmt::format("http.listen: '{}' is not an IP address", host));
    tcp::endpoint ep{addr, static_cast<unsigned short>(std::stoi(cfg_.listen.substr(colon + 1)))};
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
      return make_error(node_errc::listen_failed,
                        fmt::format("cannot listen on {}: {}", cfg_.listen, ec.message()));
    port_ = acceptor_.local_endpoint().port();
    accept();
    // Sessions waiting for an answer have no pending I/O; without this guard run() would
    // return once the acceptor closes, and answers posted later would never be written.
    work_.emplace(ioc_.get_executor());
    for (uint32_t i = 0; i < cfg_.threads; ++i)
      threads_.emplace_back([this] { ioc_.run(); });
    return caf::unit;
  }

  uint16_t port() const override { return port_; }

  void stop_accepting() override {
    stopping_ = true;
    std::promise<void> closed;
    net::post(acceptor_.get_executor(), [this, &closed] {
      beast::error_code ec;
      acceptor_.close(ec);
      closed.set_value();
    });
    closed.get_future().wait();
  }

  size_t in_flight() const override { return in_flight_.load(); }

  void stop() override {
    if (threads_.empty()) return;
    if (!stopping_) stop_accepting();
    // Take the live sessions out under the lock, close them outside it: the last reference to
    // a session may be ours, and its destructor delists itself under the same lock.
    std::vector<std::shared_ptr<session>> live;
    {
      std::lock_guard<std::mutex> g{sessions_mu_};
      for (auto& w : sessions_)
        if (auto s = w.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live)
      s->close_from_outside();
    live.clear();
    // Give the closes a moment to run, then stop the loop.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds{2};
    while (open_.load() > 0 && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds{2});
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_)
      t.join();
    threads_.clear();
  }

  // For sessions.
  const http_config& cfg() const { return cfg_; }
  bool stopping() const { return stopping_.load(); }
  void handle(http_request r, responder done) { handler_(std::move(r), std::move(done)); }
  std::atomic<size_t> in_flight_{0};
  metrics& m() { return metrics_; }
  std::list<std::weak_ptr<session>>::iterator enlist(const std::shared_ptr<session>& s) {
    std::lock_guard<std::mutex> g{sessions_mu_};
    return sessions_.insert(sessions_.end(), s);
  }
  void delist(std::list<std::weak_ptr<session>>::iterator it, const std::string& client) {
    std::lock_guard<std::mutex> g{sessions_mu_};
    sessions_.erase(it);
    if (auto c = per_client_.find(client); c != per_client_.end() && --c->second == 0)
      per_client_.erase(c);
  }
  // Counts a new connection from `client`, or refuses it at http.connections_per_client_max
  // (one client must not take every slot). The map holds only clients with open connections.
  bool admit(const std::string& client) {
    std::lock_guard<std::mutex> g{sessions_mu_};
    auto& n = per_client_[client];
    if (n >= cfg_.connections_per_client_max) {
      if (n == 0) per_client_.erase(client);
      return false;
    }
    ++n;
    return true;
  }
  std::atomic<size_t> open_{0};

private:
  // Where a connection's (or the acceptor's) handlers run one at a time: with one I/O thread
  // the io_context itself (every handler already runs on that thread, and a strand's lock and
  // queue cost ~10 % of the thread's time under load); with more, a strand of its own.
  net::any_io_executor serial_executor() {
    if (cfg_.threads == 1) return ioc_.get_executor();
    return net::make_strand(ioc_);
  }

  void accept() {
    acceptor_.async_accept(serial_executor(), [this](beast::error_code ec, tcp::socket s) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        beast::error_code peer_ec;
        auto peer = s.remote_endpoint(peer_ec);
        std::string client = peer_ec ? std::string{} : peer.address().to_string();
        if (open_.load() >= cfg_.connections_max) {
          metrics_.connection_refused();
          refuse(s, "the node is at http.connections_max; retry later");
        } else if (!admit(client)) {
          metrics_.connection_refused();
          refuse(s, "this client address is at http.connections_per_client_max; retry later");
        } else {
          s.set_option(tcp::no_delay(true), ec);
          auto sess = std::make_shared<session>(std::move(s), *this, std::move(client));
          sess->listed_ = enlist(sess);
          sess->start();
        }
      }
      accept();
    });
  }

  // Over a connection limit: a best-effort 503 without blocking, then close.
  static void refuse(tcp::socket& s, std::string_view why) {
    const std::string body = json::error_body("too_many_connections", why);
    const std::string wire = fmt::format(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: "
        "1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{}",
        body.size(), body);
    beast::error_code ec;
    s.non_blocking(true, ec);
    s.write_some(net::buffer(wire), ec);
    s.shutdown(tcp::socket::shutdown_both, ec);
    s.close(ec);
  }

  http_config cfg_;
  http_handler handler_;
  metrics& metrics_;
  net::io_context ioc_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
  std::mutex sessions_mu_;
  std::list<std::weak_ptr<session>> sessions_; // guarded by sessions_mu_
  std::unordered_map<std::string, uint32_t> per_client_; // open connections per IP; same mutex
};

session::session(tcp::socket&& s, beast_server& server, std::string client)
    : stream_(std::move(s)), server_(server), buffer_(read_buffer_max(server.cfg())),
      client_(std::move(client)) {
  server_.open_.fetch_add(1);
  server_.m().connection_opened();
}

session::~session() {
  server_.delist(listed_, client_);
  server_.open_.fetch_sub(1);
  server_.m().connection_closed();
}

void session::read() {
  parser_.emplace();
  limit(*parser_, server_.cfg());
  // One deadline for an idle keep-alive connection and for a client dribbling its request.
  stream_.expires_after(server_.cfg().idle_timeout);
  // The head first, so its exact size can be checked (head_too_large), then the body.
  http::async_read_header(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t head_bytes) {
                            self->on_header(ec, head_bytes);
                          });
}

void session::on_header(beast::error_code ec, size_t head_bytes) {
  const auto buffered = buffer_.data();
  ec = settle_header_limit(ec, head_bytes,
                           {static_cast<const char*>(buffered.data()), buffered.size()},
                           server_.cfg());
  if (auto r = head_too_large(ec, head_bytes, server_.cfg())) {
    reply(std::move(*r), false, false);
    return;
  }
  if (ec) {
    on_read(ec);
    return;
  }
  http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
}

void session::on_read(beast::error_code ec) {
  if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
      ec == net::error::operation_aborted || ec == net::error::connection_reset ||
      ec == net::error::eof) {
    close();
    return;
  }
  if (ec) {
    if (auto r = refusal_of(ec, server_.cfg()))
      reply(std::move(*r), false, false);
    else
      close();
    return;
  }
  dispatch_request();
}

void session::dispatch_request() {
  auto& req = parser_->get();
  version_ = req.version();
  bool keep_alive = req.keep_alive();
  if (server_.stopping()) {
    auto r = json_error(503, "stopping", "the node is shutting down; retry later");
    r.headers.emplace_back("Retry-After", "1");
    reply(std::move(r), false, false);
    return;
  }
  http_request r = to_http_request(req);
  stream_.expires_never(); // the answer may take a commit; the client waits
  server_.in_flight_.fetch_add(1);
  auto self = shared_from_this();
  server_.handle(std::move(r), [self, keep_alive](http_response resp) {
    // Any thread → the connection's strand.
    net::post(self->stream_.get_executor(), [self, keep_alive, resp = std::move(resp)]() mutable {
      self->reply(std::move(resp), keep_alive, true);
    });
  });
}

void session::reply(http_response r, bool keep_alive, bool counted) {
  if (server_.stopping()) keep_alive = false; // drain: answer, then close
  res_ = {};
  res_.result(static_cast<unsigned>(r.status));
  res_.version(version_);
  res_.set(http::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers)
    res_.set(k, v);
  res_.keep_alive(keep_alive);
  res_.body() = std::move(r.body);
  res_.prepare_payload();
  stream_.expires_after(server_.cfg().idle_timeout);
  http::async_write(stream_, res_,
                    [self = shared_from_this(), counted](beast::error_code ec, size_t) {
                      if (counted) self->server_.in_flight_.fetch_sub(1);
                      if (ec || !self->res_.keep_alive()) {
                        self->close();
                        return;
                      }
                      self->read();
                    });
}

} // namespace

caf::expected<std::unique_ptr<http_server>> http_server::start(const http_config& cfg,
                                                               http_handler handler, metrics& m) {
  auto s = std::make_unique<beast_server>(cfg, std::move(handler), m);
  if (auto r = s->listen(); !r) return r.error();
  return std::unique_ptr<http_server>{std::move(s)};
}

} // namespace ordo::node
