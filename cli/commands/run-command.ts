import { builtinComponents } from '../builtin-components.js';
import { cutText } from '../../pipeline/config/quote-value.js';
import { TickflowError, UsageError } from '../../errors/errors.js';
import { createLogger } from '../../pipeline/runtime/create-logger.js';
import { runPipeline, type PipelineRun, type RunResult } from '../../pipeline/runtime/run-pipeline.js';
import { startHttpServer } from '../../pipeline/runtime/start-http-server.js';
import type { CliCommand } from '../cli-command.js';
import { VALIDATION_POLICIES, loadRunSettings } from '../load-run-settings.js';
import { resolvePipeline } from '../resolve-pipeline.js';
import { CONTROL_TOKENS_ENV, CONTROL_TOKENS_FILE_ENV, loadControlAccess } from '../load-control-access.js';
import { setLongTimeout } from '../../pipeline/runtime/set-long-timeout.js';

/** A positive decimal number of seconds: `2`, `0.5`, `2592000`, `1e9`. */
const SECONDS = /^(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** Milliseconds of a `--duration` text, any length (long ones wait on a chain of timers); a `UsageError` naming the flag otherwise. */
function parseDuration(value: unknown): number {
  const text = String(value);
  const ms = SECONDS.test(text) ? Number(text) * 1000 : Number.NaN;
  if (!Number.isFinite(ms) || ms <= 0)
    throw new UsageError(`--duration must be a positive number of seconds; got '${cutText(text)}' (e.g. 60 or 0.5)`);
  return ms;
}

/** `tickflow run NAME|FILE`: runs until the sources end, a signal arrives, or --duration passes. */
export const runCommand: CliCommand = {
  name: 'run',
  summary: 'Run a named pipeline or a definition file until its sources end or SIGINT/SIGTERM; then drain to the sinks and exit.',
  usage: 'NAME|FILE [--config FILE] [--set STAGE.FIELD=VALUE]... [--validation strict|boundary] [--port N] [--duration SECONDS]',
  options: {
    config: { type: 'string', short: 'c' },
    set: { type: 'string', short: 's', multiple: true },
    validation: { type: 'string' },
    port: { type: 'string', short: 'p' },
    duration: { type: 'string', short: 'd' },
    'log-level': { type: 'string' },
    'control-tokens-file': { type: 'string' },
    'control-open': { type: 'boolean' },
  },
  optionHelp: {
    config: 'Run config (YAML or JSON): validation, port, log_level, control_tokens_file, and stages: { STAGE: { FIELD: VALUE } }',
    set: 'Set one stage config field, e.g. --set market.rate=100 (repeatable; wins over --config)',
    validation: `Edge validation: ${VALIDATION_POLICIES.join(' (every record on every edge), ')} (only where records cross a process); default strict`,
    port: 'Port of /health and /metrics on 127.0.0.1 (default 9464; 0 picks a free port)',
    duration: 'Stop gracefully after this many seconds (any length: 2592000 is 30 days)',
    'log-level': 'fatal, error, warn, info, debug, trace or silent (default info)',
    'control-tokens-file': `File of control tokens, one PRINCIPAL:TOKEN a line, for POST /control/… (tickflow halt/resume); else ${CONTROL_TOKENS_FILE_ENV} or ${CONTROL_TOKENS_ENV}; none: the controls are off`,
    'control-open':
      'Serve the controls with no credential to anyone who can reach the loopback port (logged as a warning); not with tokens',
  },
  async run(args, io) {
    if (args.positionals.length > 1)
      throw new UsageError(`expected one pipeline, got ${args.positionals.length}: ${args.positionals.join(' ')}`);
    const v = args.values;
    const durationMs = v['duration'] === undefined ? undefined : parseDuration(v['duration']);
    const registry = builtinComponents();
    const definition = resolvePipeline(args.positionals[0], registry);
    const settings = loadRunSettings(
      {
        config: v['config'] as string | undefined,
        set: v['set'] as string[] | undefined,
        validation: v['validation'] as string | undefined,
        port: v['port'] as string | undefined,
        logLevel: v['log-level'] as string | undefined,
        controlTokensFile: v['control-tokens-file'] as string | undefined,
      },
      definition,
      registry,
      io.env,
    );
    const graph = definition.build({ overrides: settings.overrides, env: io.env });
    const logger = createLogger({ level: settings.logLevel });
    const controlAccess = loadControlAccess(
      { tokensFile: settings.controlTokensFile, open: v['control-open'] as boolean | undefined },
      io.env,
      (m) => logger.warn(m),
    );

    // Up to here an error is about what the user gave (exit 2, see runCli); from here on it is a run that failed to start (exit 1).
    let http;
    let run: PipelineRun;
    try {
      // The pipeline's port is taken before any stage starts, so a second run on it writes nothing.
      let current: PipelineRun | undefined;
      http = await startHttpServer({
        port: settings.port,
        health: () => current?.health() ?? { pipeline: graph.name, state: 'running', stages: {} },
        metrics: () => current?.metrics.render() ?? Promise.resolve(''),
        controls: () => current?.controls ?? new Map(),
        registry: () => current?.metrics.registry,
        controlAccess,
        logger,
      });
      run = current = runPipeline(graph, { logger, validation: settings.validation });
    } catch (error) {
      await http?.close();
      if (!(error instanceof TickflowError)) throw error;
      io.err(`tickflow run: ${error.message}\n`);
      return 1;
    }

    let stopping = false;
    let resolveStopped: (result: RunResult) => void = () => undefined;
    const stopped = new Promise<RunResult>((resolve) => (resolveStopped = resolve));
    const stop = (reason: string): void => {
      if (stopping) return;
      stopping = true;
      void run.stop(reason).then(resolveStopped);
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn(`second ${signal}: exiting without draining`);
        process.exit(130);
      }
      stop(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const timer = durationMs === undefined ? undefined : setLongTimeout(() => stop(`--duration ${durationMs / 1000}s elapsed`), durationMs);

    // stop() resolves once drained or timed out; done resolves when the sources end by themselves.
    const result = await Promise.race([run.done, stopped]);
    timer?.clear();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await http.close();
    const stages = run.health().stages;
    logger.info(
      { stages },
      result.ok
        ? `pipeline '${graph.name}' finished`
        : `pipeline '${graph.name}' failed in ${result.failures.map((f) => f.stage).join(', ')}`,
    );
    return result.ok ? 0 : 1;
  },
};
