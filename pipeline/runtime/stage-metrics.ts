import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { StageError } from '../../errors/errors.js';
import type { MetricDeclarations, MetricType } from './metric-declaration.js';
import { metricName } from './metric-name.js';

/** Label values of one series, besides the `stage` label the stage binds. */
export type MetricLabels = Readonly<Record<string, string>>;
export interface CounterSeries {
  inc(value?: number): void;
}
export interface GaugeSeries {
  set(value: number): void;
  inc(value?: number): void;
  dec(value?: number): void;
}
export interface HistogramSeries {
  observe(value: number): void;
}
/**
 * A component's own metric bound to its stage: used directly, the series of
 * the stage (a metric declared without labels); `labels({ front })`, the
 * series of those label values.
 */
export type StageMetric<Series> = Series & { labels(labels: MetricLabels): Series };

/** The methods of a series of each type, which an unlabelled write to a labelled metric would call. */
const SERIES_METHODS: Readonly<Record<MetricType, readonly string[]>> = {
  counter: ['inc'],
  gauge: ['set', 'inc', 'dec'],
  histogram: ['observe'],
};

/**
 * A counter series that adds up in a plain number and hands the sum to
 * Prometheus when the metric is collected (a scrape, `registry.metrics()`,
 * `metric.get()`): prom-client hashes and checks a series' labels on every
 * `inc`, about 0.9 µs, which a counter counted per tick paid per tick.
 */
class BufferedCount implements CounterSeries {
  private pending = 0;
  /** Incremented since the last flush, if only by 0: `inc(0)` shows a series at 0, as in prom-client. */
  private touched = false;

  constructor(private readonly series: CounterSeries) {}

