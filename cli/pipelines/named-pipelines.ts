import type { PipelineDefinition } from '../../pipeline/graph/pipeline.js';
import { demoPipeline } from './demo-pipeline.js';

/** The pipelines `tickflow run NAME` knows by name. */
export const namedPipelines: ReadonlyMap<string, PipelineDefinition> = new Map([demoPipeline].map((p) => [p.name, p]));
