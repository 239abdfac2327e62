#include "server/http_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/json_escape.h"
#include "common/log.h"
#include "common/strings.h"

namespace kq::server {
namespace {

constexpr size_t kHttpThreads = 48;
constexpr int kListenBacklog = 1024;

std::string JsonError(std::string_view message) {
  std::string out = "{\"error\":";
  AppendJsonQuoted(message, &out);
  out += "}\n";
  return out;
}

}  // namespace

HttpServer::HttpServer(const ServerConfig& config, IngestPipeline* pipeline, Metrics* metrics,
                       const std::atomic<bool>* ready, const std::atomic<bool>* draining)
    : config_(config), pipeline_(pipeline), metrics_(metrics), ready_(ready), draining_(draining) {}

HttpServer::~HttpServer() { Stop(); }

absl::Status HttpServer::Start() {
  if (!config_.tls_cert.empty()) {
    auto ssl = std::make_unique<httplib::SSLServer>(
        config_.tls_cert.c_str(), config_.tls_key.c_str(),
        config_.tls_client_ca.empty() ? nullptr : config_.tls_client_ca.c_str());
    if (!ssl->is_valid()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot start HTTPS: tls-cert ", config_.tls_cert, ", tls-key ", config_.tls_key,
          config_.tls_client_ca.empty() ? ""
                                        : absl::StrCat(", tls-client-ca ", config_.tls_client_ca),
          ": unreadable or invalid PEM, or the key does not match the certificate"));
    }
    server_ = std::move(ssl);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  server_->new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
  server_->set_payload_max_length(config_.webhook_body_limit);
  // Answer without Nagle delays: the status line and the body go out as separate writes, and a
  // client that delays its ACKs would otherwise hold every answer about 40 ms (Go clients, such
  // as kube-apiserver, disable Nagle on their side too).
  server_->set_tcp_nodelay(true);
  server_->set_read_timeout(60, 0);
  server_->set_write_timeout(60, 0);
  server_->set_keep_alive_max_count(1000);
  Routes();

  const std::string& listen = config_.http_listen;
  size_t colon = listen.rfind(':');
  host_ = listen.substr(0, colon);
  if (host_.size() >= 2 && host_.front() == '[' && host_.back() == ']') {
    host_ = host_.substr(1, host_.size() - 2);
  }
  int want = 0;
  if (!absl::SimpleAtoi(listen.substr(colon + 1), &want)) {
    return absl::InvalidArgumentError(absl::StrCat("http-listen: bad port in ", listen));
  }
  // cpp-httplib listens with a backlog of 5, too short for 15 apiserver batches (and more
  // senders) connecting at once under load: remember the socket, listen again with a longer one.
  int listen_fd = -1;
  server_->set_socket_options([&listen_fd](socket_t sock) {
    listen_fd = sock;
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  if (want == 0) {
    port_ = server_->bind_to_any_port(host_.c_str());
  } else {
    port_ = server_->bind_to_port(host_.c_str(), want) ? want : -1;
  }
  if (port_ > 0 && listen_fd >= 0) ::listen(listen_fd, kListenBacklog);
  if (port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("http-listen: cannot bind ", listen, " (address in use or not local?)"));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return absl::OkStatus();
}

std::string HttpServer::address() const { return absl::StrCat(host_, ":", port_); }

void HttpServer::Stop() {
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
}

void HttpServer::Routes() {
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    bool ok = ready_->load() && !draining_->load();
    res.status = ok ? 200 : 503;
    res.set_content(ok ? "ready\n" : (draining_->load() ? "draining\n" : "starting\n"),
                    "text/plain");
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_->Render(pipeline_->store()), "text/plain; version=0.0.4");
  });
  server_->Post(R"(/ingest/([^/]+)/([^/]+))", [this](const httplib::Request& req,
                                                     httplib::Response& res) {
    const std::string env = req.matches[1];
    const std::string cluster = req.matches[2];
    auto reject = [&](int status, std::string_view code, std::string_view message) {
      metrics_->AddRejected("webhook", code);
      res.status = status;
      res.set_content(JsonError(message), "application/json");
    };
    if (pipeline_->store()->Find(env) == nullptr) {
      reject(404, "404", absl::StrCat("unknown environment \"", env, "\""));
      return;
    }
    if (draining_->load()) {
      res.set_header("Retry-After", "1");
      reject(503, "503", "kqd is shutting down; retry");
      return;
    }
    IngestPipeline::Ticket ticket = pipeline_->TryAdmit();
    if (!ticket) {
      res.set_header("Retry-After", "1");
      reject(429, "429", "ingest queue full; retry after 1s");
      return;
    }
    uint64_t seq = batch_seq_.fetch_add(1) + 1;
    std::string source = absl::StrCat("webhook:", env, "/", cluster, " batch ", seq);
    IngestStats stats;
    absl::Status s = pipeline_->IngestText(env, cluster, source, "webhook", req.body,
                                           TextKind::kBody, 1, &stats);
    if (!s.ok()) {
      log::Error("webhook ", source, ": ", s.ToString());
      reject(s.code() == absl::StatusCode::kNotFound ? 404 : 500,
             s.code() == absl::StatusCode::kNotFound ? "404" : "500", StdSv(s.message()));
      return;
    }
    if (stats.decoded == 0 && stats.quarantined > 0) {
      reject(400, "400",
             absl::StrCat("no event could be decoded (kept in quarantine, id ",
                          stats.quarantine_ids.empty() ? 0 : stats.quarantine_ids.front(),
                          "): ", stats.first_error));
      return;
    }
    res.status = 200;
    res.set_content(absl::StrCat("{\"stored\":", stats.stored, ",\"duplicates\":", stats.duplicates,
                                 ",\"quarantined\":", stats.quarantined,
                                 ",\"filtered\":", stats.filtered, "}\n"),
                    "application/json");
  });
}

}  // namespace kq::server
