/**
 * MCP_SYSTEM_PACKAGES and MCP_BUILD_PACKAGES: Debian packages the owner names,
 * installed from Debian's mirror at build time, as root. MCP_SYSTEM_PACKAGES
 * go into the image the server runs in; MCP_BUILD_PACKAGES only into the
 * thrown-away install stage (a compiler for node-gyp), never into the image.
 *
 * The build's own check is docker/common/build/package-names (sh), held to
 * DEBIAN_PACKAGE_CASES by test/unit/debian-packages.test.ts.
 */

/**
 * Debian Policy 5.6.1: lowercase letters, digits, "+", "-" and "."; at least
 * two characters; starts with a letter or digit. Nothing else reaches apt-get:
 * no option (a leading "-"), no version or release pin ("=", "/"), no path.
 */
export const DEBIAN_PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;

/** The two settings that name Debian packages. */
export type PackageSetting = 'MCP_SYSTEM_PACKAGES' | 'MCP_BUILD_PACKAGES';

/** What node-gyp needs to build a native module offline (the base image carries Node's headers). */
export const NODE_GYP_PACKAGES = ['python3', 'make', 'g++'] as const;

/** The names of a comma-separated list, trimmed, without empty entries or repeats. */
export function packageNames(value: string): string[] {
  return [
    ...new Set(
      value
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    ),
  ];
}

/** The message for a bad list, or undefined. Empty means none. */
export function packageListIssue(setting: PackageSetting, value: string): string | undefined {
  const bad = packageNames(value).filter((name) => !DEBIAN_PACKAGE_NAME.test(name));
  if (bad.length === 0) return undefined;
  const example = setting === 'MCP_SYSTEM_PACKAGES' ? 'chromium,procps' : NODE_GYP_PACKAGES.join(',');
  return (
    `${setting} must be a comma-separated list of Debian package names such as ${example} ` +
    `(lowercase letters, digits, "+", "-", "."; no version, option or path): ${bad.map((name) => `'${name}'`).join(', ')} is not one. ` +
    `Look the name up with \`apt-cache search\` or on packages.debian.org (bookworm)`
  );
}
