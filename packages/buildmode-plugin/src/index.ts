/**
 * @link/buildmode-plugin — `--buildmode=plugin`. Interface only until its issue.
 */
export interface PluginOptions {
  /** `--pluginpath` (default: the output's base name). */
  pluginPath: string;
  /** `--plugin-export` symbols; empty means default-visibility globals. */
  exports: string[];
  /** `--plugin-host`: a host binary to check undefined symbols against. */
  host: string | null;
}
