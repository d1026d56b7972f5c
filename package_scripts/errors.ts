/**
 * Every failure the CLI reports on purpose is one of these; main.ts maps them to
 * exit codes in one place. Anything else is a bug and exits 1 with its stack.
 */

/** What every reported failure has: the exit code main.ts returns, and an optional hint printed after it. */
export abstract class ReportedError extends Error {
  abstract readonly exitCode: number;
  readonly hint?: string;
  constructor(message: string, hint?: string) {
    super(message);
    if (hint !== undefined) this.hint = hint;
  }
}

/** Bad input: a setting, an option or a file. Exit 2, and no docker command has run. */
export class UsageError extends ReportedError {
  readonly exitCode = 2;
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = 'UsageError';
  }
}

/**
 * The engine's state does not allow the command: the image is not built, the
 * instance does not exist or does not run. Found by asking the engine, so
 * read-only docker commands may have run; nothing was changed. Exit 1.
 */
export class StateError extends ReportedError {
  readonly exitCode = 1;
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = 'StateError';
  }
}

/** A docker command failed. The command is shown with secret values masked. */
export class DockerError extends ReportedError {
  readonly exitCode = 1;
  constructor(
    message: string,
    readonly command: string,
    readonly detail?: string,
    hint?: string,
  ) {
    super(message, hint);
    this.name = 'DockerError';
  }
}

/**
 * The instance runs but does not serve MCP clients (its server failed or did
 * not answer), or an attached container ended with a failure. Exit 1 (or the
 * container's status), with the server's own lines and where to read more.
 */
export class NotServingError extends ReportedError {
  constructor(
    message: string,
    readonly serverLines: readonly string[] = [],
    hint?: string,
    readonly exitCode = 1,
  ) {
    super(message, hint);
    this.name = 'NotServingError';
  }
}

/** A command the user agreed to run (such as `npm run trust`'s trust-store steps) failed. Exit 1; its own output is above. */
export class StepFailedError extends ReportedError {
  readonly exitCode = 1;
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = 'StepFailedError';
  }
}

export function isReportedError(error: unknown): error is ReportedError {
  return error instanceof ReportedError;
}

/** Validate with a zod schema; every issue's message (already naming the setting and the fix) becomes one UsageError. */
export function parseOrThrow<T>(
  schema: { safeParse(input: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ message: string }> } } },
  input: unknown,
): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new UsageError([...new Set(result.error.issues.map((issue) => issue.message))].join('\n'));
}
