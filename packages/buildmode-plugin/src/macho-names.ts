/**
 * The names a Mach-O plugin is made of, shared by the linker extension (`macho.ts`) and
 * `tslink plugin-info` (`macho-info.ts`), which must not pull the Mach-O linker into the main
 * CLI bundle.
 */

/** The host's registry function, a weak flat-namespace import of the plugin's initializer. */
export const REGISTER = '_tslink_plugin_register';

/** The section holding the plugin path (NUL-terminated), as ELF's `.note.tslink.plugin`. */
export const MACHO_PLUGIN_SECTION = '__TEXT,__tslink_plugin';

/** Each bounds pair of the descriptor: its marker names and the section it marks. */
export const MACHO_MARKERS = [
  { head: '_tslink.text', tail: '_tslink.etext', section: '__TEXT,__text', zerofill: false },
  { head: '_tslink.rodata', tail: '_tslink.erodata', section: '__TEXT,__const', zerofill: false },
  { head: '_tslink.data', tail: '_tslink.edata', section: '__DATA,__data', zerofill: false },
  { head: '_tslink.bss', tail: '_tslink.ebss', section: '__DATA,__bss', zerofill: true },
] as const;
