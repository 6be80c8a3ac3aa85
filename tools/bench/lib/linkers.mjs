// The linkers compared by the bench, and how to find out whether each one can run here.

import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { isExecutableFile, runSync } from './proc.mjs';

/** The linker every ratio is computed for. */
export const SUBJECT = 'tslink';

/**
 * Linker definitions in table order. `extraArgs` go before the captured argv; they are the
 * only deviation from "the exact same command" and each one is explained.
 */
export function linkerDefinitions(repoRoot) {
  return [
    { id: 'ld.bfd', path: '/usr/bin/ld.bfd', aptPackage: 'binutils', extraArgs: [] },
    { id: 'ld.gold', path: '/usr/bin/ld.gold', aptPackage: 'binutils', extraArgs: [] },
    { id: 'ld.lld', path: '/usr/bin/ld.lld', aptPackage: 'lld', extraArgs: [] },
    {
      id: 'mold',
      path: '/usr/bin/mold',
      aptPackage: 'mold',
      // By default mold forks: the child links, the parent exits as soon as the output is
      // written and the child unmaps/cleans up in the background. GNU time then only sees
      // the parent's RSS (a few MiB) and the cleanup overlaps the next run. --no-fork
      // measures the whole link in one process; on these workloads it costs < 1 ms.
      extraArgs: ['--no-fork'],
    },
    {
      id: SUBJECT,
      path: join(repoRoot, 'apps/cli/libexec/ld'),
      buildHint: 'pnpm build',
      extraArgs: [],
    },
  ];
}

/** Accepts the table ids plus the obvious short names. */
const ALIASES = { bfd: 'ld.bfd', gold: 'ld.gold', lld: 'ld.lld', 'ld.mold': 'mold' };

export function resolveLinkerId(name) {
  return ALIASES[name] ?? name;
}

/**
 * Checks a linker binary. System linkers that are missing are skipped (with the apt
 * package to install); a missing tslink is not skipped but fails every workload, because
 * the bench exists to measure it.
 */
export function probeLinker(linker) {
  if (!isExecutableFile(linker.path)) {
    const why = existsSync(linker.path) ? 'is not executable' : 'does not exist';
    if (linker.id === SUBJECT) {
      return {
        available: false,
        skip: false,
        reason: `${linker.path} ${why}: tslink is not built (run \`${linker.buildHint}\`)`,
      };
    }
    return {
      available: false,
      skip: true,
      reason: `${linker.path} ${why}`,
      hint: `apt-get install -y ${linker.aptPackage}`,
    };
  }
  const result = runSync(linker.path, ['--version'], { timeout: 60_000 });
  const version = (result.stdout || result.stderr).split('\n')[0].trim() || 'unknown version';
  return { available: true, skip: false, version };
}
