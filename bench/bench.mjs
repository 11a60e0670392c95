// The benchmark orchestrator (started by bench/run.sh; see bench/README.md).
//
// Starts a throwaway Postgres, runs the workloads W1-W4 with every consumer one
// after another on the same backlog, W5 (a backfill of an existing table next
// to COPY), then the pull queue workload (receive + ack throughput of an
// http_pull stream), prints a table and writes bench/results/latest.json.
// Settings come from BENCH_* environment variables.
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

import { commitMs, latencySummary, percentile } from './latency.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, '..');
const env = process.env;

function intEnv(name, fallback) {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v.replaceAll('_', ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got "${v}"`);
  return n;
}

function intListEnv(name, fallback) {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const list = v.split(',').map((s) => Number(s.trim().replaceAll('_', '')));
  if (!list.length || list.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new Error(`${name} must be a comma-separated list of positive integers, got "${v}"`);
  }
  return list;
}

const ALL_CONSUMERS = ['recvlogical_p1', 'recvlogical_p2', 'node_peer', 'sluice_null', 'sluice_file',
                       'sluice_webhook', 'sluice_http_pull'];
const CONSUMER_LABELS = {
  recvlogical_p1: 'pg_recvlogical, pgoutput proto 1',
  recvlogical_p2: 'pg_recvlogical, proto 2 + streaming',
  node_peer: 'pg-logical-replication (Node)',
  sluice_null: 'Sluice -> null',
  sluice_file: 'Sluice -> file',
  sluice_webhook: 'Sluice -> webhook',
  sluice_http_pull: 'Sluice -> http_pull',
};
const NOT_IMPLEMENTED = new Set();

const settings = {
  sluice_bin: env.SLUICE_BIN || path.join(ROOT, 'build/release/src/daemon/sluice'),
  workloads: (env.BENCH_WORKLOADS || 'w1,w2,w3,w4,w5,pull').split(',').map((s) => s.trim()),
  consumers: (env.BENCH_CONSUMERS || ALL_CONSUMERS.join(',')).split(',').map((s) => s.trim()),
  w1_rows: intEnv('BENCH_W1_ROWS', intEnv('BENCH_ROWS', 1_000_000)),
  w1_rows_per_txn: intEnv('BENCH_W1_ROWS_PER_TXN', 1000),
  w2_rows: intEnv('BENCH_W2_ROWS', 100_000),
  w3_rows: intEnv('BENCH_W3_ROWS', intEnv('BENCH_ROWS', 1_000_000)),
  // W5: rows of the table that is backfilled (and copied), and the batch_size
  // of its webhook sink (its null sink uses batch_size like every other sink).
  w5_rows: intEnv('BENCH_W5_ROWS', intEnv('BENCH_ROWS', 1_000_000)),
  w5_webhook_batch_size: intEnv('BENCH_W5_WEBHOOK_BATCH_SIZE', 1000),
  w4_seconds: intEnv('BENCH_W4_SECONDS', 30),
  // "rate" or "rate x ops_per_transaction", e.g. 20000x10 = 2,000 commits/s of 10 ops.
  w4_rates: (env.BENCH_W4_RATES || '2000,20000,20000x10').split(',').map((s) => s.trim()),
  batch_size: intEnv('BENCH_BATCH_SIZE', 100),
  // Pull queue workload: the stream holds pull_rows messages at the start of
  // every cell; a cell runs pull_seconds or until pull_rows are consumed.
  pull_rows: intEnv('BENCH_PULL_ROWS', 200_000),
  pull_seconds: intEnv('BENCH_PULL_SECONDS', 5),
  pull_workers: intListEnv('BENCH_PULL_WORKERS', [1, 4, 16]),
  pull_batch_sizes: intListEnv('BENCH_PULL_BATCH_SIZES', [1, 10, 100]),
  pull_wait_ms: intEnv('BENCH_PULL_WAIT_MS', 100),
  pull_ack_wait_ms: intEnv('BENCH_PULL_ACK_WAIT_MS', 60_000),
  // W1-W3 http_pull consumer: local workers draining the stream.
  drain_workers: intEnv('BENCH_DRAIN_WORKERS', 16),
  drain_batch_size: intEnv('BENCH_DRAIN_BATCH_SIZE', 100),
  // W4 http_pull consumer: workers long polling the stream.
  w4_pull_workers: intEnv('BENCH_W4_PULL_WORKERS', 4),
  status_interval_ms: intEnv('BENCH_STATUS_INTERVAL_MS', 100),
  // Sluice's `streaming` (large transactions streamed while in progress);
  // `0` measures it with Postgres holding them until their commit.
  streaming: env.BENCH_STREAMING !== '0',
  // W4 measures a steady daemon: Sluice's default (10 s) unless set.
  w4_status_interval_ms: env.BENCH_W4_STATUS_INTERVAL_MS ? intEnv('BENCH_W4_STATUS_INTERVAL_MS') : null,
  output: env.BENCH_OUTPUT || path.join(BENCH_DIR, 'results', 'latest.json'),
  keep: env.BENCH_KEEP === '1',
  // Attach `perf record` to each Sluice consumer; data in bench/results/perf/.
  perf: env.BENCH_PERF === '1',
};
for (const c of settings.consumers) {
  if (!ALL_CONSUMERS.includes(c)) throw new Error(`BENCH_CONSUMERS: unknown consumer "${c}"; known: ${ALL_CONSUMERS.join(', ')}`);
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const children = new Set();  // processes this script started, killed on exit
let harnessDir = null;
let workDir = null;

function nowMs() {
  return performance.timeOrigin + performance.now();
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// For races against a process's exit: does not keep the script alive.
const deadline = (ms) => new Promise((r) => setTimeout(r, ms).unref()).then(() => null);
function log(msg) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

// ---------------------------------------------------------------------------
// Processes and /proc.

function start(cmd, args, { stdout = 'ignore', stderr = 'ignore', envExtra = {} } = {}) {
  const out = typeof stdout === 'string' && stdout !== 'ignore' && stdout !== 'pipe' ? fs.openSync(stdout, 'w') : stdout;
  const err = typeof stderr === 'string' && stderr !== 'ignore' && stderr !== 'pipe' ? fs.openSync(stderr, 'w') : stderr;
  // Own process group, so that a timed-out /usr/bin/time and its child go together.
  const child = spawn(cmd, args, { stdio: ['ignore', out, err], detached: true, env: { ...env, ...envExtra } });
  if (typeof out === 'number') fs.closeSync(out);
  if (typeof err === 'number') fs.closeSync(err);
  children.add(child);
  child.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, at: nowMs() });
    });
    child.on('error', (e) => {
      children.delete(child);
      resolve({ code: -1, signal: null, error: e, at: nowMs() });
    });
  });
  return child;
}

function killGroup(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);  // its own process group (started detached)
  } catch {
    try {
      process.kill(child.pid, signal);
    } catch {
      /* already gone */
    }
  }
}

async function stopChild(child, graceMs = 15000) {
  killGroup(child, 'SIGTERM');
  const r = await Promise.race([child.exited, deadline(graceMs)]);
  if (r === null) {
    killGroup(child, 'SIGKILL');
    return child.exited;
  }
  return r;
}

function run(cmd, args, { envExtra = {}, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...env, ...envExtra } });
    children.add(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    if (input !== undefined) child.stdin.end(input);
    child.on('error', reject);
    child.on('exit', (code) => {
      children.delete(child);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim().slice(-2000)}`));
    });
  });
}

// CPU seconds (user + system, all threads) of a live process; null if gone.
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

// {hwm_mb, rss_mb} of a live process; null if gone.
function memory(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number((status.match(new RegExp(`^${key}:\\s+(\\d+)`, 'm')) || [])[1] || 0);
    return { hwm_mb: kb('VmHWM') / 1024, rss_mb: kb('VmRSS') / 1024 };
  } catch {
    return null;
  }
}

// /usr/bin/time -f '%e %U %S %M' output.
function readTimeFile(file) {
  const last = fs.readFileSync(file, 'utf8').trim().split('\n').pop();
  const [elapsed, user, sys, maxKb] = last.split(/\s+/).map(Number);
  return { elapsed, cpu_s: user + sys, peak_rss_mb: maxKb / 1024 };
}

// Load average, CPU busy share over one second, and the processes that used
// the most CPU in that second: whether other jobs shared the machine.
async function machineSnapshot() {
  const readAll = () => {
    const m = new Map();
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
        const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
        m.set(d, { comm, ticks: Number(f[11]) + Number(f[12]) });
      } catch {
        /* exited */
      }
    }
    return m;
  };
  const cpuLine = () => fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  const a = readAll();
  const ca = cpuLine();
  await sleep(1000);
  const b = readAll();
  const cb = cpuLine();
  const total = cb.reduce((x, y) => x + y, 0) - ca.reduce((x, y) => x + y, 0);
  const idle = cb[3] + cb[4] - ca[3] - ca[4];
  const top = [];
  for (const [pid, p] of b) {
    const before = a.get(pid);
    const d = p.ticks - (before ? before.ticks : 0);
    if (d > 0) top.push({ pid: Number(pid), comm: p.comm, cpu_pct: Math.round((d / CLK_TCK) * 100) });
  }
  top.sort((x, y) => y.cpu_pct - x.cpu_pct);
  const [l1, l5, l15] = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  return {
    at: new Date().toISOString(),
    loadavg: [l1, l5, l15],
    busy_pct: Math.round((1 - idle / total) * 100),
    top_processes: top.slice(0, 5),
  };
}

// ---------------------------------------------------------------------------
// Postgres.

let db;  // pg.Client for control queries
let pgEnv;

// The events table (W1-W5 use this shape): bigserial id, text, text, numeric,
// timestamptz, jsonb.
function eventsTableDdl(table) {
  return `CREATE TABLE ${table} (
      id bigserial PRIMARY KEY,
      kind text NOT NULL,
      customer text NOT NULL,
      amount numeric(12,2) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      payload jsonb NOT NULL
    ) WITH (autovacuum_enabled = off);`;
}

