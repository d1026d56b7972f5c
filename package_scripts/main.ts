#!/usr/bin/env node
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import chalk from 'chalk';
import { CommanderError } from 'commander';
import { defaultContext } from './context.js';
import { DockerError, isReportedError, NotServingError } from './errors.js';
import { createProgram } from './program.js';
import { visible } from './terminal-text.js';

/** The project root: dist/package_scripts/main.js sits two folders below it. */
const projectDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The one place where failures become messages and exit codes. */
export function report(error: unknown): number {
  if (error instanceof CommanderError) {
    // commander has printed its own message (or help, which is a success).
    return error.exitCode === 0 ? 0 : 2;
  }
  if (isReportedError(error)) {
    // Messages quote the server (its lines, its log's tail, names): printed through visible().
    console.error(chalk.red(`error: ${visible(error.message)}`));
    if (error instanceof DockerError) {
      console.error(chalk.dim(`command: ${visible(error.command)}`));
      if (error.detail) console.error(visible(error.detail));
    }
    if (error instanceof NotServingError && error.serverLines.length > 0) {
      console.error(visible(['The MCP server said:', ...error.serverLines.map((l) => `  ${l}`)].join('\n')));
    }
    // Every error's hint comes last (the fix, or where to read more).
    if (error.hint) console.error(visible(error.hint));
    return error.exitCode;
  }
  console.error(chalk.red('unexpected error (a bug in mcp-sandbox; please report it):'));
  console.error(error);
  return 1;
}

const program = createProgram(defaultContext(projectDir));
try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = report(error);
}
