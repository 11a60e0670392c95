// A local webhook receiver for the benchmark (one process, loopback only).
//
//   node receiver.mjs            prints {"port": N} on stdout once listening
//
// Every POST is answered 200 once its body has arrived. Control endpoints
// (used by bench.mjs):
//   POST /_reset?expect=N&mode=count|latency   zero the counters
//   GET  /_stats                               counters as JSON
//
// mode=count: counts messages by the `"idempotency_key":` occurrences in the
// body (no JSON parse, so the receiver costs little CPU next to Sluice) and
// records the wall-clock time at which the count reached `expect`.
// mode=latency: parses each body and records, per message, arrival time minus
// metadata.commit_timestamp (both wall clock of this machine, in ms).
import http from 'node:http';
import { performance } from 'node:perf_hooks';

import { commitMs, latencySummary } from './latency.mjs';

const KEY = Buffer.from('"idempotency_key":');

let mode = 'count';
let expect = 0;
let count = 0;
let requests = 0;
let bytes = 0;
let firstAt = 0;
let lastAt = 0;
let reachedAt = 0;
let latencies = new Float64Array(1 << 16);
let latencyCount = 0;

function nowMs() {
  return performance.timeOrigin + performance.now();
}

function reset(params) {
  mode = params.get('mode') || 'count';
  expect = Number(params.get('expect') || 0);
  count = requests = bytes = 0;
  firstAt = lastAt = reachedAt = 0;
  latencyCount = 0;
}


function recordLatency(ms) {
  if (latencyCount === latencies.length) {
    const bigger = new Float64Array(latencies.length * 2);
    bigger.set(latencies);
    latencies = bigger;
  }
  latencies[latencyCount++] = ms;
}

function stats() {
  const out = { mode, expect, count, requests, bytes, first_at_ms: firstAt, last_at_ms: lastAt,
                reached_at_ms: reachedAt };
  if (latencyCount > 0) out.latency_ms = latencySummary(latencies.slice(0, latencyCount).sort());
  return out;
}

function countMessages(buf) {
  let n = 0;
  let i = buf.indexOf(KEY);
  while (i !== -1) {
    n++;
    i = buf.indexOf(KEY, i + KEY.length);
  }
  return n;
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/_reset') {
      reset(url.searchParams);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    if (url.pathname === '/_stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats()));
      return;
    }
    const at = nowMs();
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    requests++;
    bytes += body.length;
    if (firstAt === 0) firstAt = at;
    lastAt = at;
    if (mode === 'latency') {
      let parsed;
      try {
        parsed = JSON.parse(body);
      } catch (e) {
        res.writeHead(400).end('bad json');
        return;
      }
      const messages = Array.isArray(parsed.data) ? parsed.data : [parsed];
      for (const m of messages) recordLatency(at - commitMs(m.metadata.commit_timestamp));
      count += messages.length;
    } else {
      count += countMessages(body);
    }
    if (expect > 0 && reachedAt === 0 && count >= expect) reachedAt = at;
    res.writeHead(200, { 'content-length': '0' }).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
