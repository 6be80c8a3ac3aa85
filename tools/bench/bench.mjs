#!/usr/bin/env node
// tslink benchmark: links the same workloads with ld.bfd, ld.gold, ld.lld, mold and tslink
// and reports median wall time, peak RSS and tslink's ratio to each other linker.
// See README.md for the method. Speed targets are read from this output, never from tests.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { linkerDefinitions, probeLinker, resolveLinkerId, SUBJECT } from './lib/linkers.mjs';
import { detectGnuTime, measureSpawnOverhead, median, timedRun } from './lib/measure.mjs';
import { firstLines, linkerEnvironment, runSync } from './lib/proc.mjs';
import { addRatios, formatProblems, formatTable } from './lib/report.mjs';
import {
  checkProgramOutput,
  compilerIdentity,
  WorkloadUnavailable,
  WORKLOADS,
} from './lib/workloads.mjs';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE_ROOT = join(REPO_ROOT, '.cache/bench');

const USAGE = `Usage: node tools/bench/bench.mjs [options]

Options:
  --runs N             timed runs per (workload, linker) after 1 warm-up (default 5)
  --only LIST          comma-separated workloads (default: all)
                       ${WORKLOADS.map((workload) => workload.id).join(', ')}
  --linkers LIST       comma-separated linkers (default: ld.bfd,ld.gold,ld.lld,mold,tslink)
  --objs N             object count of synthetic-objs (default 3000)
  --json FILE          also write machine-readable results to FILE
  --timeout SECONDS    per-link time limit (default 600)
  -h, --help           show this help

Exit status: 0 if tslink linked every workload correctly (or was not selected),
1 if tslink failed or produced a wrong program, 2 on usage or setup errors.`;

const log = (message) => process.stderr.write(`${message}\n`);

class UsageError extends Error {}

function positiveInteger(name, text) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new UsageError(`--${name} needs a positive integer, got "${text}"`);
  }
  return value;
}

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '5' },
      only: { type: 'string' },
      linkers: { type: 'string' },
      objs: { type: 'string', default: '3000' },
      json: { type: 'string' },
      timeout: { type: 'string', default: '600' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const allLinkers = linkerDefinitions(REPO_ROOT);
  const list = (text) =>
    text
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);

  const workloadIds = values.only ? list(values.only) : WORKLOADS.map((workload) => workload.id);
  for (const id of workloadIds) {
    if (!WORKLOADS.some((workload) => workload.id === id)) {
      throw new UsageError(`unknown workload "${id}" (known: ${WORKLOADS.map((w) => w.id)})`);
    }
  }
  const linkerIds = values.linkers
    ? list(values.linkers).map(resolveLinkerId)
    : allLinkers.map((linker) => linker.id);
  for (const id of linkerIds) {
    if (!allLinkers.some((linker) => linker.id === id)) {
      throw new UsageError(`unknown linker "${id}" (known: ${allLinkers.map((l) => l.id)})`);
    }
  }
  return {
    help: values.help,
    runs: positiveInteger('runs', values.runs),
    objs: positiveInteger('objs', values.objs),
    timeoutSeconds: positiveInteger('timeout', values.timeout),
    json: values.json ? resolve(values.json) : null,
    // Keep the canonical order so tables from different invocations line up.
    workloads: WORKLOADS.filter((workload) => workloadIds.includes(workload.id)),
    linkers: allLinkers.filter((linker) => linkerIds.includes(linker.id)),
  };
}

/** Builds the argv for one linker: its extra flags + the captured argv, own output path. */
function linkerArgs(linker, prepared, outputPath) {
  const args = [...prepared.argv];
  args[prepared.outputIndex] = outputPath;
  return [...linker.extraArgs, ...args];
}

function describeFailure(run, timeoutSeconds) {
  if (run.timedOut) return `timed out after ${timeoutSeconds} s`;
  if (run.error) return `could not start: ${run.error.message}`;
  if (run.signal) return `killed by ${run.signal}`;
  return `exit ${run.status}`;
}

/**
 * Benchmarks one prepared workload. Warm-up first for every linker (this also checks the
 * output program), then `runs` rounds that each run every linker once: interleaving keeps
 * slow drifts of the machine (thermal, background load) from favouring whichever linker
 * happened to run first.
 */
