import { builtinComponents } from '../builtin-components.js';
import { TickflowError, UsageError } from '../../errors/errors.js';
import { loadPipelineFile } from '../../pipeline/graph/load-pipeline-file.js';
import type { CliCommand } from '../cli-command.js';

/**
 * `tickflow lint FILE...`: parses, validates every stage's config (its
 * fields and its definition's rules, as `run` does) and checks the graph,
 * without running; lists what only a run can check (libraries, servers,
 * files) for each stage. Exits 0 when every file is valid, 2 (like any
 * other bad value) when one is not, after reporting each file.
 */
export const lintCommand: CliCommand = {
  name: 'lint',
  summary: 'Check pipeline definition files (config of every stage, graph shape, edge schemas) without running them.',
  usage: 'FILE [FILE...]',
  options: {},
  optionHelp: {},
  async run(args, io) {
    if (args.positionals.length === 0)
      throw new UsageError('missing FILE: give one or more pipeline definition files (.yaml, .yml or .json)');
    const registry = builtinComponents();
    let failed = 0;
    for (const path of args.positionals) {
      try {
        const graph = loadPipelineFile(path, registry).build({ env: io.env });
        io.out(`${path}: ok (pipeline '${graph.name}', ${graph.stages.length} stages)\n`);
        const unchecked = graph.stages.flatMap((stage) =>
          (registry.has(stage.component) ? (registry.get(stage.component).checkedAtStart ?? []) : []).map(
            (what) => `stage '${stage.id}' (${stage.component}): ${what}`,
          ),
        );
        if (unchecked.length > 0)
          io.out(`  not checked until it runs (needs the outside world):\n${unchecked.map((u) => `    - ${u}\n`).join('')}`);
      } catch (error) {
        if (!(error instanceof TickflowError)) throw error;
        failed++;
        io.err(`${path}: ${(error as Error).message}\n`);
      }
    }
    return failed === 0 ? 0 : 2;
  },
};
