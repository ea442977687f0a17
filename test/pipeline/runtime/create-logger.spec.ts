import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../pipeline/runtime/create-logger.js';

describe('createLogger', () => {
  it('writes JSON lines with secrets redacted', () => {
    const lines: string[] = [];
    const logger = createLogger({ pretty: false, destination: { write: (line: string) => lines.push(line) } });
    logger.info({ config: { front: 'tcp://127.0.0.1:1', password: 'hunter2' }, token: 'abc' }, 'connecting');
    const entry = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(entry).toMatchObject({ msg: 'connecting', token: '[redacted]', config: { front: 'tcp://127.0.0.1:1', password: '[redacted]' } });
    expect(lines[0]).not.toContain('hunter2');
  });
});
