import type avro from 'avsc';
import { ConfigError, StageError } from '../../errors/errors.js';
import type { SchemaCatalog, SchemaName } from '../../pipeline/schemas/schema-catalog.js';
import { KafkaRecordRoute } from './kafka-record-route.js';

/** The field that keys a record when it has it: partitions follow the instrument. */
const INSTRUMENT_FIELD = 'instrument_id';
/** Fields of epoch microseconds that stamp a message, the first a record has. */
const TIME_FIELDS = ['ts_event', 'ts_init'] as const;
/** What Kafka allows in a topic name, and its longest. */
const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

/**
 * The routes of the records one edge schema carries: one for a record
 * schema (`Tick`), one per branch for a union (`OrderEvent`: each event is
 * written as its own record type, `tickflow.OrderFilled`, under its own
 * subject), found by the record's `type` field as the schema catalog does.
 */
export class KafkaRecordRoutes {
  /** The topic of a record type: `template` with `{schema}` (the edge's schema) and `{record}` (the record's own name), lowercased. */
  static topicOf(template: string, schema: string, record: string): string {
    return template.replaceAll('{schema}', schema.toLowerCase()).replaceAll('{record}', record.toLowerCase());
  }

  /** What is wrong with a topic template, for the config check: the name Kafka would refuse, made for a sample schema. */
  static templateProblems(template: string): string[] {
    const sample = KafkaRecordRoutes.topicOf(template, 'OrderEvent', 'OrderFilled');
    if (sample !== '.' && sample !== '..' && LEGAL_TOPIC.test(sample)) return [];
    return [
      `'topic' ${JSON.stringify(template)} makes topic names like ${JSON.stringify(sample)}: Kafka allows 1-249 of a-z, A-Z, 0-9, '.', '_' and '-' (placeholders {schema} and {record})`,
    ];
  }

  /** Every route, in the schema's order. */
  readonly all: readonly KafkaRecordRoute[];
  private readonly single: KafkaRecordRoute | undefined;
  private readonly byType = new Map<string, KafkaRecordRoute>();

  /**
   * @param schemas The catalog the edge schema is in.
   * @param schema The edge's schema (`Tick`, `OrderEvent`).
   * @param topicTemplate The `topic` config: `{schema}` and `{record}` are replaced, lowercased.
   * @param keyField The `key_field` config: keys the records that have no `instrument_id`; empty for none.
   * @throws ConfigError naming `key_field` when no record of the schema has that field.
   */
  constructor(
    schemas: SchemaCatalog,
    readonly schema: SchemaName,
    topicTemplate: string,
    keyField: string,
  ) {
    const type = schemas.type(schema);
    const records =
      type.typeName === 'record'
        ? [{ name: schema, type }]
        : (type as avro.types.WrappedUnionType).types.map((branch) => ({
            name: String(branch.name).replace(/^tickflow\./, ''),
            type: branch,
          }));
    const routes = records.map(({ name, type: recordType }) => {
      const fields = new Set((recordType as avro.types.RecordType).fields.map((f) => f.name));
      const key = fields.has(INSTRUMENT_FIELD) ? INSTRUMENT_FIELD : keyField !== '' && fields.has(keyField) ? keyField : undefined;
      const time = TIME_FIELDS.find((f) => fields.has(f));
      return new KafkaRecordRoute(name, recordType, KafkaRecordRoutes.topicOf(topicTemplate, schema, name), key, time);
    });
    if (keyField !== '' && !routes.some((route) => route.keyField === keyField) && !routes.every((r) => r.keyField === INSTRUMENT_FIELD)) {
      throw new ConfigError('kafka', [
        `'key_field' ${JSON.stringify(keyField)} is not a field of ${schema}; its fields: ${[
          ...new Set(records.flatMap((r) => (r.type as avro.types.RecordType).fields.map((f) => f.name))),
        ].join(', ')}`,
      ]);
    }
    this.all = routes;
    this.single = routes.length === 1 ? routes[0] : undefined;
    for (const route of routes) this.byType.set(route.name, route);
  }

  /** The topics the routes write, each once. */
  get topics(): string[] {
    return [...new Set(this.all.map((route) => route.topic))];
  }

  /** The route of `record`: the one route, or the branch its `type` field names. */
  of(record: unknown): KafkaRecordRoute {
    if (this.single !== undefined) return this.single;
    const route = this.byType.get(String((record as { type?: unknown } | null)?.type));
    if (route === undefined) {
      throw new StageError(`kafka: a ${this.schema} record whose 'type' names none of ${[...this.byType.keys()].join(', ')}`);
    }
    return route;
  }
}
