import { validateConfig } from '../../pipeline/config/validate-config.js';
import { ConfigError } from '../../errors/errors.js';
import { TradingStateSymbols, type TradingState } from '../../schemas/generated.js';
import { riskLimitSpec, type RiskLimits } from './risk-limits.js';

/** A validated run-time change of the risk stage: its trading state, or some of its limits. */
export type RiskControlRequest = (
  { readonly control: 'state'; readonly tradingState: TradingState } | { readonly control: 'limits'; readonly limits: Partial<RiskLimits> }
) & {
  /** Why, as the caller gave it, cut to {@link MAX_REASON_CHARS}. */
  readonly reason: string;
  /** Who asked, as the control endpoint authenticated them; never text from the body. */
  readonly principal: string;
};

/** The run-time controls of the risk stage. */
export type RiskControlName = RiskControlRequest['control'];

const NO_REASON = 'no reason given';
/** Longest reason kept: it is audited with every change. */
export const MAX_REASON_CHARS = 200;

/**
 * Validates the JSON body of a risk control sent by `principal` (as the
 * control endpoint authenticated them) and reports every problem at once: `state` takes `{ trading_state, reason? }`, `limits` takes any of the
 * limit fields (`riskLimitSpec`) and `reason?`. Unknown keys and bad values
 * are problems; so is a `limits` body with no limit in it.
 *
 * @example
 * ```ts
 * const request = parseRiskControl('control risk/state', 'state', { trading_state: 'HALTED', reason: 'drawdown' }, 'ops');
 * console.log(JSON.stringify(request));
 * // Logs: {"control":"state","tradingState":"HALTED","reason":"drawdown","principal":"ops"}
 * ```
 *
 * @throws {ConfigError} Naming `subject` and listing every problem.
 */
export function parseRiskControl(subject: string, name: RiskControlName, body: unknown, principal: string): RiskControlRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ConfigError(subject, [`the body must be a JSON object, got ${JSON.stringify(body)?.slice(0, 80)}`]);
  }
  const { reason, ...rest } = body as Record<string, unknown>;
  const problems: string[] = [];
  if (reason !== undefined && typeof reason !== 'string')
    problems.push(`'reason' must be a string, got ${JSON.stringify(reason)?.slice(0, 80)}`);
  const why = typeof reason === 'string' && reason.trim() !== '' ? reason.slice(0, MAX_REASON_CHARS) : NO_REASON;
  if (name === 'state') {
    const { trading_state: tradingState, ...unknown } = rest;
    for (const key of Object.keys(unknown)) problems.push(`unknown field '${key}'; known fields: trading_state, reason`);
    if (tradingState === undefined) problems.push(`missing field 'trading_state' (one of ${TradingStateSymbols.join(', ')})`);
    else if (!TradingStateSymbols.includes(tradingState as TradingState))
      problems.push(`'trading_state' must be one of ${TradingStateSymbols.join(', ')}, got ${JSON.stringify(tradingState)?.slice(0, 80)}`);
    if (problems.length > 0) throw new ConfigError(subject, problems);
    return { control: 'state', tradingState: tradingState as TradingState, reason: why, principal };
  }
  const given = Object.keys(rest);
  if (given.length === 0) problems.push(`no limit given; limit fields: ${Object.keys(riskLimitSpec).join(', ')}`);
  let checked: RiskLimits | undefined;
  try {
    // Every limit has a default, so only the given fields can be wrong: unknown keys and bad values.
    checked = validateConfig(subject, riskLimitSpec, rest);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0 || checked === undefined) throw new ConfigError(subject, problems);
  const limits: Partial<Record<keyof RiskLimits, unknown>> = {};
  for (const key of given) limits[key as keyof RiskLimits] = checked[key as keyof RiskLimits];
  return { control: 'limits', limits: limits as Partial<RiskLimits>, reason: why, principal };
}
