import { NODE_GYP_PACKAGES } from '../settings/debian-packages.js';

/**
 * Why a build failed, read from the end of its output: the causes a server's
 * install meets in the sandbox (a native module and no build tools in the
 * install stage, a download the build cannot make), each with the fix. The
 * CLI ends a failed build with them, after Docker's own words.
 */
export interface BuildDiagnosis {
  cause: string;
  fix: string;
}

const ADD_BUILD_PACKAGES = `add MCP_BUILD_PACKAGES=${NODE_GYP_PACKAGES.join(',')} to the env file (installed in the install stage only, never in the image), then build again`;

/** First match wins: the most specific cause first. `$1` in a cause is the pattern's first group. */
const RULES: ReadonlyArray<{ pattern: RegExp; cause: string; fix: string }> = [
  {
    // prebuild-install fell back to node-gyp, which then failed for want of tools.
    pattern: /prebuild-install.*(?:ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET|\b403\b|No prebuilt binaries)/,
    cause:
      'a native module found no prebuilt binary to download (prebuild-install: the build reaches the npm registry, not GitHub), and compiling it needs build tools',
    fix: ADD_BUILD_PACKAGES,
  },
  {
    pattern: /gyp ERR! find Python|Could not find any Python installation/,
    cause: 'node-gyp found no Python: the server has a native module to compile, and the install stage has no build tools',
    fix: ADD_BUILD_PACKAGES,
  },
  {
    pattern:
      /gyp ERR! stack Error: not found: (make|g\+\+|c\+\+|cc|gcc)|\b(g\+\+|c\+\+|cc|gcc|make): (?:not found|No such file or directory|Command not found)/,
    cause: 'node-gyp found no compiler ($1): the server has a native module to compile, and the install stage has no build tools',
    fix: ADD_BUILD_PACKAGES,
  },
  {
    pattern: /gyp (?:ERR!|http).*(?:ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT)/,
    cause: "node-gyp tried to download Node's headers: the base image has none",
    fix: 'build on a base image that carries them in /usr/local/include/node (the official node images do; scripts/make-base-image.sh adds them to the local one), or set BASE_IMAGE to one',
  },
  {
    pattern: /getaddrinfo (?:ENOTFOUND|EAI_AGAIN) ([A-Za-z0-9.-]+)/,
    cause: 'the install tried to download from $1, which the build cannot reach',
    fix: 'the install stage reaches the npm registry (and PIP_INDEX_URL) only: give the server as a local package that holds the file (MCP_SERVER=./folder or a .tgz), or use a version of it that does not download at install',
  },
];

/** The cause of a failed build and its fix, when the output shows one of the known causes. */
export function diagnoseBuildFailure(output: string): BuildDiagnosis | undefined {
  for (const rule of RULES) {
    const match = rule.pattern.exec(output);
    if (match) return { cause: rule.cause.replace('$1', match.slice(1).find(Boolean) ?? ''), fix: rule.fix };
  }
  return undefined;
}

/** Keeps the last `limit` characters of a stream of text: a build's output can be long. */
export function outputTail(limit = 256 * 1024): { push: (text: string) => void; text: () => string } {
  let kept = '';
  return {
    push: (text) => {
      kept = (kept + text).slice(-limit);
    },
    text: () => kept,
  };
}
