// kq-tail-load: measures whether kqd's file tail keeps up with an audit log growing at a given
// rate. Appends the lines of --from (e.g. `kq gen` output) to --to at --rate lines/s for
// --seconds (in 10 ms steps, whole lines only), and once a second reads kqd's /metrics to see
// how many of them the tail has ingested (stored + duplicates + quarantined, source "tail").
// Prints one line per second (written, ingested, lag in lines and in seconds of input) and, after
// the writer stops, how long kqd took to catch up.
//
//   kqd --tail prod/bench=/tmp/audit.log ...
//   kq-tail-load --from gen.jsonl --to /tmp/audit.log --http 127.0.0.1:9911
//                [--rate 50000] [--seconds 60]
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace {

struct Options {
  std::string from, to, http;
  double rate = 50000;
  double seconds = 60;
};

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--from") {
      o->from = v;
    } else if (a == "--to") {
      o->to = v;
    } else if (a == "--http") {
      o->http = v;
    } else if (a == "--rate") {
      if (!absl::SimpleAtod(v, &o->rate)) return false;
    } else if (a == "--seconds") {
      if (!absl::SimpleAtod(v, &o->seconds)) return false;
    } else {
      return false;
    }
  }
  return argc % 2 == 1 && !o->from.empty() && !o->to.empty() && !o->http.empty() && o->rate > 0 &&
         o->seconds > 0;
}

// Lines the tail has handed to the pipeline, from /metrics; -1 when kqd does not answer.
int64_t Ingested(httplib::Client& client) {
  auto r = client.Get("/metrics");
  if (!r || r->status != 200) return -1;
  int64_t total = 0;
  for (absl::string_view line : absl::StrSplit(r->body, '\n')) {
    bool counted = absl::StartsWith(line, "kq_ingest_events_stored_total{") ||
                   absl::StartsWith(line, "kq_ingest_events_duplicate_total{") ||
                   absl::StartsWith(line, "kq_ingest_items_quarantined_total{");
    if (!counted || line.find("source=\"tail\"") == absl::string_view::npos) continue;
    int64_t n = 0;
    if (absl::SimpleAtoi(line.substr(line.rfind(' ') + 1), &n)) total += n;
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: kq-tail-load --from FILE --to FILE --http HOST:PORT [--rate LINES/S] "
                 "[--seconds S]\n");
    return 2;
  }
  std::ifstream in(o.from, std::ios::binary);
  std::ofstream out(o.to, std::ios::binary | std::ios::app);
  if (!in || !out) {
    std::fprintf(stderr, "kq-tail-load: cannot read %s or append to %s\n", o.from.c_str(),
                 o.to.c_str());
    return 1;
  }
  std::string host = o.http.substr(0, o.http.rfind(':'));
  int port = 0;
  if (!absl::SimpleAtoi(o.http.substr(o.http.rfind(':') + 1), &port)) return 2;
  httplib::Client client(host, port);
  int64_t base = Ingested(client);
  if (base < 0) {
    std::fprintf(stderr, "kq-tail-load: no /metrics at %s\n", o.http.c_str());
    return 1;
  }

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto step = std::chrono::milliseconds(10);
  int64_t written = 0, max_lag = 0;
  double next_report = 1;
  std::string line;
  bool exhausted = false;
  for (auto tick = start; !exhausted; tick += step) {
    double elapsed = std::chrono::duration<double>(tick - start).count();
    if (elapsed >= o.seconds) break;
    auto due = static_cast<int64_t>((elapsed + 0.01) * o.rate);
    std::string chunk;
    while (written < due) {
      if (!std::getline(in, line)) {
        exhausted = true;
        break;
      }
      chunk += line;
      chunk += '\n';
      ++written;
    }
    out << chunk;
    out.flush();
    if (elapsed + 0.01 >= next_report) {
      int64_t ingested = Ingested(client) - base;
      max_lag = std::max(max_lag, written - ingested);
      std::printf("t=%.0fs written=%lld ingested=%lld lag=%lld lines (%.2f s)\n", next_report,
                  static_cast<long long>(written), static_cast<long long>(ingested),
                  static_cast<long long>(written - ingested), (written - ingested) / o.rate);
      std::fflush(stdout);
      next_report += 1;
    }
    std::this_thread::sleep_until(tick + step);
  }
  const auto stopped = Clock::now();
  double write_secs = std::chrono::duration<double>(stopped - start).count();
  int64_t ingested = 0;
  while (true) {
    ingested = Ingested(client) - base;
    double waited = std::chrono::duration<double>(Clock::now() - stopped).count();
    if (ingested >= written || waited > 300) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  double catch_up = std::chrono::duration<double>(Clock::now() - stopped).count();
  double total = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "written=%lld lines in %.1f s (%.0f lines/s%s) ingested=%lld max_lag=%lld lines "
      "(%.2f s) caught_up_after=%.2f s ingest_rate=%.0f lines/s\n",
      static_cast<long long>(written), write_secs, written / write_secs,
      exhausted ? ", --from ran out" : "", static_cast<long long>(ingested),
      static_cast<long long>(max_lag), max_lag / o.rate, catch_up, ingested / total);
  return ingested >= written ? 0 : 1;
}
