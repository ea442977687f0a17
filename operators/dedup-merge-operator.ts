import { metric } from '../pipeline/runtime/metric-declaration.js';
import type { CounterSeries } from '../pipeline/runtime/stage-metrics.js';
import { defineComponent } from '../pipeline/components/define-component.js';
import { field } from '../pipeline/config/field.js';
import type { FeedStatus } from '../schemas/generated.js';
import { dedupMerge } from './dedup-merge.js';

/** The `dedup-merge` component: the merged ticks of redundant feeds in, each market event once out, and each feed's state changes on the `status` side output. */
export const dedupMergeOperator = defineComponent({
  name: 'dedup-merge',
  kind: 'operator',
  description:
    'Merges redundant feeds of one market: the first copy of each market event passes, later copies and older ticks are dropped; feed states (UP, STALE, DOWN) as a side output.',
  in: 'Tick',
  out: 'Tick',
  sideOutputs: { status: 'FeedStatus' },
  spec: {
    stale_after_ms: field.integer({
      description: 'A feed that delivers no tick for this many milliseconds (scheduler time) is reported STALE',
      default: 2000,
      example: 1500,
      min: 1,
      max: 86_400_000, // one day, well inside a timer's 2^31 - 1 ms
    }),
    down_after_ms: field.integer({
      description: 'A feed that delivers no tick for this many milliseconds is reported DOWN; must exceed stale_after_ms',
      default: 10_000,
      example: 30_000,
      min: 1,
      max: 86_400_000,
    }),
    feeds: field.stringList({
      description:
        'Feed ids expected from the start, reported DOWN until their first tick; feeds not listed are tracked from their first tick',
      default: [],
      example: ['ctp-a', 'ctp-b'],
    }),
  },
  validate: [
    {
      rule: "'down_after_ms' must exceed 'stale_after_ms'",
      problems: (config) =>
        config.down_after_ms > config.stale_after_ms
          ? []
          : [`'down_after_ms' must exceed 'stale_after_ms' (${config.stale_after_ms}), got ${config.down_after_ms}`],
    },
  ],
  metrics: {
    feed_ticks_total: metric.counter(
      'Ticks per feed by outcome (lead: passed first, lag: a later copy, stale, duplicate) and sequence gaps.',
      { labels: ['feed', 'outcome'] },
    ),
  },
  drops: {
    stale: 'A tick older than the latest one of its instrument (by event time)',
    duplicate: 'A copy of a market event already delivered (by another feed, or by the same feed again)',
  },
  create(config, ctx) {
    const statusOut = ctx.sideOutput<FeedStatus>('status');
    const feedTicks = ctx.metrics.counter('feed_ticks_total');
    // By feed, then outcome: no key string is built per tick.
    const children = new Map<string, Map<string, CounterSeries>>();
    return dedupMerge({
      count: (feed, outcome) => {
        let ofFeed = children.get(feed);
        if (ofFeed === undefined) children.set(feed, (ofFeed = new Map<string, CounterSeries>()));
        let child = ofFeed.get(outcome);
        if (child === undefined) ofFeed.set(outcome, (child = feedTicks.labels({ feed, outcome })));
        child.inc();
      },
      staleAfterMs: config.stale_after_ms,
      downAfterMs: config.down_after_ms,
      expectedFeeds: config.feeds,
      scheduler: ctx.scheduler,
      metrics: ctx.metrics,
      status: {
        next(status) {
          ctx.logger.info({ feedStatus: status }, `feed ${status.feed_id} ${status.state}: ${status.detail}`);
          statusOut.next(status);
        },
      },
    });
  },
});
