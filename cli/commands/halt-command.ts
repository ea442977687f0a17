import { request as httpRequest } from 'node:http';
import type { TradingState } from '../../schemas/generated.js';
import { ConfigError, UsageError } from '../../errors/errors.js';
import type { CliCommand, CliIo, ParsedArgs } from '../cli-command.js';
import { readSecretFile } from '../load-control-access.js';

const DEFAULT_URL = 'http://127.0.0.1:9464';
const DEFAULT_STAGE = 'risk';
const TIMEOUT_MS = 5000;
/** The environment variable holding the control token `halt` and `resume` send. */
export const CONTROL_TOKEN_ENV = 'TICKFLOW_CONTROL_TOKEN';
/** Longest answer read: the risk stage answers with its state and limits. */
const MAX_ANSWER_BYTES = 256 * 1024;

/** The options `halt` and `resume` share. */
const OPTIONS = {
  url: { type: 'string', short: 'u', default: DEFAULT_URL },
  stage: { type: 'string', default: DEFAULT_STAGE },
  reason: { type: 'string', short: 'r' },
  'token-file': { type: 'string' },
} as const;

function optionHelp(verb: string): Readonly<Record<string, string>> {
  return {
    url: `HTTP address of the running pipeline (tickflow run --port; default ${DEFAULT_URL})`,
    stage: `Id of the risk stage in the pipeline (default ${DEFAULT_STAGE})`,
    reason: `Why you ${verb}; recorded in the stage's RiskControlChanged (audited) beside the principal of your control token`,
    'token-file': `File holding your control token (the token, or PRINCIPAL:TOKEN); else ${CONTROL_TOKEN_ENV}`,
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
  readonly principal?: string;
}

/** An HTTP answer as `halt` reads it. */
interface Answer {
  readonly status: number;
  readonly text: string;
}

/**
 * POSTs `body` with node:http, not fetch: fetch refuses ports on the
 * browsers' "bad ports" list (6669 and others) that `tickflow run --port`
 * may well use.
 */
function post(url: URL, body: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
        timeout: TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${TIMEOUT_MS / 1000} s`), { name: 'TimeoutError' })));
    req.on('error', reject);
    req.end(body);
  });
}

/** The control token to send: from --token-file (its first entry; a PRINCIPAL: prefix is dropped), else the environment. */
function controlToken(args: ParsedArgs, io: CliIo): string | undefined {
  const file = args.values['token-file'];
  if (typeof file === 'string') {
    const entry = readSecretFile(file, 'control token file', (m) => io.err(`warning: ${m}\n`))
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '' && !l.startsWith('#'));
    if (entry === undefined) throw new ConfigError(`control token file ${file}`, ['holds no token']);
    return entry.includes(':') ? entry.slice(entry.indexOf(':') + 1) : entry;
  }
  const token = io.env[CONTROL_TOKEN_ENV]?.trim();
  return token === undefined || token === '' ? undefined : token;
}

function describeRequestError(error: unknown): string {
  const { name, code, message } = error as NodeJS.ErrnoException;
  if (name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  if (code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)';
  return code === undefined ? String(message ?? error) : `${message} (${code})`;
}

/**
 * Sets the trading state of a running pipeline's risk stage over its HTTP
 * port (`POST {url}/control/{stage}/state`) and reports the answer; `halt`
 * and `resume` are this with HALTED and ACTIVE. Returns the exit code: 0 when
 * the stage applied the change, 1 when the pipeline is unreachable or the
 * stage refused; a bad flag is a `UsageError` (exit 2).
 */
export async function postTradingState(command: string, tradingState: TradingState, args: ParsedArgs, io: CliIo): Promise<number> {
  if (args.positionals.length > 0)
    throw new UsageError(
      `unexpected argument '${args.positionals[0]}'; ${command} takes only flags: --url, --stage, --reason, --token-file`,
    );
  const urlText = String(args.values['url'] ?? DEFAULT_URL);
  let base: URL;
  try {
    base = new URL(urlText);
  } catch {
    throw new UsageError(`--url must be the http:// address of the pipeline, e.g. ${DEFAULT_URL}; got '${urlText}'`);
  }
  if (base.protocol !== 'http:')
    throw new UsageError(`--url must be the http:// address of the pipeline's HTTP port, e.g. ${DEFAULT_URL}; got '${urlText}'`);
  const stage = String(args.values['stage'] ?? DEFAULT_STAGE);
  if (!/^[^/\s]+$/.test(stage)) throw new UsageError(`--stage must be a stage id (no '/' or spaces); got '${stage}'`);
  const given = args.values['reason'];
  if (given !== undefined && (typeof given !== 'string' || given.trim() === ''))
    throw new UsageError(`--reason needs a text, e.g. --reason 'drawdown limit'`);
  const reason = given === undefined ? `tickflow ${command}` : given;
  const token = controlToken(args, io);

  const endpoint = new URL(`${base.pathname.replace(/\/+$/, '')}/control/${encodeURIComponent(stage)}/state`, base.origin);
  let response: Answer;
  try {
    response = await post(
      endpoint,
      JSON.stringify({ trading_state: tradingState, reason }),
      token === undefined ? {} : { authorization: `Bearer ${token}` },
    );
  } catch (error) {
    io.err(
      `cannot reach the pipeline at ${base.origin}: ${describeRequestError(error)}; is it running (tickflow run …), and is --url its HTTP port (run --port, default 9464)?\n`,
    );
    return 1;
  }
  let answer: unknown;
  try {
    answer = JSON.parse(response.text);
  } catch {
    answer = undefined;
  }
  if (response.status < 200 || response.status >= 300) {
    const message = (answer as { error?: unknown } | undefined)?.error;
    const hint = response.status === 401 && token === undefined ? `; set ${CONTROL_TOKEN_ENV} or pass --token-file` : '';
    io.err(
      `${endpoint.href}: HTTP ${response.status}: ${typeof message === 'string' ? message : response.text.trim().slice(0, 200)}${hint}\n`,
    );
    return 1;
  }
  if (typeof answer !== 'object' || answer === null) {
    io.err(`${endpoint.href}: expected a JSON answer, got: ${response.text.slice(0, 200)}\n`);
    return 1;
  }
  const a = answer as StateAnswer;
  const cancels =
    a.cancels_sent === undefined || a.cancels_sent === 0
      ? ''
      : `; ${a.cancels_sent} working order${a.cancels_sent === 1 ? '' : 's'} canceled`;
  io.out(
    `${a.stage ?? stage}: ${a.previous_trading_state ?? '?'} -> ${a.trading_state ?? '?'} (${a.change_id ?? 'no change id'}) by ${a.principal ?? '?'}${cancels}; reason: ${a.reason ?? reason}\n`,
  );
  return 0;
}

/** `tickflow halt`: the kill switch. The risk stage denies every new order and cancels the working ones; cancels still pass. */
export const haltCommand: CliCommand = {
  name: 'halt',
  summary: 'Kill switch: set the risk stage of a running pipeline to HALTED (new orders denied, working orders canceled).',
  usage: '[--url http://127.0.0.1:9464] [--stage risk] [--reason TEXT] [--token-file FILE]',
  options: OPTIONS,
  optionHelp: optionHelp('halt'),
  run: (args, io) => postTradingState('halt', 'HALTED', args, io),
};