function benchmarkWorkload(workload, prepared, linkers, options, tools) {
  const env = linkerEnvironment();
  const scratchPrefix = join(prepared.dir, 'out', 'run');
  const states = linkers.map((linker) => ({
    linker,
    outputPath: `out/${linker.id}`,
    result: {
      linker: linker.id,
      status: 'ok',
      detail: null,
      stderrExcerpt: null,
      wallMs: [],
      rssKiB: [],
    },
  }));

  const runLinker = (state) => {
    // Every linker starts from "no output file": mold and lld would otherwise be able
    // to reuse or overwrite an existing file in place, which bfd and gold never do.
    rmSync(join(prepared.dir, state.outputPath), { force: true });
    return timedRun({
      command: state.linker.path,
      args: linkerArgs(state.linker, prepared, state.outputPath),
      cwd: prepared.dir,
      env,
      timeoutSeconds: options.timeoutSeconds,
      gnuTime: tools.gnuTime,
      scratchPrefix,
    });
  };

  for (const state of states) {
    const { result } = state;
    if (state.linker.unavailableReason) {
      result.status = 'FAIL';
      result.detail = state.linker.unavailableReason;
      log(`  ${state.linker.id}: FAIL (${result.detail})`);
      continue;
    }
    const warmup = runLinker(state);
    if (warmup.status !== 0 || warmup.timedOut || warmup.error) {
      result.status = 'FAIL';
      result.detail = describeFailure(warmup, options.timeoutSeconds);
      result.stderrExcerpt = firstLines(warmup.stderr || warmup.stdout, 20) || '(no output)';
      log(`  ${state.linker.id}: FAIL (${result.detail})`);
      log(firstLines(result.stderrExcerpt, 5, '    | '));
      continue;
    }
    const problem = checkProgramOutput(
      join(prepared.dir, state.outputPath),
      prepared.expectedStdout,
      prepared.dir,
    );
    if (problem) {
      // Still timed: a fast-but-wrong link shows its numbers, flagged WRONG.
      result.status = 'WRONG';
      result.detail = problem;
      log(`  ${state.linker.id}: WRONG (${problem})`);
    }
  }

  const timed = states.filter((state) => state.result.status !== 'FAIL');
  for (let round = 1; round <= options.runs && timed.length > 0; round++) {
    log(`  round ${round}/${options.runs}`);
    for (const state of timed) {
      if (state.result.status === 'FAIL') continue;
      const run = runLinker(state);
      if (run.status !== 0 || run.timedOut || run.error) {
        // Linked in the warm-up but not now: nondeterministic failure, report it as such.
        state.result.status = 'FAIL';
        state.result.detail = `failed in timed run ${round} (${describeFailure(run, options.timeoutSeconds)}) after a successful warm-up`;
        state.result.stderrExcerpt = firstLines(run.stderr || run.stdout, 20);
        continue;
      }
      state.result.wallMs.push(run.wallMs);
      if (run.rssKiB !== null) state.result.rssKiB.push(run.rssKiB);
    }
  }

  const results = states.map(({ result }) => {
    const usable = result.status !== 'FAIL' && result.wallMs.length > 0;
    return {
      ...result,
      medianMs: usable ? median(result.wallMs) : null,
      minMs: usable ? Math.min(...result.wallMs) : null,
      maxMs: usable ? Math.max(...result.wallMs) : null,
      medianRssKiB: usable ? median(result.rssKiB) : null,
    };
  });
  addRatios(results);
  for (const result of results.filter((r) => r.medianMs !== null)) {
    log(`  ${result.linker}: median ${result.medianMs.toFixed(1)} ms`);
  }
  return results;
}

