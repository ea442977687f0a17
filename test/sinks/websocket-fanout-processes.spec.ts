import { createServer } from 'node:net';
import { pino } from 'pino';
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { pipeline } from '../../pipeline/graph/pipeline.js';
import { applyMergePatch, type JsonValue } from '../../protocols/diff/apply-merge-patch.js';
import { runPipeline } from '../../pipeline/runtime/run-pipeline.js';
import type { QuoteDiff } from '../../schemas/generated.js';
import { websocketSink } from '../../sinks/websocket-sink.js';
import { recordsSource } from '../support/test-components.js';
import {
  firstQuote,
  laterQuote,
  orderAccepted,
  orderFilled,
  orderSubmitted,
  peek,
  startSink,
  stopAllSinks,
  TestClient,
  waitFor,
  type RunningSink,
} from '../support/websocket-harness.js';

interface LogLine {
  level: number;
  msg: string;
  fanout_process?: number;
  client?: number;
  code?: number | null;
  signal?: string | null;
  pids?: number[];
}

const logs = (sink: RunningSink): LogLine[] => sink.logLines.map((line) => JSON.parse(line) as LogLine);

/** The fan-out process (1-based) that logged the connection of each client, in the order they connected. */
async function servingProcesses(sink: RunningSink, clients: number): Promise<number[]> {
  const connected = (): LogLine[] => logs(sink).filter((l) => l.msg === 'websocket client connected');
  await waitFor(() => connected().length >= clients, `${clients} connections logged by the fan-out processes`);
  return connected().map((l) => l.fanout_process ?? 0);
}

/** Waits (5 s at most) until the sink's clients gauge reads `clients`: the processes send their counts every half second. */
async function clientsGaugeReads(sink: RunningSink, clients: number): Promise<void> {
  let value: number | undefined;
  for (let attempt = 0; attempt < 100 && value !== clients; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50));
    value = (await sink.ctx.registry.getSingleMetric('tickflow_websocket_clients')?.get())?.values[0]?.value;
  }
  expect(value).toBe(clients);
}

afterEach(stopAllSinks);

