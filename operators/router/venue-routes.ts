import { ConfigError } from '../../errors/errors.js';

/** How one rule recognises the commands it routes. */
interface RouteRule {
  readonly kind: 'account' | 'prefix' | 'instrument';
  /** The account id, the instrument id prefix (without `*`) or the whole instrument id. */
  readonly value: string;
  readonly venue: string;
  /** The rule as configured, for messages. */
  readonly text: string;
}

const ACCOUNT_PREFIX = 'account:';

/**
 * The order router's routing rules: `PATTERN=VENUE`, tried in order, first
 * match wins, else the default venue.
 *
 * A PATTERN is `account:ACC` (the command's account is ACC), a prefix ending
 * in `*` (`SHFE.*` for an exchange, `SHFE.rb*` for a product), or a whole
 * instrument id (`SHFE.rb2501`).
 *
 * @example
 * ```ts
 * const routes = VenueRoutes.parse(['account:ACC2=paper2', 'SHFE.*=kafka'], 'paper');
 * console.log(routes.venueOf({ account_id: 'ACC1', instrument_id: 'SHFE.rb2501' }), routes.venueOf({ account_id: 'ACC1', instrument_id: 'DCE.m2501' }));
 * // Logs: kafka paper
 * ```
 */
export class VenueRoutes {
  private constructor(
    private readonly rules: readonly RouteRule[],
    readonly defaultVenue: string,
  ) {}

  /**
   * Parses rules as configured.
   *
   * @param rules `PATTERN=VENUE` strings, in priority order.
   * @param defaultVenue Where a command no rule matches goes.
   * @param subject Names the setting in the error, e.g. `stage 'router' (order-router)`.
   * @throws {ConfigError} Listing every malformed rule at once.
   */
  static parse(rules: readonly string[], defaultVenue: string, subject = 'routes'): VenueRoutes {
    const problems: string[] = [];
    const parsed: RouteRule[] = [];
    if (defaultVenue.trim() === '') problems.push(`the default venue must not be empty`);
    rules.forEach((text, index) => {
      const where = `rule ${index + 1} '${text}'`;
      const equals = text.lastIndexOf('=');
      if (equals < 0) {
        problems.push(`${where} is not PATTERN=VENUE`);
        return;
      }
      const pattern = text.slice(0, equals).trim();
      const venue = text.slice(equals + 1).trim();
      if (venue === '') problems.push(`${where} names no venue after '='`);
      if (pattern === '') {
        problems.push(`${where} has an empty pattern`);
        return;
      }
      let rule: RouteRule;
      if (pattern.startsWith(ACCOUNT_PREFIX)) {
        const account = pattern.slice(ACCOUNT_PREFIX.length).trim();
        if (account === '') problems.push(`${where} names no account after 'account:'`);
        rule = { kind: 'account', value: account, venue, text };
      } else if (pattern.endsWith('*')) {
        const prefix = pattern.slice(0, -1);
        if (prefix.includes('*')) problems.push(`${where}: '*' may only end a pattern`);
        rule = { kind: 'prefix', value: prefix, venue, text };
      } else {
        if (pattern.includes('*')) problems.push(`${where}: '*' may only end a pattern`);
        rule = { kind: 'instrument', value: pattern, venue, text };
      }
      parsed.push(rule);
    });
    if (problems.length > 0) throw new ConfigError(subject, problems, { context: { field: 'routes' } });
    return new VenueRoutes(parsed, defaultVenue);
  }

  /** The venue of a command: the first rule that matches it, else the default venue. */
  venueOf(command: { readonly account_id: string; readonly instrument_id: string }): string {
    for (const rule of this.rules) {
      switch (rule.kind) {
        case 'account':
          if (command.account_id === rule.value) return rule.venue;
          break;
        case 'prefix':
          if (command.instrument_id.startsWith(rule.value)) return rule.venue;
          break;
        case 'instrument':
          if (command.instrument_id === rule.value) return rule.venue;
          break;
      }
    }
    return this.defaultVenue;
  }
}
