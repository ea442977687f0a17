import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

/** What a run's figures were measured on, written beside them in bench/results/latest.json. */
export interface MachineFacts {
  readonly node: string;
  readonly platform: string;
  readonly arch: string;
  readonly cpu: string;
  readonly cores: number;
  readonly totalMemoryMB: number;
  /** The 1, 5 and 15 minute load averages when the run started: other work on a shared machine slows every figure. */
  readonly loadAverageAtStart: readonly number[];
  /** The git commit checked out (the built dist may hold uncommitted changes on top), when git answers. */
  readonly revision?: string;
}

/**
 * The facts of this machine and checkout at the start of a run.
 *
 * @param root the checkout, for its git revision.
 */
export function machineFacts(root: string): MachineFacts {
  const git = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', timeout: 10_000 });
  const revision = git.status === 0 ? git.stdout.trim() : undefined;
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    totalMemoryMB: Math.round(totalmem() / 2 ** 20),
    loadAverageAtStart: loadavg().map((load) => Number(load.toFixed(2))),
    ...(revision === undefined ? {} : { revision }),
  };
}
