// @ts-check
// NPM_MCP_ARGS, split into argv the way a POSIX shell splits words (blanks,
// single quotes, double quotes, backslashes) but with nothing expanded or run:
// no variables, globs, redirections or `;`. The server is started without a
// shell, so these characters reach it as plain text.

/** @returns {string[]} */
export function splitWords(line) {
  const words = [];
  let word = '';
  let inWord = false;
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = '';
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = '';
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) word += line[++i];
      else word += c;
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      inWord = true;
      if (c === "'" || c === '"') quote = c;
      else if (c === '\\' && i + 1 < line.length) word += line[++i];
      else word += c;
    }
  }
  if (quote) throw new Error(`NPM_MCP_ARGS has an unmatched ${quote} quote`);
  if (inWord) words.push(word);
  return words;
}
