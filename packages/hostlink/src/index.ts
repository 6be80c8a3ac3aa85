/**
 * @link/hostlink — link modes (internal, external, auto) and running the host linker. Interface
 * only until its issue.
 */
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
