import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.ts';
import { dispatch, helpText, type Command } from './command.ts';
import { rootCommand } from './main.ts';

function context() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    ctx: {
      config: loadConfig({}, '/r'),
      root: '/r',
      out: (l: string) => out.push(l),
      err: (l: string) => err.push(l),
    },
  };
}

const walk = (c: Command, path: string[] = []): [Command, string[]][] => [
  [c, path],
  ...(c.subcommands ?? []).flatMap((s) => walk(s, [...path, s.name])),
];

describe('the streamdesk command', () => {
  it('every command and subcommand answers --help with exit 0 and its usage', async () => {
    for (const [command, path] of walk(rootCommand)) {
      const { out, ctx } = context();
      expect(await dispatch(rootCommand, [...path, '--help'], ctx)).toBe(0);
      expect(out.join('\n')).toContain('Usage:');
      expect(out.join('\n')).toContain(command.summary);
    }
  });

  it('unknown commands and options are usage errors (SD_ERR_CLI_USAGE)', async () => {
    const { ctx } = context();
    await expect(dispatch(rootCommand, ['nope'], ctx)).rejects.toMatchObject({ code: 'SD_ERR_CLI_USAGE' });
    await expect(dispatch(rootCommand, ['stack', 'status', '--bogus'], ctx)).rejects.toMatchObject({
      code: 'SD_ERR_CLI_USAGE',
    });
    await expect(dispatch(rootCommand, ['stack', 'up', 'zookeeper'], ctx)).rejects.toMatchObject({
      code: 'SD_ERR_CLI_USAGE',
      message: expect.stringContaining('zookeeper'),
    });
  });

  it('a group without a subcommand prints its help to stderr and exits 2', async () => {
    const { err, ctx } = context();
    expect(await dispatch(rootCommand, ['stack'], ctx)).toBe(2);
    expect(err.join('\n')).toContain('Commands:');
  });

  it('help lists options with their descriptions', () => {
    const text = helpText(
      {
        name: 'x',
        summary: 's',
        usage: ['x'],
        options: { json: { type: 'boolean', description: 'Print JSON.' } },
      },
      ['x'],
    );
    expect(text).toMatch(/--json\s+Print JSON\./);
    expect(text).toMatch(/-h, --help\s+Show this help\./);
  });
});
