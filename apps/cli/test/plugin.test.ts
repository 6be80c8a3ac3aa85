// --buildmode=plugin (@link/buildmode-plugin): a C host linked by tslink opens two plugins
// linked by tslink through the plugin runtime, which finds their exports in the tables the
// linker synthesized; plugins share the host's single copy of its symbols; a second open of one
// plugin is the runtime's error; --plugin-host catches a missing host symbol at link time; a
// C++ plugin's constructors run and its exceptions reach the host.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import {
  ARMHF,
  I686,
  crossCompile,
  crossLinkOk,
  crossRun,
  requireCross,
  type CrossTarget,
} from './cross.js';
import {
  compile,
  describeResult,
  elflint,
  fixturesDir,
  link,
  linkerPath,
  linkOk,
  removeScratchDirs,
  repoRoot,
  requireBaseTools,
  runChecked,
  runCommand,
  runProgram,
} from './helpers.js';

afterAll(removeScratchDirs);

const RUNTIME = join(repoRoot, 'packages/buildmode-plugin/runtime');

function plugin(source: string, flags: string[], driver: 'gcc' | 'g++' = 'gcc'): string {
  const obj = compile(source, ['-O2', '-fPIC']);
  const so = linkOk(
    driver,
    ['-shared', `-Wl,--buildmode=plugin${flags.map((f) => `,${f}`).join('')}`, obj],
    'plugin.so',
  ).output;
  elflint(so);
  const dyn = runChecked(['readelf', '-W', '-d', so]).stdout;
  expect(dyn).toMatch(/\(FLAGS\)\s+BIND_NOW/);
  expect(dyn).not.toMatch(/TEXTREL/);
  return so;
}

function host(source: string, driver: 'gcc' | 'g++' = 'gcc'): string {
  const obj = compile(source, ['-O2', `-I${RUNTIME}`]);
  const rt = compile(join(RUNTIME, 'tslink_plugin.c'), ['-O2']);
  return linkOk(driver, [obj, rt], 'host').output;
}

describe('--buildmode=plugin', () => {
  requireBaseTools();

  it('a host loads two plugins, which share its one copy of its symbols', () => {
    const h = host('plugin_host.c');
    const alpha = plugin('plugin_alpha.c', ['--pluginpath=example/alpha']);
    const beta = plugin('plugin_beta.c', []);
    const r = runProgram(h, [alpha, beta]);
    expect({ status: r.status, stdout: r.stdout }, describeResult(r)).toEqual({
      status: 0,
      stdout:
        'example/alpha: alpha run(5)=15 calls=1\n' +
        'plugin.so: beta run(5)=50 calls=1\n' +
        'host_counter=102\n' +
        `plugin.Open(${alpha}): plugin already loaded\n`,
    });
  });

  it('tslink plugin-info prints the plugin path, its exports and what it needs from a host', () => {
    const alpha = plugin('plugin_alpha.c', ['--pluginpath=example/alpha']);
    const r = runCommand([linkerPath(), 'plugin-info', alpha]);
    expect({ status: r.status, stdout: r.stdout }, describeResult(r)).toEqual({
      status: 0,
      stdout:
        'plugin path: example/alpha\n' +
        'exports (3):\n  plugin_calls\n  plugin_name\n  plugin_run\n' +
        'needs from the host (2):\n  host_add\n  host_counter\n',
    });
  });

  it('--plugin-export limits the exports to the symbols named', () => {
    const alpha = plugin('plugin_alpha.c', ['--plugin-export=plugin_run']);
    const r = runCommand([linkerPath(), 'plugin-info', alpha]);
    expect(r.stdout, describeResult(r)).toContain('exports (1):\n  plugin_run\n');
    expect(runChecked(['readelf', '-W', '--dyn-syms', alpha]).stdout).not.toMatch(
      / plugin_calls\n/,
    );
  });

  it('with --gc-sections, the exports and what they use stay', () => {
    const h = host('plugin_host.c');
    const obj = compile('plugin_alpha.c', [
      '-O2',
      '-fPIC',
      '-ffunction-sections',
      '-fdata-sections',
    ]);
    const alpha = linkOk(
      'gcc',
      ['-shared', '-Wl,--buildmode=plugin,--gc-sections', obj],
      'a.so',
    ).output;
    const beta = plugin('plugin_beta.c', []);
    const r = runProgram(h, [alpha, beta]);
    expect(r.stdout.split('\n')[0], describeResult(r)).toBe('a.so: alpha run(5)=15 calls=1');
  });

  it('--plugin-host names what the host lacks, at link time; nothing is written', () => {
    const h = host('plugin_host.c');
    plugin('plugin_alpha.c', [`--plugin-host=${h}`]);
    const obj = compile('plugin_needs_missing.c', ['-O2', '-fPIC']);
    const r = link('gcc', ['-shared', `-Wl,--buildmode=plugin,--plugin-host=${h}`, obj], 'bad.so');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('undefined symbol: host_missing');
    expect(r.stderr).toContain('>>> referenced by');
    expect(r.stderr).toContain(
      `>>> the plugin host ${h} and the libraries it needs do not define it`,
    );
  });

  it('a C++ plugin: static constructors run, exceptions cross into the host', () => {
    const h = host('plugin_cxx_host.cpp', 'g++');
    const so = plugin('plugin_cxx.cpp', [], 'g++');
    const r = runProgram(h, [so]);
    expect({ status: r.status, stdout: r.stdout }, describeResult(r)).toEqual({
      status: 0,
      stdout: 'constructed in the plugin; check(21)=42\ncaught: negative input -3\n',
    });
  });
});

// The same host and plugins for i686 (run natively) and armhf (under qemu-arm): the arch's
// plugin initializer, pointer-sized descriptor words and REL relocations.
describe.each([I686, ARMHF])('--buildmode=plugin for $name', (target: CrossTarget) => {
  it('a host loads two plugins, which share its one copy of its symbols', () => {
    requireCross(target);
    const plug = (source: string, flags: string[]) =>
      crossLinkOk(
        target,
        'c',
        [
          '-shared',
          `-Wl,--buildmode=plugin${flags.map((f) => `,${f}`).join('')}`,
          crossCompile(target, source, ['-O2', '-fPIC']),
        ],
        'plugin.so',
      ).output;
    const h = crossLinkOk(
      target,
      'c',
      [
        crossCompile(target, 'plugin_host.c', ['-O2', `-I${RUNTIME}`]),
        crossCompile(target, join(RUNTIME, 'tslink_plugin.c'), ['-O2']),
      ],
      'host',
    ).output;
    const alpha = plug('plugin_alpha.c', ['--pluginpath=example/alpha']);
    const beta = plug('plugin_beta.c', []);
    const r = crossRun(target, h, [alpha, beta]);
    expect({ status: r.status, stdout: r.stdout }, describeResult(r)).toEqual({
      status: 0,
      stdout:
        'example/alpha: alpha run(5)=15 calls=1\n' +
        `${target.name}-plugin.so: beta run(5)=50 calls=1\n` +
        'host_counter=102\n' +
        `plugin.Open(${alpha}): plugin already loaded\n`,
    });
  });
});
