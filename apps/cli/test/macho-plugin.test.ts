// --buildmode=plugin for Mach-O (@link/buildmode-plugin/macho, seed 004): a freestanding C
// plugin linked by tslink into a bundle (or dylib) whose initializer in __mod_init_func
// registers its module descriptor with a freestanding host linked by tslink (flat namespace);
// the host calls an export through the table, under machoload's dlopen. The section markers
// are real, exported symbols at the head and tail of their sections that resolve inside the
// plugin even though the host defines the same names.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeResult,
  libexecDir,
  makeScratchDir,
  removeScratchDirs,
  repoRoot,
  runCommand,
  settle,
} from './helpers.js';
import {
  buildMachoload,
  compileMacho,
  linkMachoOk,
  machoFixtures,
  objdumpMacho,
  summarizeMacho,
} from './macho-helpers.js';

const TBD = join(machoFixtures, 'libSystem.tbd');
const RUNTIME = join(repoRoot, 'packages/buildmode-plugin/runtime');
const SLIDES = ['0x100000000', '0x7f0000000'];
const EXPECTED = {
  status: 101, // host_counter after one host_add
  stdout: 'example/alpha: 4 exports\nplugin_run(5)=15\nmarkers inside the plugin\n',
};

let tslink: string;
let machoload: () => string;
let scratch: string;
let host: string;
let pluginObj: string;

function link(out: string, args: readonly string[]): void {
  linkMachoOk(out, args);
}

function run(plugin: string, slide = SLIDES[0]!) {
  const r = runCommand([machoload(), host, plugin], { env: { MACHOLOAD_SLIDE: slide } });
  return { status: r.status, stdout: r.stdout, why: describeResult(r) };
}

beforeAll(() => {
  tslink = join(libexecDir(), 'tslink');
  machoload = settle(buildMachoload);
  scratch = makeScratchDir('macho-plugin');
  host = join(scratch, 'host');
  link(host, [compileMacho('macho_plugin_host.c', [`-I${RUNTIME}`]), TBD]);
  pluginObj = compileMacho('macho_plugin_alpha.c');
});
afterAll(removeScratchDirs);

