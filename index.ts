// The library API of tickflow: compose pipelines in code, define components, run them.
export { pipeline, type BuildOptions, type PipelineDefinition, type StageOverrides } from './pipeline/graph/pipeline.js';
export { GraphBuilder, type ApplyOptions, type FeedbackStream } from './pipeline/graph/graph-builder.js';
export type { Stream } from './pipeline/graph/stream.js';
export type { PipelineGraph, Stage, StageInput } from './pipeline/graph/pipeline-graph.js';
export { loadPipelineFile } from './pipeline/graph/load-pipeline-file.js';
export { renderGraph, type GraphFormat } from './pipeline/graph/render-graph.js';
export { defineComponent } from './pipeline/components/define-component.js';
export type * from './pipeline/components/component-definition.js';
export { ComponentRegistry } from './pipeline/components/component-registry.js';
export { builtinComponents } from './cli/builtin-components.js';
export { field } from './pipeline/config/field.js';
export { metric, type MetricDeclaration, type MetricDeclarations, type MetricType } from './pipeline/runtime/metric-declaration.js';
export {
  StageMetrics,
  type StageMetric,
  type CounterSeries,
  type GaugeSeries,
  type HistogramSeries,
  type MetricLabels,
} from './pipeline/runtime/stage-metrics.js';
export { standaloneContext, type StandaloneContext } from './pipeline/components/standalone-context.js';
export type { ConfigInput, ConfigOf, ConfigSpec, FieldSpec } from './pipeline/config/config-spec.js';
export type { ConfigRule } from './pipeline/config/config-rule.js';
export { validateComponentConfig } from './pipeline/components/validate-component-config.js';
export {
  runPipeline,
  type PipelineRun,
  type RunOptions,
  type RunResult,
  type ValidationPolicy,
  type PipelineHealth,
} from './pipeline/runtime/run-pipeline.js';
export { startHttpServer } from './pipeline/runtime/start-http-server.js';
export { createLogger } from './pipeline/runtime/create-logger.js';
export { InstrumentationEvents, type Instrumentation, type InstrumentationEvent } from './pipeline/runtime/instrumentation.js';
export { SchemaCatalog, type SchemaName, type RecordCodec } from './pipeline/schemas/schema-catalog.js';
export * from './errors/errors.js';
export { namedPipelines } from './cli/pipelines/named-pipelines.js';
export { passThrough } from './operators/pass-through.js';
// Every built-in component definition (what builtinComponents() registers), for g.source / g.operator / g.sink in code.
export { passThroughOperator } from './operators/pass-through-operator.js';
export { quoteDiffOperator } from './operators/quote-diff-operator.js';
export { dedupMergeOperator } from './operators/dedup-merge-operator.js';
export { barsOperator } from './operators/bars-operator.js';
export { strategyOperator } from './operators/strategy-operator.js';
export { riskOperator } from './operators/risk-operator.js';
export { orderRouterOperator } from './operators/order-router-operator.js';
export { paperVenueOperator } from './operators/router/paper-venue-operator.js';
export { simSource } from './sources/sim-source.js';
export { ndjsonFileSink } from './sinks/ndjson-file-sink.js';
export { websocketSink } from './sinks/websocket-sink.js';
export { redisSink } from './sinks/redis-sink.js';
export { auditSink } from './sinks/audit-sink.js';
export { kafkaSink } from './sinks/kafka-sink.js';
export { wsFeedSource } from './sources/ws-feed-source.js';
export { fileSource } from './sources/file-source.js';
export { kafkaSource } from './sources/kafka-source.js';
export { ctpSource } from './sources/ctp-source.js';
export { CtpTickConverter } from './sources/ctp/ctp-tick-converter.js';
export { planSubscriptions } from './sources/ctp/plan-subscriptions.js';
export { CtpMdApi } from './native/ctp-md-api.js';
export type { CtpEvent } from './native/ctp-event.js';
export type { CtpDepthMarketData } from './native/ctp-depth-market-data.js';
export { inspectCtpLibrary, type CtpLibraryInfo } from './native/inspect-ctp-library.js';
export { ctpSimulator } from './native/ctp-simulator.js';
export { paceTicks } from './sources/file/pace-ticks.js';
export { quoteDiff } from './operators/quote-diff.js';
export { dedupMerge, type DedupMergeOptions } from './operators/dedup-merge.js';
export { bars, type BarsOptions } from './operators/bars.js';
export { runStrategies } from './operators/strategy.js';
export { risk, type RiskOptions } from './operators/risk.js';
export { orderRouter, type OrderRouterOptions } from './operators/order-router.js';
export { paperVenue, type PaperVenueOptions } from './operators/router/paper-venue.js';
export { applyMergePatch, type JsonValue } from './protocols/diff/apply-merge-patch.js';
export { ORDER_TRANSITIONS, nextOrderStatus, type OrderStatus } from './domain/order-state-machine.js';
export type * from './strategies/strategy-api.js';
export { movingAverageCrossover } from './strategies/moving-average-crossover.js';
export { meanReversion } from './strategies/mean-reversion.js';
export type * from './schemas/generated.js';
/** The makers of the branded ids: the way to take a plain string as an id at a trust boundary. */
export { AccountId, ClientOrderId, InstrumentId, StrategyId } from './schemas/generated.js';
