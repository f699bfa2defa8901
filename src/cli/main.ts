/**
 * The `streamdesk` command. Wiring only: read configuration once, pick the command, map errors to
 * exit codes (2 for usage mistakes, 1 for everything else) and a readable message.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { loadConfig } from '../config/index.ts';
import { isStreamdeskError } from '../errors.ts';
import { PROJECT_ROOT } from '../paths.ts';
import { dispatch, type Command } from './command.ts';
import { dltCommand } from './dlt.ts';
import { lagCommand } from './lag.ts';
import { intakeCommand } from './intake.ts';
import { ksqlCommand } from './ksql.ts';
import { ksqlServerCommand } from './ksql-server.ts';
import { schemasCommand } from './schemas.ts';
import { stackCommand } from './stack.ts';
import { ticketsCommand } from './tickets.ts';
import { topicsCommand } from './topics.ts';
import { downCommand, statusCommand, upCommand } from './up.ts';

export const rootCommand: Command = {
  name: 'streamdesk',
  summary: 'event-streaming backbone for customer-support CRMs',
  usage: ['<command> [options]', '<command> --help'],
  subcommands: [
    upCommand,
    downCommand,
    statusCommand,
    stackCommand,
    topicsCommand,
    schemasCommand,
    intakeCommand,
    ksqlServerCommand,
    ksqlCommand,
    ticketsCommand,
    dltCommand,
    lagCommand,
  ],
  details: 'Configuration comes from the environment and an optional .env file (keys: .env.example).',
};

/** Values from `<root>/.env` for keys the environment does not already set. */
export function environment(root: string, env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const file = `${root}/.env`;
  if (!existsSync(file)) return { ...env };
  return { ...parseEnv(readFileSync(file, 'utf8')), ...env };
}

export async function main(argv: readonly string[]): Promise<number> {
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  const err = (line: string): void => void process.stderr.write(`${line}\n`);
  try {
    const config = loadConfig(environment(PROJECT_ROOT, process.env), PROJECT_ROOT);
    return await dispatch(rootCommand, argv, { config, root: PROJECT_ROOT, out, err });
  } catch (error) {
    if (isStreamdeskError(error)) {
      err(`streamdesk: ${error.code}: ${error.message}`);
      return error.code === 'SD_ERR_CLI_USAGE' ? 2 : 1;
    }
    err(
      `streamdesk: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return 1;
  }
}
