/**
 * What ARM objects say about the code in them: ELF header flags (AAELF32 §5.2: EABI version,
 * float ABI) and the `.ARM.attributes` build attributes ("Addenda to, and Errata in, the ABI
 * for the Arm Architecture", §2).
 */
import { type ElfLink } from '@link/elf';

export const EF_ARM_EABIMASK = 0xff000000;
export const EF_ARM_EABI_VER5 = 0x05000000;
export const EF_ARM_ABI_FLOAT_SOFT = 0x200;
export const EF_ARM_ABI_FLOAT_HARD = 0x400;
export const SHT_ARM_ATTRIBUTES = 0x70000003;

/** Build attribute tags (ABI addenda §2.5) the link checks. */
export const Tag_File = 1;
export const Tag_ABI_FP_number_model = 23;
export const Tag_ABI_VFP_args = 28;
export const Tag_compatibility = 32;
/** Tag_ABI_VFP_args values: base AAPCS (core registers) and VFP registers. */
export const AEABI_VFP_args_base = 0;
export const AEABI_VFP_args_vfp = 1;

function uleb(b: Uint8Array, p: { o: number }): number {
  let v = 0;
  let shift = 0;
  for (;;) {
    const c = b[p.o++]!;
    v += (c & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(c & 0x80) || p.o >= b.length) return v;
  }
}

function readNtbs(b: Uint8Array, p: { o: number }): string {
  const start = p.o;
  while (p.o < b.length && b[p.o] !== 0) p.o++;
  return String.fromCharCode(...b.subarray(start, p.o++));
}

/** File-scope build attributes: numeric ones and string ones, by tag. */
export interface Attributes {
  ints: Map<number, number>;
  strs: Map<number, string>;
}

/**
 * The file-scope "aeabi" attributes of one `.ARM.attributes` section. Malformed input yields
 * what was read before the damage.
 */
export function readAeabiAttributes(b: Uint8Array): Attributes {
  const out: Attributes = { ints: new Map(), strs: new Map() };
  if (b.length < 1 || b[0] !== 0x41 /* 'A' */) return out;
  let o = 1;
  while (o + 4 <= b.length) {
    const len = b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
    if (len < 5 || o + len > b.length) break;
    const end = o + len;
    const p = { o: o + 4 };
    const vendor = readNtbs(b, p);
    while (vendor === 'aeabi' && p.o + 5 <= end) {
      const tag = b[p.o]!;
      const size = b[p.o + 1]! | (b[p.o + 2]! << 8) | (b[p.o + 3]! << 16) | (b[p.o + 4]! << 24);
      const subEnd = p.o + size;
      if (size < 5 || subEnd > end) break;
      p.o += 5;
      if (tag !== Tag_File) {
        p.o = subEnd;
        continue;
      }
      while (p.o < subEnd) {
        const t = uleb(b, p);
        // Tags 4, 5, 67 and odd tags above 32 are strings; Tag_compatibility is both.
        if (t === Tag_compatibility) {
          uleb(b, p);
          readNtbs(b, p);
        } else if (isStringTag(t)) out.strs.set(t, readNtbs(b, p));
        else out.ints.set(t, uleb(b, p));
      }
    }
    o = end;
  }
  return out;
}

/**
 * Checks that the objects can be linked together and returns the output's e_flags. Every
 * object must be EABI version 5 (or say nothing), and code that passes floating-point arguments
 * in VFP registers (hard-float, Tag_ABI_VFP_args = 1 or EF_ARM_ABI_FLOAT_HARD) cannot be mixed
 * with code that passes them in core registers (soft-float or softfp) when both use floating
 * point at all (Tag_ABI_FP_number_model), which is GNU ld's rule.
 */
export function outputFlags(link: ElfLink): number {
  let hard: string | null = null;
  let soft: string | null = null;
  for (const f of link.objects) {
    const eabi = f.eflags & EF_ARM_EABIMASK;
    if (eabi !== 0 && eabi !== EF_ARM_EABI_VER5) {
      link.ctx.diag.error(
        `${f.displayName}: unsupported ARM EABI version ${eabi >>> 24} (e_flags 0x${(f.eflags >>> 0).toString(16)}); only version 5 objects can be linked`,
      );
    }
    const attrSec = f.sections.find((s) => s !== null && s.type === SHT_ARM_ATTRIBUTES);
    const attrs = attrSec ? readAeabiAttributes(attrSec.contents).ints : new Map<number, number>();
    const usesFp = (attrs.get(Tag_ABI_FP_number_model) ?? 0) !== 0;
    const vfpArgs = attrs.get(Tag_ABI_VFP_args) ?? AEABI_VFP_args_base;
    if (f.eflags & EF_ARM_ABI_FLOAT_HARD || (usesFp && vfpArgs === AEABI_VFP_args_vfp))
      hard ??= f.displayName;
    else if (f.eflags & EF_ARM_ABI_FLOAT_SOFT || (usesFp && vfpArgs === AEABI_VFP_args_base))
      soft ??= f.displayName;
  }
  if (hard !== null && soft !== null)
    link.ctx.diag.error(
      `${soft}: passes floating-point arguments in core registers (soft-float ABI), but ${hard} passes them in VFP registers (hard-float ABI); they cannot be linked together`,
    );
  return (
    (EF_ARM_EABI_VER5 |
      (soft !== null && hard === null ? EF_ARM_ABI_FLOAT_SOFT : EF_ARM_ABI_FLOAT_HARD)) >>>
    0
  );
}

