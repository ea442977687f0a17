import type { FieldSpec } from './config-spec.js';

/**
 * Turns the text of a command-line `--set field=value` into the field's type,
 * so that `validateConfig` judges it like a value from a config file. Text
 * that does not parse is passed on as text and rejected there with the field's name.
 */
export function parseFieldValue(spec: FieldSpec<unknown> | undefined, text: string): unknown {
  switch (spec?.type) {
    case 'integer':
    case 'number':
      return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text;
    case 'string[]':
      return text === '' ? [] : text.split(',').map((s) => s.trim());
    case 'record[]':
      // `--set fronts='[{"front_addr":"tcp://…"}]'`: JSON, or the text itself, rejected with the field's name.
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    default:
      return text;
  }
}
