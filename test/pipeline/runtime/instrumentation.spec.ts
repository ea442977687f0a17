import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../errors/errors.js';
import { Instrumentation, InstrumentationEvents, type InstrumentationEvent } from '../../../pipeline/runtime/instrumentation.js';

describe('Instrumentation', () => {
  it('delivers events in one envelope with scheduler time, until unsubscribed', () => {
    const scheduler = new VirtualTimeScheduler();
    const instrumentation = new Instrumentation(scheduler);
    const seen: InstrumentationEvent[] = [];
    const off = instrumentation.on(InstrumentationEvents.STAGE_FAILED, (e) => seen.push(e));
    instrumentation.emit(InstrumentationEvents.STAGE_FAILED, { stage: 'risk' });
    instrumentation.emit(InstrumentationEvents.PIPELINE_STARTED, {});
    off();
    instrumentation.emit(InstrumentationEvents.STAGE_FAILED, { stage: 'risk' });
    expect(seen).toEqual([{ id: 1, type: 'stage.failed', timestamp: 0, payload: { stage: 'risk' } }]);
  });

  it('rejects an unknown event name', () => {
    const instrumentation = new Instrumentation(new VirtualTimeScheduler());
    expect(() => instrumentation.on('stage.exploded' as never, () => undefined)).toThrow(ConfigError);
    expect(() => instrumentation.on('stage.exploded' as never, () => undefined)).toThrow(/unknown event 'stage.exploded'; known events: pipeline.started/);
  });
});
