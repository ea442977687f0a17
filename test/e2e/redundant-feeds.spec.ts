import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { applyMergePatch, type JsonValue } from '../../protocols/diff/apply-merge-patch.js';
import { DiffQuoteFields, type QuoteField } from '../../protocols/diff/diff-quote-fields.js';
import type { Tick } from '../../schemas/generated.js';
import { startCli } from '../support/run-cli.js';
import { waitFor } from '../support/wait-for.js';

const INSTRUMENTS = ['SHFE.rb2501', 'SHFE.cu2501', 'DCE.m2501', 'CZCE.SR501', 'CFFEX.IF2501', 'INE.sc2501'];
const TICKS = 480;
const RATE = 40;

type Child = ReturnType<typeof startCli>;
const children: Child[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Starts `tickflow run FILE` and waits for its WebSocket sink's URL. */
async function startPipeline(file: string): Promise<{ child: Child; url: string }> {
  const child = startCli(['run', file, '--port', '0', '--log-level', 'info']);
  children.push(child);
  const url = await waitFor(`the WebSocket URL of ${file}`, () => {
    if (child.exitCode !== null) throw new Error(`${file} exited early: ${child.output().stderr}`);
    return /websocket sink serving quotes on (ws:\/\/127\.0\.0\.1:\d+\/)/.exec(child.output().stderr)?.[1];
  });
  return { child, url };
}

const exited = (child: Child): Promise<number | null> =>
  child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((r) => child.on('close', r));

function readTicks(path: string): Tick[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Tick);
}

/** The identity of a market event: every field but those a feed adds (last_volume is derived per feed; DIFF does not carry it). */
const eventKey = ({ feed_id: _f, ts_recv: _r, sequence: _s, last_volume: _v, ...market }: Tick): string => JSON.stringify(market);

/** The DIFF quote a client should hold for a tick: DIFF keys, unset prices absent. */
function diffQuote(tick: Tick): Record<string, JsonValue> {
  const quote: Record<string, JsonValue> = { instrument_id: tick.instrument_id };
  for (const [field, key] of Object.entries(DiffQuoteFields.keyOf) as [QuoteField, string][]) {
    const value = tick[field];
    if (value === null) continue;
    quote[key] = field === 'ts_event' ? DiffQuoteFields.formatDatetime(value as number) : value;
  }
  return quote;
}

/** A DIFF client: subscribes, runs the peek loop, applies every patch to its snapshot. */
function diffClient(url: string): { snapshot: () => Record<string, JsonValue>; close: () => void } {
  let snapshot: JsonValue = {};
  const ws = new WebSocket(url);
  ws.on('open', () => {
    ws.send(JSON.stringify({ aid: 'subscribe_quote', ins_list: INSTRUMENTS.join(',') }));
    ws.send(JSON.stringify({ aid: 'peek_message' }));
  });
  ws.on('message', (raw) => {
    const message = JSON.parse((raw as Buffer).toString()) as { aid?: string; data?: JsonValue[] };
    if (message.aid !== 'rtn_data') return;
    for (const patch of message.data ?? []) snapshot = applyMergePatch(snapshot, patch);
    ws.send(JSON.stringify({ aid: 'peek_message' }));
  });
  ws.on('error', () => undefined);
  return {
    snapshot: () => ((snapshot as Record<string, JsonValue>)['quotes'] ?? {}) as Record<string, JsonValue>,
    close: () => ws.close(),
  };
}

