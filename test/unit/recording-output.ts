import type { Output } from '../../package_scripts/context.js';

/** An Output that records every line as "kind: text" (progress included, so tests can see waits). */
export function recordingOutput(messages: string[]): Output {
  return {
    info: (m) => messages.push(`info: ${m}`),
    success: (m) => messages.push(`success: ${m}`),
    warn: (m) => messages.push(`warn: ${m}`),
    data: (t) => messages.push(`data: ${t}`),
    note: (m) => messages.push(`note: ${m}`),
    waiting: (m) => messages.push(`waiting: ${m}`),
    done: () => undefined,
  };
}
