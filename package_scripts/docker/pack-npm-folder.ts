import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { execa } from 'execa';
import { UsageError } from '../errors.js';

/**
 * `npm pack` of a local npm folder, refused when the tarball would hold a file
 * from outside the folder.
 *
 * npm follows a `node_modules/<name>` symbolic link for every name in
 * `bundleDependencies` and packs the target's files, wherever it points (even
 * `~/.ssh`). An untrusted, cloned server repository can commit such a link; its
 * install script would then find your key in its own tree at build time.
 *
 * Refusing is safer than packing from a copy: a copy that keeps links as links
 * still hands npm the same link to follow, and a copy that drops them changes
 * the package without saying so. The check runs on the list npm itself reports
 * for the tarball it wrote (`--json`), so it covers exactly what npm read, and a
 * link npm does not pack (a non-bundled dependency, a pnpm store) stays allowed.
 * The tarball lives in the throw-away build context, which the caller disposes
 * of on this error: nothing reaches docker.
 */
export async function packNpmFolder(folder: string, destination: string): Promise<string> {
  // --ignore-scripts: a local package's prepack/prepare scripts are as untrusted as its
  // install scripts, and here they would run on this machine, as you.
  const packed = await execa('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination, folder], { reject: false });
  const tarball = readdirSync(destination).find((f) => f.endsWith('.tgz'));
  if (packed.exitCode !== 0 || !tarball) {
    throw new UsageError(`MCP_SERVER: \`npm pack ${folder}\` failed: ${packed.stderr || packed.stdout}`);
  }
  const link = firstOutwardLink(folder, packedPaths(packed.stdout, folder));
  if (link) {
    throw new UsageError(
      `MCP_SERVER: the folder ${folder} links outside itself: ${link.link} -> ${link.target}, and npm would pack that target's files into the image`,
      `Fix: replace the link with a copy of the files inside the folder, or remove its name from "bundleDependencies" in package.json.`,
    );
  }
  return tarball;
}

/** The files npm reports it packed; a report it cannot be read from is refused (fail closed). */
function packedPaths(stdout: string, folder: string): string[] {
  try {
    const report = JSON.parse(stdout) as Array<{ files?: Array<{ path?: unknown }> }>;
    const paths = report[0]?.files?.map((f) => f.path);
    if (paths && paths.length > 0 && paths.every((p): p is string => typeof p === 'string')) return paths;
  } catch {
    // fall through
  }
  throw new UsageError(`MCP_SERVER: \`npm pack ${folder}\` did not report the files it packed; nothing was built`);
}

export interface OutwardLink {
  /** The link, relative to the folder. */
  link: string;
  /** Where it resolves. */
  target: string;
}

/**
 * The first symbolic link on the way to one of `paths` (relative to `folder`)
 * that resolves outside the folder, or a path that no file inside the folder
 * answers for. Undefined when every path is a file inside.
 */
export function firstOutwardLink(folder: string, paths: readonly string[]): OutwardLink | undefined {
  const root = realpathSync(folder);
  for (const path of paths) {
    let at = folder;
    for (const part of path.split(/[\\/]/)) {
      at = join(at, part);
      let target: string;
      try {
        if (!lstatSync(at).isSymbolicLink()) continue;
        target = realpathSync(at);
      } catch {
        // npm packed something the folder does not hold: it came from elsewhere.
        return { link: relative(folder, at), target: '(not found inside the folder)' };
      }
      if (!inside(root, target)) return { link: relative(folder, at), target };
    }
  }
  return undefined;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}