// Inserts `n` (a SQL expression) rows of the suite's shape into `table`.
function eventsInsert(table, n) {
  return `INSERT INTO ${table} (kind, customer, amount, payload)
      SELECT 'order.created', 'customer-' || (g % 100000) || '@example.com',
             round((random() * 1000)::numeric, 2),
             jsonb_build_object('sku', 'SKU-' || (g % 5000), 'qty', 1 + g % 7,
                                'tags', jsonb_build_array('web', 'promo'),
                                'note', 'lorem ipsum dolor sit amet, consectetur adipiscing')
      FROM generate_series(1, ${n}) AS g`;
}

async function startPostgres() {
  const out = await run(path.join(ROOT, 'scripts/pg-harness.sh'), ['start'], {
    envExtra: {
      PGHARNESS_SETTINGS:
        'max_wal_size=32GB min_wal_size=1GB checkpoint_timeout=1h shared_buffers=512MB ' +
        'autovacuum=off max_replication_slots=30 max_wal_senders=30 wal_sender_timeout=5min',
    },
  });
  pgEnv = {};
  for (const m of out.matchAll(/(\w+)=(\S+)/g)) pgEnv[m[1]] = m[2];
  harnessDir = pgEnv.PGHARNESS_DIR;
  db = new pg.Client({ host: pgEnv.PGHOST, port: Number(pgEnv.PGPORT), user: 'postgres', database: 'postgres' });
  await db.connect();
  await db.query(`
    ${eventsTableDdl('events')}
    -- Not published: one commit after each load moves the WAL past the end
    -- position, so that every consumer sees a keepalive at or beyond it.
    CREATE TABLE bench_fence (id int);
    CREATE PUBLICATION bench_pub FOR TABLE events;
    CREATE FUNCTION bench_insert(n int) RETURNS void LANGUAGE sql AS $$
      ${eventsInsert('events', 'n')}
    $$;
    CREATE PROCEDURE bench_load(txns int, rows_per_txn int) LANGUAGE plpgsql AS $$
    BEGIN
      FOR i IN 1..txns LOOP
        PERFORM bench_insert(rows_per_txn);
        COMMIT;
      END LOOP;
    END $$;
  `);
}

function stopPostgres() {
  if (!harnessDir) return;
  try {
    execFileSync(path.join(ROOT, 'scripts/pg-harness.sh'), ['stop', harnessDir]);
  } catch {
    /* best effort */
  }
  harnessDir = null;
}

function psql(sql) {
  return run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', pgEnv.PGHOST, '-p', pgEnv.PGPORT,
                      '-U', 'postgres', '-d', 'postgres', '-c', sql]);
}

async function scalar(sql, params = []) {
  const r = await db.query(sql, params);
  return r.rows.length ? Object.values(r.rows[0])[0] : null;
}

async function createSlot(name) {
  await db.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", [name]);
}

async function dropSlot(name) {
  const giveUpAt = Date.now() + 15000;
  for (;;) {
    const active = await scalar('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [name]);
    if (active === null) break;
    if (Date.now() > giveUpAt) throw new Error(`slot ${name} still in use by pid ${active}`);
    await sleep(50);
  }
  await db.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [name]);
}

async function slotReached(slot, lsn) {
  return scalar('SELECT confirmed_flush_lsn >= $2::pg_lsn FROM pg_replication_slots WHERE slot_name = $1',
                [slot, lsn]);
}

// Samples the CPU time of the walsender serving `slot` until stopped; the
// last sample is kept (it undercounts by at most one interval).
function walsenderSampler(slot) {
  const state = { pid: null, cpu_s: null, stopped: false };
  (async () => {
    while (!state.stopped) {
      try {
        if (state.pid === null) {
          state.pid = await scalar('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [slot]);
        }
        if (state.pid !== null) {
          const c = cpuSeconds(state.pid);
          if (c !== null) state.cpu_s = c;
        }
      } catch {
        /* keep sampling */
      }
      await sleep(100);
    }
  })();
  return state;
}

// ---------------------------------------------------------------------------
// Webhook receiver.

let receiver = null;

async function startReceiver() {
  const child = start('node', [path.join(BENCH_DIR, 'receiver.mjs')], {
    stdout: 'pipe',
    stderr: path.join(workDir, 'receiver.log'),
  });
  const port = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const line = buf.split('\n')[0];
      if (buf.includes('\n')) resolve(JSON.parse(line).port);
    });
    child.exited.then(() => reject(new Error('the webhook receiver exited at start-up')));
  });
  receiver = { child, port, url: `http://127.0.0.1:${port}` };
}

async function receiverCall(pathAndQuery, method = 'GET') {
  const r = await fetch(receiver.url + pathAndQuery, { method });
  return r.json();
}

// ---------------------------------------------------------------------------
// Consumers.

function conninfo() {
  return `host=${pgEnv.PGHOST} port=${pgEnv.PGPORT} user=postgres dbname=postgres`;
}

// Runs a command that exits by itself once done, under /usr/bin/time.
async function runTimed(name, cmd, args, slot, timeoutMs) {
  const timeFile = path.join(workDir, `${name}.time`);
  const sampler = walsenderSampler(slot);
  const t0 = nowMs();
  const child = start('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, cmd, ...args], {
    stdout: path.join(workDir, `${name}.out`),
    stderr: path.join(workDir, `${name}.err`),
  });
  const r = await Promise.race([child.exited, deadline(timeoutMs)]);
  sampler.stopped = true;
  if (r === null) {
    await stopChild(child, 2000);
    return { error: `timed out after ${timeoutMs / 1000} s` };
  }
  if (r.code !== 0) {
    const err = fs.existsSync(path.join(workDir, `${name}.err`))
      ? fs.readFileSync(path.join(workDir, `${name}.err`), 'utf8').trim().slice(-500) : '';
    return { error: `exit ${r.code}: ${err}` };
  }
  const t = readTimeFile(timeFile);
  return { seconds: (r.at - t0) / 1000, cpu_s: t.cpu_s, peak_rss_mb: t.peak_rss_mb, walsender_cpu_s: sampler.cpu_s };
}

function sluiceConfig(name, slot, destination, extraSink = '', statusIntervalMs = settings.status_interval_ms,
                      { publication = 'bench_pub', batchSize = settings.batch_size } = {}) {
  return `data_dir: ${path.join(workDir, `data-${name}`)}
log_level: warn
log_format: json
databases:
  - name: bench
    url: postgres://postgres@${pgEnv.PGHOST}:${pgEnv.PGPORT}/postgres
    slot: {name: ${slot}}
    publication: {name: ${publication}}
${settings.streaming ? '' : '    streaming: false\n'}${statusIntervalMs ? `    status_interval_ms: ${statusIntervalMs}\n` : ''}sinks:
  - name: bench
    batch_size: ${batchSize}
${extraSink}    destination: ${destination}
`;
}

function startSluice(name, config) {
  const file = path.join(workDir, `${name}.yaml`);
  fs.writeFileSync(file, config);
  return start(settings.sluice_bin, ['run', '-c', file], {
    stdout: path.join(workDir, `${name}.out`),
    stderr: path.join(workDir, `${name}.log`),
  });
}

