import type { CliCommand } from '../cli-command.js';
import { haltCommand, postTradingState } from './halt-command.js';

/** `tickflow resume`: sets the risk stage of a running pipeline back to ACTIVE after a halt. */
export const resumeCommand: CliCommand = {
  name: 'resume',
  summary: 'Set the risk stage of a running pipeline back to ACTIVE (orders pass the risk rules again).',
  usage: haltCommand.usage,
  options: haltCommand.options,
  optionHelp: {
    ...haltCommand.optionHelp,
    reason: 'Why you resume; recorded in the stage’s RiskControlChanged (audited) beside the principal of your control token',
  },
  run: (args, io) => postTradingState('resume', 'ACTIVE', args, io),
};
