import type { ComponentRegistry } from '../../pipeline/components/component-registry.js';
import { componentFacts } from './component-facts.js';
import { renderComponentJson } from './render-component-json.js';
import { renderComponentPage } from './render-component-page.js';
import { renderComponentsIndex } from './render-components-index.js';

/**
 * Every file of the components' docs by file name (`<name>.md`,
 * `<name>.json`, `README.md`), in name order: what `tickflow docs` writes
 * and what the staleness test compares with the committed files.
 */
export function componentDocFiles(registry: ComponentRegistry): ReadonlyMap<string, string> {
  const all = registry.all().map(componentFacts);
  const files = new Map<string, string>([['README.md', renderComponentsIndex(all)]]);
  for (const facts of all) {
    files.set(`${facts.name}.md`, renderComponentPage(facts));
    files.set(`${facts.name}.json`, renderComponentJson(facts));
  }
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
