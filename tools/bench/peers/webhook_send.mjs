// Webhook load for tools/bench/run.sh: POSTs EventList batches (one per line of FILE, as
// `kq gen --format eventlist` writes them) to URL with CONCURRENCY senders over keep-alive
// connections, the way kube-apiserver's webhook backend does (up to 15 batches in flight).
// A batch is done when answered 2xx (kqd answers only once durable); 429 and 5xx are retried
// after Retry-After (default 1 s), like client-go does.
//
//   node webhook_send.mjs URL FILE CONCURRENCY
// Prints {"seconds", "batches", "events", "retries", "failures"}.
import { readFileSync } from 'node:fs';
import http from 'node:http';

const [url, file, concurrencyText] = process.argv.slice(2);
const concurrency = Number(concurrencyText);
const batches = readFileSync(file, 'utf8').split('\n').filter((line) => line.length > 0);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const target = new URL(url);

function post(body) {
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: target.hostname, port: target.port, path: `${target.pathname}?timeout=30s`,
      method: 'POST', agent,
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json, */*',
                 'Content-Length': Buffer.byteLength(body) },
    }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode,
                                         retryAfter: response.headers['retry-after'] }));
    });
    request.setTimeout(30000, () => request.destroy(new Error('timeout')));
    request.on('error', reject);
    request.end(body);
  });
}

let next = 0;
let retries = 0;
let failures = 0;
let events = 0;

async function sender() {
  while (next < batches.length) {
    const body = batches[next++];
    for (let attempt = 0; ; ++attempt) {
      let result;
      try {
        result = await post(body);
      } catch (e) {
        result = { status: 0 };
      }
      if (result.status >= 200 && result.status <= 206) {
        events += (body.match(/"auditID":/g) || []).length;
        break;
      }
      if (attempt >= 10) {
        ++failures;
        break;
      }
      ++retries;
      const wait = Number(result.retryAfter) > 0 ? Number(result.retryAfter) * 1000 : 1000;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

const start = process.hrtime.bigint();
await Promise.all(Array.from({ length: concurrency }, sender));
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
agent.destroy();
console.log(JSON.stringify({ seconds, batches: batches.length, events, retries, failures }));
