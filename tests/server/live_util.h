// Helpers for the server tests that run a real kqd (in-process Server or the kqd binary):
// ephemeral-port configs, webhook POSTs over real HTTP, gRPC stubs, and reading a data
// directory back with the storage library (independently of the query engine).
#ifndef KQ_TESTS_SERVER_LIVE_UTIL_H_
#define KQ_TESTS_SERVER_LIVE_UTIL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kq/v1/admin.grpc.pb.h"
#include "kq/v1/ingest.grpc.pb.h"
#include "kq/v1/query.grpc.pb.h"
#include "server/config.h"

namespace kq::testing {

// A config with ephemeral ports on 127.0.0.1 and data under `data_dir`.
server::ServerConfig TestConfig(const std::string& data_dir);

struct HttpResult {
  int status = 0;  // 0 when the connection failed
  std::string body;
  std::string retry_after;
  std::string error;  // transport error, when status == 0
};

// Options for a webhook POST; TLS when ca_cert is set.
struct PostOptions {
  std::string ca_cert;      // PEM CA to verify the server with; "" = plain HTTP
  std::string client_cert;  // PEM client certificate and key ("" = none)
  std::string client_key;
};

// POSTs `body` to http(s)://<address><path> exactly as kube-apiserver's webhook does
// (Content-Type/Accept headers, ?timeout=30s appended).
HttpResult PostWebhook(const std::string& address, const std::string& path, const std::string& body,
                       const PostOptions& options = {});
HttpResult Get(const std::string& address, const std::string& path);

// Every auditID stored in `env` of the store at `data_dir` (opened read-write: the server
// must be gone), with its count.
absl::StatusOr<std::multiset<std::string>> StoredAuditIds(const std::string& data_dir,
                                                          const std::string& env);

std::shared_ptr<grpc::Channel> Connect(const std::string& address);

// Certificates for TLS tests, made with the openssl CLI into `dir`: ca.pem/ca.key,
// server.pem/server.key (for IP 127.0.0.1), client.pem/client.key (signed by the CA) and
// rogue.pem/rogue.key (self-signed, not trusted).
bool MakeCertificates(const std::string& dir);

}  // namespace kq::testing

#endif  // KQ_TESTS_SERVER_LIVE_UTIL_H_
