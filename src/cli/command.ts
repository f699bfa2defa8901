/**
 * The small command framework behind `streamdesk`: each command declares its usage, options and
 * subcommands; `--help` works everywhere; usage mistakes exit 2 with SD_ERR_CLI_USAGE, runtime
 * failures exit 1 with the error's code and safe message.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Config } from '../config/index.ts';
import { StreamdeskError } from '../errors.ts';

export interface CliContext {
  readonly config: Config;
  readonly root: string;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & { readonly description: string };

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Shown under "Usage:", one line per form, without the leading `streamdesk`. */
  readonly usage: readonly string[];
  /** Extra help text: what it does, defaults, examples. */
  readonly details?: string;
  readonly options?: Readonly<Record<string, OptionSpec>>;
  readonly subcommands?: readonly Command[];
  run?(args: ParsedArgs, ctx: CliContext): Promise<number>;
}

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: readonly string[];
}

export function usageError(message: string): StreamdeskError {
  return new StreamdeskError('CLI_USAGE', message);
}

export function helpText(command: Command, path: readonly string[]): string {
  const lines = [`${['streamdesk', ...path].join(' ')} — ${command.summary}`, '', 'Usage:'];
  for (const u of command.usage) lines.push(`  streamdesk ${u}`);
  if (command.subcommands?.length) {
    lines.push('', 'Commands:');
    const width = Math.max(...command.subcommands.map((c) => c.name.length));
    for (const c of command.subcommands) lines.push(`  ${c.name.padEnd(width)}  ${c.summary}`);
  }
  const options = {
    ...command.options,
    help: { type: 'boolean', short: 'h', description: 'Show this help.' },
  };
  lines.push('', 'Options:');
  const rendered = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ' <value>' : ''}`;
    return [flag, o.description] as const;
  });
  const width = Math.max(...rendered.map(([f]) => f.length));
  for (const [flag, description] of rendered) lines.push(`  ${flag.padEnd(width)}  ${description}`);
  if (command.details) lines.push('', command.details.trim());
  return lines.join('\n');
}

/** Dispatch `argv` (after the program name) through `root`'s subcommands. Returns the exit code. */
export async function dispatch(root: Command, argv: readonly string[], ctx: CliContext): Promise<number> {
  let command = root;
  const path: string[] = [];
  let rest = [...argv];
  while (command.subcommands && rest[0] !== undefined && !rest[0].startsWith('-')) {
    const name = rest[0];
    const next = command.subcommands.find((c) => c.name === name);
    if (!next) {
      throw usageError(
        `unknown command "${[...path, name].join(' ')}"; try \`streamdesk ${path.join(' ')}${path.length ? ' ' : ''}--help\``,
      );
    }
    command = next;
    path.push(name);
    rest = rest.slice(1);
  }
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw usageError(`${(error as Error).message}; see \`streamdesk ${path.join(' ')} --help\``);
  }
  if (parsed.values['help'] === true || !command.run) {
    if (!command.run && parsed.values['help'] !== true && path.length > 0) {
      ctx.err(helpText(command, path));
      return 2;
    }
    ctx.out(helpText(command, path));
    return 0;
  }
  return command.run(parsed, ctx);
}
