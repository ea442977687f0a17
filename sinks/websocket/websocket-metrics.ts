import { Counter, Gauge, type Registry } from 'prom-client';
import { reuseMetric } from '../../pipeline/runtime/reuse-metric.js';

/**
 * The WebSocket sink's own Prometheus metrics, labelled with the stage:
 * connected clients, messages sent, and refused client messages by code.
 * Several websocket stages in one pipeline share the metrics.
 */
export class WebsocketMetrics {
  private readonly clients: Gauge<'stage'>;
  private readonly messagesSent: Counter<'stage'>;
  private readonly clientErrors: Counter<'stage' | 'code'>;

  constructor(
    registry: Registry,
    private readonly stage: string,
  ) {
    this.clients = reuseMetric(registry, 'tickflow_websocket_clients', () => new Gauge({ name: 'tickflow_websocket_clients', help: 'WebSocket clients connected.', labelNames: ['stage'], registers: [registry] }));
    this.messagesSent = reuseMetric(registry, 'tickflow_websocket_messages_sent_total', () => new Counter({ name: 'tickflow_websocket_messages_sent_total', help: 'Messages sent to WebSocket clients.', labelNames: ['stage'], registers: [registry] }));
    this.clientErrors = reuseMetric(
      registry,
      'tickflow_websocket_client_errors_total',
      () => new Counter({ name: 'tickflow_websocket_client_errors_total', help: 'Client messages or connections refused, by error code.', labelNames: ['stage', 'code'], registers: [registry] }),
    );
    this.clients.set({ stage }, 0);
  }

  clientConnected(): void {
    this.clients.inc({ stage: this.stage });
  }

  clientDisconnected(): void {
    this.clients.dec({ stage: this.stage });
  }

  messageSent(): void {
    this.messagesSent.inc({ stage: this.stage });
  }

  clientError(code: string): void {
    this.clientErrors.inc({ stage: this.stage, code });
  }
}
