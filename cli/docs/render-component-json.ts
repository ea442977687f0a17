import type { ComponentFacts } from './component-facts.js';
import { exampleConfig } from './example-config.js';
import { GENERATED_NOTICE } from './generated-notice.js';

/**
 * The JSON page of one component, `docs/components/<name>.json`: the facts
 * of its Markdown page for programs, keys in a fixed order (every key
 * present, null when it does not apply) so that the file is stable.
 */
export function renderComponentJson(facts: ComponentFacts): string {
  return `${JSON.stringify({ $comment: GENERATED_NOTICE, ...facts, exampleConfig: exampleConfig(facts) }, null, 2)}\n`;
}
