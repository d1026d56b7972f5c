import chalk from 'chalk';
import { createDockerEngine, type DockerEngine } from './docker/engine.js';
import type { Env } from './settings/load.js';

/** What every command receives; tests build their own. */
export interface CommandContext {
  projectDir: string;
  hostEnv: Env;
  out: Output;
  /** Makes the docker engine, masking these secrets in anything it reports. */
  docker(secrets: readonly string[]): DockerEngine;
}

export interface Output {
  info(message: string): void;
  success(message: string): void;
  warn(message: string): void;
  /** Plain data (keys, JSON): no colour, no prefix. */
  data(text: string): void;
}

export function terminalOutput(): Output {
  return {
    info: (m) => console.log(m),
    success: (m) => console.log(chalk.green(m)),
    warn: (m) => console.error(chalk.yellow(`warning: ${m}`)),
    data: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  };
}

export function defaultContext(projectDir: string): CommandContext {
  return {
    projectDir,
    hostEnv: process.env,
    out: terminalOutput(),
    docker: (secrets) => createDockerEngine(secrets),
  };
}
