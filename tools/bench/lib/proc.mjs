// Small process helpers shared by workload preparation and measurement.

import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';

/** Linker output can be chatty (e.g. thousands of undefined symbols): keep all of it. */
const MAX_BUFFER = 256 * 1024 * 1024;

/**
 * Environment for every linker run: the caller's, minus NODE_EXTRA_CA_CERTS. Loading extra
 * CA certificates is Node start-up work that tslink (a Node program) would pay on every
 * link but that no linker ever needs, so it must not be part of what we measure.
 */
export function linkerEnvironment(base = process.env) {
  const env = { ...base };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** Runs a command to completion and returns its status and decoded output. */
export function runSync(command, args, options = {}) {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    maxBuffer: MAX_BUFFER,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
  });
  return {
    status: result.status,
    signal: result.signal,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? '',
    error: result.error,
    ok: result.status === 0 && !result.error,
  };
}

/** Like runSync but throws a descriptive error unless the command exits 0. */
export function runChecked(command, args, options = {}) {
  const result = runSync(command, args, options);
  if (!result.ok) {
    const why = result.error
      ? result.error.message
      : result.signal
        ? `killed by ${result.signal}`
        : `exit ${result.status}`;
    const output = firstLines(result.stderr || result.stdout, 20);
    throw new Error(
      `${command} ${abbreviateArgs(args)} failed (${why})${output ? `:\n${output}` : ''}`,
    );
  }
  return result;
}

/** Async variant used to compile many files in parallel. Resolves with the same shape. */
export function runAsync(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    child.on('error', (error) =>
      resolve({ status: null, signal: null, stdout, stderr, error, ok: false }),
    );
    child.on('close', (status, signal) =>
      resolve({ status, signal, stdout, stderr, error: undefined, ok: status === 0 }),
    );
  });
}

/** Runs async tasks with at most `limit` in flight; resolves with results in order. */
export async function mapWithConcurrency(items, limit, task) {
  const results = new Array(items.length);
  let nextIndex = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (nextIndex < items.length) {
      const index = nextIndex++;
      results[index] = await task(items[index], index);
    }
  });
  await Promise.all(workers);
  return results;
}

export function isExecutableFile(path) {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** First `count` non-empty lines of a text, indented for display. */
export function firstLines(text, count, indent = '') {
  const lines = String(text)
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.length > 0);
  const shown = lines.slice(0, count).map((line) => indent + line);
  if (lines.length > count) shown.push(`${indent}... (${lines.length - count} more lines)`);
  return shown.join('\n');
}

/** Keeps error messages readable when a command has thousands of arguments. */
export function abbreviateArgs(args, keep = 12) {
  if (args.length <= keep) return args.join(' ');
  return `${args.slice(0, keep).join(' ')} ... (+${args.length - keep} more args)`;
}
