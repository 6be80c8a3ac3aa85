/** darwin's C naming as `@link/cgo/macho` applies it to directive names. */
import { describe, expect, it } from 'vitest';
import { MACHO_CGO_DIRECTIVES_SECTION, machoSymbolName } from '../src/macho.js';

describe('Mach-O names for cgo directives', () => {
  it('prepends _ to every C name, as clang and Go do on darwin', () => {
    expect(machoSymbolName('write')).toBe('_write');
    expect(machoSymbolName('__error')).toBe('___error');
    expect(machoSymbolName('libc_write')).toBe('_libc_write');
  });

  it('the object carrier is a section ld64 can name (16-byte section name)', () => {
    const [seg, sect] = MACHO_CGO_DIRECTIVES_SECTION.split(',');
    expect(seg).toBe('__LD');
    expect(sect!.length).toBeLessThanOrEqual(16);
  });
});
