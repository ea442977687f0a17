import { createTestScheduler } from '../../support/marbles.js';
import { startScriptedPool, type ScriptedPoolConfig, type ScriptedPoolRun } from './start-scripted-pool.js';

/**
 * Starts a pool on scripted fronts at virtual time 0 on a fresh TestScheduler, runs `script` (which schedules its steps
 * with `at`), closes the pool at `endAt` and returns what it put out once every scheduled action has run.
 */
export function runScriptedPool(
  config: ScriptedPoolConfig,
  endAt: number,
  script: (run: ScriptedPoolRun, at: (ms: number, step: () => void) => void) => void = () => {},
): ScriptedPoolRun {
  const scheduler = createTestScheduler();
  let run: ScriptedPoolRun | undefined;
  scheduler.run(() => {
    const started = startScriptedPool(scheduler, config);
    run = started;
    script(started, (ms, step) => void scheduler.schedule(step, ms));
    scheduler.schedule(() => started.pool.close(), endAt);
  });
  return run as ScriptedPoolRun;
}
