import type { TradingState } from '../../../schemas/generated.js';
import { UsageError } from '../../errors.js';
import type { CliCommand, CliIo, ParsedArgs } from '../cli-command.js';

const DEFAULT_URL = 'http://127.0.0.1:9464';
const DEFAULT_STAGE = 'risk';
const TIMEOUT_MS = 5000;

/** The options `halt` and `resume` share. */
const OPTIONS = {
  url: { type: 'string', short: 'u', default: DEFAULT_URL },
  stage: { type: 'string', default: DEFAULT_STAGE },
  reason: { type: 'string', short: 'r' },
} as const;

function optionHelp(verb: string): Readonly<Record<string, string>> {
  return {
    url: `HTTP address of the running pipeline (tickflow run --port; default ${DEFAULT_URL})`,
    stage: `Id of the risk stage in the pipeline (default ${DEFAULT_STAGE})`,
    reason: `Why you ${verb}; recorded with your user name in the stage's RiskControlChanged (audited)`,
  };
}

/** What the risk stage answers to a state control. */
interface StateAnswer {
  readonly stage?: string;
  readonly change_id?: string;
  readonly trading_state?: string;
  readonly previous_trading_state?: string;
  readonly cancels_sent?: number;
  readonly reason?: string;
}

function describeFetchError(error: unknown): string {
  const name = (error as Error)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)';
  if (cause?.code !== undefined) return `${cause.message ?? 'network error'} (${cause.code})`;
  return cause?.message ?? (error as Error)?.message ?? String(error);
}

/**
 * Sets the trading state of a running pipeline's risk stage over its HTTP
 * port (`POST {url}/control/{stage}/state`) and reports the answer; `halt`
 * and `resume` are this with HALTED and ACTIVE. Returns the exit code: 0 when
 * the stage applied the change, 1 when the pipeline is unreachable or the
 * stage refused; a bad flag is a `UsageError` (exit 2).
 */
export async function postTradingState(command: string, tradingState: TradingState, args: ParsedArgs, io: CliIo): Promise<number> {
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument '${args.positionals[0]}'; ${command} takes only flags: --url, --stage, --reason`);
  const urlText = String(args.values['url'] ?? DEFAULT_URL);
  let base: URL;
  try {
    base = new URL(urlText);
  } catch {
    throw new UsageError(`--url must be the http:// address of the pipeline, e.g. ${DEFAULT_URL}; got '${urlText}'`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new UsageError(`--url must be an http:// or https:// address, e.g. ${DEFAULT_URL}; got '${urlText}'`);
  const stage = String(args.values['stage'] ?? DEFAULT_STAGE);
  if (!/^[^/\s]+$/.test(stage)) throw new UsageError(`--stage must be a stage id (no '/' or spaces); got '${stage}'`);
  const given = args.values['reason'];
  if (given !== undefined && (typeof given !== 'string' || given.trim() === '')) throw new UsageError(`--reason needs a text, e.g. --reason 'drawdown limit'`);
  const who = `tickflow ${command} by ${io.env['USER'] ?? io.env['USERNAME'] ?? 'an unknown user'}`;
  const reason = given === undefined ? who : `${who}: ${given}`;

  const endpoint = `${base.origin}${base.pathname.replace(/\/+$/, '')}/control/${encodeURIComponent(stage)}/state`;
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ trading_state: tradingState, reason }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    io.err(`cannot reach the pipeline at ${base.origin}: ${describeFetchError(error)}; is it running (tickflow run …), and is --url its HTTP port (run --port, default 9464)?\n`);
    return 1;
  }
  const text = await response.text();
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = undefined;
  }
  if (!response.ok) {
    const message = (answer as { error?: unknown } | undefined)?.error;
    io.err(`${endpoint}: HTTP ${response.status}: ${typeof message === 'string' ? message : text.trim() || response.statusText}\n`);
    return 1;
  }
  if (typeof answer !== 'object' || answer === null) {
    io.err(`${endpoint}: expected a JSON answer, got: ${text.slice(0, 200)}\n`);
    return 1;
  }
  const a = answer as StateAnswer;
  const cancels = a.cancels_sent === undefined || a.cancels_sent === 0 ? '' : `; ${a.cancels_sent} working order${a.cancels_sent === 1 ? '' : 's'} canceled`;
  io.out(`${a.stage ?? stage}: ${a.previous_trading_state ?? '?'} -> ${a.trading_state ?? '?'} (${a.change_id ?? 'no change id'})${cancels}; reason: ${a.reason ?? reason}\n`);
  return 0;
}

/** `tickflow halt`: the kill switch. The risk stage denies every new order and cancels the working ones; cancels still pass. */
export const haltCommand: CliCommand = {
  name: 'halt',
  summary: 'Kill switch: set the risk stage of a running pipeline to HALTED (new orders denied, working orders canceled).',
  usage: '[--url http://127.0.0.1:9464] [--stage risk] [--reason TEXT]',
  options: OPTIONS,
  optionHelp: optionHelp('halt'),
  run: (args, io) => postTradingState('halt', 'HALTED', args, io),
};
