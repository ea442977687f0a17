import { hash } from 'node:crypto';
import type { AuditRecord } from '../../schemas/generated.js';
import { AuditBlock } from './audit-block.js';
import { linkRecords } from './link-records.js';

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
 * The audit sink encodes records straight into an {@link AuditBlock} and
 * links the block ({@link AuditChain.link}) just before it is written:
 * hashing stays per record, so every record verifies on its own.
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

  /** `seq` of the last record linked. */
  get lastSeq(): number {
    return this.seq;
  }

  get lastHash(): Buffer {
    return this.last;
  }

  /**
   * Links records `[from, to)` of `block`, which must continue the chain
   * (record `from` has seq `lastSeq + 1`): writes each one's `prev_hash` and
   * `hash` in place. The chain advances at once: if the bytes never reach
   * the file, the chain must be discarded (the audit sink fails the stage
   * and recovers from disk).
   */
  link(block: AuditBlock, from: number, to: number): void {
    this.advance(block, from, to);
    linkRecords(hash, block.buffer, block.starts, from, to);
  }

  /** Checks that `[from, to)` of `block` continues the chain, puts the last hash in its first `prev_hash`, and moves the chain past it. */
  private advance(block: AuditBlock, from: number, to: number): void {
    if (block.firstSeq + from !== this.seq + 1) {
      throw new Error(`audit chain: records from seq ${block.firstSeq + from} cannot follow seq ${this.seq}`);
    }
    if (from >= to) return;
    const buf = block.buffer;
    buf.set(this.last, block.start(from + 1) - 2 * HASH_SIZE);
    this.seq += to - from;
    // A view of the last record's hash, written by the time the linking is done.
    this.last = buf.subarray(block.start(to) - HASH_SIZE, block.start(to));
  }

  /**
   * Appends `entries[from..to)`, whose payloads are already encoded, to the
   * chain and encodes them into one buffer (see {@link AuditChain.link} for
   * what happens to the chain if they are not written).
   */
  encode(entries: readonly AuditEntry[], from = 0, to = entries.length): EncodedRecords {
    let payloadBytes = 0;
    for (let i = from; i < to; i++) payloadBytes += (entries[i] as AuditEntry).payload.length;
    const block = new AuditBlock(this.seq + 1, payloadBytes + (to - from) * 128);
    for (let i = from; i < to; i++) {
      const entry = entries[i] as AuditEntry;
      block.addEncoded(entry.tsInit, entry.recordType, entry.payload);
    }
    this.link(block, 0, block.count);
    const records: AuditRecord[] = new Array<AuditRecord>(block.count);
    for (let i = 0; i < block.count; i++) records[i] = block.record(i);
    return { bytes: block.bytes(), records };
  }
}
