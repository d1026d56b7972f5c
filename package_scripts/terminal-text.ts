import { StringDecoder } from 'node:string_decoder';

/**
 * The one place text reaches the operator's terminal in a form that cannot
 * steer it. The MCP server writes what it likes to stderr and names its tools as
 * it likes; passed on as written, ESC and BEL sequences set the clipboard
 * (OSC 52), rename the window, move the cursor or rewrite the screen, and a bare
 * CR forges a line over a real one (`\r[gateway] public URL: https://evil...`).
 *
 * Made visible, written as the escape `\uHHHH` (visible on a screen, and inside a
 * JSON string such as `status --json` prints the escape JSON itself decodes):
 * - every C0 control but LF and TAB (ESC and BEL included), and DEL;
 * - CR unless an LF follows it (CRLF line ends stay harmless);
 * - the C1 controls U+0080 to U+009F (CSI and OSC have one-character forms);
 * - the bidirectional embeddings, overrides and isolates
 * (U+202A to U+202E, U+2066 to U+2069), which reorder what follows them until
 * the line ends, so a line can show another text than it holds ("Trojan
 * Source"). The marks U+200E/U+200F, which reorder nothing, pass.
 *
 * Everything else, backslashes included, passes unchanged: plain text looks as
 * it did, and a server writing a literal "\u001b" only shows those six characters.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

function shown(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** Untrusted text (log lines, tool names, error excerpts, URLs) as it may be printed. */
export function visible(text: string): string {
  return text.replace(UNSAFE, shown);
}

/**
 * The same for a byte stream (`docker logs`, an attached `docker run`): bytes
 * decoded as UTF-8 across chunk boundaries, and a CR at the end of a chunk held
 * until the next one tells whether an LF follows it.
 */
export function visibleStream(write: (text: string) => void): { push(chunk: Buffer | string): void; end(): void } {
  const decoder = new StringDecoder('utf8');
  let held = '';
  const emit = (text: string) => {
    if (text) write(visible(text));
  };
  return {
    push(chunk) {
      const text = held + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
      held = text.endsWith('\r') ? '\r' : '';
      emit(held ? text.slice(0, -1) : text);
    },
    end() {
      emit(held + decoder.end());
      held = '';
    },
  };
}
