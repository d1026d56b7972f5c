/**
 * MCP_ENV's values travel to the container as a file, never in its
 * configuration: whatever is in Config.Env reaches the entrypoint (root), every
 * health check and every `docker exec`, and `docker inspect` shows it. The
 * entrypoint reads the file into the session gateway's environment only
 * (load_server_env in docker/common/runtime/lib/sandbox.sh, which parses this format).
 *
 * - `npm run start`: a volume of the instance (NAME-server-env), written before
 *   `run` by a short-lived container of the instance's own image with no
 *   network and no capability, the text through its stdin (so it works on a
 *   remote engine too: no path on the engine's machine is assumed), mounted
 *   read-only. It survives the engine's restarts of the container; `start`
 *   writes it again, `stop` removes it.
 * - Compose: a file-based secret (the same text, mode 0600 beside compose.yaml).
 */

/** Where the file is inside the container; the volume's root (0700, root's) is mounted on its folder. */
export const SERVER_ENV_DIR = '/etc/mcp-sandbox/server-env';
export const SERVER_ENV_FILE = `${SERVER_ENV_DIR}/env`;

/** The instance's channel: the volume the file lives in, and the values it carries (never rendered into argv or YAML). */
export interface ServerEnvChannel {
  volume: string;
  values: Record<string, string>;
}

/** One line a variable, NAME=BASE64 of the value's UTF-8 bytes: any value, line breaks included, reads back unchanged. */
export function serverEnvText(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([name, value]) => `${name}=${Buffer.from(value, 'utf8').toString('base64')}\n`)
    .join('');
}

/** Inside the writer: the volume at /out, made root's alone, the file replaced whole (0600 from its first byte). */
const WRITE_SCRIPT = 'umask 077 && chmod 0700 /out && cat >/out/env.new && mv -f /out/env.new /out/env';

/**
 * `docker run` of the writer. Its stdin carries the text (serverEnvText); the
 * argv holds no value. The image is the instance's own (no other image need
 * exist on the engine), run as root (the volume's owner) with nothing else:
 * no network, no capability, a read-only root, no log.
 */
export function serverEnvWriterArgs(channel: ServerEnvChannel, image: string): string[] {
  // No instance label: `status` and `stop --all` must never take the writer for an instance.
  return [
    'run',
    '--rm',
    '--interactive',
    ...['--network', 'none'],
    ...['--cap-drop', 'ALL'],
    ...['--security-opt', 'no-new-privileges'],
    '--read-only',
    ...['--log-driver', 'none'],
    ...['--user', '0:0'],
    ...['--volume', `${channel.volume}:/out`],
    ...['--entrypoint', '/bin/sh'],
    image,
    '-c',
    WRITE_SCRIPT,
  ];
}

/** The volume of `start`, mounted read-only on SERVER_ENV_DIR. */
export const serverEnvMount = (channel: ServerEnvChannel) => `${channel.volume}:${SERVER_ENV_DIR}:ro`;
