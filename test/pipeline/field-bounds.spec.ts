import { describe, expect, it } from 'vitest';
import { MAX_TIMER_MS } from '../../pipeline/runtime/set-long-timeout.js';
import { builtinComponents } from '../../cli/builtin-components.js';
import type { ConfigSpec, FieldSpec } from '../../pipeline/config/config-spec.js';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { ConfigError } from '../../errors/errors.js';

interface NumericField {
  /** `sim.rate`, `ctp.fronts[].priority`. */
  readonly id: string;
  readonly component: string;
  /** The field's path in a config: `rate`, or `fronts` for an item field. */
  readonly top: string;
  /** The item's field when the field belongs to the records of a `record[]` field. */
  readonly item?: string;
  readonly spec: FieldSpec<unknown>;
}

/** Every integer and number field of every built-in component, those of each `record[]` field's items too. */
function numericFields(): NumericField[] {
  const fields: NumericField[] = [];
  for (const c of builtinComponents().all()) {
    for (const [name, f] of Object.entries(c.spec as ConfigSpec)) {
      if (f.type === 'integer' || f.type === 'number') fields.push({ id: `${c.name}.${name}`, component: c.name, top: name, spec: f });
      for (const [item, itemSpec] of Object.entries(f.items ?? {})) {
        if (itemSpec.type === 'integer' || itemSpec.type === 'number')
          fields.push({ id: `${c.name}.${name}[].${item}`, component: c.name, top: name, item, spec: itemSpec });
      }
    }
  }
  return fields;
}

const fields = numericFields();

/** The problems validateConfig reports about this one field when it is given `value` (other fields left to defaults or missing). */
function problemsOf(f: NumericField, value: number): string[] {
  const spec = builtinComponents().get(f.component).spec as ConfigSpec;
  const raw = f.item === undefined ? { [f.top]: value } : { [f.top]: [{ [f.item]: value }] };
  const name = f.item === undefined ? f.top : `${f.top}[0].${f.item}`;
  try {
    validateConfig(`stage 'x' (${f.component})`, spec, raw);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.filter((p) => p.startsWith(`'${name}' `));
  }
}

describe('numeric config fields of the built-in components', () => {
  it('are found (the walk sees top-level and record item fields)', () => {
    expect(fields.map((f) => f.id)).toEqual(expect.arrayContaining(['sim.rate', 'ctp.fronts[].max_subscriptions']));
  });

  it.each(fields.map((f) => [f.id, f] as const))('%s has a documented min and max that hold its default and example', (id, f) => {
    expect(f.spec.min, `${id}: min`).toBeTypeOf('number');
    expect(f.spec.max, `${id}: max`).toBeTypeOf('number');
    const { min = Number.NaN, max = Number.NaN } = f.spec;
    expect(min, id).toBeLessThanOrEqual(max);
    if (f.spec.type === 'integer') expect(Number.isSafeInteger(max), `${id}: an integer maximum is a safe integer`).toBe(true);
    // A field in milliseconds may become a timer's delay: past 2^31 - 1 a timer fires after 1 ms.
    if (id.endsWith('_ms')) expect(max, `${id}: fits in a timer`).toBeLessThanOrEqual(MAX_TIMER_MS);
    for (const [what, v] of [
      ['default', f.spec.default],
      ['example', f.spec.example],
    ] as const) {
      if (v === undefined) continue;
      expect(v as number, `${id}: ${what}`).toBeGreaterThanOrEqual(min);
      expect(v as number, `${id}: ${what}`).toBeLessThanOrEqual(max);
    }
  });

  it.each(fields.map((f) => [f.id, f] as const))(
    'validateConfig accepts %s at its bounds and refuses it past them, naming the field, the bound and the value',
    (_id, f) => {
      const { min = Number.NaN, max = Number.NaN } = f.spec;
      expect(problemsOf(f, max)).toEqual([]);
      expect(problemsOf(f, min)).toEqual([]);
      const name = f.item === undefined ? f.top : `${f.top}[0].${f.item}`;
      const above = f.spec.type === 'integer' ? max + 1 : max * 2 + 1;
      expect(problemsOf(f, above)).toEqual([`'${name}' must be at most ${max}, got ${JSON.stringify(above)}`]);
      expect(problemsOf(f, 1e308)).toEqual([`'${name}' must be at most ${max}, got 1e+308`]);
      const below = f.spec.type === 'integer' ? min - 1 : min - 1.5;
      expect(problemsOf(f, below)).toEqual([`'${name}' must be at least ${min}, got ${JSON.stringify(below)}`]);
    },
  );
});