// perf record while a Sluice consumer runs: cpu-clock samples (this machine
// has no hardware counters) with DWARF call graphs (the release build keeps
// no frame pointers). System-wide, not attached to the process: `perf record
// -p` follows only the threads that exist when it attaches, and Sluice
// starts its reader, sink and backfill threads after that; the Postgres
// backends are in the file too. `${name}.pid` holds Sluice's process id, for
// `perf report --pid` (or `--comm sluice-reader` and the like). Costs the
// run some throughput.
function startPerf(name, pid) {
  const dir = path.join(BENCH_DIR, 'results', 'perf');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${name}.pid`), `${pid}\n`);
  return start('perf', ['record', '-q', '-a', '-e', 'cpu-clock', '-F', '499', '--call-graph', 'dwarf,8192',
                        '-o', path.join(dir, `${name}.data`)], {
    stderr: path.join(workDir, `${name}.perf.log`),
  });
}

function sluiceLogTail(name) {
  try {
    return fs.readFileSync(path.join(workDir, `${name}.log`), 'utf8').trim().split('\n').slice(-5).join('\n');
  } catch {
    return '';
  }
}

// Starts Sluice on `slot` and waits until everything up to `endpos` is
// delivered: the receiver has all rows (webhook), or the slot's confirmed
// position reached endpos (Sluice confirms only what its sinks acknowledged).
async function runSluice(name, sink, slot, endpos, rows, timeoutMs) {
  let destination;
  const outFile = path.join(workDir, `${name}.jsonl`);
  let port = null;
  let config;
  if (sink === 'null') destination = '{type: "null"}';
  else if (sink === 'file') destination = `{type: file, path: "${outFile}"}`;
  else if (sink === 'http_pull') {
    destination = `{type: http_pull, ack_wait_ms: ${settings.pull_ack_wait_ms}}`;
    port = await freePort();
    seenIds = new SeenIds();
  } else {
    destination = `{type: webhook, url: "${receiver.url}/hook"}`;
    await receiverCall(`/_reset?mode=count&expect=${rows}`, 'POST');
  }
  const sampler = walsenderSampler(slot);
  const t0 = nowMs();
  config = sluiceConfig(name, slot, destination);
  if (port) config = `server: {listen: "127.0.0.1:${port}"}\n` + config;
  const child = startSluice(name, config);
  const perf = settings.perf ? startPerf(name, child.pid) : null;
  const giveUpAt = t0 + timeoutMs;
  let doneAt = null;
  let failure = null;
  // http_pull: local workers receive and acknowledge until every row is acked.
  const drain = port ? { rows, acked: 0, received: 0, redelivered: 0, duplicates: 0, errors: [], abort: false,
                         deadline: giveUpAt, doneAt: null, receives: 0 } : null;
  let client0 = null;
  let workers = null;
  if (drain) {
    const up = await waitFor(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return true;
      return streamStats(port).then(() => true, () => false);
    }, 30_000);
    if (up === null) failure = `the API did not come up on port ${port}: ${sluiceLogTail(name)}`;
    else {
      client0 = process.cpuUsage();
      workers = Promise.all(Array.from({ length: settings.drain_workers }, () => drainWorker(drain, port)));
    }
  }
  while (doneAt === null && failure === null) {
    await sleep(50);
    if (child.exitCode !== null || child.signalCode !== null) {
      failure = `sluice exited (${child.exitCode ?? child.signalCode}): ${sluiceLogTail(name)}`;
      break;
    }
    if (nowMs() > giveUpAt) {
      failure = `timed out after ${timeoutMs / 1000} s`;
      break;
    }
    if (sink === 'webhook') {
      const s = await receiverCall('/_stats');
      if (s.reached_at_ms) doneAt = s.reached_at_ms;
    } else if (drain) {
      if (drain.abort) failure = `pull workers: ${[...new Set(drain.errors)].slice(0, 3).join('; ')}`;
      else if (drain.doneAt) doneAt = drain.doneAt;
    } else if (await slotReached(slot, endpos)) {
      doneAt = nowMs();
    }
  }
  const cpu = cpuSeconds(child.pid);
  const mem = memory(child.pid);
  sampler.stopped = true;
  if (drain) {
    drain.abort = true;
    if (workers) await workers;
  }
  const clientCpu = client0 ? process.cpuUsage(client0) : null;
  if (perf) {
    perf.kill('SIGINT');
    await perf.exited;
  }
  await stopChild(child);
  if (failure) return { error: failure };
  const result = {
    seconds: (doneAt - t0) / 1000,
    cpu_s: cpu,
    peak_rss_mb: mem?.hwm_mb ?? null,
    walsender_cpu_s: sampler.cpu_s,
  };
  if (sink === 'file') {
    result.delivered = Number((await run('wc', ['-l', outFile])).trim().split(/\s+/)[0]);
    result.delivered_bytes = fs.statSync(outFile).size;
    fs.rmSync(outFile, { force: true });
  } else if (sink === 'webhook') {
    const stats = await receiverCall('/_stats');
    result.delivered = stats.count;
    result.delivered_bytes = stats.bytes;
    result.requests = stats.requests;
  } else if (drain) {
    seenIds = null;
    result.delivered = drain.acked;
    result.receives = drain.receives;
    result.workers = settings.drain_workers;
    result.receive_batch_size = settings.drain_batch_size;
    result.client_cpu_s = (clientCpu.user + clientCpu.system) / 1e6;
    if (drain.duplicates || drain.redelivered) {
      return { error: `${drain.duplicates} duplicates, ${drain.redelivered} redeliveries` };
    }
  }
  if (result.delivered !== undefined && result.delivered < rows) {
    return { error: `only ${result.delivered} of ${rows} messages delivered` };
  }
  return result;
}

async function runConsumer(workload, consumer, slot, endpos, rows) {
  const name = `${workload}-${consumer}`;
  const timeoutMs = 120_000 + rows;  // generous: 1 ms per row beyond two minutes
  switch (consumer) {
    case 'recvlogical_p1':
    case 'recvlogical_p2': {
      const proto = consumer === 'recvlogical_p1'
        ? ['-o', 'proto_version=1']
        : ['-o', 'proto_version=2', '-o', 'streaming=on'];
      return runTimed(name, 'pg_recvlogical', [
        '-d', conninfo(), '-S', slot, '--start', `--endpos=${endpos}`, '--no-loop', '-F', '0',
        '-f', '/dev/null', ...proto, '-o', 'publication_names=bench_pub',
      ], slot, timeoutMs);
    }
    case 'node_peer':
      return runTimed(name, 'node', [
        path.join(BENCH_DIR, 'peer.mjs'), '--host', pgEnv.PGHOST, '--port', pgEnv.PGPORT,
        '--slot', slot, '--publication', 'bench_pub', '--expect', String(rows),
      ], slot, timeoutMs);
    case 'sluice_null':
      return runSluice(name, 'null', slot, endpos, rows, timeoutMs);
    case 'sluice_file':
      return runSluice(name, 'file', slot, endpos, rows, timeoutMs);
    case 'sluice_webhook':
      return runSluice(name, 'webhook', slot, endpos, rows, timeoutMs);
    case 'sluice_http_pull':
      return runSluice(name, 'http_pull', slot, endpos, rows, timeoutMs);
    default:
      throw new Error(`no runner for ${consumer}`);
  }
}

// ---------------------------------------------------------------------------
// Workloads.

// Creates one slot per consumer at the same point, loads, then lets each
// consumer drain the same backlog, one after another.
async function backlogWorkload(id, title, rows, load) {
  const consumers = settings.consumers.filter((c) => !NOT_IMPLEMENTED.has(c));
  const slots = Object.fromEntries(consumers.map((c) => [c, `${id}_${c}`]));
  for (const c of consumers) await createSlot(slots[c]);
  log(`${id}: loading ${rows.toLocaleString('en-US')} rows`);
  const t0 = nowMs();
  await load();
  const loadSeconds = (nowMs() - t0) / 1000;
  const endpos = await scalar('SELECT pg_current_wal_lsn()::text');
  const walBytes = Number(await scalar(
    "SELECT pg_wal_lsn_diff($1::pg_lsn, restart_lsn) FROM pg_replication_slots WHERE slot_name = $2",
    [endpos, slots[consumers[0]]]));
  await db.query('INSERT INTO bench_fence VALUES (1)');
  await db.query('CHECKPOINT');
  log(`${id}: loaded in ${loadSeconds.toFixed(1)} s (${(walBytes / 2 ** 20).toFixed(0)} MiB of WAL), end position ${endpos}`);
  const results = [];
  for (const consumer of settings.consumers) {
    if (NOT_IMPLEMENTED.has(consumer)) {
      results.push({ consumer, label: CONSUMER_LABELS[consumer], status: 'n/a (not implemented)' });
      continue;
    }
    log(`${id}: ${CONSUMER_LABELS[consumer]}`);
    const r = await runConsumer(id, consumer, slots[consumer], endpos, rows);
    await dropSlot(slots[consumer]);
    const entry = { consumer, label: CONSUMER_LABELS[consumer], ...r };
    if (r.error) {
      entry.status = `failed: ${r.error}`;
      log(`${id}: ${consumer} ${entry.status}`);
    } else {
      entry.status = 'ok';
      entry.rows_per_s = rows / r.seconds;
      entry.cpu_s_per_million = r.cpu_s === null ? null : (r.cpu_s / rows) * 1e6;
      log(`${id}: ${consumer}: ${r.seconds.toFixed(2)} s, ${Math.round(entry.rows_per_s).toLocaleString('en-US')} rows/s`);
    }
    results.push(entry);
  }
  const ref = results.find((e) => e.consumer === 'recvlogical_p1' && e.status === 'ok');
  for (const e of results) {
    if (ref && e.rows_per_s) e.ratio_to_recvlogical_p1 = e.rows_per_s / ref.rows_per_s;
  }
  return { id, title, rows, load_seconds: loadSeconds, wal_bytes: walBytes, end_lsn: endpos, results };
}

function pgbenchScript(opsPerTxn) {
  const op = `\\set r random(1, 100)
\\set id random(1, :maxid)
\\if :r <= 50
INSERT INTO events (kind, customer, amount, payload) VALUES ('order.created', 'customer-' || :id || '@example.com', (:id % 100000) / 100.0, '{"sku": "SKU-1", "qty": 1, "tags": ["web", "promo"], "note": "lorem ipsum dolor sit amet, consectetur adipiscing"}');
\\elif :r <= 85
UPDATE events SET amount = amount + 1, kind = 'order.updated' WHERE id = :id;
\\else
DELETE FROM events WHERE id = :id;
\\endif
`;
  if (opsPerTxn === 1) return op;
  return `BEGIN;\n${op.repeat(opsPerTxn)}COMMIT;\n`;
}

// One paced writer run (pgbench) at `spec`: "rate" or "rate x ops per transaction".
async function pacedWriter(spec, maxid) {
  const [rateText, opsText] = spec.split('x');
  const rate = Number(rateText);
  const opsPerTxn = Number(opsText || 1);
  const txnRate = Math.round(rate / opsPerTxn);
  const scriptFile = path.join(workDir, `w4-${opsPerTxn}.sql`);
  fs.writeFileSync(scriptFile, pgbenchScript(opsPerTxn));
  const clients = txnRate >= 5000 ? 8 : 4;
  const out = await run('pgbench', ['-n', '-h', pgEnv.PGHOST, '-p', pgEnv.PGPORT, '-U', 'postgres',
                                    '-c', String(clients), '-j', '2', '-R', String(txnRate),
                                    '-T', String(settings.w4_seconds), '-D', `maxid=${maxid}`,
                                    '-f', scriptFile, 'postgres']);
  const tps = Number((out.match(/tps = ([\d.]+)/) || [])[1]);
  const lag = (out.match(/rate limit schedule lag: avg ([\d.]+)/) || [])[1];
  return {
    target_ops_per_s: rate,
    ops_per_transaction: opsPerTxn,
    achieved_ops_per_s: tps * opsPerTxn,
    transactions: Number((out.match(/actually processed: (\d+)/) || [])[1]),
    pgbench_schedule_lag_ms: lag === undefined ? null : Number(lag),
  };
}

async function waitFor(condition, timeoutMs) {
  const start = nowMs();
  while (nowMs() - start < timeoutMs) {
    if (await condition()) return (nowMs() - start) / 1000;
    await sleep(50);
  }
  return null;
}

async function waitActive(slot) {
  await waitFor(async () => (await scalar('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [slot])) !== null, 10_000);
  await sleep(1000);
}

// W4 with Sluice delivering to the local webhook receiver, which records
// commit timestamp -> arrival per message.
async function latencySluice(maxid) {
  const slot = 'w4_sluice_webhook';
  const name = 'w4-sluice_webhook';
  await createSlot(slot);
  await receiverCall('/_reset?mode=latency', 'POST');
  // batch_timeout_ms 0: send whatever is ready at once (the default 50 ms
  // wait to fill a batch would be most of the latency at low rates).
  const child = startSluice(name, sluiceConfig(name, slot, `{type: webhook, url: "${receiver.url}/hook"}`,
                                               '    batch_timeout_ms: 0\n', settings.w4_status_interval_ms));
  await waitActive(slot);
  const runs = [];
  for (const spec of settings.w4_rates) {
    await receiverCall('/_reset?mode=latency', 'POST');
    const cpu0 = cpuSeconds(child.pid);
    log(`w4: Sluice -> webhook, ${spec} ops/s for ${settings.w4_seconds} s`);
    let writer;
    try {
      writer = await pacedWriter(spec, maxid);
    } catch (e) {
      runs.push({ spec, status: `failed: ${e.message}` });
      continue;
    }
    const target = await scalar('SELECT pg_current_wal_lsn()::text');
    const drained = await waitFor(async () => child.exitCode === null && slotReached(slot, target), 120_000);
    const stats = await receiverCall('/_stats');
    const mem = memory(child.pid);
    const cpu1 = cpuSeconds(child.pid);
    runs.push(latencyRun(spec, writer, stats, mem, cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null,
                         drained !== null ? 'ok' : `not drained: ${sluiceLogTail(name)}`));
    logLatency(writer, stats);
  }
  await stopChild(child);
  await dropSlot(slot);
  return { consumer: 'sluice_webhook', label: 'Sluice -> webhook (batch_timeout_ms 0)', runs };
}

// W4 to the http_pull sink: workers long poll (wait_for 200 ms) and record,
// per message, the time its receive returned minus its commit timestamp.
async function latencyPullWorker(lat, port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    while (!lat.stop) {
      const r = await postJson(agent, port, '/api/streams/bench/receive', { batch_size: 100, wait_for: 200 });
      const at = nowMs();
      if (r.status !== 200) {
        lat.errors.push(`receive: HTTP ${r.status} ${r.body.slice(0, 200)}`);
        await sleep(50);
        continue;
      }
      const messages = JSON.parse(r.body).data;
      if (!messages.length) continue;
      for (const m of messages) lat.values.push(at - commitMs(m.metadata.commit_timestamp));
      const a = await postJson(agent, port, '/api/streams/bench/ack', { ack_ids: messages.map((m) => m.ack_id) });
      if (a.status !== 200) lat.errors.push(`ack: HTTP ${a.status} ${a.body.slice(0, 200)}`);
    }
  } catch (e) {
    lat.errors.push(`worker: ${e.message}`);
  } finally {
    agent.destroy();
  }
}

async function latencyPull(maxid) {
  const slot = 'w4_sluice_http_pull';
  const name = 'w4-sluice_http_pull';
  const port = await freePort();
  await createSlot(slot);
  const config = `server: {listen: "127.0.0.1:${port}"}\n` +
    sluiceConfig(name, slot, `{type: http_pull, ack_wait_ms: ${settings.pull_ack_wait_ms}}`,
                 '    batch_timeout_ms: 0\n', settings.w4_status_interval_ms);
  const child = startSluice(name, config);
  const runs = [];
  try {
    await waitActive(slot);
    const up = await waitFor(() => streamStats(port).then(() => true, () => false), 30_000);
    if (up === null) throw new Error(`the API did not come up: ${sluiceLogTail(name)}`);
    for (const spec of settings.w4_rates) {
      const cpu0 = cpuSeconds(child.pid);
      log(`w4: Sluice -> http_pull (${settings.w4_pull_workers} workers), ${spec} ops/s for ${settings.w4_seconds} s`);
      const lat = { values: [], errors: [], stop: false };
      const workers = Promise.all(Array.from({ length: settings.w4_pull_workers }, () => latencyPullWorker(lat, port)));
      let writer;
      try {
        writer = await pacedWriter(spec, maxid);
      } catch (e) {
        lat.stop = true;
        await workers;
        runs.push({ spec, status: `failed: ${e.message}` });
        continue;
      }
      const target = await scalar('SELECT pg_current_wal_lsn()::text');
      const drained = await waitFor(async () => child.exitCode === null && await slotReached(slot, target) &&
                                                (await streamStats(port)).depth === 0, 120_000);
      lat.stop = true;
      await workers;
      const mem = memory(child.pid);
      const cpu1 = cpuSeconds(child.pid);
      const stats = { count: lat.values.length, latency_ms: latencySummary(Float64Array.from(lat.values).sort()) };
      const problems = [...new Set(lat.errors)].slice(0, 3);
      if (drained === null) problems.push(`not drained: ${sluiceLogTail(name)}`);
      runs.push(latencyRun(spec, writer, stats, mem, cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null,
                           problems.length ? problems.join('; ') : 'ok'));
      logLatency(writer, stats);
    }
  } finally {
    await stopChild(child);
    await dropSlot(slot);
  }
  return { consumer: 'sluice_http_pull', label: `Sluice -> http_pull (${settings.w4_pull_workers} workers)`, runs };
}

// W4 reference: the Node peer, timing arrival in the consumer itself (no
// delivery anywhere): what Postgres and this machine's scheduling cost.
async function latencyPeer(maxid) {
  const slot = 'w4_node_peer';
  await createSlot(slot);
  const child = start('node', [path.join(BENCH_DIR, 'peer.mjs'), '--host', pgEnv.PGHOST, '--port', pgEnv.PGPORT,
                               '--slot', slot, '--publication', 'bench_pub', '--mode', 'latency'], {
    stdout: 'pipe', stderr: path.join(workDir, 'w4-node_peer.err'),
  });
  const lines = [];
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
  });
  const snapshot = async () => {
    const before = lines.length;
    child.kill('SIGUSR2');
    await waitFor(async () => lines.length > before, 10_000);
    return lines[lines.length - 1];
  };
  await waitActive(slot);
  const runs = [];
  for (const spec of settings.w4_rates) {
    await snapshot();  // start over
    log(`w4: Node peer, ${spec} ops/s for ${settings.w4_seconds} s`);
    let writer;
    try {
      writer = await pacedWriter(spec, maxid);
    } catch (e) {
      runs.push({ spec, status: `failed: ${e.message}` });
      continue;
    }
    const target = await scalar('SELECT pg_current_wal_lsn()::text');
    const drained = await waitFor(async () => child.exitCode === null && scalar(
      `SELECT r.sent_lsn >= $1::pg_lsn FROM pg_stat_replication r
         JOIN pg_replication_slots s ON s.active_pid = r.pid WHERE s.slot_name = $2`, [target, slot]), 120_000);
    await sleep(500);
    const stats = await snapshot();
    const mem = memory(child.pid);
    runs.push(latencyRun(spec, writer, stats, mem, undefined, drained !== null ? 'ok' : 'not drained'));
    logLatency(writer, stats);
  }
  await stopChild(child);
  await dropSlot(slot);
  return { consumer: 'node_peer', label: 'reference: Node peer, timed on arrival', runs };
}

// One W4 run's entry: the writer's figures, the latency summary and Sluice's
// (or the peer's) memory and CPU.
function latencyRun(spec, writer, stats, mem, cpuSeconds, status) {
  return {
    spec, ...writer,
    messages: stats.count,
    latency_ms: stats.latency_ms ?? null,
    rss_mb: mem?.rss_mb ?? null,
    peak_rss_mb: mem?.hwm_mb ?? null,
    ...(cpuSeconds === undefined ? {} : { cpu_s: cpuSeconds }),
    status,
  };
}

function logLatency(writer, stats) {
  const l = stats.latency_ms;
  log(`w4: achieved ${Math.round(writer.achieved_ops_per_s)} ops/s, ${stats.count} messages` +
      (l ? `, p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(1)} ms` : ''));
}

async function latencyWorkload() {
  if (Number(await scalar('SELECT count(*) FROM (SELECT 1 FROM events LIMIT 100000) t')) < 100000) {
    await psql('SELECT bench_insert(100000)');
  }
  const maxid = Number(await scalar('SELECT max(id) FROM events'));
  const consumers = [];
  if (settings.consumers.includes('sluice_webhook')) consumers.push(await latencySluice(maxid));
  if (settings.consumers.includes('sluice_http_pull')) consumers.push(await latencyPull(maxid));
  if (settings.consumers.includes('node_peer')) consumers.push(await latencyPeer(maxid));
  return {
    id: 'w4',
    title: `W4 latency, commit -> arrival, paced mixed insert/update/delete writer, ${settings.w4_seconds} s per rate` +
      `, Sluice status_interval_ms ${settings.w4_status_interval_ms ?? 'default'}`,
    seconds: settings.w4_seconds,
    consumers,
  };
}

// ---------------------------------------------------------------------------
// Pull queue: receive + ack throughput of an http_pull stream.
//
// One Sluice with one http_pull sink (the stream "bench") on its own port.
// Before each cell the stream holds at least pull_rows messages that Sluice
// has already ingested (so the cell measures serving, not ingesting); then W
// workers, each on its own keep-alive connection, loop receive(batch) -> ack
// until pull_seconds are up or pull_rows messages are claimed (so the stream
// never runs dry). Only acknowledged messages count.

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// One POST with a JSON body over `agent`; resolves {status, body}.
function postJson(agent, port, urlPath, payload) {
  const data = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, path: urlPath, method: 'POST', agent,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function streamStats(port) {
  const r = await fetch(`http://127.0.0.1:${port}/api/streams`);
  if (!r.ok) throw new Error(`GET /api/streams: ${r.status}`);
  const s = (await r.json()).data.find((x) => x.name === 'bench');
  if (!s) throw new Error('GET /api/streams: no stream "bench"');
  return s;
}

