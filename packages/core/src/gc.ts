import type { Context } from './context.js';
import type { InputSection } from './input.js';

/**
 * `--gc-sections`: mark every section reachable from the roots through relocations, then drop
 * the rest. The format decides the roots (entry, init arrays, kept sections, exports) and which
 * sections are never collected; relocations name symbols, and a symbol names its section.
 *
 * `extraEdges` lets a format add edges that relocations don't show (ELF: a function's FDE keeps
 * its LSDA in .gcc_except_table alive).
 */
export function gcSections(
  ctx: Context,
  roots: InputSection[],
  isCollectable: (sec: InputSection) => boolean,
  extraEdges?: (sec: InputSection, visit: (s: InputSection) => void) => void,
): void {
  const secs = ctx.sections;
  const syms = ctx.syms;
  const stack: InputSection[] = [];
  const visit = (s: InputSection) => {
    if (s.isVisited || !s.isAlive) return;
    s.isVisited = true;
    stack.push(s);
  };
  for (const r of roots) visit(r);
  for (const s of secs) if (s.isAlive && !isCollectable(s)) visit(s);
  while (stack.length > 0) {
    const s = stack.pop()!;
    const rel = s.relocs;
    if (rel !== null) {
      const symCol = rel.store.sym;
      const end = rel.start + rel.count;
      for (let i = rel.start; i < end; i++) {
        const sec = syms.section[symCol[i]!]!;
        if (sec >= 0) visit(secs[sec]!);
      }
    }
    if (extraEdges) extraEdges(s, visit);
  }
  for (const s of secs) {
    if (s.isAlive && !s.isVisited && isCollectable(s)) {
      s.isAlive = false;
      if (ctx.config.printGcSections) {
        process.stderr.write(
          `removing unused section '${s.name}' in file '${s.file.displayName}'\n`,
        );
      }
    }
  }
}
