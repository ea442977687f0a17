import { passThroughComponent } from '../../operators/pass-through-component.js';
import { ndjsonFileSink } from '../../sinks/ndjson-file-sink.js';
import { simSource } from '../../sources/sim-source.js';
import { ComponentRegistry } from './component-registry.js';

/** A new registry holding every component tickflow ships. */
export function builtinComponents(): ComponentRegistry {
  return new ComponentRegistry([simSource, passThroughComponent, ndjsonFileSink]);
}
