// Latency bookkeeping shared by the suite, its webhook receiver and the Node
// peer, so that every consumer's figures are computed the same way.

// metadata.commit_timestamp ("2026-11-21T10:00:00.123456Z") as epoch
// milliseconds with the microseconds kept: what latencies are measured from.
export function commitMs(ts) {
  const dot = ts.indexOf('.');
  if (dot < 0) return Date.parse(ts);
  const frac = ts.slice(dot + 1, ts.length - 1).padEnd(6, '0');
  return Date.parse(ts.slice(0, dot) + 'Z') + Number(frac) / 1000;
}

// Nearest-rank percentile of an ascending array; null when it is empty.
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

// {samples, p50, p90, p99, p999, max, min} of an ascending array of
// milliseconds; undefined when it is empty.
export function latencySummary(sorted) {
  if (sorted.length === 0) return undefined;
  return {
    samples: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted[sorted.length - 1],
    min: sorted[0],
  };
}
