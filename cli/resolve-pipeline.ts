import { existsSync } from 'node:fs';
import type { ComponentRegistry } from '../pipeline/components/component-registry.js';
import { UsageError } from '../errors/errors.js';
import { loadPipelineFile } from '../pipeline/graph/load-pipeline-file.js';
import type { PipelineDefinition } from '../pipeline/graph/pipeline.js';
import { namedPipelines } from './pipelines/named-pipelines.js';

const looksLikeFile = (arg: string): boolean => /\.(ya?ml|json)$/.test(arg) || arg.includes('/');

/** A named pipeline, or the definition file at a path. */
export function resolvePipeline(nameOrPath: string | undefined, registry: ComponentRegistry): PipelineDefinition {
  const names = [...namedPipelines.keys()].join(', ');
  if (nameOrPath === undefined) throw new UsageError(`missing pipeline: give a name (${names}) or a definition file`);
  const named = namedPipelines.get(nameOrPath);
  if (named !== undefined) return named;
  if (looksLikeFile(nameOrPath) || existsSync(nameOrPath)) return loadPipelineFile(nameOrPath, registry);
  throw new UsageError(`unknown pipeline '${nameOrPath}'; named pipelines: ${names}; or give the path of a .yaml or .json definition file`);
}