// Rows seen, by events.id: a growable bitmap (a Set of a million numbers
// costs tens of MB in the process that also runs the workers).
class SeenIds {
  constructor() {
    this.bits = new Uint8Array(1 << 20);
  }
  // True if `id` was seen before; marks it.
  testAndSet(id) {
    const byte = id >>> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(this.bits.length * 2, byte + 1));
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (id & 7);
    const seen = (this.bits[byte] & mask) !== 0;
    this.bits[byte] |= mask;
    return seen;
  }
}


// One worker: its own agent with one socket, so one keep-alive connection.
async function pullWorker(cell, port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const receivePath = '/api/streams/bench/receive';
  const ackPath = '/api/streams/bench/ack';
  try {
    while (nowMs() < cell.deadline && cell.claimed < cell.budget && !cell.abort) {
      cell.claimed += cell.batch;
      const t0 = performance.now();
      const r = await postJson(agent, port, receivePath, { batch_size: cell.batch, wait_for: settings.pull_wait_ms });
      const t1 = performance.now();
      cell.receive_ms.push(t1 - t0);
      cell.receives++;
      if (r.status !== 200) {
        cell.errors.push(`receive: HTTP ${r.status} ${r.body.slice(0, 200)}`);
        if (r.status === 429 || r.status === 503) {
          await sleep(100);
          continue;
        }
        cell.abort = true;
        break;
      }
      const messages = JSON.parse(r.body).data;
      if (!messages.length) {
        cell.empty_receives++;
        continue;
      }
      cell.received += messages.length;
      const ackIds = new Array(messages.length);
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i];
        ackIds[i] = m.ack_id;
        if (m.deliver_count > 1) cell.redelivered++;
        const id = Number(m.record?.id);
        if (!Number.isInteger(id) || id < 0) cell.errors.push(`message without an integer record.id: ${JSON.stringify(m).slice(0, 200)}`);
        else if (seenIds.testAndSet(id) && m.deliver_count <= 1) cell.duplicates++;
      }
      const a = await postJson(agent, port, ackPath, { ack_ids: ackIds });
      cell.ack_ms.push(performance.now() - t1);
      cell.acks++;
      if (a.status !== 200) {
        cell.errors.push(`ack: HTTP ${a.status} ${a.body.slice(0, 200)}`);
        cell.abort = true;
        break;
      }
      const d = JSON.parse(a.body).data;
      cell.acked += d.acked;
      cell.ack_failed += d.failed.length;
      if (d.acked !== ackIds.length || d.failed.length) {
        cell.errors.push(`ack: ${d.acked} of ${ackIds.length} acknowledged, failed: ${JSON.stringify(d.failed).slice(0, 200)}`);
      }
    }
  } catch (e) {
    cell.errors.push(`worker: ${e.message}`);
    cell.abort = true;
  } finally {
    agent.destroy();
  }
}

