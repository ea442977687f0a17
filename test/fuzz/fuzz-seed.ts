/**
 * The seed of the fuzz suites: fixed by default, so CI is repeatable;
 * `TICKFLOW_FUZZ_SEED=N` replays a run, `TICKFLOW_FUZZ_SEED=random` explores.
 * fast-check prints the seed and the shrunk counterexample of a failure.
 */
export function fuzzSeed(suite: string): number {
  const given = process.env['TICKFLOW_FUZZ_SEED'];
  const seed = given === 'random' ? Math.floor(Math.random() * 2 ** 31) : given === undefined || given === '' ? 20_261_202 : Number(given);
  if (!Number.isSafeInteger(seed)) throw new Error(`TICKFLOW_FUZZ_SEED must be an integer or 'random', got '${given}'`);
  console.log(`${suite}: fuzz seed ${seed} (replay with TICKFLOW_FUZZ_SEED=${seed})`);
  return seed;
}
