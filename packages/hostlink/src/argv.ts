/** Everything the host link command is built from; `buildHostArgv` turns it into argv. */
export interface HostLinkPlan {
  /** The host compiler driver (`--extld`, default `cc`). */
  extld: string;
  /** `--extldflags`, already split. */
  extldflags: readonly string[];
  output: string;
  buildMode: 'exe' | 'pie' | 'shared';
  /** `-z` keywords to pass on (`now`, `relro`, …). */
  zFlags: readonly string[];
  /** `--export-dynamic` was asked for. */
  exportDynamic: boolean;
  /** Names `cgo_export_dynamic` (or `--export-dynamic-symbol`) export. */
  exportSymbols: readonly string[];
  soname: string | null;
  rpath: readonly string[];
  /** The relocatable object tslink wrote (`go.o`), then the copied host objects, in order. */
  objects: readonly string[];
  /** Libraries and archives, as given: `-lfoo`, paths to `.a`/`.so`, `-L` directories. */
  libraries: readonly string[];
  /** `cgo_ldflag`s, last, as Go passes them. */
  cgoLdflags: readonly string[];
}

/**
 * The host link command, as a pure function of the plan (golden-tested): driver, its flags, the
 * build mode, the output, the objects, the libraries, the cgo flags.
 */
export function buildHostArgv(p: HostLinkPlan): string[] {
  const argv = [p.extld, ...p.extldflags];
  if (p.buildMode === 'shared') argv.push('-shared');
  else if (p.buildMode === 'pie') argv.push('-pie');
  else argv.push('-no-pie');
  for (const z of p.zFlags) argv.push(`-Wl,-z,${z}`);
  if (p.soname !== null) argv.push(`-Wl,-soname,${p.soname}`);
  for (const r of p.rpath) argv.push(`-Wl,-rpath,${r}`);
  if (p.exportDynamic) argv.push('-rdynamic');
  else for (const s of p.exportSymbols) argv.push(`-Wl,--export-dynamic-symbol=${s}`);
  argv.push('-o', p.output, ...p.objects, ...p.libraries, ...p.cgoLdflags);
  return argv;
}

/** argv as a shell would need it, for `-v` (single quotes where anything is special). */
export function quoteArgv(argv: readonly string[]): string {
  return argv
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

/** Splits `--extldflags` as Go does: on spaces, with single or double quotes grouping. */
export function splitFlags(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let quote: string | null = null;
  for (const c of s) {
    if (quote !== null) {
      if (c === quote) quote = null;
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}
