import type { AvroBlock } from './avro-container-reader.js';
import type { InputPosition } from './invalid-input-reporter.js';

/** Where record `index` (0-based) of `block` is: its record number, or the block's byte offset once record numbers are unknown. */
export function recordPosition(block: AvroBlock, index: number): InputPosition {
  return block.firstRecord === undefined ? { byte: block.byte } : { record: block.firstRecord + index };
}
