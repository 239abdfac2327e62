// kq-webhook-load: measures webhook ingest the way kube-apiserver loads it: N concurrent
// senders, each POSTing EventList batches of B events and waiting for the (durable) 200 before
// the next, on keep-alive connections. Every event has a unique auditID, so every event is
// stored. Prints events/s, MB/s and latency percentiles.
//
//   kq-webhook-load --http 127.0.0.1:9911 [--senders 15] [--batch 400] [--seconds 10]
//                   [--env prod] [--cluster load]
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace {

struct Options {
  std::string http = "127.0.0.1:9911";
  int senders = 15;
  int batch = 400;
  double seconds = 10;
  std::string env = "prod";
  std::string cluster = "load";
};

// A Metadata-level event shaped like a real kube-apiserver one (about 1 KB).
void AppendEvent(std::string* out, int sender, uint64_t batch, int i) {
  int ns = (i * 7 + sender) % 20;
  int sec = static_cast<int>((batch * 13 + i) % 60);
  std::string ts = absl::StrCat("2026-11-26T10:", (sender % 50) + 10, ":", sec < 10 ? "0" : "", sec,
                                ".", 100000 + i * 17 % 899999, "Z");
  absl::StrAppend(
      out, R"({"level":"Metadata","auditID":"load-)", sender, "-", batch, "-", i,
      R"(","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/team-)", ns,
      R"(/configmaps/cfg-)", i % 50, R"(","verb":")", i % 5 == 0 ? "update" : "get",
      R"(","user":{"username":"system:serviceaccount:team-)", ns,
      R"(:deployer","uid":"8b6f0a8e-2f7c-4a57-9b0e-5a1f6f1d2c3b","groups":)",
      R"(["system:serviceaccounts","system:serviceaccounts:team-)", ns,
      R"(","system:authenticated"]},"sourceIPs":["10.12.)", sender, ".", i % 250,
      R"("],"userAgent":"kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819",)",
      R"("objectRef":{"resource":"configmaps","namespace":"team-)", ns, R"(","name":"cfg-)", i % 50,
      R"(","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},)",
      R"("requestReceivedTimestamp":")", ts, R"(","stageTimestamp":")", ts,
      R"(","annotations":{"authorization.k8s.io/decision":"allow",)",
      R"("authorization.k8s.io/reason":"RBAC: allowed by RoleBinding \"deployer/team-)", ns,
      R"(\" of ClusterRole \"edit\" to ServiceAccount \"deployer/team-)", ns, R"(\""}})");
}

std::string MakeBody(int sender, uint64_t batch, int n) {
  std::string body =
      R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[)";
  for (int i = 0; i < n; ++i) {
    if (i > 0) body += ',';
    AppendEvent(&body, sender, batch, i);
  }
  body += "]}";
  return body;
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    if (a == "--http")
      o->http = v;
    else if (a == "--senders") {
      if (!absl::SimpleAtoi(v, &o->senders)) return false;
    } else if (a == "--batch") {
      if (!absl::SimpleAtoi(v, &o->batch)) return false;
    } else if (a == "--seconds") {
      if (!absl::SimpleAtod(v, &o->seconds)) return false;
    } else if (a == "--env")
      o->env = v;
    else if (a == "--cluster")
      o->cluster = v;
    else
      return false;
  }
  return o->senders > 0 && o->batch > 0 && o->seconds > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: kq-webhook-load --http HOST:PORT [--senders N] [--batch N] "
                 "[--seconds S] [--env E] [--cluster C]\n");
    return 2;
  }
  std::string host = o.http.substr(0, o.http.rfind(':'));
  int port = 0;
  if (!absl::SimpleAtoi(o.http.substr(o.http.rfind(':') + 1), &port)) return 2;
  std::string path = absl::StrCat("/ingest/", o.env, "/", o.cluster, "?timeout=30s");

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> events{0}, bytes{0}, errors{0}, throttled{0};
  std::mutex mu;
  std::vector<double> latencies_ms;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int s = 0; s < o.senders; ++s) {
    threads.emplace_back([&, s] {
      httplib::Client client(host, port);
      client.set_keep_alive(true);
      // As kube-apiserver: Go's net/http turns Nagle's algorithm off on every connection.
      client.set_tcp_nodelay(true);
      client.set_read_timeout(30, 0);
      std::vector<double> mine;
      for (uint64_t b = 0; !stop.load(); ++b) {
        std::string body = MakeBody(s, b, o.batch);
        auto t0 = std::chrono::steady_clock::now();
        auto r = client.Post(path.c_str(), body, "application/json");
        auto t1 = std::chrono::steady_clock::now();
        if (!r) {
          errors++;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          continue;
        }
        if (r->status == 429) {
          throttled++;
          --b;  // resend the same batch, as the apiserver would
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          continue;
        }
        if (r->status != 200) {
          errors++;
          continue;
        }
        mine.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        events += o.batch;
        bytes += body.size();
      }
      std::lock_guard<std::mutex> lock(mu);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  stop.store(true);
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto pct = [&](double p) {
    if (latencies_ms.empty()) return 0.0;
    size_t i = std::min(latencies_ms.size() - 1, static_cast<size_t>(p * latencies_ms.size()));
    return latencies_ms[i];
  };
  std::printf(
      "senders=%d batch=%d seconds=%.1f events=%llu events/s=%.0f MB/s=%.1f batches=%zu "
      "p50=%.1fms p99=%.1fms max=%.1fms 429s=%llu errors=%llu\n",
      o.senders, o.batch, secs, static_cast<unsigned long long>(events.load()),
      events.load() / secs, bytes.load() / secs / 1e6, latencies_ms.size(), pct(0.5), pct(0.99),
      latencies_ms.empty() ? 0.0 : latencies_ms.back(),
      static_cast<unsigned long long>(throttled.load()),
      static_cast<unsigned long long>(errors.load()));
  return errors.load() == 0 ? 0 : 1;
}