  inc(value = 1): void {
    // prom-client's own checks, at the call that breaks them rather than at the next scrape.
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${String(value)}`);
    if (value < 0) throw new Error('It is not possible to decrease a counter');
    this.pending += value;
    this.touched = true;
  }

  flush(): void {
    if (!this.touched) return;
    const value = this.pending;
    this.pending = 0;
    this.touched = false;
    this.series.inc(value);
  }
}

/** The buffered series of each counter created here, by stage and label values; flushed by the counter's `collect`. */
const bufferedSeries = new WeakMap<object, Map<string, BufferedCount>>();

/** What a stage's definition declares about its figures, and the registry its own metrics go to. */
export interface StageDeclarations {
  readonly registry: Registry;
  readonly metrics?: MetricDeclarations;
  /** Drop reasons with what each means. */
  readonly drops?: Readonly<Record<string, string>>;
}

/**
 * The counters of one stage. Plain numbers on the hot path; the Prometheus
 * registry reads them when scraped, so counting costs an increment.
 *
 * Built from its definition's declarations (in a pipeline, or a standalone
 * context given the component), it refuses what the definition does not
 * declare: a drop reason (besides `invalid`, records its input edges
 * rejected) or a metric. Its own metrics are named
 * `tickflow_<component>_<name>` and labelled with the stage.
 */
export class StageMetrics {
  /** The drop reason the runner counts for every stage: a record one of its input edges rejected. */
  static readonly EDGE_REJECTED = 'invalid';

  recordsIn = 0;
  recordsOut = 0;
  errors = 0;
  readonly droppedByReason = new Map<string, number>();
  /** Processing time of the stage per input record, in seconds, counted into buckets. */
  readonly latencyBuckets: number[];
  latencyCount = 0;
  latencySum = 0;
  private readonly allowedDrops: ReadonlySet<string> | undefined;

  constructor(
    readonly stage: string,
    readonly component: string,
    readonly bucketBounds: readonly number[],
    private readonly declarations?: StageDeclarations,
  ) {
    this.latencyBuckets = new Array<number>(bucketBounds.length).fill(0);
    this.allowedDrops =
      declarations === undefined ? undefined : new Set([StageMetrics.EDGE_REJECTED, ...Object.keys(declarations.drops ?? {})]);
  }

  /** Counts records the stage dropped, by a short reason such as `invalid` or `stale`. */
  dropped(reason: string, count = 1): void {
    if (this.allowedDrops !== undefined && !this.allowedDrops.has(reason)) {
      throw this.undeclared(`drop reason '${reason}'`, [...this.allowedDrops]);
    }
    this.droppedByReason.set(reason, (this.droppedByReason.get(reason) ?? 0) + count);
  }

  get droppedTotal(): number {
    let total = 0;
    for (const n of this.droppedByReason.values()) total += n;
    return total;
  }

  /** Counts a processing time into the histogram, `weight` times: a sampled record stands for the records not timed. */
  observeLatency(seconds: number, weight = 1): void {
    this.latencyCount += weight;
    this.latencySum += seconds * weight;
    const bounds = this.bucketBounds;
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= (bounds[i] as number)) {
        this.latencyBuckets[i] = (this.latencyBuckets[i] as number) + weight;
        return;
      }
    }
  }

  /** The declared counter `name` of this stage. */
  counter(name: string): StageMetric<CounterSeries> {
    return this.bind(name, 'counter', (series) => series.inc(0));
  }

  /** The declared gauge `name` of this stage. */
  gauge(name: string): StageMetric<GaugeSeries> {
    return this.bind(name, 'gauge', (series) => series.set(0));
  }

  /** The declared histogram `name` of this stage. */
  histogram(name: string): StageMetric<HistogramSeries> {
    return this.bind(name, 'histogram', () => undefined);
  }

  private bind<Series extends object>(name: string, type: MetricType, zero: (series: Series) => void): StageMetric<Series> {
    const declaration = this.declarations?.metrics?.[name];
    if (this.declarations === undefined || declaration?.type !== type) {
      const declared = Object.entries(this.declarations?.metrics ?? {}).map(([n, d]) => `${n} (${d.type})`);
      throw this.undeclared(`${type} '${name}'`, declared);
    }
    const { registry } = this.declarations;
    const fullName = metricName(this.component, name);
    const labelNames = ['stage', ...(declaration.labels ?? [])];
    const options = { name: fullName, help: declaration.help, labelNames, registers: [registry] };
    // Several stages of one component share the metric, told apart by their stage label.
    const shared =
      registry.getSingleMetric(fullName) ??
      (type === 'counter'
        ? StageMetrics.bufferedCounter(options)
        : type === 'gauge'
          ? new Gauge(options)
          : new Histogram({ ...options, buckets: [...(declaration.buckets ?? [])] }));
    const labelled = shared as unknown as { labels(labels: MetricLabels): Series };
    const stage = this.stage;
    const buffered = bufferedSeries.get(shared);
    const direct = (values: MetricLabels): Series => labelled.labels({ stage, ...values });
    const labels =
      buffered === undefined
        ? direct
        : (values: MetricLabels): Series => {
            // One buffered series per label set, however often it is asked for; the key is built only here, not per inc.
            const key = JSON.stringify([stage, values]);
            let series = buffered.get(key);
            if (series === undefined) buffered.set(key, (series = new BufferedCount(direct(values) as unknown as CounterSeries)));
            return series as unknown as Series;
          };
    if ((declaration.labels ?? []).length > 0) {
      const refuse = (): never => {
        throw new StageError(
          `stage '${stage}' (${this.component}): metric '${name}' is labelled by ${declaration.labels?.join(', ')}; write it with labels({ … })`,
          { context: { stage } },
        );
      };
      return { ...(Object.fromEntries(SERIES_METHODS[type].map((method) => [method, refuse])) as Series), labels };
    }
    // Zeroed directly, so that the series shows 0 before the first scrape flushes anything.
    zero(direct({}));
    const own = labels({});
    if (own instanceof BufferedCount) return { inc: (value?: number) => own.inc(value), labels } as unknown as StageMetric<Series>;
    return { ...own, labels };
  }

  /** A counter whose series buffer their increments until it is collected. */
  private static bufferedCounter(options: ConstructorParameters<typeof Counter>[0]): Counter {
    const series = new Map<string, BufferedCount>();
    const counter = new Counter({
      ...options,
      collect() {
        for (const s of series.values()) s.flush();
      },
    });
    bufferedSeries.set(counter, series);
    return counter;
  }

  private undeclared(what: string, declared: readonly string[]): StageError {
    return new StageError(
      `stage '${this.stage}' (${this.component}): uses ${what}, which its definition does not declare; declared: ${declared.join(', ') || 'none'}`,
      {
        context: { stage: this.stage },
      },
    );
  }
}
