import { describeAuditProblem } from '../../sinks/audit/describe-audit-problem.js';
import { verifyAuditTrail } from '../../sinks/audit/verify-audit-trail.js';
import { UsageError } from '../../errors/errors.js';
import type { CliCommand } from '../cli-command.js';

const SUBCOMMANDS = ['verify'] as const;

/**
 * `tickflow audit verify PATH`: checks an audit trail (a directory of audit
 * files, or one file) end to end and reports the first problem: a missing,
 * altered, reordered or inserted record, or a truncated or corrupt file,
 * naming the seq and the file. Exit code 0 with a summary line when all is
 * good, 1 on any problem.
 */
export const auditCommand: CliCommand = {
  name: 'audit',
  summary: 'Check audit trails written by the audit sink: every record, hash link and seq, across files.',
  usage: 'verify PATH    (PATH: an audit directory or one audit file)',
  options: {},
  optionHelp: {},
  async run(args, io) {
    const [sub, path, ...extra] = args.positionals;
    if (sub === undefined) throw new UsageError(`missing subcommand; subcommands: ${SUBCOMMANDS.join(', ')}`);
    if (sub !== 'verify') throw new UsageError(`unknown subcommand '${sub}'; subcommands: ${SUBCOMMANDS.join(', ')}`);
    if (path === undefined) throw new UsageError('missing PATH: give an audit directory (e.g. out/audit) or one audit file');
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}': verify takes one PATH`);
    let result;
    try {
      result = await verifyAuditTrail(path);
    } catch (error) {
      io.err(`${path}: cannot read: ${(error as Error).message}\n`);
      return 1;
    }
    if (result.problem !== undefined) {
      io.err(`${path}: ${describeAuditProblem(result.problem)}\n`);
      const { firstSeq, lastSeq } = result;
      const upTo = lastSeq === undefined || result.problem.seq === undefined ? lastSeq : Math.min(lastSeq, result.problem.seq - 1);
      const before =
        firstSeq === undefined || upTo === undefined || upTo < firstSeq
          ? 'no record before it is intact'
          : `the records before it are intact (seq ${firstSeq} to ${upTo})`;
      io.err(`${path}: ${before}\n`);
      return 1;
    }
    const seqs = result.firstSeq === undefined ? 'no records' : `seq ${result.firstSeq} to ${result.lastSeq}`;
    io.out(
      `${path}: ok: ${result.files} file(s), ${result.records} records, ${seqs}, last hash ${result.lastHash?.toString('hex') ?? '-'}\n`,
    );
    return 0;
  },
};
