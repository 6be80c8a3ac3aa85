// Turning results into the stdout table and the --json document.

import { SUBJECT } from './linkers.mjs';
import { firstLines } from './proc.mjs';

const formatNumber = (value, digits) => (value === null ? '-' : value.toFixed(digits));
const mib = (kib) => (kib === null ? null : kib / 1024);

/** tslink's median divided by the other linker's: 2.0 means tslink takes twice as long. */
export function addRatios(results) {
  const subject = results.find((result) => result.linker === SUBJECT);
  const subjectUsable = subject && subject.status !== 'FAIL' && subject.medianMs !== null;
  for (const result of results) {
    const comparable = subjectUsable && result.linker !== SUBJECT && result.medianMs !== null;
    result.ratioTime = comparable ? subject.medianMs / result.medianMs : null;
    result.ratioRss =
      comparable && subject.medianRssKiB && result.medianRssKiB
        ? subject.medianRssKiB / result.medianRssKiB
        : null;
  }
}

const OK_LABEL = { ok: 'yes', WRONG: 'WRONG', FAIL: 'FAIL' };

/** Plain-text table, one row per (workload, linker) that ran. */
export function formatTable(workloadReports) {
  const header = [
    'workload',
    'linker',
    'median ms',
    'min-max ms',
    'peak RSS MiB',
    `${SUBJECT}/x time`,
    `${SUBJECT}/x RSS`,
    'ok',
  ];
  // Numbers are right-aligned so decimal points line up; names are left-aligned.
  const rightAligned = [false, false, true, true, true, true, true, false];
  const rows = [];
  for (const report of workloadReports) {
    if (report.unavailable) {
      rows.push([report.id, '-', '-', '-', '-', '-', '-', `skipped: ${report.unavailable}`]);
      continue;
    }
    for (const result of report.results) {
      const range =
        result.minMs === null ? '-' : `${result.minMs.toFixed(1)}-${result.maxMs.toFixed(1)}`;
      rows.push([
        report.id,
        result.linker,
        formatNumber(result.medianMs, 1),
        range,
        formatNumber(mib(result.medianRssKiB), 1),
        formatNumber(result.ratioTime, 2),
        formatNumber(result.ratioRss, 2),
        OK_LABEL[result.status],
      ]);
    }
  }
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length)),
  );
  const formatRow = (row) =>
    row
      .map((cell, column) =>
        // The last column is free text: no padding, so lines carry no trailing spaces.
        column === row.length - 1
          ? cell
          : rightAligned[column]
            ? cell.padStart(widths[column])
            : cell.padEnd(widths[column]),
      )
      .join('   ');
  const lines = [formatRow(header)];
  let previousWorkload = null;
  for (const row of rows) {
    if (previousWorkload !== null && row[0] !== previousWorkload) lines.push('');
    previousWorkload = row[0];
    lines.push(formatRow(row));
  }
  return lines.join('\n');
}

/** Detail lines for every FAIL and WRONG result, so the cause is visible without --json. */
export function formatProblems(workloadReports) {
  const lines = [];
  for (const report of workloadReports) {
    for (const result of report.results ?? []) {
      if (result.status === 'ok') continue;
      lines.push(`${result.status} ${result.linker} on ${report.id}: ${result.detail}`);
      if (result.stderrExcerpt) lines.push(firstLines(result.stderrExcerpt, 8, '    | '));
    }
  }
  return lines.join('\n');
}
