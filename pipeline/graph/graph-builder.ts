import type { OperatorFunction } from 'rxjs';
import type { RecordTypes } from '../../schemas/generated.js';
import type { OperatorDefinition, RecordOf, SchemaSlot, SinkDefinition, SourceDefinition } from '../components/component-definition.js';
import type { ConfigOf, ConfigSpec } from '../config/config-spec.js';
import { validateConfig } from '../config/validate-config.js';
import { ConfigError, GraphError } from '../errors.js';
import type { SchemaName } from '../schemas/schema-catalog.js';
import { DEAD_LETTERS, type Stage, type StageInput } from './pipeline-graph.js';
import type { Stream } from './stream.js';

/** A stream of schema `I` whose records are of type `R` (a reader may accept a wider type than the writer's). */
type StreamOf<I extends SchemaName, R> = { readonly schema: I; readonly record?: R; input(): StageInput };
type Inputs<I extends SchemaName, R> = StreamOf<I, R> | readonly StreamOf<I, R>[];

/** A stage while the graph is built: an `any` schema is resolved from its inputs in finish(). */
type PendingStage = Omit<Stage, 'in' | 'out'> & { readonly in?: SchemaSlot; readonly out?: SchemaSlot };

/** A stream whose producer is connected later: the only way to close a cycle. */
export interface FeedbackStream<S extends SchemaName> extends Stream<S> {
  connect(from: Stream<S>): void;
}

const ID_PATTERN = /^[a-z][a-z0-9-]*$/;

function maskSecrets(spec: ConfigSpec, config: Record<string, unknown>): Record<string, unknown> {
  const masked: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) masked[k] = spec[k]?.secret === true && v !== '' ? '[redacted]' : v;
  return masked;
}

/**
 * Composes a pipeline in code. Each call adds a stage and returns a typed
 * handle on its output; handles are passed to the stages that read them.
 *
 * @example
 * const ticks = g.source('market', simSource, { seed: 7 });
 * const rb = g.apply('rb-only', ticks, filter((t) => t.instrument_id.startsWith('SHFE.rb')));
 * g.sink('out', ndjsonFileSink, { path: 'out/rb.ndjson' }, rb);
 */
export class GraphBuilder {
  private readonly stages: PendingStage[] = [];
  private readonly usedOverrides = new Set<string>();
  private readonly problems: string[] = [];
  private readonly feedbacks: { schema: SchemaName; from?: string }[] = [];

  constructor(
    private readonly pipeline: string,
    private readonly overrides: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {},
    private readonly env: NodeJS.ProcessEnv = {},
  ) {}

  source<const Out extends SchemaName, const S extends ConfigSpec>(
    id: string,
    definition: SourceDefinition<Out, S>,
    config: Partial<ConfigOf<S>> = {},
  ): Stream<Out> {
    const validated = this.configure(id, definition.name, definition.spec, config);
    this.add({
      kind: 'source', id, component: definition.name, out: definition.out, boundary: definition.boundary ?? false,
      config: maskSecrets(definition.spec, validated), inputs: [],
      create: (ctx) => definition.create(validated as ConfigOf<S>, ctx),
    });
    return this.stream(id, definition.out);
  }

  operator<const In extends SchemaSlot, const Out extends SchemaSlot, const S extends ConfigSpec, const I extends SchemaName>(
    id: string,
    definition: OperatorDefinition<In, Out, S>,
    config: Partial<ConfigOf<S>>,
    inputs: Inputs<I, RecordOf<In>>,
  ): Stream<Out extends SchemaName ? Out : I> {
    const validated = this.configure(id, definition.name, definition.spec, config);
    this.add({
      kind: 'operator', id, component: definition.name, in: definition.in, out: definition.out, boundary: definition.boundary ?? false,
      config: maskSecrets(definition.spec, validated), inputs: this.inputsOf(inputs),
      create: (ctx) => definition.create(validated as ConfigOf<S>, ctx) as OperatorFunction<unknown, unknown>,
    });
    const first = (Array.isArray(inputs) ? inputs[0] : inputs) as StreamOf<I, unknown> | undefined;
    const out = definition.out === 'any' ? first?.schema : definition.out;
    return this.stream(id, out as Out extends SchemaName ? Out : I);
  }

