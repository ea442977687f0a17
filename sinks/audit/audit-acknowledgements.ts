import type { SinkAcknowledgements } from '../../pipeline/components/component-definition.js';
import type { AuditRecord } from '../../schemas/generated.js';
import type { AuditBlock } from './audit-block.js';

/**
 * The writes that went into one audit block, acknowledged together: one
 * promise for all of them, whatever their ports (not one per record),
 * resolved once the block is on disk with these acknowledgements, which
 * build a record's AuditRecord only when asked for it (`at`), as the
 * runner emits it.
 *
 * @example
 * ```ts
 * import { AuditBlock } from './audit-block.js';
 * const block = new AuditBlock(1);
 * const writes = new AuditAcknowledgements();
 * block.addEncoded(1_735_822_800_000_000, 'tickflow.Tick', Buffer.from([2]));
 * writes.acknowledge(block); // after the fdatasync covering the block
 * const acknowledged = await writes.promise;
 * console.log(acknowledged.length, acknowledged.at(0).seq);
 * // Logs: 1 1
 * ```
 */
export class AuditAcknowledgements implements SinkAcknowledgements {
  /** Resolves with this object once the records are on disk; rejects with the failure that kept them off it. */
  readonly promise: Promise<AuditAcknowledgements>;
  private block: AuditBlock | undefined;
  private settle!: (acknowledgements: AuditAcknowledgements) => void;
  private fail!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise<AuditAcknowledgements>((resolve, reject) => {
      this.settle = resolve;
      this.fail = reject;
    });
    // A block whose only write failed to encode was never handed out: its rejection is nobody's to hear.
    this.promise.catch(() => undefined);
  }

  /** Records acknowledged: those of the block, once on disk. */
  get length(): number {
    return this.block?.count ?? 0;
  }

  /** The AuditRecord of the block's record `i`, its buffers views of the block (built on each call). */
  at(i: number): AuditRecord {
    return (this.block as AuditBlock).record(i);
  }

  /** Resolves the promise: the records are in `block`, the one written (which may be a renumbered copy of the one filled). */
  acknowledge(block: AuditBlock): void {
    this.block = block;
    this.settle(this);
  }

  reject(error: unknown): void {
    this.fail(error);
  }
}
