import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { ctpLayoutHeader, type CtpAbiFacts } from '../../native/ctp-layout-header.js';
import { loadCtpAddon } from '../../native/load-ctp-addon.js';

interface AbiJson extends CtpAbiFacts {
  readonly versions: Readonly<
    Record<
      string,
      CtpAbiFacts['versions'][string] & {
        readonly vtables: Readonly<
          Record<'CThostFtdcMdApi' | 'CThostFtdcMdSpi', readonly { readonly slot: number; readonly method: string }[]>
        >;
      }
    >
  >;
}

const abi = JSON.parse(readFileSync(new URL('../../native/ctp-abi.json', import.meta.url), 'utf8')) as AbiJson;
const versions = Object.keys(abi.versions).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
const layout = loadCtpAddon().layout();

/**
 * Our declaration of `name` as laid out in `version`: the struct itself when
 * its layout is the newest one, else the declaration kept for the older
 * layout, named after the last version that has it (the rule of the
 * generated header).
 */
function declarationOf(name: string, version: string): string {
  const same = (v: string) => JSON.stringify(abi.versions[v]?.structs[name]) === JSON.stringify(abi.versions[version]?.structs[name]);
  if (same(versions[versions.length - 1] as string)) return name;
  const last = versions.filter((v) => versions.indexOf(v) >= versions.indexOf(version) && same(v)).pop() as string;
  return `${name}_${last.replaceAll('.', '_')}`;
}

describe('layout (our declarations against native/ctp-abi.json)', () => {
  it('measures three SDK versions', () => {
    expect(versions).toEqual(['6.7.2', '6.7.7', '6.7.11']);
  });

  describe.each(versions)('SDK %s', (version) => {
    const facts = abi.versions[version] as AbiJson['versions'][string];

    it.each(Object.keys(facts.structs))('%s: sizeof, alignof and every field offset and size', (name) => {
      const measured = facts.structs[name] as CtpAbiFacts['versions'][string]['structs'][string];
      const ours = layout.structs[declarationOf(name, version)];
      expect(ours, `no declaration of ${name} for ${version}`).toBeDefined();
      expect({ sizeof: ours?.sizeof, alignof: ours?.alignof, fields: ours?.fields }).toEqual({
        sizeof: measured.sizeof,
        alignof: measured.alignof,
        fields: Object.fromEntries(measured.fields.map((f) => [f.name, { offset: f.offset, size: f.size }])),
      });
    });

    it.each(['CThostFtdcMdApi', 'CThostFtdcMdSpi'] as const)('%s: the methods in vtable slot order', (cls) => {
      const slots = [...facts.vtables[cls]].sort((a, b) => a.slot - b.slot);
      expect(slots.map((s) => s.slot)).toEqual(slots.map((_, i) => i));
      expect(layout.vtables[cls]).toEqual(slots.map((s) => s.method));
    });
  });

  it('declares nothing the facts do not measure', () => {
    const checked = new Set(versions.flatMap((v) => Object.keys(abi.versions[v]?.structs ?? {}).map((name) => declarationOf(name, v))));
    expect(Object.keys(layout.structs).sort()).toEqual([...checked].sort());
  });

  it('the login response is 204 bytes up to 6.7.7 and 296 in 6.7.11', () => {
    expect(layout.structs['CThostFtdcRspUserLoginField_6_7_7']?.sizeof).toBe(204);
    expect(layout.structs['CThostFtdcRspUserLoginField']?.sizeof).toBe(296);
  });
});

describe('ctpLayoutHeader', () => {
  it('generates exactly native/include/ctp-layout-assertions.h (run `npm run native:layout` when this fails)', () => {
    const header = readFileSync(new URL('../../native/include/ctp-layout-assertions.h', import.meta.url), 'utf8');
    expect(ctpLayoutHeader(abi)).toBe(header);
  });
});
