// The representative peer: the npm package pg-logical-replication (pgoutput,
// protocol 1, its default automatic acknowledgement of every message), used
// the way its README shows.
//
//   node peer.mjs --host H --port P --slot S --publication PUB --expect N
//       Consumes until N inserts have arrived, prints {"count": N}, exits.
//   node peer.mjs --host H --port P --slot S --publication PUB --mode latency
//       Records, per insert/update/delete, arrival time minus the commit
//       timestamp (from the transaction's Begin). On SIGUSR2 prints
//       {"count", "latency_ms": {...}} and starts over; exits on SIGTERM.
import { performance } from 'node:perf_hooks';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';

import { latencySummary } from './latency.mjs';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];
const expect = Number(args.expect || 0);
const latencyMode = args.mode === 'latency';

const service = new LogicalReplicationService({
  host: args.host,
  port: Number(args.port),
  user: args.user || 'postgres',
  database: args.database || 'postgres',
});
const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [args.publication] });

let count = 0;
let finished = false;
let commitMs = 0;
let latencies = [];

function report() {
  const out = { count, latency_ms: latencySummary(Float64Array.from(latencies).sort()) };
  process.stdout.write(JSON.stringify(out) + '\n');
  count = 0;
  latencies = [];
}

service.on('data', (lsn, message) => {
  if (finished) return;
  if (latencyMode) {
    if (message.tag === 'begin') {
      commitMs = Number(message.commitTime) / 1000;
    } else if (message.tag === 'insert' || message.tag === 'update' || message.tag === 'delete') {
      latencies.push(performance.timeOrigin + performance.now() - commitMs);
      count++;
    }
    return;
  }
  if (message.tag !== 'insert') return;
  if (++count >= expect) {
    finished = true;
    process.stdout.write(JSON.stringify({ count }) + '\n', () => process.exit(0));
  }
});
service.on('error', (e) => {
  if (finished) return;
  process.stderr.write(`peer: ${e}\n`);
  process.exit(1);
});
process.on('SIGUSR2', report);
process.on('SIGTERM', () => process.exit(0));
service.subscribe(plugin, args.slot).catch((e) => {
  if (finished) return;
  process.stderr.write(`peer: ${e}\n`);
  process.exit(1);
});
