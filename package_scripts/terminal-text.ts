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
 * Colour changes only (SGR, `ESC [ digits m`). Docker's classic builder wraps a
 * build step's stderr in them; dropped rather than shown, they cannot steer the
 * terminal, and removing one the server wrote itself only removes a colour.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const COLOUR = /\x1b\[[0-9;]*m/g;
/** The start of a colour change that the next chunk may complete. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const COLOUR_START = /\x1b(\[[0-9;]*)?$/;

/**
 * The same for a byte stream (`docker logs`, an attached `docker run`, a build):
 * bytes decoded as UTF-8 across chunk boundaries, and a CR at the end of a chunk
 * held until the next one tells whether an LF follows it. With `dropColours`
 * (the build's output), colour changes are removed first, and a chunk ending
 * inside one waits for the next chunk.
 */
export function visibleStream(write: (text: string) => void, options: { dropColours?: boolean } = {}): { push(chunk: Buffer | string): void; end(): void } {
  const decoder = new StringDecoder('utf8');
  let held = '';
  const emit = (text: string) => {
    if (text) write(visible(options.dropColours ? text.replace(COLOUR, '') : text));
  };
  const holdFrom = (text: string): number => {
    if (text.endsWith('\r')) return text.length - 1;
    const partial = options.dropColours ? COLOUR_START.exec(text) : null;
    return partial ? partial.index : text.length;
  };
  return {
    push(chunk) {
      const text = held + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
      const cut = holdFrom(text);
      held = text.slice(cut);
      emit(text.slice(0, cut));
    },
    end() {
      emit(held + decoder.end());
      held = '';
    },
  };
}
