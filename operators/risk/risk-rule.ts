import type { DenialReason, OrderCommand, OrderCommandType } from '../../schemas/generated.js';
import type { RiskLimits } from './risk-limits.js';
import type { RiskState } from './risk-state.js';

/** Why a rule denies a command: the typed code and a message naming the rule, the limit and the value. */
export interface RiskDenial {
  readonly code: DenialReason;
  readonly message: string;
}

/** The limit fields that switch a rule on and off. */
export type RiskSwitch = Extract<keyof RiskLimits, `rule_${string}`>;

/**
 * One pre-trade check. `check` only reads the state; it returns `undefined`
 * when the command passes. Rules run only on the command types they list and
 * only while their switch is on.
 */
export interface RiskRule {
  /** Kebab-case name, the first word of every denial message. */
  readonly name: string;
  /** The limit fields the rule reads. */
  readonly configKeys: readonly (keyof RiskLimits)[];
  /** The field that switches the rule on and off. */
  readonly switchKey: RiskSwitch;
  /** The commands it checks. */
  readonly appliesTo: readonly OrderCommandType[];
  check(command: OrderCommand, state: RiskState): RiskDenial | undefined;
}
