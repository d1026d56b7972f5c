import { Command, Option } from 'commander';
import type { CommandContext } from './context.js';
import { templateNames } from './templates/registry.js';

/** One line per command, for `npm run cli`; the order is the order a user needs them. */
export const COMMANDS: ReadonlyArray<readonly [string, string]> = [
  ['npm run up', 'create .env (with a new token) if missing, build, start detached'],
  ['npm run init', 'create .env from .env.example with new tokens (asks on a terminal)'],
  ['npm run doctor', 'check the engine, .env, token, port, images, CA and disk, with fixes'],
  ['npm run gen_key', 'print a random hex key (or write it to a 0600 file)'],
  ['npm run build', 'build the image of the chosen template with the MCP server inside'],
  ['npm run start', 'start the container (attached; -d to detach and wait until healthy)'],
  ['npm run connect', 'ready-to-paste configuration for Claude, Cursor, VS Code, the Inspector'],
  ['npm run trust', "add the local CA (it signs the instances' certificates) to this machine's trust stores (asks first)"],
  ['npm run untrust', 'remove the local CA from the trust stores again (--delete also deletes it)'],
  ['npm run status', 'every instance: health, uptime, restarts, URL, image'],
  ['npm run logs', 'the container log of an instance (-f to follow)'],
  ['npm run tools', 'pinned tool definitions: what changed since pinned (withheld), and --accept NAME... or --accept-all'],
  ['npm run audit', 'the audit trail of tool calls (--verify checks its chain)'],
  ['npm run egress-learned', 'MCP_EGRESS=learn: the MCP_EGRESS line that allows what the server reached'],
  ['npm run stop', 'stop and remove the container (a name, or --all); --delete-data also deletes its MCP_DATA'],
  ['npm run revoke', 'AUTH=oauth: revoke every OAuth token of an instance (clients consent again)'],
  ['npm run export', 'the same sandbox as a Compose project or a Kubernetes manifest set (preview, or --out DIR)'],
  ['npm run bench', 'measure the chain against direct stdio, Supergateway alone and the guide (-- --quick)'],
  ['npm run cli', 'this table'],
];

