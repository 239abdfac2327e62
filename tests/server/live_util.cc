#include "tests/server/live_util.h"

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "storage/store.h"
#include "tests/testing/subprocess.h"

namespace kq::testing {

server::ServerConfig TestConfig(const std::string& data_dir) {
  server::ServerConfig c;
  c.data_dir = data_dir;
  c.grpc_listen = "127.0.0.1:0";
  c.http_listen = "127.0.0.1:0";
  c.memory_budget = 64ull << 20;
  return c;
}

namespace {

std::unique_ptr<httplib::Client> MakeClient(const std::string& address,
                                            const PostOptions& options) {
  std::string host = address.substr(0, address.rfind(':'));
  int port = 0;
  if (!absl::SimpleAtoi(address.substr(address.rfind(':') + 1), &port)) return nullptr;
  std::unique_ptr<httplib::Client> client;
  if (options.ca_cert.empty()) {
    client = std::make_unique<httplib::Client>(host, port);
  } else {
    client = std::make_unique<httplib::Client>(absl::StrCat("https://", host, ":", port),
                                               options.client_cert, options.client_key);
    client->set_ca_cert_path(options.ca_cert.c_str());
    client->enable_server_certificate_verification(true);
  }
  client->set_connection_timeout(10, 0);
  client->set_read_timeout(30, 0);
  return client;
}

HttpResult ToResult(const httplib::Result& r) {
  HttpResult out;
  if (!r) {
    out.error = httplib::to_string(r.error());
    return out;
  }
  out.status = r->status;
  out.body = r->body;
  out.retry_after = r->get_header_value("Retry-After");
  return out;
}

}  // namespace

HttpResult PostWebhook(const std::string& address, const std::string& path, const std::string& body,
                       const PostOptions& options) {
  auto client = MakeClient(address, options);
  httplib::Headers headers = {{"Accept", "application/json, */*"},
                              {"User-Agent", "Go-http-client/1.1"}};
  return ToResult(client->Post((path + "?timeout=30s").c_str(), headers, body, "application/json"));
}

HttpResult Get(const std::string& address, const std::string& path) {
  auto client = MakeClient(address, {});
  return ToResult(client->Get(path.c_str()));
}

absl::StatusOr<std::multiset<std::string>> StoredAuditIds(const std::string& data_dir,
                                                          const std::string& env) {
  storage::StoreOptions options;
  options.data_dir = data_dir;
  options.memory_budget_bytes = 32ull << 20;
  auto store = storage::Store::Open(options);
  if (!store.ok()) return store.status();
  storage::Environment* e = (*store)->Find(env);
  if (e == nullptr) return absl::NotFoundError(env);
  std::multiset<std::string> ids;
  auto reader = e->NewReader();
  absl::Status s = reader->Scan(
      storage::ScanRange{},
      [&](const storage::EventBatch& batch) -> absl::StatusOr<bool> {
        const storage::StringColumn& col = batch.Strings(storage::Column::kAuditId);
        for (uint32_t code : col.codes) ids.emplace(col.dict[code]);
        return true;
      },
      nullptr);
  if (!s.ok()) return s;
  return ids;
}

std::shared_ptr<grpc::Channel> Connect(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

bool MakeCertificates(const std::string& dir) {
  std::string script = absl::StrCat(
      "set -e; cd '", dir, "';",
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
      "-subj /CN=kq-test-ca 2>/dev/null;",
      "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
      "-subj /CN=127.0.0.1 2>/dev/null;",
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext;",
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
      "-out server.pem -days 2 -extfile san.ext 2>/dev/null;",
      "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr "
      "-subj /CN=kube-apiserver 2>/dev/null;",
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
      "-out client.pem -days 2 2>/dev/null;",
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.pem -days 2 "
      "-subj /CN=rogue 2>/dev/null;");
  ProcessResult r = RunProcess({"/bin/sh", "-c", script});
  return r.exit_code == 0;
}

}  // namespace kq::testing
