import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Logger } from 'pino';
import type { SchedulerLike } from 'rxjs';
import { StageError } from '../../errors/errors.js';
import { RetryPolicy } from '../../pipeline/runtime/retry-policy.js';
import { redactedUrl } from '../redis/redacted-url.js';
import type { KafkaRecordRoute } from './kafka-record-route.js';

/** Attempts at one registration when the registry answers 5xx or cannot be reached (about 6 s in all with the default policy's delays). */
const ATTEMPTS = 6;

/** What registering needs besides the URL and the routes. */
export interface RegisterKafkaSchemasOptions {
  /** Where each registration is logged (subject and id). */
  readonly logger: Logger;
  /** The clock the delays between attempts are taken on. */
  readonly scheduler: SchedulerLike;
  /** The stage, for the error's context. */
  readonly stage?: string;
}

/**
 * Registers each route's schema with the schema registry at `url` (its
 * Confluent-compatible API), under the route's subject (the record's full
 * name: the record name strategy), and gives the route the id to frame its
 * values with. Registering a text the subject already has returns its id;
 * a new subject is set to BACKWARD compatibility (the registry client's
 * default, and tickflow's). A user name and password in the URL are sent as
 * basic authentication and never logged.
 *
 * Runs once, before the pipeline starts: a registry that refuses a schema
 * (4xx: incompatible with the subject's latest version, an invalid schema,
 * a subject whose compatibility is not BACKWARD, unauthorized) fails the
 * start at once with a StageError naming the subject and the registry's
 * reason; one that answers 5xx (Apicurio's in-memory store times out when
 * several writers register at once) or cannot be reached is asked again,
 * with the retry policy's delays, up to 6 attempts.
 *
 * @param url The registry's base URL, e.g. `http://127.0.0.1:8081/apis/ccompat/v7`.
 * @param routes The record types the sink writes; each gets its id.
 * @param options The logger, the scheduler for the delays, the stage.
 */
export async function registerKafkaSchemas(
  url: string,
  routes: readonly KafkaRecordRoute[],
  { logger, scheduler, stage }: RegisterKafkaSchemasOptions,
): Promise<void> {
  const policy = new RetryPolicy({ maxAttempts: ATTEMPTS });
  const parsed = new URL(url);
  const auth =
    parsed.username === '' && parsed.password === ''
      ? undefined
      : { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
  parsed.username = '';
  parsed.password = '';
  const registry = new SchemaRegistry({ host: parsed.href.replace(/\/$/, ''), clientId: 'tickflow', ...(auth && { auth }) });
  const where = redactedUrl(url);
  for (const route of routes) {
    let id: number | undefined;
    for (let attempt = 1; id === undefined; attempt++) {
      try {
        ({ id } = await registry.register(
          { type: SchemaType.AVRO, schema: route.schemaText },
          { subject: route.subject, compatibility: COMPATIBILITY.BACKWARD },
        ));
        break;
      } catch (error) {
        const status = (error as { status?: unknown }).status;
        const refused = typeof status === 'number' && status < 500;
        if (refused || !policy.shouldRetry(attempt, error)) throw refusal(route, error, status);
        const delayMs = policy.delayMs(attempt);
        logger.warn(
          { subject: route.subject, attempt, delayMs, reason: (error as Error).message },
          'kafka: the schema registry failed; registering again',
        );
        await new Promise<void>((resolve) => scheduler.schedule(() => resolve(), delayMs));
      }
    }
    route.useRegistryId(id);
    logger.info({ subject: route.subject, schemaId: id, topic: route.topic }, 'kafka: schema registered');
  }

  function refusal(route: KafkaRecordRoute, error: unknown, status: unknown): StageError {
    return new StageError(
      `kafka: the schema registry at ${where} refused schema ${route.name} under subject '${route.subject}'` +
        `${typeof status === 'number' ? ` (HTTP ${status})` : ''}: ${(error as Error).message}`,
      { cause: error, context: { stage, component: 'kafka-sink', topic: route.topic } },
    );
  }
}