export function commandTable(): string {
  const width = Math.max(...COMMANDS.map(([name]) => name.length));
  const lines = COMMANDS.map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`);
  return ['mcp-sandbox commands (add `-- -h` to any of them for its options):', '', ...lines, ''].join('\n');
}

const envFileOption = () => new Option('--env-file <path>', 'settings file').default('.env');
const contextOption = () => new Option('--context <name>', 'the Docker context to use (overrides DOCKER_HOST and DOCKER_CONTEXT; see docs/REMOTE.md)');
const templateOption = () => {
  const names = templateNames();
  return new Option('--template <name>', `${names.slice(0, -1).join(', ')} or ${names.at(-1)} (overrides TEMPLATE)`);
};
const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

/**
 * Command modules load only when their command runs: `npm run cli` and `-h`
 * read nothing but this file (no settings parser, no process runner).
 */
const commands = {
  build: () => import('./commands/build.js'),
  connect: () => import('./commands/connect.js'),
  doctor: () => import('./commands/doctor.js'),
  export: () => import('./commands/export.js'),
  genKey: () => import('./commands/gen-key.js'),
  init: () => import('./commands/init.js'),
  logs: () => import('./commands/logs.js'),
  audit: () => import('./commands/audit.js'),
  egressLearned: () => import('./commands/egress-learned.js'),
  tools: () => import('./commands/tools.js'),
  start: () => import('./commands/start.js'),
  status: () => import('./commands/status.js'),
  stop: () => import('./commands/stop.js'),
  revoke: () => import('./commands/revoke.js'),
  trust: () => import('./commands/trust.js'),
  up: () => import('./commands/up.js'),
};

/** Where a command's instance is named: the argument, or -n (the env file only when given). */
const nameOptions = (name: string | undefined, options: { name?: string; envFile: string }) => ({
  ...options,
  name: name ?? options.name,
  envFile: options.envFile === '.env' ? undefined : options.envFile,
});

/** status reads the env file only for DOCKER_HOST/DOCKER_CONTEXT: the default one only when it exists. */
const envFileGiven = <T extends { envFile: string }>(options: T) => ({ ...options, envFile: options.envFile === '.env' ? undefined : options.envFile });

/** The terminal prompt of a command that asks, unless --yes was given or there is no terminal. */
const terminalAsk = async (options: OptionValues) => (process.stdin.isTTY && !options.yes ? (await import('./init/ask.js')).terminalAsk() : undefined);

/**
 * What commander parsed, untyped as commander gives it: each command module
 * validates its options with its own zod schema (commands/X.ts).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type OptionValues = any;

/** An option as commander's `.option(flags, description, default)`, or a shared one built beforehand. */
type OptionSpec = readonly [flags: string, description: string, defaultValue?: string | boolean] | Option;

/** One command: what commander shows and parses, and the thin adapter that calls its module. */
interface CommandSpec {
  name: string;
  description: string;
  /** The optional instance name some commands take first. */
  argument?: readonly [name: string, description: string];
  options?: readonly OptionSpec[];
  help?: string;
  /** Runs the command: commander's options, and the argument when the command takes one. */
  run(ctx: CommandContext, options: OptionValues, argument?: string): unknown;
}

const nameArgument = ['[name]', 'instance name (default: NAME from the env file)'] as const;
const nameOption = ['-n, --name <name>', 'instance name (same as the argument)'] as const;
const yesOption = ['-y, --yes', 'run the commands without asking', false] as const;

/** Every command, in the order `-h` lists them. Commander parses, the command modules validate and act. */
const COMMAND_SPECS: readonly CommandSpec[] = [
  {
    name: 'cli',
    description: 'list every command with one line each',
    run: (ctx) => ctx.out.data(commandTable()),
  },
  {
    name: 'gen_key',
    description: 'generate a random hex key with node:crypto',
    options: [
      ['-s, --size <bytes>', 'key size in bytes (at least 16)', '32'],
      ['-f, --file <path>', 'write the key to this file (mode 0600) instead of printing it'],
      ['--force', 'replace the file if it exists', false],
    ],
    help: examples('npm run gen_key', 'npm run gen_key -- -s 48', 'npm run gen_key -- -f token.txt'),
    run: async (ctx, options) => (await commands.genKey()).genKey(ctx, options),
  },
  {
    name: 'build',
    description: 'docker build of the chosen template, with build arguments from .env (never a secret)',
    options: [
      ['-t, --tag <tag>', 'image tag (the image is NAME:TAG)', 'latest'],
      ['--no-cache', 'build every layer again'],
      ['--platform <platform>', 'target platform, such as linux/arm64'],
      ['--dry-run', 'print the docker command and run nothing', false],
      envFileOption(),
      contextOption(),
      templateOption(),
    ],
    help: examples('npm run build', 'npm run build -- --no-cache', 'npm run build -- --env-file .env.github -t v2'),
    run: async (ctx, options) => (await commands.build()).build(ctx, options),
  },
  {
    name: 'start',
    description: 'start the container, replacing one of the same name',
    options: [
      ['-d, --detach', 'run in the background (restarts unless stopped) and wait until an MCP client is served (initialize, tools/list)', false],
      ['-t, --tag <tag>', 'image tag to run', 'latest'],
      ['--timeout <seconds>', 'how long -d waits for the health check and the MCP round trip', '90'],
      ['--allow-dangerous-mounts', 'accept MCP_MOUNTS of /, your home folder, the project or the Docker socket', false],
      ['--dry-run', 'print the docker command (secrets masked) and run nothing', false],
      envFileOption(),
      contextOption(),
      templateOption(),
    ],
    help: `${examples('npm run start            # attached: logs on screen, Ctrl-C stops', 'npm run start -- -d', 'npm run start -- -d --env-file .env.github')}
Exit status: -d exits 0 once a client is served ("Ready: N tools (...)"), 1 when the server failed or
did not answer in time (its own error lines are printed), 2 on bad settings. Attached, the command ends
with the container: 0 after Ctrl-C stopped it cleanly (130 if it did not stop cleanly), else the
container's own non-zero status.`,
    run: async (ctx, options) => {
      await (await commands.start()).start(ctx, options);
    },
  },
  {
    name: 'stop',
    description: 'stop and remove the container (says so when nothing runs)',
    argument: nameArgument,
    options: [
      nameOption,
      ['--all', 'every instance this tool manages on the engine', false],
      ['--delete-data', "also delete the instance's MCP_DATA volume (NAME-data): its data is gone for good", false],
      ['--dry-run', 'print the docker commands and run nothing', false],
      envFileOption(),
      contextOption(),
    ],
    help: examples('npm run stop', 'npm run stop -- mcp-github', 'npm run stop -- --all', 'npm run stop -- --delete-data'),
    run: async (ctx, options, name) => (await commands.stop()).stop(ctx, nameOptions(name, options as { name?: string; envFile: string })),
  },
  {
    name: 'revoke',
    description: 'AUTH=oauth: revoke every OAuth access and refresh token of an instance; ACCESS_TOKEN keeps working',
    argument: nameArgument,
    options: [nameOption, ['--dry-run', 'print the docker command and run nothing', false], envFileOption(), contextOption()],
    help: examples('npm run revoke', 'npm run revoke -- mcp-github'),
    run: async (ctx, options, name) => (await commands.revoke()).revoke(ctx, nameOptions(name, options as { name?: string; envFile: string })),
  },
  {
    name: 'status',
    description: 'every instance this tool manages (found through Docker labels): health, uptime, restarts, URL, image',
    options: [
      ['--json', 'print JSON', false],
      ['--probe', 'also make one MCP round trip (initialize, tools/list) to each running instance, on its internal path', false],
      envFileOption().default('.env', 'the env file, read for DOCKER_HOST/DOCKER_CONTEXT only'),
      contextOption(),
    ],
    help: examples('npm run status', 'npm run status -- --probe', 'npm run status -- --json --probe'),
    run: async (ctx, options) => {
      await (await commands.status()).status(ctx, envFileGiven(options as { envFile: string }));
    },
  },
  {
    name: 'logs',
    description: "the instance's container log",
    argument: nameArgument,
    options: [
      nameOption,
      ['-f, --follow', 'keep printing new lines until Ctrl-C', false],
      ['--tail <lines>', 'how many of the last lines (or all)', '100'],
      envFileOption(),
      contextOption(),
    ],
    help: examples('npm run logs', 'npm run logs -- -f', 'npm run logs -- mcp-github --tail all'),
    run: async (ctx, options, name) => (await commands.logs()).logs(ctx, nameOptions(name, options as { name?: string; envFile: string })),
  },
  {
    name: 'tools',
    description: 'pinned tool definitions: the tools withheld since they changed or are new since pinned, with what changed; --accept pins them',
    argument: nameArgument,
    options: [
      ['--accept <tools...>', 'pin these withheld tools as they are now: served again without a restart'],
      ['--accept-all', 'pin every withheld tool as it is now', false],
      ['--json', 'print JSON', false],
      nameOption,
      envFileOption(),
      contextOption(),
    ],
    help: examples('npm run tools', 'npm run tools -- mcp-github', 'npm run tools -- --accept read_file write_file', 'npm run tools -- --accept-all'),
    run: async (ctx, options, name) => (await commands.tools()).tools(ctx, nameOptions(name, options as { name?: string; envFile: string })),
  },
  {
    name: 'audit',
    description: "the instance's audit trail: tool calls, refusals, sessions",
    argument: nameArgument,
    options: [
      nameOption,
      ['-f, --follow', 'keep printing new lines until Ctrl-C', false],
      ['--tool <name>', 'only the lines of this tool'],
      ['--session <id>', 'only this session (its first characters are enough)'],
      ['--since <time>', 'only lines at or after this time (such as 2026-12-03T18:00:00Z)'],
      ['--until <time>', 'only lines at or before this time'],
      ['--json', 'the lines as written (one JSON object each)', false],
      ['--verify', 'check the hash chain; exit 1 naming each break', false],
      envFileOption(),
      contextOption(),
    ],
    help: examples('npm run audit', 'npm run audit -- --tool write_file --since 2026-12-03', 'npm run audit -- --verify', 'npm run audit -- -f --json'),
    run: async (ctx, options, name) => (await commands.audit()).audit(ctx, nameOptions(name, options as { name?: string; envFile: string })),
  },
  {
    name: 'egress-learned',
    description: 'MCP_EGRESS=learn: print the MCP_EGRESS line that allows exactly what the server reached',
    argument: nameArgument,
    options: [nameOption, envFileOption(), contextOption()],
    help: examples('npm run egress-learned', 'npm run egress-learned -- mcp-github'),
    run: async (ctx, options, name) => (await commands.egressLearned()).egressLearned(ctx, nameOptions(name, options as { name?: string; envFile: string })),
  },
  {
    name: 'connect',
    description: 'ready-to-paste client configurations for the running instance (they hold the token)',
    options: [
      ['-c, --client <client>', 'claude-desktop, claude-code, cursor, vscode or inspector (default: all)'],
      ['--json', 'print JSON', false],
      envFileOption(),
      contextOption(),
    ],
    help: examples('npm run connect', 'npm run connect -- --client claude-desktop', 'npm run connect -- --client vscode --env-file .env.github'),
    run: async (ctx, options) => {
      await (await commands.connect()).connect(ctx, options);
    },
  },
  {
    name: 'export',
    description: 'write the instance as a Compose project or Kubernetes manifests with the same hardening (secrets in 0600 files, never in the YAML)',
    options: [
      ['--format <format>', 'compose or kubernetes'],
      ['--out <dir>', 'write the files into this folder (created; without it they are printed, secrets masked)'],
      ['--image <ref>', 'the image to pull instead of the local NAME:latest (one env file)'],
      ['--registry <path>', 'pull each instance from REGISTRY/NAME:latest'],
      ['--push', 'run the printed docker tag and docker push lines', false],
      ['--force', 'replace the content of a non-empty --out folder', false],
      ['--allow-dangerous-mounts', 'accept MCP_MOUNTS of /, your home folder, the project or the Docker socket', false],
      new Option('--env-file <path>', 'settings file; repeat it for several instances in one export (default .env)').argParser(
        (value: string, previous?: string[]) => [...(previous ?? []), value],
      ),
    ],
    help: examples(
      'npm run export -- --format compose',
      'npm run export -- --format compose --out deploy/ && docker-compose -f deploy/compose.yaml up -d',
      'npm run export -- --format kubernetes --out k8s/ --registry registry.example.com/team',
      'npm run export -- --format compose --out deploy/ --env-file .env --env-file .env.github',
    ),
    run: async (ctx, options) => (await commands.export()).exportCommand(ctx, options),
  },
  {
    name: 'doctor',
    description: 'check everything build and start need, each check with its fix (exit 1 when one fails)',
    options: [['--json', 'print JSON', false], envFileOption(), contextOption()],
    help: examples('npm run doctor', 'npm run doctor -- --json --env-file .env.github'),
    run: async (ctx, options) => {
      const checks = await (await commands.doctor()).doctor(ctx, options);
      if (checks.some((c) => c.verdict === 'fail')) process.exitCode = 1;
    },
  },
  {
    name: 'init',
    description: 'create .env from .env.example with new tokens; asks on a terminal (never overwrites without --force)',
    options: [
      ['-y, --yes', 'take the defaults without asking', false],
      ['--force', 'replace an existing env file (its token is lost)', false],
      envFileOption(),
    ],
    help: examples('npm run init', 'npm run init -- --yes', 'npm run init -- --yes --env-file .env.github'),
    run: async (ctx, options) => {
      await (await commands.init()).init(ctx, options, await terminalAsk(options));
    },
  },
  {
    name: 'up',
    description: 'first run: create .env with a new token when missing (never overwrites), build, start -d',
    options: [envFileOption(), contextOption()],
    help: examples('npm run up'),
    run: async (ctx, options) => {
      await (await commands.up()).up(ctx, options, await terminalAsk(options));
    },
  },
  {
    name: 'trust',
    description:
      "add the local CA to the system trust store and Chromium/Firefox's: shows the commands, runs them after a yes (prints them without a terminal)",
    options: [yesOption, ['--dry-run', 'print the commands and run nothing', false], envFileOption()],
    help: examples('npm run trust', 'npm run trust -- --dry-run', 'npm run trust -- --yes'),
    run: async (ctx, options) => {
      await (await commands.trust()).trust(ctx, options, await terminalAsk(options));
    },
  },
  {
    name: 'untrust',
    description: 'remove the local CA from the trust stores `trust` changed (--delete also deletes the CA)',
    options: [
      yesOption,
      ['--delete', 'also delete the CA, so that the next start makes a new one (with the TLS_HOSTNAMES of then)', false],
      ['--dry-run', 'print the commands and run nothing', false],
      envFileOption(),
    ],
    help: examples('npm run untrust', 'npm run untrust -- --delete'),
    run: async (ctx, options) => {
      await (await commands.trust()).untrust(ctx, options, await terminalAsk(options));
    },
  },
];

/** The program: one commander command per entry of COMMAND_SPECS. */
export function createProgram(ctx: CommandContext): Command {
  const program = new Command('mcp-sandbox')
    .description('Run a stdio MCP server in a hardened container behind TLS and a bearer token.')
    .showHelpAfterError('(add -h for help)')
    .exitOverride();
  for (const spec of COMMAND_SPECS) {
    const command = program.command(spec.name).description(spec.description);
    if (spec.argument) command.argument(...spec.argument);
    for (const option of spec.options ?? []) {
      if (option instanceof Option) command.addOption(option);
      else command.option(...(option as [string, string, (string | boolean)?]));
    }
    if (spec.help) command.addHelpText('after', spec.help);
    command.action(async (...args: unknown[]) => {
      await (spec.argument ? spec.run(ctx, args[1], args[0] as string | undefined) : spec.run(ctx, args[0]));
    });
  }
  return program;
}