let seenIds = null;

// A W1-W3 worker: receive (long poll) and acknowledge until `drain.rows`
// messages are acknowledged; sets drain.doneAt at the last one.
async function drainWorker(drain, port) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    while (!drain.abort && drain.acked < drain.rows && nowMs() < drain.deadline) {
      const r = await postJson(agent, port, '/api/streams/bench/receive',
                               { batch_size: settings.drain_batch_size, wait_for: 500 });
      drain.receives++;
      if (r.status !== 200) {
        if (r.status === 429 || r.status === 503) {
          await sleep(50);
          continue;
        }
        drain.errors.push(`receive: HTTP ${r.status} ${r.body.slice(0, 200)}`);
        drain.abort = true;
        break;
      }
      const messages = JSON.parse(r.body).data;
      if (!messages.length) continue;
      drain.received += messages.length;
      const ackIds = new Array(messages.length);
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i];
        ackIds[i] = m.ack_id;
        if (m.deliver_count > 1) drain.redelivered++;
        else if (seenIds.testAndSet(Number(m.record?.id))) drain.duplicates++;
      }
      const a = await postJson(agent, port, '/api/streams/bench/ack', { ack_ids: ackIds });
      if (a.status !== 200) {
        drain.errors.push(`ack: HTTP ${a.status} ${a.body.slice(0, 200)}`);
        drain.abort = true;
        break;
      }
      drain.acked += JSON.parse(a.body).data.acked;
      if (drain.acked >= drain.rows && !drain.doneAt) drain.doneAt = nowMs();
    }
  } catch (e) {
    drain.errors.push(`worker: ${e.message}`);
    drain.abort = true;
  } finally {
    agent.destroy();
  }
}

// Inserts `rows` (1,000-row transactions) and waits until the stream holds `target`.
async function pullFill(port, child, name, rows, target) {
  const txns = Math.ceil(rows / 1000);
  const t0 = nowMs();
  await psql(`CALL bench_load(${txns}, 1000)`);
  const inserted = (nowMs() - t0) / 1000;
  const timeoutMs = 120_000 + txns * 1000;
  let depth = null;
  const ok = await waitFor(async () => {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`sluice exited: ${sluiceLogTail(name)}`);
    depth = (await streamStats(port)).depth;
    return depth >= target;
  }, timeoutMs);
  if (ok === null) throw new Error(`the stream holds ${depth} messages, expected ${target}: ${sluiceLogTail(name)}`);
  const mem = memory(child.pid);
  return { rows: txns * 1000, insert_seconds: inserted, ingested_seconds: (nowMs() - t0) / 1000, depth,
           sluice_rss_mb: mem?.rss_mb ?? null };
}

async function runPullCell(port, child, workers, batch) {
  const before = await streamStats(port);
  const cell = {
    workers, batch,
    budget: settings.pull_rows, claimed: 0, deadline: 0, abort: false,
    receives: 0, acks: 0, empty_receives: 0, received: 0, acked: 0, ack_failed: 0,
    redelivered: 0, duplicates: 0, errors: [], receive_ms: [], ack_ms: [],
  };
  try {
    fs.writeFileSync(`/proc/${child.pid}/clear_refs`, '5');  // resets VmHWM: a peak per cell
  } catch {
    /* then the peak is over the run so far */
  }
  const cpu0 = cpuSeconds(child.pid);
  const client0 = process.cpuUsage();
  const t0 = nowMs();
  cell.deadline = t0 + settings.pull_seconds * 1000;
  await Promise.all(Array.from({ length: workers }, () => pullWorker(cell, port)));
  const seconds = (nowMs() - t0) / 1000;
  const clientCpu = process.cpuUsage(client0);
  const cpu1 = cpuSeconds(child.pid);
  const mem = memory(child.pid);
  const after = await streamStats(port);
  const problems = [...new Set(cell.errors)].slice(0, 5);
  if (after.outstanding !== 0) problems.push(`${after.outstanding} messages still outstanding after the cell`);
  if (before.depth - after.depth !== cell.acked) {
    problems.push(`the stream depth went from ${before.depth} to ${after.depth}, but ${cell.acked} acks succeeded`);
  }
  if (cell.duplicates) problems.push(`${cell.duplicates} messages received twice without a redelivery`);
  // Every message is acknowledged within milliseconds and ack_wait_ms is far
  // longer than a cell: no lease can expire, so a redelivery is a problem too.
  if (cell.redelivered) problems.push(`${cell.redelivered} messages redelivered (deliver_count > 1)`);
  if (cell.ack_failed) problems.push(`${cell.ack_failed} ack ids failed`);
  if (cell.empty_receives) problems.push(`${cell.empty_receives} empty receives (the stream ran dry?)`);
  const rs = cell.receive_ms.sort((x, y) => x - y);
  const as = cell.ack_ms.sort((x, y) => x - y);
  const result = {
    workers, batch_size: batch,
    messages: cell.acked,
    seconds,
    messages_per_s: cell.acked / seconds,
    receives: cell.receives,
    acks: cell.acks,
    mean_batch: cell.acks ? cell.received / cell.acks : null,
    received: cell.received,
    ack_failed: cell.ack_failed,
    redelivered: cell.redelivered,
    duplicates: cell.duplicates,
    empty_receives: cell.empty_receives,
    receive_ms: { p50: percentile(rs, 50), p99: percentile(rs, 99), max: rs[rs.length - 1] ?? null },
    ack_ms: { p50: percentile(as, 50), p99: percentile(as, 99), max: as[as.length - 1] ?? null },
    sluice_cpu_s: cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null,
    client_cpu_s: (clientCpu.user + clientCpu.system) / 1e6,
    peak_rss_mb: mem?.hwm_mb ?? null,
    rss_mb: mem?.rss_mb ?? null,
    depth_before: before.depth,
    depth_after: after.depth,
    loadavg_after: fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number),
    status: problems.length ? `failed: ${problems.join('; ')}` : 'ok',
  };
  result.sluice_cpu_us_per_message = result.sluice_cpu_s !== null && cell.acked ? (result.sluice_cpu_s / cell.acked) * 1e6 : null;
  return result;
}

