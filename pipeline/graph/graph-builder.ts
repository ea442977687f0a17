import type { Observable, OperatorFunction } from 'rxjs';
import type { RecordTypes } from '../../schemas/generated.js';
import type {
  AnyComponentDefinition,
  InputPorts,
  OperatorDefinition,
  RecordOf,
  SchemaSlot,
  SideOutputs,
  SinkDefinition,
  SourceDefinition,
  StageIn,
} from '../components/component-definition.js';
import type { ConfigInput, ConfigOf, ConfigSpec } from '../config/config-spec.js';
import { sinkStage } from '../runtime/sink-stage.js';
import { validateComponentConfig } from '../components/validate-component-config.js';
import { ConfigError, GraphError } from '../../errors/errors.js';
import type { SchemaName } from '../schemas/schema-catalog.js';
import { DEAD_LETTERS, DEFAULT_PORT, type Stage, type StageInput, type StageRun } from './pipeline-graph.js';
import type { StageStream, Stream } from './stream.js';

/** A stream of schema `I` whose records are of type `R` (a reader may accept a wider type than the writer's). */
type StreamOf<I extends SchemaName, R> = { readonly schema: I; readonly record?: R; input(): StageInput };
type OneOrMany<T> = T | readonly T[];
/** What feeds a stage: streams for a stage that reads one schema, streams per port for a ported one. */
type InputsOf<In extends StageIn, I extends SchemaName> = In extends SchemaSlot
  ? OneOrMany<StreamOf<I, RecordOf<In>>>
  : In extends InputPorts
    ? { readonly [K in keyof In]?: OneOrMany<StreamOf<SchemaName, RecordOf<In[K]>>> }
    : never;

/** How `g.apply` names the schema of a stage whose operator changes the record type. */
export interface ApplyOptions<O extends SchemaName> {
  /** The schema of the records the operator writes, e.g. `'Bar'`. */
  readonly out: O;
}

/** A stream whose producer is connected later: the only way to close a cycle. */
export interface FeedbackStream<S extends SchemaName> extends Stream<S> {
  connect(from: Stream<S>): void;
}

/** A stage while the graph is built: an `any` schema is resolved from its inputs in finish(). */
type PendingStage = (Stage extends infer T ? (T extends unknown ? Omit<T, 'in' | 'out'> : never) : never) & {
  in?: Record<string, SchemaSlot>;
  out?: SchemaSlot;
};

const ID_PATTERN = /^[a-z][a-z0-9-]*$/;

function maskSecrets(spec: ConfigSpec, config: Record<string, unknown>): Record<string, unknown> {
  const masked: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) masked[k] = spec[k]?.secret === true && v !== '' ? '[redacted]' : v;
  return masked;
}

