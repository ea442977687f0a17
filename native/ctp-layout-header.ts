/** The measured facts of one SDK version in native/ctp-abi.json. */
interface AbiVersion {
  readonly structs: Readonly<
    Record<
      string,
      {
        readonly sizeof: number;
        readonly alignof: number;
        readonly fields: readonly { readonly name: string; readonly offset: number; readonly size: number }[];
      }
    >
  >;
}

/** The measured facts of every SDK version: the shape of native/ctp-abi.json. */
export interface CtpAbiFacts {
  readonly versions: Readonly<Record<string, AbiVersion>>;
}

/** `6.7.7` → `_6_7_7`: the suffix of a declaration kept for an older layout. */
const versionSuffix = (version: string): string => `_${version.replaceAll('.', '_')}`;

/**
 * Writes `native/include/ctp-layout-assertions.h`: one `static_assert` for
 * the size, alignment and every field offset and size of every struct of
 * every SDK version in the facts. A struct whose layout differs from the
 * newest version's is checked against the declaration named after the last
 * version with that layout (`CThostFtdcRspUserLoginField_6_7_7`).
 */
export function ctpLayoutHeader(facts: CtpAbiFacts): string {
  const versions = Object.keys(facts.versions).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const newest = facts.versions[versions[versions.length - 1] as string] as AbiVersion;
  const lines = [
    '// Generated from native/ctp-abi.json by `npm run native:layout`; do not edit.',
    '// Every size, alignment and offset measured for every SDK version, checked',
    '// against our declarations at compile time.',
    '#pragma once',
    '#include <cstddef>',
    '#include "ctp-md-api.h"',
    '',
  ];
  const checked = new Set<string>();
  for (const [index, version] of versions.entries()) {
    const layout = facts.versions[version] as AbiVersion;
    for (const [name, struct] of Object.entries(layout.structs)) {
      const sameAsNewest = JSON.stringify(struct) === JSON.stringify(newest.structs[name]);
      // The declaration of an older layout is named after the last version that has it.
      const laterSame = versions
        .slice(index + 1)
        .filter((v) => JSON.stringify(facts.versions[v]?.structs[name]) === JSON.stringify(struct));
      const type = sameAsNewest ? name : name + versionSuffix(laterSame[laterSame.length - 1] ?? version);
      const key = `${type} ${JSON.stringify(struct)}`;
      if (checked.has(key)) continue;
      checked.add(key);
      lines.push(
        `// ${name}, SDK ${versions.filter((v) => JSON.stringify(facts.versions[v]?.structs[name]) === JSON.stringify(struct)).join(', ')}`,
      );
      lines.push(`static_assert(sizeof(${type}) == ${struct.sizeof}, "sizeof(${type})");`);
      lines.push(`static_assert(alignof(${type}) == ${struct.alignof}, "alignof(${type})");`);
      for (const f of struct.fields) {
        lines.push(
          `static_assert(offsetof(${type}, ${f.name}) == ${f.offset} && sizeof(${type}::${f.name}) == ${f.size}, "${type}::${f.name}");`,
        );
      }
      lines.push('');
    }
  }
  return lines.join('\n');
}
