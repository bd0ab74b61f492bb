/**
 * Benchmark helpers. Every figure is reported next to a reference measured in the same process and
 * the same run, so the ratio means something on a shared, noisy machine; absolute numbers are for
 * orientation only.
 */
export interface Rate {
  readonly opsPerSecond: number;
  readonly runs: number;
}

/** Runs `fn` repeatedly for about `ms` milliseconds after a warm-up, and returns its rate. */
export function rate(fn: () => unknown, ms = 600): Rate {
  const warmUntil = performance.now() + ms / 4;
  while (performance.now() < warmUntil) fn();
  let runs = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 64; i++) fn();
    runs += 64;
    now = performance.now();
  }
  return { opsPerSecond: (runs * 1000) / (now - start), runs };
}

/** Interleaves the two measurements (A B A B A B) and keeps each one's best, to damp noise. */
export function compare(a: () => unknown, b: () => unknown, rounds = 3, ms = 400): { a: number; b: number; ratio: number } {
  let bestA = 0;
  let bestB = 0;
  for (let i = 0; i < rounds; i++) {
    bestA = Math.max(bestA, rate(a, ms).opsPerSecond);
    bestB = Math.max(bestB, rate(b, ms).opsPerSecond);
  }
  return { a: bestA, b: bestB, ratio: bestA / bestB };
}

export function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

export function table(rows: ReadonlyArray<readonly string[]>): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

/**
 * CPU time, not wall time: interleaves A and B for `rounds` rounds of about `ms` each and compares
 * their rates over the process's user + system CPU microseconds (less sensitive to another process
 * taking the core than wall time). Returns ops per CPU second for each and the ratio a / b.
 */
export function compareCpu(a: () => unknown, b: () => unknown, rounds = 8, ms = 250): { a: number; b: number; ratio: number } {
  const run = (fn: () => unknown) => {
    const wallEnd = performance.now() + ms;
    const start = process.cpuUsage();
    let runs = 0;
    while (performance.now() < wallEnd) {
      for (let i = 0; i < 32; i++) fn();
      runs += 32;
    }
    const used = process.cpuUsage(start);
    return { runs, cpuUs: used.user + used.system };
  };
  // warm both up before counting
  run(a);
  run(b);
  let runsA = 0;
  let cpuA = 0;
  let runsB = 0;
  let cpuB = 0;
  for (let i = 0; i < rounds; i++) {
    const ra = run(a);
    const rb = run(b);
    runsA += ra.runs;
    cpuA += ra.cpuUs;
    runsB += rb.runs;
    cpuB += rb.cpuUs;
  }
  const rateA = (runsA * 1e6) / cpuA;
  const rateB = (runsB * 1e6) / cpuB;
  return { a: rateA, b: rateB, ratio: rateA / rateB };
}
