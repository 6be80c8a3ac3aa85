/**
 * Diagnostics in lld's shape: `error: undefined symbol: foo` followed by `>>> ` context lines.
 *
 * Passes collect errors into `Diagnostics` and keep going so a user sees every problem of a
 * kind at once (mold's style); `checkpoint()` after a pass throws one `LinkError` carrying all of
 * them. Code that cannot continue (a truncated file) throws a `LinkError` directly. The CLI prints
 * `LinkError`s without a stack trace and exits 1; anything else is an internal bug.
 */
export class LinkError extends Error {
  /** Each entry is one complete diagnostic (first line plus `>>>` lines), without `error: `. */
  readonly messages: string[];

  constructor(messages: string | string[]) {
    const list = typeof messages === 'string' ? [messages] : messages;
    super(list.join('\n'));
    this.name = 'LinkError';
    this.messages = list;
  }
}

/**
 * An input the internal linker does not handle but a host linker would (compiler IR for LTO):
 * in `--linkmode=auto` the link is handed to the host linker instead (`@link/hostlink`).
 */
export class NeedsHostLinker extends LinkError {}

/** Where in an input a problem sits: `a.o:(.text+0x12)` or `libc.a(printf.o):(.text+0x3)`. */
export function formatLocation(file: string, section?: string, offset?: number): string {
  if (section === undefined) return file;
  const off = offset === undefined ? '' : `+0x${offset.toString(16)}`;
  return `${file}:(${section}${off})`;
}

/** Throws a `LinkError` for malformed input: names the file and what is wrong with it. */
export function malformed(file: string, what: string): never {
  throw new LinkError(`${file}: ${what}`);
}

export class Diagnostics {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  /** Upper bound on collected errors, as lld's --error-limit (0 = unlimited). */
  errorLimit = 20;
  /** Where warnings go; the CLI points this at stderr. */
  warnSink: (msg: string) => void = () => {};
  fatalWarnings = false;

  error(msg: string): void {
    this.errors.push(msg);
    if (this.errorLimit > 0 && this.errors.length >= this.errorLimit) this.checkpoint();
  }

  warn(msg: string): void {
    if (this.fatalWarnings) {
      this.error(msg);
      return;
    }
    this.warnings.push(msg);
    this.warnSink(`warning: ${msg}`);
  }

  get hasErrors(): boolean {
    return this.errors.length > 0;
  }

  /** Stops the link if any error was collected since the start. */
  checkpoint(): void {
    if (this.errors.length === 0) return;
    const msgs = this.errors.slice();
    if (this.errorLimit > 0 && msgs.length >= this.errorLimit) {
      msgs.push('too many errors emitted, stopping now (use --error-limit=0 to see all errors)');
    }
    this.errors.length = 0;
    throw new LinkError(msgs);
  }
}