describe('--buildmode=plugin for Mach-O', () => {
  it('the host that keeps a registry is linked flat-namespace and exports its symbols', () => {
    const s = summarizeMacho(objdumpMacho(host));
    expect(s.flags).not.toContain('TWOLEVEL');
    expect(s.flags).toContain('PIE');
    expect(s.exports).toEqual(
      expect.arrayContaining(['_tslink_plugin_register', '_host_add', '_tslink.text']),
    );
  });

  it('a bundle registers itself from __mod_init_func; the host calls its export (both encodings, two slides)', () => {
    for (const enc of [[], ['-fixup_chains']]) {
      const out = join(scratch, `alpha${enc.join('')}.bundle`);
      link(out, [...enc, '--buildmode=plugin', '--pluginpath=example/alpha', pluginObj]);
      const s = summarizeMacho(objdumpMacho(out));
      expect(s.commands).not.toContain('LC_ID_DYLIB');
      expect(s.flags).toEqual(['DYLDLINK']); // flat namespace, undefined symbols looked up
      for (const slide of SLIDES) {
        const r = run(out, slide);
        expect({ status: r.status, stdout: r.stdout }, r.why).toEqual(EXPECTED);
      }
    }
  });

  it('-dylib --buildmode=plugin builds a dylib plugin that loads the same way', () => {
    const out = join(scratch, 'alpha.dylib');
    link(out, ['-dylib', '--buildmode=plugin', '--pluginpath=example/alpha', pluginObj]);
    expect(summarizeMacho(objdumpMacho(out)).commands).toContain('LC_ID_DYLIB');
    const r = run(out, SLIDES[1]);
    expect({ status: r.status, stdout: r.stdout }, r.why).toEqual(EXPECTED);
  });

  it('the section markers are real symbols at the head and tail of their sections, reached by rebases', () => {
    const out = join(scratch, 'alpha-markers.bundle');
    link(out, ['--buildmode=plugin', '--pluginpath=example/alpha', pluginObj]);
    const text = objdumpMacho(out);
    const s = summarizeMacho(text);
    const addr = (name: string) => {
      const m = new RegExp(
        `^([0-9a-f]{16}) g\\s+\\S*\\s*(\\S+) ${name.replace('.', '\\.')}$`,
        'm',
      ).exec(text);
      expect(m, name).not.toBeNull();
      return { addr: Number(`0x${m![1]}`), section: m![2]! };
    };
    const section = (seg: string, sect: string) => {
      const m = new RegExp(
        `sectname ${sect}\\n\\s+segname ${seg}\\n\\s+addr (0x[0-9a-f]+)\\n\\s+size (0x[0-9a-f]+)`,
      ).exec(text);
      expect(m, `${seg},${sect}`).not.toBeNull();
      return { start: Number(m![1]), end: Number(m![1]) + Number(m![2]) };
    };
    const textSec = section('__TEXT', '__text');
    expect(addr('_tslink.text')).toEqual({ addr: textSec.start, section: '__TEXT,__text' });
    expect(addr('_tslink.etext')).toEqual({ addr: textSec.end, section: '__TEXT,__text' });
    const dataSec = section('__DATA', '__data');
    expect(addr('_tslink.data').addr).toBe(dataSec.start);
    expect(addr('_tslink.edata').addr).toBe(dataSec.end);
    expect(addr('_tslink.rodata').addr).toBe(section('__TEXT', '__const').start);
    expect(addr('_tslink.ebss').addr).toBe(section('__DATA', '__bss').end);
    // Exported, so dlsym finds them in the plugin; never bound, so the host's copies (it
    // defines _tslink.text and _tslink.data) cannot stand in for them.
    for (const m of ['_tslink.text', '_tslink.etext', '_tslink.data', '_tslink.ebss'])
      expect(s.exports).toContain(m);
    expect(s.binds.filter((b) => b.includes('_tslink.'))).toEqual([]);
    expect(s.binds.join('\n')).toMatch(/flat-namespace\s+_tslink_plugin_register \(weak_import\)/);
    // Descriptor (8 pointers of bounds, path, table) + 2 per export + the initializer.
    expect(s.rebases.filter((r) => r.includes('__const')).length).toBe(10 + 2 * 4);
    expect(s.rebases.filter((r) => r.includes('__mod_init_func')).length).toBe(1);
  });

  it('loads in a host without a registry (the weak import stays null) and links deterministically', () => {
    const plain = join(scratch, 'plain-host');
    link(plain, [compileMacho('bundle_host.c'), TBD]);
    expect(summarizeMacho(objdumpMacho(plain)).flags).toContain('TWOLEVEL'); // no registry
    const out = join(makeScratchDir('macho-plugin-det-a'), 'alpha.bundle');
    link(out, ['--buildmode=plugin', '--pluginpath=example/alpha', pluginObj]);
    const r = runCommand([machoload(), plain, out]);
    // bundle_host.c looks for `plug`, which this plugin lacks: dlopen (and the initializer,
    // with _tslink_plugin_register unresolved) succeeded.
    expect({ status: r.status, stdout: r.stdout }, describeResult(r)).toEqual({
      status: 102,
      stdout: 'dlsym failed\n',
    });
    const again = join(makeScratchDir('macho-plugin-det-b'), 'alpha.bundle');
    link(again, ['--buildmode=plugin', '--pluginpath=example/alpha', pluginObj]);
    expect(readFileSync(again).equals(readFileSync(out))).toBe(true);
  });

  it('--plugin-export limits the table and the export trie to the names given', () => {
    const out = join(scratch, 'alpha-one.bundle');
    link(out, [
      '--buildmode=plugin',
      '--pluginpath=example/alpha',
      '--plugin-export=plugin_run',
      pluginObj,
    ]);
    const s = summarizeMacho(objdumpMacho(out));
    expect(s.exports.filter((e) => !e.startsWith('_tslink.'))).toEqual(['_plugin_run']);
    const r = run(out);
    // The host's marker checks use the plugin_name/plugin_calls exports, now absent.
    expect({ status: r.status, stdout: r.stdout }, r.why).toEqual({
      status: 94,
      stdout: 'example/alpha: 1 exports\nplugin_run(5)=15\nmarkers NOT inside the plugin\n',
    });
  });

  it('rejects --buildmode=plugin for an executable and an unknown --plugin-export', () => {
    const r = runCommand([
      tslink,
      '-arch',
      'x86_64',
      '-execute',
      '--buildmode=plugin',
      '-o',
      join(scratch, 'x'),
      pluginObj,
    ]);
    // -execute after --buildmode=plugin: the output kind is MH_EXECUTE, which a plugin is not.
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--buildmode=plugin for Mach-O builds a bundle or a dylib/);
    const r2 = runCommand([
      tslink,
      '-arch',
      'x86_64',
      '--buildmode=plugin',
      '--plugin-export=nope',
      '-o',
      join(scratch, 'y'),
      pluginObj,
    ]);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/--plugin-export=nope: the plugin does not define nope/);
  });

  it('--plugin-host: a host that exports what the plugin needs links; one that lacks it is named', () => {
    const ok = join(scratch, 'alpha-checked.bundle');
    link(ok, [
      '--buildmode=plugin',
      '--pluginpath=example/alpha',
      `--plugin-host=${host}`,
      pluginObj,
    ]);
    expect(run(ok).status).toBe(EXPECTED.status);
    const miss = compileMacho('macho_plugin_needs_missing.c');
    const out = join(scratch, 'missing.bundle');
    const linkMissing = (extra: string[]) =>
      runCommand([
        tslink,
        '-arch',
        'x86_64',
        '--buildmode=plugin',
        `--plugin-host=${host}`,
        ...extra,
        '-o',
        out,
        miss,
      ]);
    const r = linkMissing([]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('undefined symbol: _host_missing\n>>> referenced by ');
    expect(r.stderr).toMatch(
      /referenced by .*macho_plugin_needs_missing.*\.o:\(__TEXT,__text\+0x[0-9a-f]+\)/,
    );
    expect(r.stderr).toContain(
      `>>> the plugin host ${host} and the dylibs it loads do not export it`,
    );
    // The host's libSystem could not be read, so the message says it was not checked ...
    expect(r.stderr).toContain(
      '>>> not checked, since not found (see -syslibroot and -L): /usr/lib/libSystem.B.dylib',
    );
    // ... and _host_add, which the host exports, is not reported; nothing is written.
    expect(r.stderr).not.toMatch(/_host_add/);
    expect(r.stderr).toContain('undefined symbol: _puts');
    expect(existsSync(out)).toBe(false);
    // With -L finding libSystem.tbd (the host's /usr/lib/libSystem.B.dylib), it is checked too.
    const r2 = linkMissing([`-L${machoFixtures}`]);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toContain('undefined symbol: _host_missing');
    expect(r2.stderr).not.toContain('not checked');
    // A libSystem function is found in the host's libSystem and is not reported.
    expect(r2.stderr).not.toMatch(/undefined symbol: _puts/);
  });

  it("tslink plugin-info prints a Mach-O plugin's path, exports and what it needs from the host", () => {
    for (const kind of [[], ['-dylib']]) {
      const out = join(scratch, `info${kind.join('')}.plugin`);
      link(out, [...kind, '--buildmode=plugin', '--pluginpath=example/alpha', pluginObj]);
      const r = runCommand([tslink, 'plugin-info', out]);
      expect({ status: r.status, stdout: r.stdout }, describeResult(r)).toEqual({
        status: 0,
        stdout:
          'plugin path: example/alpha\n' +
          'exports (4):\n  plugin_calls\n  plugin_name\n  plugin_run\n  plugin_scratch\n' +
          'needs from the host (1):\n  host_add\n',
      });
    }
    const one = join(scratch, 'info-one.bundle');
    link(one, ['--buildmode=plugin', '--plugin-export=plugin_run', pluginObj]);
    const r = runCommand([tslink, 'plugin-info', one]);
    expect(r.stdout, describeResult(r)).toContain(
      'plugin path: info-one.bundle\nexports (1):\n  plugin_run\n',
    );
    // A bundle that is not a plugin is named as such.
    const plain = join(scratch, 'plain.bundle');
    link(plain, ['-bundle', '-undefined', 'dynamic_lookup', pluginObj]);
    const r2 = runCommand([tslink, 'plugin-info', plain]);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toContain(
      `${plain}: not a tslink plugin (no __TEXT,__tslink_plugin section)`,
    );
  });
});
