/** One word for a POSIX shell: as is when plainly safe, else single-quoted (for commands shown to people or pasted into a shell). */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