async function pullWorkload() {
  const slot = 'pull_sluice';
  const name = 'pull-sluice_http_pull';
  const port = await freePort();
  seenIds = new SeenIds();
  await createSlot(slot);
  const config = `server: {listen: "127.0.0.1:${port}"}\n` +
    sluiceConfig(name, slot, `{type: http_pull, ack_wait_ms: ${settings.pull_ack_wait_ms}}`);
  const child = startSluice(name, config);
  const cells = [];
  let preload;
  try {
    const up = await waitFor(async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`sluice exited: ${sluiceLogTail(name)}`);
      return streamStats(port).then(() => true, () => false);
    }, 30_000);
    if (up === null) throw new Error(`the API did not come up on port ${port}: ${sluiceLogTail(name)}`);
    log(`pull: loading ${settings.pull_rows.toLocaleString('en-US')} rows into the stream`);
    preload = await pullFill(port, child, name, settings.pull_rows, settings.pull_rows);
    log(`pull: inserted in ${preload.insert_seconds.toFixed(1)} s, all in the stream after ${preload.ingested_seconds.toFixed(1)} s` +
        ` (Sluice RSS ${preload.sluice_rss_mb?.toFixed(1)} MB)`);
    let depth = preload.depth;
    for (const workers of settings.pull_workers) {
      for (const batch of settings.pull_batch_sizes) {
        if (depth < settings.pull_rows) {
          const refill = await pullFill(port, child, name, settings.pull_rows - depth, depth + Math.ceil((settings.pull_rows - depth) / 1000) * 1000);
          depth = refill.depth;
        }
        log(`pull: ${workers} worker(s), batch_size ${batch}, up to ${settings.pull_seconds} s`);
        const r = await runPullCell(port, child, workers, batch);
        depth = r.depth_after;
        log(`pull: ${workers} x ${batch}: ${r.messages.toLocaleString('en-US')} messages in ${r.seconds.toFixed(2)} s, ` +
            `${Math.round(r.messages_per_s).toLocaleString('en-US')} msg/s, Sluice CPU ${r.sluice_cpu_s?.toFixed(1)} s, ` +
            `client CPU ${r.client_cpu_s.toFixed(1)} s${r.status === 'ok' ? '' : ', ' + r.status}`);
        cells.push(r);
      }
    }
  } finally {
    await stopChild(child);
    await dropSlot(slot);
    seenIds = null;
  }
  return {
    title: `Pull queue: receive + ack throughput (http_pull, ack_wait_ms ${settings.pull_ack_wait_ms}, ` +
      `wait_for ${settings.pull_wait_ms} ms, up to ${settings.pull_seconds} s or ${fmt(settings.pull_rows)} messages per cell)`,
    rows_per_cell: settings.pull_rows,
    seconds_per_cell: settings.pull_seconds,
    wait_for_ms: settings.pull_wait_ms,
    ack_wait_ms: settings.pull_ack_wait_ms,
    preload,
    cells,
  };
}

// ---------------------------------------------------------------------------
// W5: a backfill of an existing table, next to COPY of the same table.
//
// The table has the events table's shape and is filled (then vacuumed,
// analyzed and checkpointed) before anything is measured. The reference is
// `COPY (SELECT * FROM w5_events) TO STDOUT` through psql into /dev/null, run
// twice; the faster run (warm cache) counts. Then, per Sluice sink, a fresh
// publication, slot and data_dir, and a config whose sink has
// `initial_backfill: [{table: public.w5_events}]`: timed from starting the
// process until the API shows the backfill `completed` with rows_emitted equal
// to the row count (polled every 100 ms). `completed` means the sink has
// acknowledged every read.

const W5_TABLE = 'w5_events';

async function copyReference(rows, attempt) {
  const name = `w5-copy-${attempt}`;
  const timeFile = path.join(workDir, `${name}.time`);
  const t0 = nowMs();
  const child = start('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
                                        '-h', pgEnv.PGHOST, '-p', pgEnv.PGPORT, '-U', 'postgres', '-d', 'postgres',
                                        '-c', `COPY (SELECT * FROM public.${W5_TABLE}) TO STDOUT`], {
    stdout: '/dev/null',
    stderr: path.join(workDir, `${name}.err`),
  });
  const timeoutMs = 120_000 + rows;
  const r = await Promise.race([child.exited, deadline(timeoutMs)]);
  if (r === null) {
    await stopChild(child, 2000);
    return { error: `timed out after ${timeoutMs / 1000} s` };
  }
  if (r.code !== 0) {
    return { error: `exit ${r.code}: ${fs.readFileSync(path.join(workDir, `${name}.err`), 'utf8').trim().slice(-500)}` };
  }
  const t = readTimeFile(timeFile);
  const seconds = (r.at - t0) / 1000;
  return { seconds, rows_per_s: rows / seconds, cpu_s: t.cpu_s, peak_rss_mb: t.peak_rss_mb };
}

async function apiGet(port, token, urlPath) {
  const r = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
    headers: { Authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(5000),
  });
  if (!r.ok) throw new Error(`GET ${urlPath}: HTTP ${r.status} ${(await r.text()).slice(0, 200)}`);
  return urlPath === '/metrics' ? r.text() : r.json();
}

async function backfillSluice(sink, rows) {
  const name = `w5-sluice_${sink}`;
  const slot = `w5_sluice_${sink}`;
  const publication = `w5_pub_${sink}`;
  const batchSize = sink === 'webhook' ? settings.w5_webhook_batch_size : settings.batch_size;
  await db.query(`CREATE PUBLICATION ${publication} FOR TABLE public.${W5_TABLE}`);
  await createSlot(slot);
  let destination = '{type: "null"}';
  if (sink === 'webhook') {
    destination = `{type: webhook, url: "${receiver.url}/hook"}`;
    await receiverCall(`/_reset?mode=count&expect=${rows}`, 'POST');
  }
  const port = await freePort();
  const token = crypto.randomBytes(16).toString('hex');
  const config = `server: {listen: "127.0.0.1:${port}"}\napi_tokens: [{name: bench, token: "${token}"}]\n` +
    sluiceConfig(name, slot, destination,
                 `    tables: [public.${W5_TABLE}]\n    initial_backfill: [{table: public.${W5_TABLE}}]\n`,
                 settings.status_interval_ms, { publication, batchSize });
  const timeoutMs = 120_000 + rows;  // 1 ms per row beyond two minutes
  const t0 = nowMs();
  const child = startSluice(name, config);
  const perf = settings.perf ? startPerf(name, child.pid) : null;
  let doneAt = null;
  let failure = null;
  let last = null;
  let apiUpAt = null;
  while (doneAt === null) {
    await sleep(100);
    if (child.exitCode !== null || child.signalCode !== null) {
      failure = `sluice exited (${child.exitCode ?? child.signalCode}): ${sluiceLogTail(name)}`;
      break;
    }
    if (nowMs() - t0 > timeoutMs) {
      failure = `timed out after ${timeoutMs / 1000} s; last seen: ${JSON.stringify(last)}`;
      break;
    }
    let list;
    try {
      list = (await apiGet(port, token, '/api/sinks/bench/backfills')).data;
    } catch {
      continue;  // not listening yet
    }
    apiUpAt ??= nowMs();
    last = list.find((b) => b.table_name === W5_TABLE) ?? null;
    if (!last) continue;
    if (last.state === 'failed' || last.state === 'cancelled') {
      failure = `backfill ${last.state}: ${last.last_error}`;
      break;
    }
    if (last.state !== 'completed') continue;
    if (last.rows_emitted !== rows) {
      failure = `backfill completed with rows_emitted ${last.rows_emitted}, rows_read ${last.rows_read}, expected ${rows}`;
      break;
    }
    if (sink === 'webhook' && (await receiverCall('/_stats')).count < rows) continue;
    doneAt = nowMs();
  }
  const cpu = cpuSeconds(child.pid);
  const mem = memory(child.pid);
  let metricsEmitted = null;
  if (doneAt !== null) {
    try {
      const text = await apiGet(port, token, '/metrics');
      const m = text.match(/^sluice_backfill_rows_emitted_total\{[^}]*sink="bench"[^}]*\}\s+(\S+)/m);
      if (m) metricsEmitted = Number(m[1]);
    } catch {
      /* informational only */
    }
  }
  if (perf) {
    perf.kill('SIGINT');
    await perf.exited;
  }
  await stopChild(child);
  await dropSlot(slot);
  await db.query(`DROP PUBLICATION ${publication}`);
  if (failure) return { error: failure };
  const created = Date.parse(last.created_at);
  const completed = Date.parse(last.completed_at);
  const result = {
    batch_size: batchSize,
    seconds: (doneAt - t0) / 1000,
    // The backfill's own clock: created_at -> completed_at (ms resolution),
    // so without process start-up and the 100 ms polling.
    api_seconds: Number.isFinite(created) && Number.isFinite(completed) ? (completed - created) / 1000 : null,
    api_up_seconds: apiUpAt === null ? null : (apiUpAt - t0) / 1000,
    cpu_s: cpu,
    peak_rss_mb: mem?.hwm_mb ?? null,
    rows_read: last.rows_read,
    rows_emitted: last.rows_emitted,
    estimated_total: last.estimated_total,
    metrics_rows_emitted: metricsEmitted,
  };
  if (sink === 'webhook') {
    const stats = await receiverCall('/_stats');
    result.delivered = stats.count;
    result.delivered_bytes = stats.bytes;
    result.requests = stats.requests;
    if (stats.count < rows) return { error: `only ${stats.count} of ${rows} messages delivered` };
  }
  return result;
}

