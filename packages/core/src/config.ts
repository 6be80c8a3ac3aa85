/**
 * What the user asked for, independent of format and arch. The CLI fills it from GNU ld-style
 * options; passes read it through `ctx.config`.
 */
export type BuildMode = 'exe' | 'pie' | 'shared' | 'plugin';
export type LinkMode = 'internal' | 'external' | 'auto';
export type OutputKind = 'exe' | 'shared' | 'relocatable';

/** One positional input, in command-line order (order decides priority and archive search). */
export type InputSpec =
  | { kind: 'file'; path: string; wholeArchive: boolean; asNeeded: boolean; static: boolean }
  | { kind: 'lib'; name: string; wholeArchive: boolean; asNeeded: boolean; static: boolean }
  | { kind: 'group-start' }
  | { kind: 'group-end' };

export interface LinkConfig {
  output: string;
  inputs: InputSpec[];
  libraryPaths: string[];
  sysroot: string;
  buildMode: BuildMode;
  linkMode: LinkMode;
  outputKind: OutputKind;
  /** `-static`/`-Bstatic` at the end of the command line, and no dynamic inputs allowed. */
  isStatic: boolean;
  entry: string | null;
  gcSections: boolean;
  printGcSections: boolean;
  /** `--build-id[=style]`: null = none. */
  buildId: 'sha1' | 'md5' | 'uuid' | 'fast' | { hex: string } | null;
  ehFrameHdr: boolean;
  /** `--compress-debug-sections`: `zlib` writes .debug_* as SHF_COMPRESSED (ELFCOMPRESS_ZLIB). */
  compressDebugSections: 'none' | 'zlib';
  stripAll: boolean;
  stripDebug: boolean;
  /** `-u sym`: extra GC roots that also pull archive members. */
  undefinedSymbols: string[];
  /** `--defsym sym=value`. */
  defsyms: { name: string; expr: string }[];
  /** `-z` keywords, as given (e.g. `noexecstack`, `relro`). */
  zFlags: Set<string>;
  stats: boolean;
  verbose: boolean;
  emulation: string | null;
  /** `-Ttext`, `-Tbss`, ... and `--image-base`. */
  imageBase: number | null;
  errorLimit: number;
  fatalWarnings: boolean;
  /** `--threads=N` (1 = single-threaded). */
  threads: number;
  /** Dynamic linking (`-dynamic-linker`, `-rpath`, `-soname`, ...). */
  dynamic: DynamicConfig;
  /** `--cgo-directives FILE`: files of Go cgo directives (`go tool cgo -dynout` output). */
  cgoDirectiveFiles: string[];
  /** External link mode: the host linker and where its inputs go. */
  host: { extld: string | null; extldflags: string; tmpdir: string | null };
  /**
   * `--buildmode=plugin`: `--pluginpath` (default: the output's base name), and `--plugin-host`,
   * a host binary whose dynamic symbols must define everything the plugin leaves undefined, and
   * `--plugin-export` names (when given, the only symbols the plugin exports).
   */
  plugin: { path: string | null; host: string | null; exports: string[] };
}

/** What a dynamically linked output records and how its symbols bind. */
export interface DynamicConfig {
  /** `-dynamic-linker` / `-I`: the PT_INTERP path; null = the arch's default. */
  interpreter: string | null;
  /** `-rpath` entries, in order (joined with ':' into DT_RUNPATH / DT_RPATH). */
  rpath: string[];
  /** `--enable-new-dtags` (DT_RUNPATH, the default) or `--disable-new-dtags` (DT_RPATH). */
  newDtags: boolean;
  /** `-rpath-link` directories (accepted; DT_NEEDED of inputs is not searched). */
  rpathLink: string[];
  soname: string | null;
  /** `--export-dynamic` / `-E`. */
  exportDynamic: boolean;
  /** `--export-dynamic-symbol` names and glob patterns. */
  exportDynamicSymbols: string[];
  /** `--dynamic-list` files. */
  dynamicLists: string[];
  /** `--version-script` files. */
  versionScripts: string[];
  /** `-Bsymbolic` ('all'), `-Bsymbolic-functions` ('functions'), or neither. */
  bsymbolic: 'none' | 'all' | 'functions';
  /** `--hash-style`. */
  hashStyle: 'gnu' | 'sysv' | 'both';
  /** `--allow-shlib-undefined` (default for -shared) / `--no-allow-shlib-undefined`. */
  allowShlibUndefined: boolean | null;
  /** `-z defs` / `--no-undefined`: undefined symbols are errors even in a shared object. */
  noUndefined: boolean;
}

export function defaultConfig(): LinkConfig {
  return {
    output: 'a.out',
    inputs: [],
    libraryPaths: [],
    sysroot: '',
    buildMode: 'exe',
    linkMode: 'auto',
    outputKind: 'exe',
    isStatic: false,
    entry: null,
    gcSections: false,
    printGcSections: false,
    buildId: null,
    ehFrameHdr: false,
    compressDebugSections: 'none',
    stripAll: false,
    stripDebug: false,
    undefinedSymbols: [],
    defsyms: [],
    zFlags: new Set(),
    stats: false,
    verbose: false,
    emulation: null,
    imageBase: null,
    errorLimit: 20,
    fatalWarnings: false,
    threads: 1,
    cgoDirectiveFiles: [],
    host: { extld: null, extldflags: '', tmpdir: null },
    plugin: { path: null, host: null, exports: [] },
    dynamic: {
      interpreter: null,
      rpath: [],
      newDtags: true,
      rpathLink: [],
      soname: null,
      exportDynamic: false,
      exportDynamicSymbols: [],
      dynamicLists: [],
      versionScripts: [],
      bsymbolic: 'none',
      hashStyle: 'both',
      allowShlibUndefined: null,
      noUndefined: false,
    },
  };
}

/**
 * The narrow, read-only view that arch hooks get (Go's `ld.Target`): enough to decide policy,
 * nothing to mutate.
 */
export interface Target {
  readonly ptrSize: 4 | 8;
  readonly isPIE: boolean;
  readonly isShared: boolean;
  readonly isStatic: boolean;
  readonly isRelocatable: boolean;
  readonly isExternal: boolean;
  readonly isPlugin: boolean;
  /** Output may be loaded at any address: PIE or shared. */
  readonly isPIC: boolean;
}

export function makeTarget(config: LinkConfig, ptrSize: 4 | 8): Target {
  const isShared = config.outputKind === 'shared';
  const isPIE = config.buildMode === 'pie';
  return {
    ptrSize,
    isPIE,
    isShared,
    isStatic: config.isStatic,
    isRelocatable: config.outputKind === 'relocatable',
    isExternal: config.linkMode === 'external',
    isPlugin: config.buildMode === 'plugin',
    isPIC: isShared || isPIE,
  };
}
