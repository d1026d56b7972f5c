import { createInterface } from 'node:readline/promises';
import type { Ask } from './env-init.js';

/** Questions on the terminal; an empty answer takes the default shown in brackets. */
export function terminalAsk(): Ask {
  return async (question, defaultValue) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      const answer = await rl.question(`${question} (${defaultValue || 'empty'}): `);
      return answer.trim() === '' ? defaultValue : answer;
    } finally {
      rl.close();
    }
  };
}
