#!/usr/bin/env node
import { runCli } from './run-cli.js';

const code = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
});
process.exitCode = code;
// The command is over; whatever still holds the event loop (a handle a component failed to close) must not keep the
// process, and a failed run, alive. The timer does not itself keep the loop alive.
setTimeout(() => {
  process.stderr.write(`tickflow: exiting with ${code}; something still held the event loop 5 s after the command ended\n`);
  process.exit(code);
}, 5000).unref();