async function main() {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    log(`bench: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  // Tools the bench itself needs.
  if (!runSync('gcc', ['--version']).ok || !runSync('ar', ['--version']).ok) {
    log('bench: gcc and ar are required (apt-get install -y gcc binutils)');
    return 2;
  }
  const tools = { gnuTime: detectGnuTime() };
  const notes = [];
  if (!tools.gnuTime) {
    notes.push('peak RSS not measured: GNU time is missing (apt-get install -y time)');
  }

  // Which linkers can run. Missing system linkers drop out; a missing tslink stays in
  // and fails every workload, since the point of the bench is to measure it.
  const linkers = [];
  const linkerInfo = [];
  for (const linker of options.linkers) {
    const probe = probeLinker(linker);
    linkerInfo.push({ id: linker.id, path: linker.path, ...probe });
    if (probe.skip) {
      notes.push(`${linker.id} skipped: ${probe.reason} (install: ${probe.hint})`);
      log(`bench: ${linker.id} skipped: ${probe.reason} -> ${probe.hint}`);
      continue;
    }
    linkers.push({ ...linker, unavailableReason: probe.available ? null : probe.reason });
    if (!probe.available) log(`bench: ${probe.reason}`);
  }
  if (linkers.length === 0) {
    log('bench: no selected linker is available');
    return 2;
  }

  // On a 2-core machine any other build or test run shows up directly in the numbers.
  const [startLoad] = loadavg();
  if (startLoad > 0.5) {
    notes.push(
      `machine was busy at start (1-min load average ${startLoad.toFixed(2)}): expect noisy numbers, consider more --runs`,
    );
  }

  mkdirSync(CACHE_ROOT, { recursive: true });
  const compiler = compilerIdentity();
  const spawnOverheadMs = measureSpawnOverhead({
    gnuTime: tools.gnuTime,
    scratchPrefix: join(CACHE_ROOT, 'overhead'),
    env: linkerEnvironment(),
    cwd: CACHE_ROOT,
  });
  log(`bench: ${compiler}; fixed spawn overhead per run ${spawnOverheadMs.toFixed(2)} ms`);

  const workloadReports = [];
  for (const workload of options.workloads) {
    log(`bench: ${workload.id}: preparing`);
    let prepared;
    try {
      prepared = await workload.prepare({
        cacheRoot: CACHE_ROOT,
        compiler,
        objs: options.objs,
        log,
      });
    } catch (error) {
      const unavailable =
        error instanceof WorkloadUnavailable
          ? `${error.message} (install: ${error.hint})`
          : `preparation failed: ${error.message}`;
      log(`bench: ${workload.id}: skipped: ${unavailable}`);
      workloadReports.push({ id: workload.id, description: workload.description, unavailable });
      continue;
    }
    log(
      `bench: ${workload.id}: ${prepared.inputSummary}; ${prepared.argv.length} ld arguments; warm-up + ${options.runs} runs`,
    );
    const results = benchmarkWorkload(workload, prepared, linkers, options, tools);
    workloadReports.push({
      id: workload.id,
      description: workload.description,
      inputs: prepared.inputSummary,
      directory: prepared.dir,
      ldArgumentCount: prepared.argv.length,
      results,
    });
  }

  const hostLine = `host: ${cpus()[0]?.model ?? 'unknown cpu'} x${cpus().length}, Linux ${release()}, node ${process.version}`;
  process.stdout.write(
    [
      '',
      `tslink link benchmark: warm-up + ${options.runs} runs each, median wall time (includes ~${spawnOverheadMs.toFixed(1)} ms fixed spawn overhead), peak RSS per run (median)`,
      hostLine,
      '',
      formatTable(workloadReports),
      '',
    ].join('\n') + '\n',
  );
  const problems = formatProblems(workloadReports);
  if (problems) process.stdout.write(`Problems:\n${problems}\n\n`);
  if (notes.length) process.stdout.write(`Notes:\n${notes.map((n) => `  ${n}`).join('\n')}\n\n`);
  process.stdout.write(
    `${SUBJECT}/x = ${SUBJECT} median / that linker's median (> 1: ${SUBJECT} is slower / uses more memory).\n`,
  );

  const subjectResults = workloadReports
    .flatMap((report) => report.results ?? [])
    .filter((result) => result.linker === SUBJECT);
  const subjectFailed = subjectResults.some((result) => result.status !== 'ok');

  if (options.json) {
    const document = {
      schema: 'tslink-bench/1',
      date: new Date().toISOString(),
      host: {
        cpu: cpus()[0]?.model ?? null,
        cpus: cpus().length,
        kernel: release(),
        node: process.version,
        loadAverageAtStart: startLoad,
      },
      compiler,
      options: {
        runs: options.runs,
        objs: options.objs,
        timeoutSeconds: options.timeoutSeconds,
        workloads: options.workloads.map((workload) => workload.id),
        linkers: options.linkers.map((linker) => linker.id),
      },
      spawnOverheadMs,
      rssMeasured: Boolean(tools.gnuTime),
      linkers: linkerInfo,
      workloads: workloadReports,
      notes,
      subjectFailed,
    };
    mkdirSync(dirname(options.json), { recursive: true });
    writeFileSync(options.json, JSON.stringify(document, null, 2) + '\n');
    log(`bench: wrote ${options.json}`);
  }

  if (subjectFailed) {
    log(`bench: ${SUBJECT} failed or produced a wrong program on at least one workload`);
    return 1;
  }
  return 0;
}

process.exitCode = await main().catch((error) => {
  log(`bench: ${error.stack ?? error}`);
  return 2;
});
