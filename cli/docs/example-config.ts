import type { ComponentFacts } from './component-facts.js';

/**
 * The smallest config a stage of the component takes: each required field
 * set to its example (every other field has a default). A required field
 * that may come from the environment is set too, so the example stands alone.
 */
export function exampleConfig(facts: ComponentFacts): Record<string, unknown> {
  return Object.fromEntries(facts.fields.filter((f) => f.required).map((f) => [f.name, f.example]));
}
