/** Milliseconds from an arbitrary origin. Not `nowMs()`: the global `performance` loads
 * Node's perf_hooks on first use, a cost every link would pay for timings only `--stats` prints. */
function nowMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}

/** Per-pass wall-clock timing (Go's bench.Start, mold's Timer), printed by `--stats`. */
export class Timer {
  readonly entries: { name: string; ms: number }[] = [];

  time<T>(name: string, fn: () => T): T {
    const t0 = nowMs();
    try {
      return fn();
    } finally {
      this.entries.push({ name, ms: nowMs() - t0 });
    }
  }

  report(): string {
    const total = this.entries.reduce((a, e) => a + e.ms, 0);
    const lines = this.entries.map((e) => `${e.ms.toFixed(2).padStart(9)} ms  ${e.name}`);
    lines.push(`${total.toFixed(2).padStart(9)} ms  total`);
    return lines.join('\n');
  }
}
