/**
 * @link/hostlink — link modes (internal, external, auto) and running the host linker, as Go's
 * `-linkmode` does (seed 000, `hostlink` in Go's cmd/link/internal/ld/lib.go).
 *
 * In external mode tslink writes what it links itself as one relocatable object (`go.o`'s
 * analogue, its `-r` output), copies the objects it does not handle into a temporary directory
 * as `000000.o`, `000001.o`, …, and runs the host compiler driver to do the final link.
 */
export { buildHostArgv, quoteArgv, splitFlags, type HostLinkPlan } from './argv.js';
export { runHostLink, HostTmpDir } from './run.js';
export { decideLinkMode, isLtoObject } from './mode.js';

export interface HostlinkOptions {
  /** `--extld` (default `cc`). */
  extld: string;
  /** `--extldflags`, split. */
  extldflags: string[];
  /** `--tmpdir`: keep the temporary directory here. */
  tmpdir: string | null;
}

/** Why a link must be external (Go's `mustLinkExternal` reasons). */
export interface LinkModeDecision {
  mode: 'internal' | 'external';
  reason: string;
}
