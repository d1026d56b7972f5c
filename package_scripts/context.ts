import chalk from 'chalk';
import { createDockerEngine, type DockerEngine } from './docker/engine.js';
import type { EngineSelection } from './docker/target.js';
import type { EndpointProbeTarget, ProbeOutcome } from './mcp-probe.js';
import type { Env } from './settings/load.js';
import { visible } from './terminal-text.js';

/** What every command receives; tests build their own. */
export interface CommandContext {
  projectDir: string;
  hostEnv: Env;
  out: Output;
  /** Makes the docker engine, masking these secrets in anything it reports, talking to the selected engine (docker/target.ts). */
  docker(secrets: readonly string[], selection?: EngineSelection): DockerEngine;
  /** The readiness round trip through a client's endpoint (instance/readiness.ts); unit tests pass their own. */
  probeEndpoint?: (target: EndpointProbeTarget) => Promise<ProbeOutcome>;
}

export interface Output {
  info(message: string): void;
  success(message: string): void;
  warn(message: string): void;
  /** Plain data (keys, JSON): no colour, no prefix. */
  data(text: string): void;
  /** Side remarks that must stay out of data on stdout (they go to stderr). */
  note(message: string): void;
  /** A wait in progress: a spinner on a terminal, a plain line now and then otherwise; done() ends it. */
  waiting(message: string, elapsedSeconds: number): void;
  done(): void;
}

/** Plain lines while waiting are printed at most this often (logs stay short). */
export const PLAIN_PROGRESS_EVERY_SECONDS = 5;
const SPINNER = ['|', '/', '-', '\\'];

/** Progress for a stream: redrawn in place on a terminal, a line every few seconds otherwise. */
export function progressWriter(stream: { isTTY?: boolean; write(text: string): unknown }) {
  let frame = 0;
  let lastPlain = -Infinity;
  let drawn = false;
  return {
    waiting: (message: string, elapsedSeconds: number) => {
      if (stream.isTTY) {
        frame = (frame + 1) % SPINNER.length;
        stream.write(`\r\x1b[2K${SPINNER[frame]} ${message} (${Math.floor(elapsedSeconds)} s)`);
        drawn = true;
      } else if (elapsedSeconds - lastPlain >= PLAIN_PROGRESS_EVERY_SECONDS) {
        lastPlain = elapsedSeconds;
        stream.write(`${message} (${Math.floor(elapsedSeconds)} s)\n`);
      }
    },
    done: () => {
      if (drawn) stream.write('\r\x1b[2K');
      drawn = false;
      lastPlain = -Infinity;
    },
  };
}

/**
 * The terminal: every message may quote the server (tool names, its stderr lines, a
 * tunnel's URL), so each is printed through visible() before colour is added.
 */
export function terminalOutput(): Output {
  const progress = progressWriter(process.stderr);
  return {
    note: (m) => console.error(chalk.dim(visible(m))),
    waiting: (m, elapsedSeconds) => progress.waiting(visible(m), elapsedSeconds),
    done: progress.done,
    info: (m) => console.log(visible(m)),
    success: (m) => console.log(chalk.green(visible(m))),
    warn: (m) => console.error(chalk.yellow(`warning: ${visible(m)}`)),
    data: (t) => process.stdout.write(visible(t.endsWith('\n') ? t : `${t}\n`)),
  };
}

export function defaultContext(projectDir: string): CommandContext {
  return {
    projectDir,
    hostEnv: process.env,
    out: terminalOutput(),
    docker: (secrets, selection) => createDockerEngine(secrets, selection),
  };
}