describe('websocketSink with fanout_processes', () => {
  it('hands connections to its processes in turn, and serves every client the same quotes, merged per peek', async () => {
    const sink = await startSink({ fanout_processes: 2 });
    sink.quotes.next(firstQuote('SHFE.rb2501', 3500));
    const clients = await Promise.all([1, 2, 3, 4].map(() => TestClient.connect(sink.wsUrl)));
    expect(new Set(await servingProcesses(sink, 4))).toEqual(new Set([1, 2]));
    for (const client of clients) client.send({ aid: 'subscribe_quote', ins_list: 'SHFE.rb2501,DCE.m2505' });
    for (const client of clients) {
      const first = await peek(client);
      expect(first['data'][0]['quotes']['SHFE.rb2501']).toMatchObject({ instrument_id: 'SHFE.rb2501', last_price: 3500 });
    }
    for (const client of clients) client.send({ aid: 'peek_message' });
    sink.quotes.next(laterQuote('SHFE.rb2501', 2, { last_price: 3505 }));
    sink.quotes.next(firstQuote('DCE.m2505', 2800));
    for (const client of clients) {
      let quotes: Record<string, Record<string, unknown>> = {};
      // The two changes may come in one patch or two: what the client holds after them is the same.
      while (quotes['DCE.m2505'] === undefined) {
        const update = await client.next((m) => m['aid'] === 'rtn_data');
        quotes = { ...quotes, ...(update['data'][0]['quotes'] as typeof quotes) };
        if (quotes['DCE.m2505'] === undefined) client.send({ aid: 'peek_message' });
      }
      expect(quotes['SHFE.rb2501']).toMatchObject({ last_price: 3505 });
      expect(quotes['DCE.m2505']).toMatchObject({ last_price: 2800 });
    }
    // The processes' counts reach the sink's metrics.
    await clientsGaugeReads(sink, 4);
    expect(sink.acks).toHaveLength(3);
  });

  it('checks order events in the sink: an invalid transition is dropped and never reaches a client', async () => {
    const sink = await startSink({ fanout_processes: 2 }, { ordersOutliveOthers: true });
    const clients = await Promise.all([1, 2].map(() => TestClient.connect(sink.wsUrl)));
    expect(new Set(await servingProcesses(sink, 2))).toEqual(new Set([1, 2]));
    for (const client of clients) client.send({ action: 'subscribe_orders' });
    // Messages of a socket are read in order: once a peek is answered, the subscription is in.
    for (const client of clients) await peek(client);
    sink.orders.next(orderSubmitted('o-1', 'SHFE.rb2501', 'BUY', 2, 3500));
    sink.orders.next(orderFilled('ghost', 'SHFE.rb2501', 'BUY', 5, 3500, 5, 0));
    sink.orders.next(orderAccepted('o-1', 'SHFE.rb2501'));
    for (const client of clients) {
      const pushed = [await client.next((m) => m['action'] === 'order_event'), await client.next((m) => m['action'] === 'order_event')];
      expect(pushed.map((m) => m['event']['client_order_id'] as string)).toEqual(['o-1', 'o-1']);
      expect(pushed.map((m) => m['event']['type'] as string)).toEqual(['OrderSubmitted', 'OrderAccepted']);
    }
    expect(sink.acks).toHaveLength(2);
    expect(sink.ctx.metrics.droppedByReason.get('invalid-transition')).toBe(1);
    expect(logs(sink).some((l) => l.msg.startsWith('order event ignored: order ghost'))).toBe(true);
  });

  it('runs as a stage of a pipeline: /health and /metrics of the pipeline are answered through the processes', async () => {
    const lines: string[] = [];
    const quotes = new Subject<QuoteDiff>();
    const graph = pipeline('ws-fanout', '', (g) => {
      g.sink(
        'ws',
        websocketSink,
        { port: 0, fanout_processes: 2 },
        { quotes: g.source('quotes', recordsSource('diffs', 'QuoteDiff', quotes)) },
      );
    }).build();
    const run = runPipeline(graph, { logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }) });
    let url: string | undefined;
    await waitFor(
      () => (url = lines.map((l) => JSON.parse(l) as { url?: string }).find((l) => l.url !== undefined)?.url) !== undefined,
      'the url',
    );
    const client = await TestClient.connect(`ws://${new URL(url as string).host}/`);
    quotes.next(firstQuote('SHFE.rb2501', 3500));
    client.send({ aid: 'subscribe_quote', ins_list: 'SHFE.rb2501' });
    // The quote reaches the processes over IPC, the subscription over the socket: either may come first, in one message or two.
    let state: JsonValue = {};
    for (let peeks = 0; peeks < 2 && (state as { quotes?: object }).quotes?.['SHFE.rb2501' as keyof object] === undefined; peeks++) {
      for (const patch of (await peek(client))['data'] as JsonValue[]) state = applyMergePatch(state, patch);
    }
    expect(state).toMatchObject({ quotes: { 'SHFE.rb2501': { last_price: 3500 } } });
    // Each request on a connection of its own, so that both processes answer one.
    for (let i = 0; i < 2; i++) {
      const health = (await (await fetch(`${url}/health`, { headers: { connection: 'close' } })).json()) as {
        pipeline: string;
        stages: Record<string, { state: string; records_in: number }>;
      };
      expect(health.pipeline).toBe('ws-fanout');
      expect(health.stages['ws']).toMatchObject({ state: 'running', records_in: 1 });
    }
    let metrics = '';
    for (let attempt = 0; attempt < 100 && !/tickflow_websocket_clients\{stage="ws"\} 1/.test(metrics); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      metrics = await (await fetch(`${url}/metrics`, { headers: { connection: 'close' } })).text();
    }
    expect(metrics).toMatch(/tickflow_websocket_clients\{stage="ws"\} 1/);
    const stopped = run.stop('test');
    expect((await client.closed).code).toBe(1001);
    expect((await stopped).ok).toBe(true);
  });

  it('closes every client with 1001 at the end, and the processes exit', async () => {
    const sink = await startSink({ fanout_processes: 2 });
    const clients = await Promise.all([1, 2].map(() => TestClient.connect(sink.wsUrl)));
    await servingProcesses(sink, 2);
    sink.quotes.complete();
    sink.feeds.complete();
    sink.orders.complete();
    await sink.done;
    for (const client of clients) expect((await client.closed).code).toBe(1001);
    // Each process stopped its server, then the sink stopped listening.
    expect(
      logs(sink)
        .filter((l) => l.msg === 'websocket sink stopped')
        .map((l) => l.fanout_process)
        .sort(),
    ).toEqual([1, 2, undefined]);
  });

  it('goes on with the processes left when one dies: its clients are cut, new ones are served by the others', async () => {
    const sink = await startSink({ fanout_processes: 2 });
    // One at a time, so that the logged connections are in the clients' order.
    const clients: TestClient[] = [];
    for (let i = 1; i <= 4; i++) {
      clients.push(await TestClient.connect(sink.wsUrl));
      await servingProcesses(sink, i);
    }
    const served = await servingProcesses(sink, 4);
    const pids = logs(sink).find((l) => l.msg.includes('fan-out processes'))?.pids as number[];
    expect(pids).toHaveLength(2);
    process.kill(pids[0] as number, 'SIGKILL');
    await waitFor(() => logs(sink).some((l) => l.msg.startsWith('websocket fan-out process 1 exited (SIGKILL)')), 'the death logged');
    for (const [i, client] of clients.entries()) {
      if (served[i] === 1) expect((await client.closed).code).toBe(1006);
    }
    // The others' clients are still served, and new clients go to the process left.
    sink.quotes.next(firstQuote('SHFE.rb2501', 3500));
    const late = await TestClient.connect(sink.wsUrl);
    for (const client of [late, ...clients.filter((_, i) => served[i] === 2)]) {
      client.send({ aid: 'subscribe_quote', ins_list: 'SHFE.rb2501' });
      expect((await peek(client))['data'][0]['quotes']['SHFE.rb2501']).toMatchObject({ last_price: 3500 });
    }
    expect((await servingProcesses(sink, 5)).at(-1)).toBe(2);
    await clientsGaugeReads(sink, 3);

    // With none left, a new connection is refused with 503, and the sink still takes records.
    process.kill(pids[1] as number, 'SIGKILL');
    await waitFor(() => logs(sink).some((l) => l.msg.startsWith('websocket fan-out process 2 exited')), 'the second death logged');
    await expect(TestClient.connect(sink.wsUrl)).rejects.toMatchObject({ statusCode: 503 });
    sink.quotes.next(laterQuote('SHFE.rb2501', 2, { last_price: 3505 }));
    await waitFor(() => sink.acks.length === 2, 'the quote acknowledged');
  });

  it("refuses a port another process holds, naming it and 'port'", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      await expect(startSink({ fanout_processes: 2, port })).rejects.toThrow(`port ${port} on 127.0.0.1 is in use; choose another 'port'`);
    } finally {
      holder.close();
    }
  });
});
