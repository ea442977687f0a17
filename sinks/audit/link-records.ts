import type { hash as nodeHash } from 'node:crypto';

/**
 * Writes the hash chain into encoded AuditRecords laid out back to back in
 * `buf`: record `i` spans `[starts[i], starts[i + 1])`, its last 64 bytes
 * its `prev_hash` and `hash`. Record `from`'s `prev_hash` must be in place;
 * each record's `hash` becomes SHA-256 of its bytes but the last 32, and is
 * copied into the next one's `prev_hash`.
 *
 * Self-contained (it gets `hash` from its caller and refers to nothing
 * else), so that a worker thread could run its very source.
 *
 * @example
 * ```ts
 * import { hash } from 'node:crypto';
 * // Two records of one payload byte each, then their hashes: 65 bytes each.
 * const buf = Buffer.alloc(130);
 * buf[0] = 7;
 * buf[65] = 8;
 * linkRecords(hash, buf, [0, 65, 130], 0, 2);
 * console.log(buf.subarray(33, 65).equals(hash('sha256', buf.subarray(0, 33), 'buffer')), buf.subarray(66, 98).equals(buf.subarray(33, 65)));
 * // Logs: true true
 * ```
 *
 * @param hash `node:crypto`'s `hash`.
 * @param buf The records' buffer.
 * @param starts Where each record starts; one more: where the last one ends.
 * @param from The first record to link.
 * @param to The record after the last one to link.
 */
export function linkRecords(hash: typeof nodeHash, buf: Buffer, starts: ArrayLike<number>, from: number, to: number): void {
  const HASH_SIZE = 32; // here, not in the module: the worker runs this function's source alone
  for (let i = from; i < to; i++) {
    const hashAt = (starts[i + 1] as number) - HASH_SIZE;
    // One call per record: the chain is what lets a verifier name the first record that was altered. As a latin1
    // string the digest costs no ArrayBuffer of its own (a Buffer per digest took twice the time, in GC).
    const digest = hash('sha256', buf.subarray(starts[i], hashAt), 'binary');
    buf.write(digest, hashAt, HASH_SIZE, 'latin1');
    if (i + 1 < to) buf.write(digest, (starts[i + 2] as number) - 2 * HASH_SIZE, HASH_SIZE, 'latin1');
  }
}