async function backfillWorkload() {
  const rows = settings.w5_rows;
  await db.query(eventsTableDdl(W5_TABLE));
  log(`w5: loading ${fmt(rows)} rows into ${W5_TABLE}`);
  const t0 = nowMs();
  await psql(eventsInsert(W5_TABLE, rows));
  const loadSeconds = (nowMs() - t0) / 1000;
  // Hint bits, visibility map and statistics set before anything reads it.
  await psql(`VACUUM (ANALYZE) ${W5_TABLE}`);
  await db.query('CHECKPOINT');
  const count = Number(await scalar(`SELECT count(*) FROM ${W5_TABLE}`));
  if (count !== rows) throw new Error(`w5: ${W5_TABLE} has ${count} rows, expected ${rows}`);
  const tableBytes = Number(await scalar('SELECT pg_table_size($1)', [W5_TABLE]));
  const rowBytes = Number(await scalar(`SELECT avg(pg_column_size(e.*))::int FROM (SELECT * FROM ${W5_TABLE} LIMIT 1000) e`));
  log(`w5: loaded in ${loadSeconds.toFixed(1)} s (${(tableBytes / 2 ** 20).toFixed(0)} MiB)`);

  const copyRuns = [];
  for (let i = 1; i <= 2; i++) {
    const r = await copyReference(rows, i);
    copyRuns.push(r);
    log(`w5: COPY run ${i}: ${r.error ? 'failed: ' + r.error : `${r.seconds.toFixed(2)} s, ${fmt(r.rows_per_s)} rows/s`}`);
  }
  const okRuns = copyRuns.filter((r) => !r.error);
  const copy = okRuns.length ? okRuns.reduce((a, b) => (b.seconds < a.seconds ? b : a)) : null;

  const results = [];
  for (const sink of ['null', 'webhook']) {
    const consumer = `sluice_${sink}`;
    if (!settings.consumers.includes(consumer)) continue;
    const batchSize = sink === 'webhook' ? settings.w5_webhook_batch_size : settings.batch_size;
    const label = `Sluice backfill -> ${sink} (batch ${batchSize})`;
    log(`w5: ${label}`);
    const r = await backfillSluice(sink, rows);
    const entry = { consumer, label, ...r };
    if (r.error) {
      entry.status = `failed: ${r.error}`;
      log(`w5: ${consumer} ${entry.status}`);
    } else {
      entry.status = 'ok';
      entry.rows_per_s = rows / r.seconds;
      entry.ratio_to_copy = copy ? entry.rows_per_s / copy.rows_per_s : null;
      log(`w5: ${consumer}: ${r.seconds.toFixed(2)} s (backfill itself ${r.api_seconds?.toFixed(2)} s), ` +
          `${fmt(entry.rows_per_s)} rows/s${copy ? `, ${entry.ratio_to_copy.toFixed(2)}x COPY` : ''}, CPU ${r.cpu_s?.toFixed(1)} s`);
    }
    results.push(entry);
  }
  await db.query(`DROP TABLE ${W5_TABLE}`);
  return {
    id: 'w5',
    title: 'W5 backfill vs COPY',
    table: `public.${W5_TABLE}`,
    rows,
    load_seconds: loadSeconds,
    table_bytes: tableBytes,
    row_bytes: rowBytes,
    copy: { command: `psql -c "COPY (SELECT * FROM public.${W5_TABLE}) TO STDOUT" > /dev/null`,
            runs: copyRuns, best: copy, note: 'two runs, the faster (warm cache) is the reference' },
    results,
  };
}

// ---------------------------------------------------------------------------
// Report.