const isPorted = (input: StageIn): input is InputPorts => typeof input === 'object';
const list = <T>(value: OneOrMany<T> | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? [...(value as readonly T[])] : [value as T];

/**
 * Composes a pipeline in code. Each call adds a stage and returns a typed
 * handle on its output; handles are passed to the stages that read them.
 *
 * @example
 * ```ts
 * import { filter } from 'rxjs';
 * const rbToFile = pipeline('rb-to-file', 'Sim rebar ticks to NDJSON', (g) => {
 *   const ticks = g.source('market', simSource, { seed: 7 });
 *   const rb = g.apply('rb-only', ticks, filter((t) => t.instrument_id.startsWith('SHFE.rb')));
 *   g.sink('out', ndjsonFileSink, { path: 'out/rb.ndjson' }, rb);
 * });
 * console.log(rbToFile.build().stages.map((s) => s.id).join(' '));
 * // Logs: market rb-only out
 * ```
 */
export class GraphBuilder {
  private readonly stages: PendingStage[] = [];
  private readonly usedOverrides = new Set<string>();
  private readonly problems: string[] = [];
  private readonly feedbacks: { schema: SchemaName; from?: StageInput }[] = [];

  constructor(
    private readonly pipeline: string,
    private readonly overrides: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {},
    /** The environment the pipeline is built in (secrets, optional stages). */
    readonly env: NodeJS.ProcessEnv = {},
  ) {}

  /** Whether the run's config (`--config`, `--set`) sets anything for stage `id`: lets a pipeline add an optional stage only when asked to. */
  isConfigured(id: string): boolean {
    return this.overrides[id] !== undefined;
  }

  source<const Out extends SchemaName, const S extends ConfigSpec, const Sides extends SideOutputs>(
    id: string,
    definition: SourceDefinition<Out, S, Sides>,
    config: ConfigInput<S> = {},
  ): StageStream<Out, Sides> {
    const validated = this.configure(id, definition, config);
    // A source whose config chooses its schema (kafka) carries that one; an invalid config (validated as {}) keeps the declared one.
    const chosen: unknown = definition.outOf?.(validated as ConfigOf<S>);
    const out = typeof chosen === 'string' ? (chosen as SchemaName) : definition.out;
    this.add({
      kind: 'source',
      id,
      component: definition.name,
      out,
      sideOutputs: definition.sideOutputs ?? {},
      boundary: definition.boundary ?? false,
      declarations: definition,
      config: maskSecrets(definition.spec, validated),
      inputs: [],
      create: (ctx) => definition.create(validated as ConfigOf<S>, ctx),
    });
    return this.stream(id, out as Out, definition.sideOutputs);
  }

  operator<
    const In extends StageIn,
    const Out extends SchemaSlot,
    const S extends ConfigSpec,
    const Sides extends SideOutputs,
    const I extends SchemaName,
  >(
    id: string,
    definition: OperatorDefinition<In, Out, S, Sides>,
    config: ConfigInput<S>,
    inputs: InputsOf<In, I>,
  ): StageStream<Out extends SchemaName ? Out : I, Sides> {
    const validated = this.configure(id, definition, config);
    const wired = this.wire(id, definition.in, inputs);
    this.add({
      kind: 'operator',
      id,
      component: definition.name,
      in: wired.ports,
      out: definition.out,
      sideOutputs: definition.sideOutputs ?? {},
      boundary: definition.boundary ?? false,
      declarations: definition,
      config: maskSecrets(definition.spec, validated),
      inputs: wired.inputs,
      create: (ctx) => this.runOf(definition.in, definition.create(validated as ConfigOf<S>, ctx)),
    });
    const out = definition.out === 'any' ? wired.firstSchema : definition.out;
    return this.stream(id, out as Out extends SchemaName ? Out : I, definition.sideOutputs);
  }

  sink<const In extends StageIn, const S extends ConfigSpec, const I extends SchemaName>(
    id: string,
    definition: SinkDefinition<In, S>,
    config: ConfigInput<S>,
    inputs: InputsOf<In, I>,
  ): void {
    const validated = this.configure(id, definition, config);
    const wired = this.wire(id, definition.in, inputs);
    this.add({
      kind: 'sink',
      id,
      component: definition.name,
      in: wired.ports,
      boundary: definition.boundary ?? false,
      declarations: definition,
      config: maskSecrets(definition.spec, validated),
      inputs: wired.inputs,
      create: (ctx, settlement) =>
        sinkStage(
          definition.create(validated as ConfigOf<S>, ctx),
          (error) =>
            ctx.logger.error({ err: error }, `stage '${id}': could not close: ${error instanceof Error ? error.message : String(error)}`),
          settlement,
          id,
        ),
    });
  }

  /**
   * Adds a stage made of any RxJS operator. One that keeps the record type
   * writes its input's schema; one that changes it names the schema it
   * writes in `options.out`, so that every edge still carries a schema known
   * when the graph is built (and checked against the stages it feeds).
   *
   * @example
   * ```ts
   * import { filter, map } from 'rxjs';
   * const toSignal = (t: Tick): Signal => ({
   *   signal_id: `px-${t.sequence}`, strategy_id: StrategyId('px'), instrument_id: t.instrument_id, name: 'last_price', value: t.last_price ?? 0, ts_event: t.ts_event, ts_init: t.ts_recv, causation_id: null,
   * });
   * const graph = pipeline('rb-prices', 'Sim rebar prices as signals', (g) => {
   *   const ticks = g.source('market', simSource, { seed: 7 });
   *   const rb = g.apply('rb-only', ticks, filter((t) => t.instrument_id.startsWith('SHFE.rb')));
   *   const prices = g.apply('prices', rb, map(toSignal), { out: 'Signal' });
   *   g.sink('out', ndjsonFileSink, { path: 'out/prices.ndjson' }, prices);
   * }).build();
   * console.log(graph.stages.map((s) => (s.kind === 'sink' ? s.id : `${s.id}:${s.out}`)).join(' '));
   * // Logs: market:Tick rb-only:Tick prices:Signal out
   * ```
   */
  apply<const S extends SchemaName>(id: string, input: Stream<S>, operator: OperatorFunction<RecordTypes[S], RecordTypes[S]>): Stream<S>;
  apply<const S extends SchemaName, const O extends SchemaName>(
    id: string,
    input: Stream<S>,
    operator: OperatorFunction<RecordTypes[S], RecordTypes[O]>,
    options: ApplyOptions<O>,
  ): Stream<O>;
  apply(
    id: string,
    input: Stream<SchemaName>,
    operator: OperatorFunction<unknown, unknown>,
    options?: ApplyOptions<SchemaName>,
  ): Stream<SchemaName> {
    // Checked at run time too: JavaScript callers have no compiler to name the schema for them.
    const outSchema: unknown = options === undefined ? input.schema : options.out;
    if (typeof outSchema !== 'string' || outSchema === '') {
      throw new GraphError(
        `stage '${id}': apply's options.out must name the schema the operator writes, e.g. { out: 'Bar' }; got ${JSON.stringify(outSchema) ?? String(outSchema)}`,
        {
          context: { stage: id },
        },
      );
    }
    this.add({
      kind: 'operator',
      id,
      component: 'inline',
      in: { [DEFAULT_PORT]: input.schema },
      out: outSchema as SchemaName,
      sideOutputs: {},
      boundary: false,
      config: {},
      inputs: [input.input()],
      create: () => this.runOf(input.schema, operator),
    });
    return this.stream(id, outSchema as SchemaName);
  }

  /** Declares a feedback edge (e.g. order events back to a strategy); connect its producer later. */
  feedback<const S extends SchemaName>(schema: S): FeedbackStream<S> {
    const slot: { schema: SchemaName; from?: StageInput } = { schema };
    this.feedbacks.push(slot);
    return {
      schema,
      // Resolved when the graph is finished, after connect().
      input: () => ({
        get from() {
          return slot.from?.from ?? '';
        },
        get side() {
          return slot.from?.side;
        },
        feedback: true,
      }),
      connect: (from: Stream<S>) => {
        if (slot.from !== undefined) this.problems.push(`feedback stream of ${schema} is connected twice`);
        slot.from = from.input();
      },
    };
  }

  /** Records that failed validation on any edge, with the reason (schema `DeadLetter`). */
  deadLetters(): Stream<'DeadLetter'> {
    return this.stream(DEAD_LETTERS, 'DeadLetter');
  }

  /** The stages built so far; throws when a stage or override was invalid. */
  finish(): Stage[] {
    for (const f of this.feedbacks) if (f.from === undefined) this.problems.push(`feedback stream of ${f.schema} is never connected`);
    for (const id of Object.keys(this.overrides)) {
      if (!this.usedOverrides.has(id)) {
        this.problems.push(`config for unknown stage '${id}'; stages: ${this.stages.map((s) => s.id).join(', ')}`);
      }
    }
    const stages = this.resolveAnySchemas();
    if (this.problems.length > 0) throw new ConfigError(`pipeline '${this.pipeline}'`, this.problems);
    return stages;
  }

  /** Gives every `any` slot the schema its inputs carry, following the edges until nothing changes. */
  private resolveAnySchemas(): Stage[] {
    const stages = this.stages.map((s) => ({
      ...s,
      in: s.in === undefined ? undefined : { ...s.in },
      inputs: s.inputs.map((i) => ({ from: i.from, side: i.side, port: i.port, feedback: i.feedback })),
    }));
    const byId = new Map(stages.map((s) => [s.id, s]));
    const writerOf = (input: StageInput): SchemaSlot | undefined => {
      if (input.from === DEAD_LETTERS) return 'DeadLetter';
      const from = byId.get(input.from);
      if (from === undefined || from.kind === 'sink') return undefined;
      return input.side === undefined ? from.out : (from as { sideOutputs: Record<string, SchemaName> }).sideOutputs[input.side];
    };
    for (let changed = true, rounds = 0; changed && rounds <= stages.length; rounds++) {
      changed = false;
      for (const s of stages) {
        for (const [port, slot] of Object.entries(s.in ?? {})) {
          if (slot !== 'any') continue;
          const written = [...new Set(s.inputs.filter((i) => (i.port ?? DEFAULT_PORT) === port).map(writerOf))];
          const resolved = written[0];
          if (written.length !== 1 || resolved === undefined || resolved === 'any') continue;
          (s.in as Record<string, SchemaSlot>)[port] = resolved;
          if (s.out === 'any') s.out = resolved;
          changed = true;
        }
      }
    }
    for (const s of stages) {
      for (const [port, slot] of Object.entries(s.in ?? {})) {
        if (slot === 'any')
          this.problems.push(
            `stage '${s.id}' (${s.component}) takes any schema on '${port}', but its inputs there do not carry one single schema`,
          );
      }
    }
    return stages as unknown as Stage[];
  }

  /** The inputs of a stage and the schema of each of its ports. */
  private wire(
    id: string,
    definitionIn: StageIn,
    inputs: unknown,
  ): { inputs: StageInput[]; ports: Record<string, SchemaSlot>; firstSchema: SchemaName | undefined } {
    if (!isPorted(definitionIn)) {
      const streams = list(inputs as OneOrMany<StreamOf<SchemaName, unknown>>);
      return { inputs: streams.map((s) => s.input()), ports: { [DEFAULT_PORT]: definitionIn }, firstSchema: streams[0]?.schema };
    }
    const byPort = inputs as Record<string, OneOrMany<StreamOf<SchemaName, unknown>> | undefined>;
    const wired: StageInput[] = [];
    for (const [port, streams] of Object.entries(byPort)) {
      if (!(port in definitionIn))
        this.problems.push(`stage '${id}': unknown port '${port}'; ports: ${Object.keys(definitionIn).join(', ')}`);
      for (const s of list(streams)) {
        const ref = s.input();
        // A feedback stream's producer is known only after connect(): read it when the graph is finished.
        wired.push({
          get from() {
            return ref.from;
          },
          get side() {
            return ref.side;
          },
          port,
          feedback: ref.feedback,
        });
      }
    }
    return { inputs: wired, ports: { ...definitionIn }, firstSchema: undefined };
  }

  /** Adapts a component's stage function to the runner's: port streams in, records out. */
  private runOf(definitionIn: StageIn, fn: unknown): StageRun {
    if (isPorted(definitionIn)) return fn as StageRun;
    const operator = fn as OperatorFunction<unknown, unknown>;
    return (ports) => operator(ports[DEFAULT_PORT] as Observable<unknown>);
  }

  /** The stage's config checked by its definition (fields, then rules); problems are collected to report every one at build. */
  private configure(id: string, definition: AnyComponentDefinition, config: object): Record<string, unknown> {
    const override = this.overrides[id];
    if (override !== undefined) this.usedOverrides.add(id);
    const subject = `stage '${id}' (${definition.name})`;
    try {
      return validateComponentConfig(definition, { ...config, ...override }, this.env, subject) as Record<string, unknown>;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.problems.push(...error.problems.map((p) => `${subject}: ${p}`));
      return {};
    }
  }

  private add(stage: PendingStage): void {
    if (!ID_PATTERN.test(stage.id)) {
      throw new GraphError(`stage id '${stage.id}' must be lower-case letters, digits and dashes, starting with a letter`, {
        context: { stage: stage.id },
      });
    }
    if (stage.id === DEAD_LETTERS || this.stages.some((s) => s.id === stage.id)) {
      throw new GraphError(`stage id '${stage.id}' is used twice`, { context: { stage: stage.id } });
    }
    this.stages.push(stage);
  }

  private stream<S extends SchemaName, Sides extends SideOutputs>(id: string, schema: S, sides?: Sides): StageStream<S, Sides> {
    return {
      schema,
      input: () => ({ from: id, feedback: false }),
      side: <K extends keyof Sides & string>(name: K) => {
        const sideSchema = sides?.[name];
        if (sideSchema === undefined)
          throw new GraphError(
            `stage '${id}' has no side output '${name}'; side outputs: ${Object.keys(sides ?? {}).join(', ') || '(none)'}`,
          );
        return { schema: sideSchema as Sides[K], input: () => ({ from: id, side: name, feedback: false }) };
      },
    };
  }
}