  sink<const In extends SchemaSlot, const S extends ConfigSpec, const I extends SchemaName>(
    id: string,
    definition: SinkDefinition<In, S>,
    config: Partial<ConfigOf<S>>,
    inputs: Inputs<I, RecordOf<In>>,
  ): void {
    const validated = this.configure(id, definition.name, definition.spec, config);
    this.add({
      kind: 'sink', id, component: definition.name, in: definition.in, boundary: definition.boundary ?? false,
      config: maskSecrets(definition.spec, validated), inputs: this.inputsOf(inputs),
      create: (ctx) => definition.create(validated as ConfigOf<S>, ctx) as OperatorFunction<unknown, unknown>,
    });
  }

  /** Adds a stage made of any RxJS operator; its output schema is the input's unless `out` names another. */
  apply<const S extends SchemaName, const O extends SchemaName = S>(
    id: string,
    input: Stream<S>,
    operator: OperatorFunction<RecordTypes[S], RecordTypes[O]>,
    out?: O,
  ): Stream<O> {
    const outSchema = (out ?? input.schema) as O;
    this.add({
      kind: 'operator', id, component: 'inline', in: input.schema, out: outSchema, boundary: false, config: {},
      inputs: [input.input()], create: () => operator as OperatorFunction<unknown, unknown>,
    });
    return this.stream(id, outSchema);
  }

  /** Declares a feedback edge (e.g. order events back to a strategy); connect its producer later. */
  feedback<const S extends SchemaName>(schema: S): FeedbackStream<S> {
    const slot: { schema: SchemaName; from?: string } = { schema };
    this.feedbacks.push(slot);
    return {
      schema,
      input: () => {
        // Resolved when the graph is finished, after connect().
        return { get from() { return slot.from ?? ''; }, feedback: true };
      },
      connect: (from: Stream<S>) => {
        if (slot.from !== undefined) this.problems.push(`feedback stream of ${schema} is connected twice`);
        slot.from = from.input().from;
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

  /** Gives every `any` slot the schema its input carries, following the edges until nothing changes. */
  private resolveAnySchemas(): Stage[] {
    const stages = this.stages.map((s) => ({ ...s, inputs: s.inputs.map((i) => ({ from: i.from, feedback: i.feedback })) }));
    const outOf = new Map<string, SchemaSlot | undefined>([[DEAD_LETTERS, 'DeadLetter'], ...stages.map((s) => [s.id, s.out] as const)]);
    for (let changed = true, rounds = 0; changed && rounds <= stages.length; rounds++) {
      changed = false;
      for (const s of stages) {
        if (s.in !== 'any') continue;
        const written = [...new Set(s.inputs.map((i) => outOf.get(i.from)))];
        const resolved = written[0];
        if (written.length !== 1 || resolved === undefined || resolved === 'any') continue;
        s.in = resolved;
        if (s.out === 'any') {
          s.out = resolved;
          outOf.set(s.id, resolved);
        }
        changed = true;
      }
    }
    for (const s of stages) {
      if (s.in === 'any') this.problems.push(`stage '${s.id}' (${s.component}) takes any schema, but its inputs do not carry one single schema`);
    }
    return stages as Stage[];
  }

  private configure(id: string, component: string, spec: ConfigSpec, config: object): Record<string, unknown> {
    const override = this.overrides[id];
    if (override !== undefined) this.usedOverrides.add(id);
    try {
      return validateConfig(`stage '${id}' (${component})`, spec, { ...config, ...override }, this.env) as Record<string, unknown>;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.problems.push(...error.problems.map((p) => `stage '${id}' (${component}): ${p}`));
      return {};
    }
  }

  private add(stage: PendingStage): void {
    if (!ID_PATTERN.test(stage.id)) {
      throw new GraphError(`stage id '${stage.id}' must be lower-case letters, digits and dashes, starting with a letter`, { context: { stage: stage.id } });
    }
    if (stage.id === DEAD_LETTERS || this.stages.some((s) => s.id === stage.id)) {
      throw new GraphError(`stage id '${stage.id}' is used twice`, { context: { stage: stage.id } });
    }
    this.stages.push(stage);
  }

  private inputsOf<I extends SchemaName, R>(inputs: Inputs<I, R>): StageInput[] {
    return ((Array.isArray(inputs) ? inputs : [inputs]) as StreamOf<I, R>[]).map((s) => s.input());
  }

  private stream<S extends SchemaName>(id: string, schema: S): Stream<S> {
    return { schema, input: () => ({ from: id, feedback: false }) };
  }
}
