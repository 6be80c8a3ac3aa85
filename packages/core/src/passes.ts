import type { Context } from './context.js';

/**
 * A pass is a named step of the link. The format package lists its passes in order; feature
 * packages insert theirs at named anchors. Each pass is timed; a pass marked `checkpoint` stops
 * the link when errors were collected while it ran.
 */
export interface Pass<C extends Context = Context> {
  name: string;
  run(ctx: C): void;
  checkpoint?: boolean;
}

export function runPasses<C extends Context>(ctx: C, passes: readonly Pass<C>[]): void {
  for (const p of passes) {
    ctx.timer.time(p.name, () => p.run(ctx));
    if (p.checkpoint) ctx.diag.checkpoint();
  }
}

/** Inserts `pass` right after the pass named `anchor`; throws if the anchor is unknown. */
export function insertAfter<C extends Context>(
  passes: Pass<C>[],
  anchor: string,
  pass: Pass<C>,
): void {
  const i = passes.findIndex((p) => p.name === anchor);
  if (i < 0) throw new Error(`no pass named ${anchor}`);
  passes.splice(i + 1, 0, pass);
}