/** Tags 4, 5, 67 and odd tags above 32 hold strings (ABI addenda §2.2.6). */
function isStringTag(t: number): boolean {
  return t === 4 || t === 5 || t === 67 || (t > 32 && (t & 1) === 1);
}

export const Tag_CPU_raw_name = 4;
export const Tag_CPU_name = 5;
export const Tag_CPU_arch = 6;
export const Tag_CPU_arch_profile = 7;
export const Tag_ABI_PCS_wchar_t = 18;
export const Tag_ABI_align_preserved = 25;
export const Tag_ABI_enum_size = 26;
export const Tag_ABI_optimization_goals = 30;
export const Tag_ABI_FP_optimization_goals = 31;

/**
 * How each numeric attribute combines across objects (GNU ld's rules, simplified): most say
 * "needs at least" and take the maximum; what every object must guarantee takes the minimum;
 * facts that must agree take the first object's; goals that disagree say nothing.
 */
const MIN_TAGS = new Set([Tag_ABI_align_preserved]);
const FIRST_TAGS = new Set([Tag_CPU_arch_profile, Tag_ABI_PCS_wchar_t, Tag_ABI_enum_size]);
const GOAL_TAGS = new Set([Tag_ABI_optimization_goals, Tag_ABI_FP_optimization_goals]);

function pushUleb(out: number[], v: number): void {
  do {
    let c = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) c |= 0x80;
    out.push(c);
  } while (v > 0);
}

function pushU32(out: number[], at: number, v: number): void {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = (v >>> 24) & 0xff;
}

/** Merges the inputs' file-scope attributes into one `.ARM.attributes` section's bytes. */
export function mergeAttributes(inputs: readonly Attributes[]): Uint8Array {
  const ints = new Map<number, number>();
  const conflicting = new Set<number>();
  let cpuName: string | undefined;
  let cpuRaw: string | undefined;
  let bestArch = -1;
  for (const a of inputs) {
    const arch = a.ints.get(Tag_CPU_arch) ?? 0;
    if (arch > bestArch) {
      bestArch = arch;
      cpuName = a.strs.get(Tag_CPU_name);
      cpuRaw = a.strs.get(Tag_CPU_raw_name);
    }
    for (const [t, v] of a.ints) {
      const old = ints.get(t);
      if (old === undefined) ints.set(t, v);
      else if (GOAL_TAGS.has(t)) {
        if (old !== v) conflicting.add(t);
      } else if (MIN_TAGS.has(t)) ints.set(t, Math.min(old, v));
      else if (!FIRST_TAGS.has(t) || old === 0) ints.set(t, Math.max(old, v));
    }
  }
  for (const t of GOAL_TAGS) if (inputs.some((a) => !a.ints.has(t))) conflicting.add(t);
  for (const t of conflicting) ints.delete(t);
  // An attribute absent from one object means 0 there: "minimum" tags drop to 0.
  for (const t of MIN_TAGS) if (inputs.some((a) => !a.ints.has(t))) ints.delete(t);
  const attrs: number[] = [];
  const str = (t: number, v: string | undefined) => {
    if (v === undefined) return;
    pushUleb(attrs, t);
    for (let i = 0; i < v.length; i++) attrs.push(v.charCodeAt(i));
    attrs.push(0);
  };
  str(Tag_CPU_raw_name, cpuRaw);
  str(Tag_CPU_name, cpuName);
  for (const t of [...ints.keys()].sort((x, y) => x - y)) {
    pushUleb(attrs, t);
    pushUleb(attrs, ints.get(t)!);
  }
  const vendor = 'aeabi';
  const sub: number[] = [0x41, 0, 0, 0, 0];
  for (let i = 0; i < vendor.length; i++) sub.push(vendor.charCodeAt(i));
  sub.push(0, Tag_File, 0, 0, 0, 0, ...attrs);
  pushU32(sub, 1, sub.length - 1);
  pushU32(sub, 2 + vendor.length + 4 + 1, 5 + attrs.length);
  return Uint8Array.from(sub);
}

/**
 * `.ARM.attributes` is one "A" format-version byte followed by vendor subsections: the inputs'
 * sections cannot simply be concatenated. The output gets one section whose "aeabi" attributes
 * are the merge of every object's.
 */
export function mergeAttributeSections(link: ElfLink): void {
  const o = link.outputSections.find((s) => s.type === SHT_ARM_ATTRIBUTES);
  if (!o || o.members.length === 0) return;
  const merged = mergeAttributes(o.members.map((m) => readAeabiAttributes(m.contents)));
  const first = o.members[0]!;
  first.ownContents = merged;
  first.size = merged.length;
  for (const m of o.members.slice(1)) {
    m.isAlive = false;
    m.osec = null;
  }
  o.members.length = 1;
}
