#!/usr/bin/env node
// Entry point of the `streamdesk` command. It runs the TypeScript sources directly, which needs a Node
// with type stripping on by default (22.18+, 24 LTS, 26); npm scripts and `npx` use the Node 24 that
// the project's `node` devDependency installs.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18) || major === 23) {
  process.stderr.write(
    `streamdesk needs Node.js 22.18+ or 24+ (found ${process.version}). ` +
      'Run it through npm (`npx streamdesk …` or `npm run streamdesk -- …`), which uses the pinned Node 24.\n',
  );
  process.exit(1);
}
const { main } = await import('../src/cli/main.ts');
// Exit explicitly: a client library may keep a socket open (e.g. a probe of a port held by a program
// that never answers), and a finished command must not hang on it. stdout/stderr are synchronous for
// files and pipes on Linux, so nothing printed is lost.
process.exit(await main(process.argv.slice(2)));
