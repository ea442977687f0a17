/**
 * Every error tickflow throws, in one place.
 *
 * Each class sets `name`, says whether retrying can help (`retriable`), keeps
 * the underlying `cause`, and carries the context a reader needs to act on it
 * (stage, feed, topic, instrument, field). Programmer errors are never
 * retriable.
 */

/** Context that locates an error in a pipeline. */
export interface ErrorContext {
  readonly pipeline?: string;
  readonly stage?: string;
  readonly component?: string;
  readonly edge?: string;
  readonly feed?: string;
  readonly topic?: string;
  readonly instrument?: string;
  readonly field?: string;
  readonly path?: string;
  /** A machine-readable reason from below tickflow, e.g. the native addon's `CTP_LIBRARY_NOT_FOUND`. */
  readonly code?: string;
}

export interface TickflowErrorOptions {
  readonly cause?: unknown;
  readonly retriable?: boolean;
  readonly context?: ErrorContext;
}

/** Base of every tickflow error. */
export class TickflowError extends Error {
  readonly retriable: boolean;
  readonly context: ErrorContext;

  constructor(message: string, options: TickflowErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TickflowError';
    this.retriable = options.retriable ?? false;
    this.context = options.context ?? {};
  }
}

/** A component's config, a pipeline definition file or a CLI flag is invalid. Lists every problem. */
export class ConfigError extends TickflowError {
  readonly problems: readonly string[];

  constructor(subject: string, problems: readonly string[], options: TickflowErrorOptions = {}) {
    super(
      problems.length === 1
        ? `${subject}: ${problems[0]}`
        : `${subject}: ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      options,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** An edge's writer schema cannot be read with the next stage's reader schema. */
export class SchemaMismatchError extends TickflowError {
  constructor(message: string, options: TickflowErrorOptions = {}) {
    super(message, options);
    this.name = 'SchemaMismatchError';
  }
}

/** The shape of a pipeline graph is invalid: a dangling stage, an illegal cycle, an unknown reference. */
export class GraphError extends TickflowError {
  constructor(message: string, options: TickflowErrorOptions = {}) {
    super(message, options);
    this.name = 'GraphError';
  }
}

/** A record on an edge does not match the edge's schema. */
export class RecordValidationError extends TickflowError {
  constructor(message: string, options: TickflowErrorOptions = {}) {
    super(message, options);
    this.name = 'RecordValidationError';
  }
}

/** A stage failed while the pipeline ran. */
export class StageError extends TickflowError {
  constructor(message: string, options: TickflowErrorOptions = {}) {
    super(message, options);
    this.name = 'StageError';
  }
}

/** An audit trail is damaged in a way a crash cannot explain (altered, missing or inserted records): tampering until shown otherwise. */
export class AuditIntegrityError extends TickflowError {
  constructor(message: string, options: TickflowErrorOptions = {}) {
    super(message, options);
    this.name = 'AuditIntegrityError';
  }
}

/** An exclusive resource (a directory's writer lock, a port) is held by another process or stage. Not retriable: the other holder must stop first. */
export class ResourceBusyError extends TickflowError {
  /** The holder's pid, when it could be read. */
  readonly holderPid: number | undefined;

  constructor(message: string, options: TickflowErrorOptions & { holderPid?: number } = {}) {
    super(message, options);
    this.name = 'ResourceBusyError';
    this.holderPid = options.holderPid;
  }
}

/** A feed skipped sequence numbers. */
export class FeedGapError extends TickflowError {
  constructor(message: string, options: TickflowErrorOptions = {}) {
    super(message, { retriable: true, ...options });
    this.name = 'FeedGapError';
  }
}

/** The native CTP addon or the vendor library reported an error. */
export class NativeAddonError extends TickflowError {
  readonly errorId: number | undefined;

  constructor(message: string, options: TickflowErrorOptions & { errorId?: number } = {}) {
    super(message, options);
    this.name = 'NativeAddonError';
    this.errorId = options.errorId;
  }
}

/** An order event does not apply to the order's current state. */
export class InvalidStateTransitionError extends TickflowError {
  constructor(message: string, options: TickflowErrorOptions = {}) {
    super(message, options);
    this.name = 'InvalidStateTransitionError';
  }
}

/** The command line was used wrongly; the message names the flag, the value and the valid choices. */
export class UsageError extends TickflowError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A schema registry could not be reached, or answered with an error: `status` is the HTTP status (undefined when
 * nothing answered), `errorCode` the registry's own code (Confluent's 40401 "subject not found", 409 incompatible…).
 */
export class SchemaRegistryError extends TickflowError {
  readonly status: number | undefined;
  readonly errorCode: number | undefined;

  constructor(message: string, options: TickflowErrorOptions & { status?: number; errorCode?: number } = {}) {
    super(message, options);
    this.name = 'SchemaRegistryError';
    this.status = options.status;
    this.errorCode = options.errorCode;
  }
}
