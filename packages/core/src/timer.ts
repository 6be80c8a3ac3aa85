/** Per-pass wall-clock timing (Go's bench.Start, mold's Timer), printed by `--stats`. */
export class Timer {
  readonly entries: { name: string; ms: number }[] = [];

  time<T>(name: string, fn: () => T): T {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.entries.push({ name, ms: performance.now() - t0 });
    }
  }

  report(): string {
    const total = this.entries.reduce((a, e) => a + e.ms, 0);
    const lines = this.entries.map((e) => `${e.ms.toFixed(2).padStart(9)} ms  ${e.name}`);
    lines.push(`${total.toFixed(2).padStart(9)} ms  total`);
    return lines.join('\n');
  }
}
