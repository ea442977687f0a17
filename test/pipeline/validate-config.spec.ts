import { describe, expect, it } from 'vitest';
import { field } from '../../pipeline/config/field.js';
import { parseFieldValue } from '../../pipeline/config/parse-field-value.js';
import { validateConfig } from '../../pipeline/config/validate-config.js';
import { ConfigError } from '../../errors/errors.js';

const spec = {
  path: field.string({ description: 'Output file', example: 'out.ndjson' }),
  rate: field.number({ description: 'Ticks per second', default: 20, example: 100, min: 0 }),
  count: field.integer({ description: 'Ticks to emit', default: 0, example: 10 }),
  mode: field.choice(['fast', 'slow'], { description: 'Speed', default: 'fast', example: 'slow' }),
  instruments: field.stringList({ description: 'Instruments', default: ['SHFE.rb2501'], example: ['DCE.m2501'] }),
  password: field.string({ description: 'Password', default: '', example: 'secret', secret: true, env: 'TEST_PASSWORD' }),
};

describe('validateConfig', () => {
  it('fills defaults and keeps given values', () => {
    expect(validateConfig('stage s (test)', spec, { path: 'a.ndjson', rate: 5 })).toEqual({
      path: 'a.ndjson',
      rate: 5,
      count: 0,
      mode: 'fast',
      instruments: ['SHFE.rb2501'],
      password: '',
    });
  });

  it('reports every problem at once, naming the component and each field', () => {
    let error: unknown;
    try {
      validateConfig("stage 'out' (ndjson-file)", spec, { rate: -1, count: 1.5, mode: 'medium', instruments: 'x', colour: 'red' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toEqual([
      "unknown field 'colour'; known fields: path, rate, count, mode, instruments, password",
      'missing required field \'path\' (Output file; e.g. "out.ndjson")',
      "'rate' must be at least 0, got -1",
      "'count' must be an integer, got 1.5",
      '\'mode\' must be one of fast, slow, got "medium"',
      '\'instruments\' must be a list of strings, got "x"',
    ]);
    expect((error as Error).message).toMatch(/^stage 'out' \(ndjson-file\): 6 problems:/);
  });

  it('reads a secret from its environment variable when not configured', () => {
    expect(validateConfig('s', spec, { path: 'p' }, { TEST_PASSWORD: 'hunter2' }).password).toBe('hunter2');
  });

  it('types a value from the environment by the field, and never prints a secret', () => {
    const tokens = { tokens: field.stringList({ description: 'Tokens', default: [], example: ['t'], secret: true, env: 'TEST_TOKENS' }) };
    expect(validateConfig('s', tokens, {}, { TEST_TOKENS: 'a,b' }).tokens).toEqual(['a', 'b']);
    expect(() => validateConfig('s', tokens, { tokens: 'hunter2' })).toThrow(
      "'tokens' must be a list of strings, got a value that is not shown (secret)",
    );
  });

  describe('a list of records', () => {
    const fronts = {
      fronts: field.records(
        {
          front_addr: field.string({ description: 'Front address', example: 'tcp://127.0.0.1:41001' }),
          priority: field.integer({ description: 'Priority', default: 0, example: 1, min: 0 }),
        },
        { description: 'Fronts', example: [{ front_addr: 'tcp://127.0.0.1:41001', priority: 0 }] },
      ),
    };

    it('checks each item against its fields and fills their defaults', () => {
      const config = validateConfig('s', fronts, { fronts: [{ front_addr: 'tcp://a:1' }, { front_addr: 'tcp://b:2', priority: 1 }] });
      expect(config.fronts).toEqual([
        { front_addr: 'tcp://a:1', priority: 0 },
        { front_addr: 'tcp://b:2', priority: 1 },
      ]);
    });

    it('names every problem with the item index', () => {
      let error: unknown;
      try {
        validateConfig('s', fronts, { fronts: [{ priority: -1 }, 'tcp://b:2', { front_addr: 'tcp://c:3', colour: 'red' }] });
      } catch (e) {
        error = e;
      }
      expect((error as ConfigError).problems).toEqual([
        'missing required field \'fronts[0].front_addr\' (Front address; e.g. "tcp://127.0.0.1:41001")',
        "'fronts[0].priority' must be at least 0, got -1",
        '\'fronts[1]\' must be a mapping of field names to values, got "tcp://b:2"',
        "unknown field 'fronts[2].colour'; known fields: front_addr, priority",
      ]);
      expect(() => validateConfig('s', fronts, { fronts: 'tcp://a:1' })).toThrow('\'fronts\' must be a list of records, got "tcp://a:1"');
    });

    it('reads a list of records from command-line JSON', () => {
      expect(parseFieldValue(fronts.fronts, '[{"front_addr":"tcp://a:1"}]')).toEqual([{ front_addr: 'tcp://a:1' }]);
      expect(parseFieldValue(fronts.fronts, 'tcp://a:1')).toBe('tcp://a:1');
    });
  });

  it('rejects config that is not a mapping', () => {
    expect(() => validateConfig('s', spec, [1, 2])).toThrow(/must be a mapping/);
  });
});

describe('parseFieldValue', () => {
  it('types command-line text by the field spec', () => {
    expect(parseFieldValue(spec.rate, '2.5')).toBe(2.5);
    expect(parseFieldValue(spec.rate, 'fast')).toBe('fast');
    expect(parseFieldValue(field.boolean({ description: '', example: true }), 'true')).toBe(true);
    expect(parseFieldValue(spec.instruments, 'SHFE.rb2501, DCE.m2501')).toEqual(['SHFE.rb2501', 'DCE.m2501']);
    expect(parseFieldValue(undefined, '7')).toBe('7');
  });
});
