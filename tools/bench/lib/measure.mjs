// One timed linker run: wall time from process.hrtime.bigint() around a spawnSync, peak
// RSS from GNU time's %M (max resident set size of the waited-for child, in KiB).
//
// Chain per run: spawnSync -> GNU time -> linker, with two details that keep the fixed
// cost low and a hung linker contained:
// - GNU time writes %M to a file (-o), and the linker's stdout/stderr go to files rather
//   than pipes: nothing mixes with the linker's own messages, and spawnSync returns as
//   soon as GNU time exits instead of waiting for every holder of a pipe.
// - The chain runs detached (its own session and process group). spawnSync's timeout only
//   signals GNU time, so after a timeout the whole group, linker included, is killed by
//   its group id. Using coreutils `timeout` instead would add another exec (~2 ms) to
//   every measurement.
// The remaining fixed fork/exec cost is the same for every linker; `measureSpawnOverhead`
// reports it so very short links can be read with that in mind.

import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { runSync } from './proc.mjs';

const GNU_TIME = '/usr/bin/time';

/** Returns the GNU time path, or null if missing or not GNU (BSD/busybox lack %M). */
export function detectGnuTime() {
  const result = runSync(GNU_TIME, ['--version']);
  return result.ok && /GNU/.test(result.stdout + result.stderr) ? GNU_TIME : null;
}

/**
 * Runs `command args` once and measures it. `scratchPrefix` names the files used for
 * the RSS figure and the captured output (`<prefix>.rss`, `.stdout`, `.stderr`).
 * @returns {{ wallMs: number, rssKiB: number|null, status: number|null, signal: string|null,
 *             timedOut: boolean, stderr: string, stdout: string, error?: Error }}
 */
export function timedRun({ command, args, cwd, env, timeoutSeconds, gnuTime, scratchPrefix }) {
  const rssFile = `${scratchPrefix}.rss`;
  const stdoutFile = `${scratchPrefix}.stdout`;
  const stderrFile = `${scratchPrefix}.stderr`;
  let argv = [command, ...args];
  if (gnuTime) {
    rmSync(rssFile, { force: true });
    argv = [gnuTime, '-f', '%M', '-o', rssFile, ...argv];
  }
  const stdoutFd = openSync(stdoutFile, 'w');
  const stderrFd = openSync(stderrFile, 'w');

  let result;
  const started = process.hrtime.bigint();
  try {
    result = spawnSync(argv[0], argv.slice(1), {
      cwd,
      env,
      stdio: ['ignore', stdoutFd, stderrFd],
      detached: true,
      timeout: timeoutSeconds * 1000,
      killSignal: 'SIGKILL',
    });
  } finally {
    closeSync(stdoutFd);
    closeSync(stderrFd);
  }
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;

  const timedOut = result.error?.code === 'ETIMEDOUT';
  if (timedOut && result.pid) {
    try {
      process.kill(-result.pid, 'SIGKILL'); // the linker and anything it started
    } catch {
      // Group already gone.
    }
  }
  const run = {
    wallMs,
    rssKiB: gnuTime ? readRssKiB(rssFile) : null,
    status: result.status,
    signal: result.signal,
    timedOut,
    stdout: readFileSync(stdoutFile, 'utf8'),
    stderr: readFileSync(stderrFile, 'utf8'),
    error: timedOut ? undefined : result.error,
  };
  for (const file of [rssFile, stdoutFile, stderrFile]) rmSync(file, { force: true });
  return run;
}

/**
 * GNU time prints "Command exited with non-zero status N" (or "terminated by signal")
 * before the format line when the child fails, so the number is the last line.
 */
function readRssKiB(rssFile) {
  try {
    const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
    const value = Number.parseInt(lines[lines.length - 1], 10);
    return Number.isFinite(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * Median wall time of running /bin/true through the same chain: the fixed cost included
 * in every measurement (spawnSync + GNU time + exec).
 */
export function measureSpawnOverhead({ gnuTime, scratchPrefix, env, cwd }) {
  const samples = [];
  for (let i = 0; i < 11; i++) {
    const run = timedRun({
      command: '/bin/true',
      args: [],
      cwd,
      env,
      timeoutSeconds: 60,
      gnuTime,
      scratchPrefix,
    });
    if (i > 0) samples.push(run.wallMs); // first one warms the page cache
  }
  return median(samples);
}

export function median(values) {
  const present = values.filter((value) => value !== null && value !== undefined);
  if (present.length === 0) return null;
  const sorted = [...present].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
