import { ConfigError } from '../../errors/errors.js';
import type { AnyComponentDefinition, ComponentKind } from './component-definition.js';

/** The components a pipeline definition can name. Built explicitly: nothing registers itself on import. */
export class ComponentRegistry {
  private readonly byName = new Map<string, AnyComponentDefinition>();

  constructor(definitions: readonly AnyComponentDefinition[] = []) {
    for (const d of definitions) this.register(d);
  }

  register(definition: AnyComponentDefinition): this {
    if (this.byName.has(definition.name))
      throw new ConfigError('component registry', [`component '${definition.name}' is registered twice`]);
    this.byName.set(definition.name, definition);
    return this;
  }

  get(name: string): AnyComponentDefinition {
    const definition = this.byName.get(name);
    if (definition === undefined) {
      throw new ConfigError(`component '${name}'`, [`unknown component; known components: ${this.names().join(', ')}`]);
    }
    return definition;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(kind?: ComponentKind): string[] {
    return [...this.byName.values()]
      .filter((d) => kind === undefined || d.kind === kind)
      .map((d) => d.name)
      .sort();
  }

  all(): AnyComponentDefinition[] {
    return this.names().map((n) => this.get(n));
  }
}
