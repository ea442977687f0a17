import { hash } from 'node:crypto';
import type { AuditRecord } from '../../schemas/generated.js';
import { avroContainer } from './avro-container.js';

const HASH_SIZE = 32;

/** One record to append to the audit trail, before it gets its place in the chain. */
export interface AuditEntry {
  /** Scheduler time the sink received the record, microseconds since the epoch. */
  readonly tsInit: number;
  /** Full schema name of the payload, e.g. `tickflow.OrderFilled`. */
  readonly recordType: string;
  /** Avro binary of the record under `recordType`. */
  readonly payload: Buffer;
}

/** Encoded AuditRecords, back to back, and the same records as objects whose buffers point into `bytes`. */
export interface EncodedRecords {
  readonly bytes: Buffer;
  readonly records: AuditRecord[];
}

/**
 * The hash chain of the audit trail: gives each entry the next `seq`, links
 * it to the previous record's hash, and encodes it as an Avro binary
 * AuditRecord.
 *
 * The hash of a record is SHA-256 over the Avro binary encoding of its first
 * five fields, in schema order: `seq` (long), `ts_init` (long),
 * `record_type` (string), `payload` (bytes), `prev_hash` (fixed 32). That is
 * exactly the record's own encoding in the file without its last 32 bytes
 * (the `hash` field), so any Avro library can recompute it, and a reader
 * that has the raw record bytes needs no re-encoding. Avro's binary encoding
 * of a value is unique (minimal zig-zag varints, length-prefixed strings and
 * bytes), which makes it canonical. The first record's `prev_hash` is 32
 * zero bytes.
 *
 * ```
 * hash(n) = SHA-256( long(seq) | long(ts_init) | string(record_type) | bytes(payload) | prev_hash )
 * prev_hash(n) = hash(n - 1), prev_hash(1) = 0^32
 * ```
 *
 * @example
 * ```ts
 * const chain = new AuditChain();
 * const { records } = chain.encode([{ tsInit: 1, recordType: 'tickflow.Tick', payload: Buffer.from([2]) }]);
 * console.log(records[0]?.seq, records[0]?.prev_hash.equals(AuditChain.genesisHash()));
 * // Logs: 1 true
 * ```
 */
export class AuditChain {
  private seq: number;
  private last: Buffer;
  /** UTF-8 of the few record type names, encoded once. */
  private readonly typeNames = new Map<string, Buffer>();

  /** The `prev_hash` of the very first record: 32 zero bytes (a fresh copy). */
  static genesisHash(): Buffer {
    return Buffer.alloc(HASH_SIZE);
  }

  /** The hash a record's encoding should carry: SHA-256 of all its bytes but the last 32. */
  static hashOf(encodedRecord: Buffer): Buffer {
    return hash('sha256', encodedRecord.subarray(0, encodedRecord.length - HASH_SIZE), 'buffer');
  }

  /**
   * @param lastSeq `seq` of the last record already in the trail, 0 for none.
   * @param lastHash Its hash; the genesis hash for none.
   */
  constructor(lastSeq = 0, lastHash: Buffer = AuditChain.genesisHash()) {
    this.seq = lastSeq;
    this.last = lastHash;
  }

  get lastSeq(): number {
    return this.seq;
  }

  get lastHash(): Buffer {
    return this.last;
  }

  /**
   * Appends `entries[from..to)` to the chain and encodes them into one buffer.
   * The chain advances at once: if the bytes never reach the file, the chain
   * must be discarded (the audit sink fails the stage and recovers from disk).
   */
  encode(entries: readonly AuditEntry[], from = 0, to = entries.length): EncodedRecords {
    let total = 0;
    for (let i = from; i < to; i++) {
      const entry = entries[i] as AuditEntry;
      const name = this.typeName(entry.recordType);
      total +=
        avroContainer.longSize(this.seq + 1 + i - from) +
        avroContainer.longSize(entry.tsInit) +
        avroContainer.longSize(name.length) +
        name.length +
        avroContainer.longSize(entry.payload.length) +
        entry.payload.length +
        2 * HASH_SIZE;
    }
    // Every byte is written below, so the buffer needs no zeroing.
    const bytes = Buffer.allocUnsafe(total);
    const records: AuditRecord[] = new Array<AuditRecord>(to - from);
    let pos = 0;
    for (let i = from; i < to; i++) {
      const entry = entries[i] as AuditEntry;
      const name = this.typeName(entry.recordType);
      const start = pos;
      const seq = ++this.seq;
      pos = avroContainer.writeLong(bytes, pos, seq);
      pos = avroContainer.writeLong(bytes, pos, entry.tsInit);
      pos = avroContainer.writeLong(bytes, pos, name.length);
      pos += name.copy(bytes, pos);
      pos = avroContainer.writeLong(bytes, pos, entry.payload.length);
      const payloadAt = pos;
      pos += entry.payload.copy(bytes, pos);
      const prevAt = pos;
      pos += this.last.copy(bytes, pos);
      const digest = hash('sha256', bytes.subarray(start, pos), 'buffer');
      const hashAt = pos;
      pos += digest.copy(bytes, pos);
      this.last = bytes.subarray(hashAt, pos);
      records[i - from] = {
        seq,
        ts_init: entry.tsInit,
        record_type: entry.recordType,
        payload: bytes.subarray(payloadAt, prevAt),
        prev_hash: bytes.subarray(prevAt, hashAt),
        hash: this.last,
      };
    }
    return { bytes, records };
  }

  private typeName(recordType: string): Buffer {
    let name = this.typeNames.get(recordType);
    if (name === undefined) {
      name = Buffer.from(recordType, 'utf8');
      this.typeNames.set(recordType, name);
    }
    return name;
  }
}
