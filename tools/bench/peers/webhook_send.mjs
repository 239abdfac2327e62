// Webhook load for tools/bench/run.sh: POSTs EventList batches (one per line of FILE, as
// `kq gen --format eventlist` writes them) to URL with CONCURRENCY senders over keep-alive
// connections, the way kube-apiserver's webhook backend does (up to 15 batches in flight).
// A batch is done when answered 2xx (kqd answers only once durable); 429 and 5xx are retried
// after Retry-After (default 1 s), like client-go does.
//
//   node webhook_send.mjs URL FILE CONCURRENCY
// Prints {"seconds", "batches", "events", "retries", "failures"}.
import { createReadStream } from 'node:fs';
import http from 'node:http';

const [url, file, concurrencyText] = process.argv.slice(2);
const concurrency = Number(concurrencyText);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const target = new URL(url);

// Lines of FILE as Buffers, read as a stream (the file can be many GiB) with a bounded queue.
const queue = [];
let readerDone = false;
let wakeReader = null;
let wakeSenders = [];
const kQueueLimit = 4 * concurrency;

function notifySenders() {
  const waiting = wakeSenders;
  wakeSenders = [];
  for (const wake of waiting) wake();
}

async function readLines() {
  let rest = Buffer.alloc(0);
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    let data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let nl = data.indexOf(10, start); nl >= 0; nl = data.indexOf(10, start)) {
      if (nl > start) queue.push(Buffer.from(data.subarray(start, nl)));
      start = nl + 1;
    }
    rest = Buffer.from(data.subarray(start));
    notifySenders();
    while (queue.length >= kQueueLimit) await new Promise((r) => { wakeReader = r; });
  }
  if (rest.length > 0) queue.push(rest);
  readerDone = true;
  notifySenders();
}

async function nextBatch() {
  while (queue.length === 0 && !readerDone) await new Promise((r) => wakeSenders.push(r));
  const body = queue.shift();
  if (wakeReader && queue.length < kQueueLimit) {
    const wake = wakeReader;
    wakeReader = null;
    wake();
  }
  return body;
}

function countEvents(body) {
  const needle = Buffer.from('"auditID":');
  let n = 0;
  for (let at = body.indexOf(needle); at >= 0; at = body.indexOf(needle, at + needle.length)) ++n;
  return n;
}

function post(body) {
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: target.hostname, port: target.port, path: `${target.pathname}?timeout=30s`,
      method: 'POST', agent,
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json, */*',
                 'Content-Length': body.length },
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

let batches = 0;
let retries = 0;
let failures = 0;
let events = 0;

async function sender() {
  for (let body = await nextBatch(); body !== undefined; body = await nextBatch()) {
    ++batches;
    for (let attempt = 0; ; ++attempt) {
      let result;
      try {
        result = await post(body);
      } catch (e) {
        result = { status: 0 };
      }
      if (result.status >= 200 && result.status <= 206) {
        events += countEvents(body);
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
await Promise.all([readLines(), ...Array.from({ length: concurrency }, sender)]);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
agent.destroy();
console.log(JSON.stringify({ seconds, batches, events, retries, failures }));
