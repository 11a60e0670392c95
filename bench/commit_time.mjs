// metadata.commit_timestamp ("2026-11-21T10:00:00.123456Z") as epoch
// milliseconds with the microseconds kept: what latencies are measured from.
export function commitMs(ts) {
  const dot = ts.indexOf('.');
  if (dot < 0) return Date.parse(ts);
  const frac = ts.slice(dot + 1, ts.length - 1).padEnd(6, '0');
  return Date.parse(ts.slice(0, dot) + 'Z') + Number(frac) / 1000;
}
