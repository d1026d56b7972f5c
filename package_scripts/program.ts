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

/** Thin adapters: commander parses, the command modules validate and act. */
export function createProgram(ctx: CommandContext): Command {
  const program = new Command('mcp-sandbox')
    .description('Run a stdio MCP server in a hardened container behind TLS and a bearer token.')
    .showHelpAfterError('(add -h for help)')
    .exitOverride();

  program
    .command('cli')
    .description('list every command with one line each')
    .action(() => ctx.out.data(commandTable()));

  program
    .command('gen_key')
    .description('generate a random hex key with node:crypto')
    .option('-s, --size <bytes>', 'key size in bytes (at least 16)', '32')
    .option('-f, --file <path>', 'write the key to this file (mode 0600) instead of printing it')
    .option('--force', 'replace the file if it exists', false)
    .addHelpText('after', examples('npm run gen_key', 'npm run gen_key -- -s 48', 'npm run gen_key -- -f token.txt'))
    .action(async (options) => (await commands.genKey()).genKey(ctx, options));

  program
    .command('build')
    .description('docker build of the chosen template, with build arguments from .env (never a secret)')
    .option('-t, --tag <tag>', 'image tag (the image is NAME:TAG)', 'latest')
    .option('--no-cache', 'build every layer again')
    .option('--platform <platform>', 'target platform, such as linux/arm64')
    .option('--dry-run', 'print the docker command and run nothing', false)
    .addOption(envFileOption())
    .addOption(contextOption())
    .addOption(templateOption())
    .addHelpText('after', examples('npm run build', 'npm run build -- --no-cache', 'npm run build -- --env-file .env.github -t v2'))
    .action(async (options) => (await commands.build()).build(ctx, options));

  program
    .command('start')
    .description('start the container, replacing one of the same name')
    .option('-d, --detach', 'run in the background (restarts unless stopped) and wait until an MCP client is served (initialize, tools/list)', false)
    .option('-t, --tag <tag>', 'image tag to run', 'latest')
    .option('--timeout <seconds>', 'how long -d waits for the health check and the MCP round trip', '90')
    .option('--allow-dangerous-mounts', 'accept MCP_MOUNTS of /, your home folder, the project or the Docker socket', false)
    .option('--dry-run', 'print the docker command (secrets masked) and run nothing', false)
    .addOption(envFileOption())
    .addOption(contextOption())
    .addOption(templateOption())
    .addHelpText(
      'after',
      `${examples('npm run start            # attached: logs on screen, Ctrl-C stops', 'npm run start -- -d', 'npm run start -- -d --env-file .env.github')}
Exit status: -d exits 0 once a client is served ("Ready: N tools (...)"), 1 when the server failed or
did not answer in time (its own error lines are printed), 2 on bad settings. Attached, the command ends
with the container: 0 after Ctrl-C stopped it cleanly (130 if it did not stop cleanly), else the
container's own non-zero status.`,
    )
    .action(async (options) => {
      await (await commands.start()).start(ctx, options);
    });

  program
    .command('stop')
    .description('stop and remove the container (says so when nothing runs)')
    .argument('[name]', 'instance name (default: NAME from the env file)')
    .option('-n, --name <name>', 'instance name (same as the argument)')
    .option('--all', 'every instance this tool manages on the engine', false)
    .option('--delete-data', "also delete the instance's MCP_DATA volume (NAME-data): its data is gone for good", false)
    .option('--dry-run', 'print the docker commands and run nothing', false)
    .addOption(envFileOption())
    .addOption(contextOption())
    .addHelpText('after', examples('npm run stop', 'npm run stop -- mcp-github', 'npm run stop -- --all', 'npm run stop -- --delete-data'))
    .action(async (name, options) => (await commands.stop()).stop(ctx, nameOptions(name, options)));

  program
    .command('revoke')
    .description('AUTH=oauth: revoke every OAuth access and refresh token of an instance; ACCESS_TOKEN keeps working')
    .argument('[name]', 'instance name (default: NAME from the env file)')
    .option('-n, --name <name>', 'instance name (same as the argument)')
    .option('--dry-run', 'print the docker command and run nothing', false)
    .addOption(envFileOption())
    .addOption(contextOption())
    .addHelpText('after', examples('npm run revoke', 'npm run revoke -- mcp-github'))
    .action(async (name, options) => (await commands.revoke()).revoke(ctx, nameOptions(name, options)));

  program
    .command('status')
    .description('every instance this tool manages (found through Docker labels): health, uptime, restarts, URL, image')
    .option('--json', 'print JSON', false)
    .option('--probe', 'also make one MCP round trip (initialize, tools/list) to each running instance, on its internal path', false)
    .addOption(envFileOption().default('.env', 'the env file, read for DOCKER_HOST/DOCKER_CONTEXT only'))
    .addOption(contextOption())
    .addHelpText('after', examples('npm run status', 'npm run status -- --probe', 'npm run status -- --json --probe'))
    .action(async (options) => {
      await (await commands.status()).status(ctx, envFileGiven(options));
    });

  program
    .command('logs')
    .description("the instance's container log")
    .argument('[name]', 'instance name (default: NAME from the env file)')
    .option('-n, --name <name>', 'instance name (same as the argument)')
    .option('-f, --follow', 'keep printing new lines until Ctrl-C', false)
    .option('--tail <lines>', 'how many of the last lines (or all)', '100')
    .addOption(envFileOption())
    .addOption(contextOption())
    .addHelpText('after', examples('npm run logs', 'npm run logs -- -f', 'npm run logs -- mcp-github --tail all'))
    .action(async (name, options) => (await commands.logs()).logs(ctx, nameOptions(name, options)));

  program
    .command('connect')
    .description('ready-to-paste client configurations for the running instance (they hold the token)')
    .option('-c, --client <client>', 'claude-desktop, claude-code, cursor, vscode or inspector (default: all)')
    .option('--json', 'print JSON', false)
    .addOption(envFileOption())
    .addOption(contextOption())
    .addHelpText(
      'after',
      examples('npm run connect', 'npm run connect -- --client claude-desktop', 'npm run connect -- --client vscode --env-file .env.github'),
    )
    .action(async (options) => {
      await (await commands.connect()).connect(ctx, options);
    });

  program
    .command('export')
    .description('write the instance as a Compose project or Kubernetes manifests with the same hardening (secrets in 0600 files, never in the YAML)')
    .option('--format <format>', 'compose or kubernetes')
    .option('--out <dir>', 'write the files into this folder (created; without it they are printed, secrets masked)')
    .option('--image <ref>', 'the image to pull instead of the local NAME:latest (one env file)')
    .option('--registry <path>', 'pull each instance from REGISTRY/NAME:latest')
    .option('--push', 'run the printed docker tag and docker push lines', false)
    .option('--force', 'replace the content of a non-empty --out folder', false)
    .option('--allow-dangerous-mounts', 'accept MCP_MOUNTS of /, your home folder, the project or the Docker socket', false)
    .addOption(
      new Option('--env-file <path>', 'settings file; repeat it for several instances in one export (default .env)').argParser(
        (value: string, previous?: string[]) => [...(previous ?? []), value],
      ),
    )
    .addHelpText(
      'after',
      examples(
        'npm run export -- --format compose',
        'npm run export -- --format compose --out deploy/ && docker-compose -f deploy/compose.yaml up -d',
        'npm run export -- --format kubernetes --out k8s/ --registry registry.example.com/team',
        'npm run export -- --format compose --out deploy/ --env-file .env --env-file .env.github',
      ),
    )
    .action(async (options) => (await commands.export()).exportCommand(ctx, options));

  program
    .command('doctor')
    .description('check everything build and start need, each check with its fix (exit 1 when one fails)')
    .option('--json', 'print JSON', false)
    .addOption(envFileOption())
    .addOption(contextOption())
    .addHelpText('after', examples('npm run doctor', 'npm run doctor -- --json --env-file .env.github'))
    .action(async (options) => {
      const checks = await (await commands.doctor()).doctor(ctx, options);
      if (checks.some((c) => c.verdict === 'fail')) process.exitCode = 1;
    });

  program
    .command('init')
    .description('create .env from .env.example with new tokens; asks on a terminal (never overwrites without --force)')
    .option('-y, --yes', 'take the defaults without asking', false)
    .option('--force', 'replace an existing env file (its token is lost)', false)
    .addOption(envFileOption())
    .addHelpText('after', examples('npm run init', 'npm run init -- --yes', 'npm run init -- --yes --env-file .env.github'))
    .action(async (options) => {
      const ask = process.stdin.isTTY && !options.yes ? (await import('./operator/ask.js')).terminalAsk() : undefined;
      await (await commands.init()).init(ctx, options, ask);
    });

  program
    .command('up')
    .description('first run: create .env with a new token when missing (never overwrites), build, start -d')
    .addOption(envFileOption())
    .addOption(contextOption())
    .addHelpText('after', examples('npm run up'))
    .action(async (options) => {
      await (await commands.up()).up(ctx, options);
    });

  program
    .command('trust')
    .description(
      "add the local CA to the system trust store and Chromium/Firefox's: shows the commands, runs them after a yes (prints them without a terminal)",
    )
    .option('-y, --yes', 'run the commands without asking', false)
    .option('--dry-run', 'print the commands and run nothing', false)
    .addOption(envFileOption())
    .addHelpText('after', examples('npm run trust', 'npm run trust -- --dry-run', 'npm run trust -- --yes'))
    .action(async (options) => {
      const ask = process.stdin.isTTY && !options.yes ? (await import('./operator/ask.js')).terminalAsk() : undefined;
      await (await commands.trust()).trust(ctx, options, ask);
    });

  program
    .command('untrust')
    .description('remove the local CA from the trust stores `trust` changed (--delete also deletes the CA)')
    .option('-y, --yes', 'run the commands without asking', false)
    .option('--delete', 'also delete the CA, so that the next start makes a new one (with the TLS_HOSTNAMES of then)', false)
    .option('--dry-run', 'print the commands and run nothing', false)
    .addOption(envFileOption())
    .addHelpText('after', examples('npm run untrust', 'npm run untrust -- --delete'))
    .action(async (options) => {
      const ask = process.stdin.isTTY && !options.yes ? (await import('./operator/ask.js')).terminalAsk() : undefined;
      await (await commands.trust()).untrust(ctx, options, ask);
    });

  return program;
}
