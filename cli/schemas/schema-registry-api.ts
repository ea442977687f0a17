import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { SchemaRegistryError, UsageError } from '../../errors/errors.js';
import type { CompatibilityLevel } from '../../pipeline/schemas/check-compatibility.js';

/** One answer of the registry's REST API. */
interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
}

/** A registered version of a subject. */
export interface RegisteredSchema {
  readonly subject: string;
  readonly version: number;
  readonly id: number;
  readonly schema: string;
}

/** The registry's verdict on a schema against a subject's latest version, at the subject's own compatibility rule. */
export interface RegistryVerdict {
  readonly compatible: boolean;
  /** The registry's reason, when it gives one (Apicurio: `Causes: volume at /fields/16`). */
  readonly reason: string | undefined;
}

const TIMEOUT_MS = 10_000;
/** Longest answer read: a listing of many subjects, or a large schema. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;
const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** What went wrong below HTTP, in a few words. */
function describeRequestError(error: unknown): string {
  const { name, code, message } = error as NodeJS.ErrnoException;
  if (name === 'TimeoutError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  if (code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)';
  if (code === 'ENOTFOUND') return 'unknown host (ENOTFOUND)';
  return code === undefined ? String(message ?? error) : `${message} (${code})`;
}

/**
 * The part of a Confluent-compatible schema registry's REST API that `tickflow schemas` uses: subjects, their
 * versions, registering, the registry's compatibility check and a subject's compatibility level. Works with
 * Confluent's registry and Apicurio's Confluent API (`…/apis/ccompat/v7`). Talks node:http, not fetch: fetch
 * refuses ports on the browsers' "bad ports" list, which a free port can be. Credentials in the URL
 * (`https://KEY:SECRET@host`) go out as basic authentication and are never printed: {@link where} leaves them out.
 */
export class SchemaRegistryApi {
  private readonly base: URL;
  /** The base URL's path without a trailing slash; each request's path follows it. */
  private readonly basePath: string;
  private readonly authorization: string | undefined;
  /** The registry's address as messages name it, without credentials. */
  readonly where: string;

  /**
   * @param url The registry's base URL, e.g. `http://127.0.0.1:8081` or `http://127.0.0.1:PORT/apis/ccompat/v7`.
   * @param source Where `url` came from, for the message when it is not a URL: a flag or an environment variable.
   * @throws UsageError when `url` is not an http:// or https:// URL.
   */
  constructor(url: string, source = '--registry') {
    let base: URL;
    try {
      base = new URL(url);
    } catch {
      throw new UsageError(
        `${source} must be the http:// or https:// URL of a schema registry, e.g. http://127.0.0.1:8081; got '${url.replace(/^([^/]*\/\/)[^/@]*@/, '$1…@')}'`,
      );
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:')
      throw new UsageError(`${source} must be an http:// or https:// URL, e.g. http://127.0.0.1:8081; got a ${base.protocol} URL`);
    this.authorization =
      base.username === ''
        ? undefined
        : `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
    base.username = '';
    base.password = '';
    this.base = base;
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.where = `${base.origin}${this.basePath}`;
  }

  /** Every subject, sorted. */
  async subjects(): Promise<string[]> {
    const answer = await this.call('GET', '/subjects');
    return this.expectArray(answer, '/subjects', (s): s is string => typeof s === 'string').sort();
  }

  /** The version numbers of a subject, ascending; none when it is not registered. */
  async versions(subject: string): Promise<number[]> {
    const path = `/subjects/${encodeURIComponent(subject)}/versions`;
    const answer = await this.call('GET', path, undefined, true);
    if (answer.status === 404) return [];
    return this.expectArray(answer, path, (v): v is number => Number.isInteger(v)).sort((a, b) => a - b);
  }

  /** One registered version of a subject, with its id and schema text. */
  async version(subject: string, version: number): Promise<RegisteredSchema> {
    const path = `/subjects/${encodeURIComponent(subject)}/versions/${version}`;
    return this.expectSchema(await this.call('GET', path), path, subject);
  }

  /** The version of `subject` whose schema is `text`, or undefined when it is not registered under it. */
  async lookup(subject: string, text: string): Promise<RegisteredSchema | undefined> {
    const path = `/subjects/${encodeURIComponent(subject)}`;
    const answer = await this.call('POST', path, { schema: text }, true);
    return answer.status === 404 ? undefined : this.expectSchema(answer, path, subject);
  }

  /**
   * Registers `text` under `subject` and returns its id (the existing one when that text is registered already).
   * @throws SchemaRegistryError with status 409 when the registry refuses it as incompatible.
   */
  async register(subject: string, text: string): Promise<number> {
    const path = `/subjects/${encodeURIComponent(subject)}/versions`;
    const answer = await this.call('POST', path, { schema: text });
    const id = (answer.body as { id?: unknown } | undefined)?.id;
    if (!Number.isInteger(id)) throw this.unexpected(path, answer);
    return id as number;
  }

  /** Whether the registry would accept `text` as the next version of `subject`; undefined when the subject has no version yet. */
  async verdict(subject: string, text: string): Promise<RegistryVerdict | undefined> {
    const path = `/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest?verbose=true`;
    const answer = await this.call('POST', path, { schema: text }, true);
    if (answer.status === 404) return undefined;
    const body = answer.body as { is_compatible?: unknown; reason?: unknown; messages?: unknown } | undefined;
    if (typeof body?.is_compatible !== 'boolean') throw this.unexpected(path, answer);
    // Apicurio answers `reason`; Confluent's registry `messages` (a list), with verbose=true.
    const reason =
      typeof body.reason === 'string' ? body.reason : Array.isArray(body.messages) ? body.messages.map(String).join('; ') : undefined;
    return { compatible: body.is_compatible, reason: reason === '' ? undefined : reason };
  }

  /** Sets a subject's own compatibility level, which the registry then applies to each new version of it. */
  async setCompatibility(subject: string, level: CompatibilityLevel): Promise<void> {
    await this.call('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: level });
  }

  private expectArray<T>(answer: Answer, path: string, isItem: (item: unknown) => item is T): T[] {
    if (!Array.isArray(answer.body) || !answer.body.every(isItem)) throw this.unexpected(path, answer);
    return answer.body;
  }

  private expectSchema(answer: Answer, path: string, subject: string): RegisteredSchema {
    const body = answer.body as { version?: unknown; id?: unknown; schema?: unknown } | undefined;
    if (!Number.isInteger(body?.version) || !Number.isInteger(body?.id) || typeof body?.schema !== 'string')
      throw this.unexpected(path, answer);
    return { subject, version: body.version as number, id: body.id as number, schema: body.schema };
  }

  private unexpected(path: string, answer: Answer): SchemaRegistryError {
    return new SchemaRegistryError(
      `the schema registry at ${this.where} answered ${path} with an unexpected body (HTTP ${answer.status}): ${answer.text.slice(0, 200)}`,
      { status: answer.status },
    );
  }

  /**
   * One request; an HTTP status outside 2xx is a SchemaRegistryError naming the registry's message, except, with
   * `notFoundIsAnswer`, the registry's own "not found" (404 with an error code 404xx: no such subject, version or
   * schema), which is an answer. A 404 without such a code means the URL is not a registry's API: an error.
   */
  private async call(method: string, path: string, body?: unknown, notFoundIsAnswer = false): Promise<Answer> {
    const [pathname, query] = path.split('?') as [string, string | undefined];
    const url = new URL(this.base.href);
    url.pathname = `${this.basePath}${pathname}`;
    url.search = query === undefined ? '' : `?${query}`;
    let answer: Answer;
    try {
      answer = await this.send(method, url, body === undefined ? undefined : JSON.stringify(body));
    } catch (error) {
      throw new SchemaRegistryError(`cannot reach the schema registry at ${this.where}: ${describeRequestError(error)}`, {
        cause: error,
        retriable: true,
      });
    }
    const { message, error_code: errorCode } = (answer.body ?? {}) as { message?: unknown; error_code?: unknown };
    const registryNotFound = answer.status === 404 && typeof errorCode === 'number' && errorCode >= 40400 && errorCode <= 40499;
    if ((answer.status >= 200 && answer.status < 300) || (notFoundIsAnswer && registryNotFound)) return answer;
    const said = typeof message === 'string' ? message : answer.text.trim().slice(0, 200) || '(no message)';
    const hint = answer.status === 404 && !registryNotFound ? ' (is the URL the registry’s API root? Apicurio’s is …/apis/ccompat/v7)' : '';
    throw new SchemaRegistryError(
      `the schema registry at ${this.where} refused ${method} ${pathname}: HTTP ${answer.status}: ${said}${hint}`,
      {
        status: answer.status,
        ...(typeof errorCode === 'number' ? { errorCode } : {}),
      },
    );
  }

  private send(method: string, url: URL, body: string | undefined): Promise<Answer> {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string> = { accept: `${CONTENT_TYPE}, application/json` };
    if (this.authorization !== undefined) headers['authorization'] = this.authorization;
    if (body !== undefined) {
      headers['content-type'] = CONTENT_TYPE;
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const req = request(url, { method, headers, timeout: TIMEOUT_MS }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) req.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${TIMEOUT_MS / 1000} s`), { name: 'TimeoutError' })));
      req.on('error', reject);
      req.end(body);
    });
  }
}
