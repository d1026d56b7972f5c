/**
 * SUPERGATEWAY_EXTRA_ARGS, the guide's setting: Supergateway's own flags. The
 * sandbox runs its own session gateway instead, which is what `--stateful`
 * asked for (one server process per session, kept until the session ends).
 * So `--stateful` is accepted with a note; any other flag is refused with the
 * setting that replaced it, since silently dropping it would change behaviour.
 */

/** Supergateway's flags, and what does their job now. */
export const SUPERGATEWAY_REPLACEMENTS: Readonly<Record<string, string>> = {
  '--sessionTimeout': 'MCP_SESSION_IDLE (a duration such as 300, 5m or 1h; at most MCP_MAX_SESSIONS live sessions)',
  '--logLevel': 'LOG_LEVEL (info, debug or none)',
  '--cors': 'ALLOWED_ORIGINS (comma-separated origins; the instance and, on loopback, localhost origins are always allowed)',
  '--port': 'HOST_PORT (the published port; the session gateway itself stays on the container loopback)',
  '--oauth2Bearer': 'ACCESS_TOKEN (the bearer token clients send) or AUTH=oauth',
  '--header': 'nothing: the gateway sets its own response headers',
  '--healthEndpoint': "the image's health check (npm run status shows it)",
  '--outputTransport': 'nothing: clients reach Streamable HTTP at /mcp',
  '--streamableHttpPath': 'nothing: the endpoint is always /mcp',
  '--ssePath': 'nothing: clients reach Streamable HTTP at /mcp',
  '--messagePath': 'nothing: clients reach Streamable HTTP at /mcp',
  '--baseUrl': 'nothing: the URL is decided by the template (TEMPLATE, HOST_PORT, NGROK_URL)',
};

/** What the sandbox does anyway: the one value accepted. */
export const SUPERGATEWAY_STATEFUL = '--stateful';

/** The flags of a value, as words (Supergateway took them as one shell line). */
const flagsOf = (value: string): string[] => value.split(/\s+/).filter((word) => word.startsWith('--'));

/** The message for a value that cannot be honoured, naming what replaced each flag; undefined when accepted. */
export function supergatewayArgsIssue(value: string): string | undefined {
  const words = value.trim().split(/\s+/).filter(Boolean);
  if (words.every((word) => word === SUPERGATEWAY_STATEFUL)) return undefined;
  const replaced = [...new Set(flagsOf(value))]
    .filter((flag) => flag !== SUPERGATEWAY_STATEFUL)
    .map((flag) => {
      const name = flag.split('=')[0]!;
      const by = SUPERGATEWAY_REPLACEMENTS[name];
      return by ? `${name} is replaced by ${by}` : `${name} has no counterpart`;
    });
  return [
    'SUPERGATEWAY_EXTRA_ARGS is no longer read: the sandbox runs its own session gateway instead of Supergateway.',
    ...(replaced.length > 0 ? [`${replaced.join('; ')}.`] : []),
    `Remove the line from the env file (or keep only ${SUPERGATEWAY_STATEFUL}, which is what the sandbox does anyway); sessions are tuned with MCP_SESSION_IDLE and MCP_MAX_SESSIONS (docs/SETTINGS.md)`,
  ].join(' ');
}

/** The line printed when the value is accepted (`--stateful`): undefined when it is empty. */
export function supergatewayArgsNote(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return `SUPERGATEWAY_EXTRA_ARGS=${SUPERGATEWAY_STATEFUL}: nothing to pass, the sandbox's session gateway is stateful anyway (one server process per client session); you may remove the line`;
}