describe('redundant upstream feeds, end to end', () => {
  it('three tickflows serve one seeded market; a fourth merges them; two die mid-stream; nothing is lost or duplicated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickflow-e2e-'));
    const upstreamFile = (i: number): string => {
      const file = join(dir, `upstream-${i}.yaml`);
      writeFileSync(
        file,
        [
          `name: upstream-${i}`,
          'stages:',
          `  - { id: market, use: sim, config: { seed: 11, rate: ${RATE}, count: ${TICKS} } }`,
          '  - { id: quotes, use: quote-diff, from: market }',
          '  - { id: ws, use: websocket, from: { quotes: quotes }, config: { port: 0 } }',
          `  - { id: record, use: ndjson-file, from: market, config: { path: ${join(dir, `upstream-${i}.ndjson`)} } }`,
        ].join('\n'),
      );
      return file;
    };
    // Started one after the other, so each later upstream runs behind the one before.
    const upstreams = [];
    for (const i of [1, 2, 3]) upstreams.push(await startPipeline(upstreamFile(i)));

    const mergerFile = join(dir, 'merger.yaml');
    const feedIds = ['up-1', 'up-2', 'up-3'];
    writeFileSync(
      mergerFile,
      [
        'name: merger',
        'stages:',
        ...upstreams.map(
          (u, i) =>
            `  - { id: ${feedIds[i]}, use: ws-feed, config: { url: "${u.url}", instruments: [${INSTRUMENTS.join(', ')}], retry_initial_ms: 100, retry_max_ms: 400 } }`,
        ),
        `  - { id: merge, use: dedup-merge, from: [${feedIds.join(', ')}], config: { feeds: [${feedIds.join(', ')}], stale_after_ms: 1000, down_after_ms: 3000 } }`,
        '  - { id: quotes, use: quote-diff, from: merge }',
        '  - { id: ws, use: websocket, from: { quotes: quotes, feeds: merge.status }, config: { port: 0 } }',
        `  - { id: record, use: ndjson-file, from: merge, config: { path: ${join(dir, 'merged.ndjson')} } }`,
        // What each feed delivered to the merge, to tell what the merge dropped from what DIFF conflated upstream.
        ...feedIds.map(
          (id) => `  - { id: delivered-${id}, use: ndjson-file, from: ${id}, config: { path: ${join(dir, `delivered-${id}.ndjson`)} } }`,
        ),
      ].join('\n'),
    );
    const merger = await startPipeline(mergerFile);
    const client = diffClient(merger.url);

    // Kill the leading upstream once the merger has passed 20 ticks, the next one 40 ticks later: by the
    // merger's progress, not by the clock, so a slow or loaded machine kills at the same points of the market.
    const mergedPath = join(dir, 'merged.ndjson');
    const mergedSoFar = (): Tick[] => {
      let text: string;
      try {
        text = readFileSync(mergedPath, 'utf8');
      } catch {
        return [];
      }
      return text
        .split('\n')
        .slice(0, -1)
        .map((l) => JSON.parse(l) as Tick);
    };
    await waitFor('the merger to pass 20 ticks', () => (mergedSoFar().length >= 20 ? true : undefined), 30_000);
    const beforeFirstKill = mergedSoFar();
    upstreams[0]?.child.kill('SIGKILL');
    await waitFor(
      'the merger to pass 40 more ticks',
      () => (mergedSoFar().length >= beforeFirstKill.length + 40 ? true : undefined),
      30_000,
    );
    upstreams[1]?.child.kill('SIGKILL');

    // The last upstream ends by itself after its TICKS ticks; its record is the sim's own.
    expect(await exited(upstreams[2]?.child as Child)).toBe(0);
    const simRecord = readTicks(join(dir, 'upstream-3.ndjson'));
    expect(simRecord).toHaveLength(TICKS);
    const lastByInstrument = new Map(simRecord.map((t) => [t.instrument_id, t]));

    // The client's final snapshot equals the sim's last quote of every instrument.
    await waitFor('the client to hold the last quote of every instrument', () => {
      const quotes = client.snapshot();
      return [...lastByInstrument].every(([id, tick]) => isDeepStrictEqual(quotes[id], diffQuote(tick))) ? true : undefined;
    });
    // CFFEX has no night session, so the sim's night market has five instruments.
    expect(Object.keys(client.snapshot()).sort()).toEqual([...lastByInstrument.keys()].sort());
    for (const [id, tick] of lastByInstrument) expect(client.snapshot()[id]).toEqual(diffQuote(tick));
    client.close();

    merger.child.kill('SIGTERM');
    expect(await exited(merger.child)).toBe(0);
    const merged = readTicks(join(dir, 'merged.ndjson'));
    const indexOf = new Map(simRecord.map((t, i) => [eventKey(t), i]));
    const indices = merged.map((t) => indexOf.get(eventKey(t)));
    // Every merged tick is one of the sim's, none twice...
    expect(indices.every((i) => i !== undefined)).toBe(true);
    expect(new Set(indices).size).toBe(merged.length);
    // ...the merge reached the market's end, and the first kill came mid-stream...
    expect(Math.max(...(indices as number[]))).toBe(TICKS - 1);
    const lastBeforeFirstKill = Math.max(...beforeFirstKill.map((t) => indexOf.get(eventKey(t)) ?? -1));
    expect(lastBeforeFirstKill).toBeLessThan(TICKS - 40);
    // ...and the merge lost nothing: a tick a feed delivered is missing from its output only because a feed
    // delivered a newer event of that instrument no later. (Which ticks reach the merge depends on the machine:
    // DIFF conflates the changes a client has not peeked for yet. What the merge drops must not.)
    const mergedKeys = new Set(merged.map(eventKey));
    const delivered = feedIds.flatMap((id) => readTicks(join(dir, `delivered-${id}.ndjson`)));
    expect(delivered.length).toBeGreaterThan(merged.length);
    const lost = delivered.filter(
      (t) =>
        !mergedKeys.has(eventKey(t)) &&
        !merged.some((m) => m.instrument_id === t.instrument_id && m.ts_event > t.ts_event && m.ts_recv <= t.ts_recv),
    );
    expect(lost).toEqual([]);
    // All three feeds delivered, and the merge saw the two dead ones go down.
    expect(new Set(merged.map((t) => t.feed_id)).size).toBe(3);
    expect(merger.child.output().stderr).toMatch(/feed up-1 (STALE|DOWN)/);
    expect(merger.child.output().stderr).toMatch(/feed up-2 (STALE|DOWN)/);
  }, 60_000);
});
