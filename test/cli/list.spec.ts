import { describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';

/** The lines of one component in `tickflow list`: its own line and the indented ones under it. */
function componentBlock(stdout: string, kind: string, name: string): string[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`  ${kind.padEnd(8)} ${name} `));
  expect(start, `${kind} ${name} in tickflow list`).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('      '));
  return lines.slice(start, end);
}

describe('tickflow list', () => {
  it('shows a component as its definition states it: side outputs, examples, bounds, env, secrets, rules, what only a run checks', async () => {
    const { code, stdout, stderr } = await runCli(['list']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const wsFeed = componentBlock(stdout, 'source', 'ws-feed');
    expect(wsFeed[0]).toMatch(/^ {2}source {3}ws-feed +-> Tick +Ticks from an upstream DIFF-protocol WebSocket server/);
    expect(wsFeed).toContain('      side output status: FeedStatus (read as STAGE.status)');
    expect(wsFeed).toContain('      url (string, required, e.g. "ws://127.0.0.1:7777/"): WebSocket URL of the upstream DIFF server');
    expect(wsFeed).toContain(
      '      token (string, secret, default not shown, env TICKFLOW_WS_FEED_TOKEN, e.g. "s3cret"): Bearer token for the upstream, if it asks for one',
    );
    expect(wsFeed).toContainEqual(
      expect.stringMatching(/^ {6}stale_after_ms \(integer, default 3000, min 1, max 3600000, e\.g\. 1000\): /),
    );
    expect(wsFeed).toContain("      rule: 'url' starts with ws:// or wss://");
    expect(wsFeed).toContain("      checked at start: that the feed at 'url' answers (the source retries until it does)");

    const dedupMerge = componentBlock(stdout, 'operator', 'dedup-merge');
    expect(dedupMerge).toContain('      side output status: FeedStatus (read as STAGE.status)');
    expect(dedupMerge).toContain("      rule: 'down_after_ms' must exceed 'stale_after_ms'");

    // The redis URL is secret: its default (a local Redis) is not printed, only that there is one.
    const redis = componentBlock(stdout, 'sink', 'redis');
    expect(redis).toContainEqual(expect.stringMatching(/^ {6}url \(string, secret, default not shown, env TICKFLOW_REDIS_URL, e\.g\. /));
    expect(stdout).not.toContain('redis://127.0.0.1:6379');
  });
});