function fmt(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return '-';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function pad(s, n, right = false) {
  s = String(s);
  return right ? s.padStart(n) : s.padEnd(n);
}

function renderTable(report) {
  const lines = [];
  const m0 = report.machine.before;
  const m1 = report.machine.after;
  lines.push(`Sluice benchmark, ${report.date} (${report.host.cpus} CPUs, ${report.host.cpu_model})`);
  lines.push(`load average before ${m0.loadavg.join(' ')} (busy ${m0.busy_pct}%), after ${m1 ? m1.loadavg.join(' ') + ` (busy ${m1.busy_pct}%)` : '-'}`);
  const others = (m) => m.top_processes.filter((p) => p.cpu_pct >= 10).map((p) => `${p.comm} ${p.cpu_pct}%`).join(', ') || 'none';
  lines.push(`other processes using CPU: before: ${others(m0)}; after: ${m1 ? others(m1) : '-'}`);
  for (const w of report.workloads) {
    lines.push('');
    if (w.id === 'w4') {
      lines.push(`${w.title} (load average ${w.loadavg_before[0]} -> ${w.loadavg_after[0]})`);
      lines.push(`  ${pad('consumer', 50)}${pad('ops/s', 12)}${pad('achieved', 10, true)}${pad('messages', 10, true)}${pad('p50 ms', 9, true)}${pad('p99 ms', 9, true)}${pad('max ms', 9, true)}${pad('RSS MB', 8, true)}`);
      for (const c of w.consumers) {
        for (const r of c.runs) {
          const l = r.latency_ms || {};
          lines.push(`  ${pad(c.label, 50)}${pad(r.spec, 12)}${pad(fmt(r.achieved_ops_per_s), 10, true)}${pad(fmt(r.messages), 10, true)}${pad(fmt(l.p50, 1), 9, true)}${pad(fmt(l.p99, 1), 9, true)}${pad(fmt(l.max, 1), 9, true)}${pad(fmt(r.rss_mb, 1), 8, true)}${r.status === 'ok' ? '' : '  ' + r.status}`);
        }
      }
      continue;
    }
    lines.push(`${w.title}: ${fmt(w.rows)} rows, ${fmt(w.wal_bytes / 2 ** 20)} MiB of WAL (load took ${fmt(w.load_seconds, 1)} s; load average ${w.loadavg_before[0]} -> ${w.loadavg_after[0]})`);
    lines.push(`  ${pad('consumer', 38)}${pad('seconds', 9, true)}${pad('rows/s', 10, true)}${pad('vs p1', 8, true)}${pad('peak RSS MB', 13, true)}${pad('CPU s/1M', 10, true)}${pad('walsender CPU s', 17, true)}`);
    for (const r of w.results) {
      if (r.status !== 'ok') {
        lines.push(`  ${pad(r.label, 38)}  ${r.status}`);
        continue;
      }
      lines.push(`  ${pad(r.label, 38)}${pad(fmt(r.seconds, 2), 9, true)}${pad(fmt(r.rows_per_s), 10, true)}${pad(r.ratio_to_recvlogical_p1 ? fmt(r.ratio_to_recvlogical_p1, 2) + 'x' : '-', 8, true)}${pad(fmt(r.peak_rss_mb, 1), 13, true)}${pad(fmt(r.cpu_s_per_million, 2), 10, true)}${pad(fmt(r.walsender_cpu_s, 1), 17, true)}` +
                 (r.client_cpu_s !== undefined ? `  (${r.workers} workers x ${r.receive_batch_size}: ${fmt(r.client_cpu_s, 1)} CPU s)` : ''));
    }
  }
  if (report.w5) renderW5(report.w5, lines);
  if (report.pull) renderPull(report.pull, lines);
  lines.push('');
  lines.push('Targets (issue 5):');
  for (const t of report.targets) lines.push(`  [${t.verdict}] ${t.target}: ${t.measured}`);
  return lines.join('\n');
}

// W5: the COPY reference, then one line per Sluice sink.
function renderW5(w, lines) {
  lines.push('');
  lines.push(`${w.title}: ${fmt(w.rows)} rows, ${fmt(w.table_bytes / 2 ** 20)} MiB table (load took ${fmt(w.load_seconds, 1)} s; ` +
             `load average ${w.loadavg_before[0]} -> ${w.loadavg_after[0]})`);
  lines.push(`  ${pad('', 48)}${pad('seconds', 9, true)}${pad('rows/s', 10, true)}${pad('vs COPY', 9, true)}${pad('peak RSS MB', 13, true)}${pad('CPU s', 8, true)}${pad('backfill s', 12, true)}`);
  const c = w.copy.best;
  const runs = w.copy.runs.map((r) => (r.error ? 'failed' : fmt(r.seconds, 2))).join(' and ');
  if (c) {
    lines.push(`  ${pad('COPY TO STDOUT via psql (better of 2 runs)', 48)}${pad(fmt(c.seconds, 2), 9, true)}${pad(fmt(c.rows_per_s), 10, true)}` +
               `${pad('1.00x', 9, true)}${pad(fmt(c.peak_rss_mb, 1), 13, true)}${pad(fmt(c.cpu_s, 2), 8, true)}${pad('-', 12, true)}`);
  } else {
    lines.push(`  ${pad('COPY TO STDOUT via psql', 48)}  failed: ${w.copy.runs.map((r) => r.error).join('; ')}`);
  }
  for (const r of w.results) {
    if (r.status !== 'ok') {
      lines.push(`  ${pad(r.label, 48)}  ${r.status}`);
      continue;
    }
    lines.push(`  ${pad(r.label, 48)}${pad(fmt(r.seconds, 2), 9, true)}${pad(fmt(r.rows_per_s), 10, true)}` +
               `${pad(r.ratio_to_copy ? fmt(r.ratio_to_copy, 2) + 'x' : '-', 9, true)}${pad(fmt(r.peak_rss_mb, 1), 13, true)}` +
               `${pad(fmt(r.cpu_s, 2), 8, true)}${pad(fmt(r.api_seconds, 2), 12, true)}`);
  }
  lines.push(`  COPY runs: ${runs} s (the faster, warm cache, is the reference; its CPU s and RSS are psql's, not the backend's).`);
  lines.push('  Sluice seconds: process start -> the API shows the backfill completed with every row emitted (polled every 100 ms);');
  lines.push('  backfill s: its created_at -> completed_at. CPU s and peak RSS: the Sluice process.');
}

// The pull workload: messages/s as a workers x batch_size grid, then one line per cell.
function renderPull(p, lines) {
  lines.push('');
  lines.push(`${p.title} (load average ${p.loadavg_before[0]} -> ${p.loadavg_after[0]})`);
  if (p.preload) {
    lines.push(`  preload: ${fmt(p.preload.rows)} rows inserted in ${fmt(p.preload.insert_seconds, 1)} s, all in the stream after ` +
               `${fmt(p.preload.ingested_seconds, 1)} s; Sluice RSS then ${fmt(p.preload.sluice_rss_mb, 1)} MB`);
  }
  const batches = [...new Set(p.cells.map((c) => c.batch_size))];
  const workers = [...new Set(p.cells.map((c) => c.workers))];
  lines.push(`  ${pad('messages/s', 14)}${batches.map((b) => pad(`batch ${b}`, 12, true)).join('')}`);
  for (const w of workers) {
    const row = batches.map((b) => {
      const c = p.cells.find((x) => x.workers === w && x.batch_size === b);
      return pad(!c ? '-' : fmt(c.messages_per_s) + (c.status === 'ok' ? '' : '!'), 12, true);
    });
    lines.push(`  ${pad(`${w} worker${w === 1 ? '' : 's'}`, 14)}${row.join('')}`);
  }
  lines.push(`  ${pad('workers', 9)}${pad('batch', 7, true)}${pad('messages', 10, true)}${pad('seconds', 9, true)}${pad('msg/s', 9, true)}${pad('recv p50/p99 ms', 17, true)}${pad('Sluice CPU s', 14, true)}${pad('us/msg', 8, true)}${pad('client CPU s', 14, true)}${pad('peak RSS MB', 13, true)}${pad('load', 6, true)}`);
  for (const c of p.cells) {
    lines.push(`  ${pad(c.workers, 9)}${pad(c.batch_size, 7, true)}${pad(fmt(c.messages), 10, true)}${pad(fmt(c.seconds, 2), 9, true)}${pad(fmt(c.messages_per_s), 9, true)}` +
      `${pad(`${fmt(c.receive_ms.p50, 2)}/${fmt(c.receive_ms.p99, 1)}`, 17, true)}${pad(fmt(c.sluice_cpu_s, 2), 14, true)}${pad(fmt(c.sluice_cpu_us_per_message, 0), 8, true)}` +
      `${pad(fmt(c.client_cpu_s, 2), 14, true)}${pad(fmt(c.peak_rss_mb, 1), 13, true)}${pad(fmt(c.loadavg_after[0], 2), 6, true)}${c.status === 'ok' ? '' : '  ' + c.status}`);
  }
  if (p.cells.some((c) => c.status !== 'ok')) lines.push('  ! = the cell failed a check (see its line)');
}

function evaluateTargets(report) {
  const targets = [];
  const get = (w, c) => report.workloads.find((x) => x.id === w)?.results.find((r) => r.consumer === c && r.status === 'ok');
  const add = (target, ok, measured) => targets.push({ target, verdict: ok === null ? 'n/a' : ok ? 'met' : 'MISSED', measured });
  for (const w of ['w1', 'w2']) {
    const ref = get(w, 'recvlogical_p1');
    for (const [c, min] of [['sluice_null', 1.0], ['sluice_webhook', 0.7], ['sluice_http_pull', 0.7]]) {
      const r = get(w, c);
      if (r && ref) {
        add(`${w.toUpperCase()} ${c.replace('sluice_', '')} >= ${min.toFixed(1)}x pg_recvlogical proto 1`,
            r.ratio_to_recvlogical_p1 >= min, `${r.ratio_to_recvlogical_p1.toFixed(2)}x`);
      }
    }
  }
  for (const w of ['w1', 'w2', 'w3']) {
    const peer = get(w, 'node_peer');
    if (!peer) continue;
    for (const c of ['sluice_null', 'sluice_file', 'sluice_webhook', 'sluice_http_pull']) {
      const r = get(w, c);
      if (r) add(`${w.toUpperCase()} ${c.replace('sluice_', '')} >= 2x the Node peer`, r.rows_per_s >= 2 * peer.rows_per_s,
                 `${(r.rows_per_s / peer.rows_per_s).toFixed(2)}x`);
    }
  }
  for (const c of ['sluice_null', 'sluice_file', 'sluice_webhook', 'sluice_http_pull']) {
    const r = get('w3', c);
    if (r) add(`W3 ${c.replace('sluice_', '')} peak RSS < 256 MB`, r.peak_rss_mb < 256, `${r.peak_rss_mb.toFixed(1)} MB`);
  }
  const w4consumers = report.workloads.find((x) => x.id === 'w4')?.consumers ?? [];
  for (const c of w4consumers.filter((x) => x.consumer === 'sluice_webhook' || x.consumer === 'sluice_http_pull')) {
    for (const r of c.runs) {
      if (!r.latency_ms) continue;
      const limit = r.target_ops_per_s <= 2000 ? 10 : 50;
      const short = r.achieved_ops_per_s < 0.95 * r.target_ops_per_s
        ? ` (the writer reached only ${fmt(r.achieved_ops_per_s)} ops/s)` : '';
      add(`W4 ${c.consumer.replace('sluice_', '')} p99 < ${limit} ms at ${fmt(r.target_ops_per_s)} ops/s${r.ops_per_transaction > 1 ? ` (${r.ops_per_transaction} ops/txn)` : ''}`,
          r.latency_ms.p99 < limit, `${r.latency_ms.p99.toFixed(1)} ms${short}`);
    }
  }
  const w4 = w4consumers.find((c) => c.consumer === 'sluice_webhook');
  if (w4) {
    const steady = w4.runs.find((r) => r.rss_mb);
    if (steady) add('Steady-state RSS < 64 MB with one sink (W4, webhook)', steady.rss_mb < 64,
                    `${steady.rss_mb.toFixed(1)} MB after ${steady.spec} ops/s (peak over W4 ${Math.max(...w4.runs.map((r) => r.peak_rss_mb || 0)).toFixed(1)} MB)`);
  }
  const w5 = report.w5?.results.find((r) => r.consumer === 'sluice_null' && r.status === 'ok');
  if (w5 && w5.ratio_to_copy) add('W5 backfill (null sink) >= 0.8x COPY', w5.ratio_to_copy >= 0.8, `${w5.ratio_to_copy.toFixed(2)}x`);
  else add('W5 backfill >= 0.8x COPY', null, report.w5 ? 'no result' : 'not run');
  return targets;
}

// ---------------------------------------------------------------------------

async function main() {
  if (!fs.existsSync(settings.sluice_bin)) {
    throw new Error(`${settings.sluice_bin} is missing; build it: cmake --preset release && cmake --build --preset release`);
  }
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-'));
  const report = {
    date: new Date().toISOString(),
    host: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model?.trim(), mem_gb: Math.round(os.totalmem() / 2 ** 30),
            kernel: os.release(), postgres: null, sluice_bin: path.relative(ROOT, settings.sluice_bin),
            sluice_bin_built: fs.statSync(settings.sluice_bin).mtime.toISOString() },
    git: (() => {
      try {
        return execFileSync('git', ['-C', ROOT, 'describe', '--always', '--dirty'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
      } catch {
        return null;
      }
    })(),
    settings: { ...settings, sluice_bin: undefined, output: undefined, keep: undefined },
    machine: { before: await machineSnapshot(), after: null },
    workloads: [],
  };
  log(`load average ${report.machine.before.loadavg.join(' ')}, busy ${report.machine.before.busy_pct}%`);
  await startPostgres();
  report.host.postgres = await scalar('SHOW server_version');
  await startReceiver();
  const rowBytes = async () => Number(await scalar('SELECT avg(pg_column_size(e.*))::int FROM (SELECT * FROM events LIMIT 1000) e'));

  const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  for (const w of settings.workloads) {
    const loadBefore = loadavg();
    if (w === 'w1') {
      const txns = Math.max(1, Math.round(settings.w1_rows / settings.w1_rows_per_txn));
      const rows = txns * settings.w1_rows_per_txn;
      report.workloads.push(await backlogWorkload('w1', `W1 backlog drain (${fmt(settings.w1_rows_per_txn)}-row transactions)`, rows,
                                                  () => psql(`CALL bench_load(${txns}, ${settings.w1_rows_per_txn})`)));
    } else if (w === 'w2') {
      report.workloads.push(await backlogWorkload('w2', 'W2 single-row transactions', settings.w2_rows,
                                                  () => psql(`CALL bench_load(${settings.w2_rows}, 1)`)));
    } else if (w === 'w3') {
      report.workloads.push(await backlogWorkload('w3', 'W3 one transaction', settings.w3_rows,
                                                  () => psql(`SELECT bench_insert(${settings.w3_rows})`)));
    } else if (w === 'w4') {
      report.workloads.push(await latencyWorkload());
    } else if (w === 'w5') {
      report.w5 = await backfillWorkload();
      Object.assign(report.w5, { loadavg_before: loadBefore, loadavg_after: loadavg() });
      continue;
    } else if (w === 'pull') {
      report.pull = await pullWorkload();
      Object.assign(report.pull, { loadavg_before: loadBefore, loadavg_after: loadavg() });
      continue;
    } else {
      throw new Error(`BENCH_WORKLOADS: unknown workload "${w}" (w1, w2, w3, w4, w5, pull)`);
    }
    Object.assign(report.workloads[report.workloads.length - 1], { loadavg_before: loadBefore, loadavg_after: loadavg() });
    if (!report.row_bytes) report.row_bytes = await rowBytes().catch(() => null);
  }
  report.machine.after = await machineSnapshot();
  report.targets = evaluateTargets(report);
  fs.mkdirSync(path.dirname(settings.output), { recursive: true });
  fs.writeFileSync(settings.output, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(renderTable(report) + '\n');
  log(`wrote ${path.relative(process.cwd(), settings.output)}`);
}

function cleanup() {
  for (const child of children) killGroup(child, 'SIGKILL');
  stopPostgres();
  if (workDir && !settings.keep) fs.rmSync(workDir, { recursive: true, force: true });
  else if (workDir) log(`kept ${workDir}`);
  workDir = null;
}

process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});
process.on('SIGTERM', () => {
  cleanup();
  process.exit(143);
});

main()
  .then(async () => {
    await db?.end();
    cleanup();
  })
  .catch(async (e) => {
    log(`error: ${e.stack || e.message}`);
    try {
      await db?.end();
    } catch {
      /* ignore */
    }
    cleanup();
    process.exit(1);
  });
