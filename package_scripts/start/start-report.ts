import type { CommandContext } from '../context.js';
import type { Settings } from '../settings/load.js';
import { settingsReport } from '../settings/report.js';
import { instanceNames } from '../docker/names.js';
import { credentialFor, publishesPort, templateNamed } from '../templates/registry.js';

import { npmRun } from '../instance/env-file.js';

/** What a client needs, printed once the instance is healthy. */
export interface ConnectionInfo {
  url: string;
  /** Where the client finds its credential. */
  credential: string;
  /** A published port only: the certificate the client must trust. */
  certificateFile?: string;
  fingerprint?: string;
  /** What the readiness round trip found, e.g. "14 tools (read_file, ...)". */
  ready?: string;
  /** A remote engine publishing on its loopback: the `ssh -L` line that makes the URL work here. */
  sshForward?: string;
  /** AUTH=oauth on a published port: the protected resource web connectors must add (instance/oauth.ts). */
  oauthResource?: string;
}

/** Things the user chose that weaken the sandbox: said out loud every start. */
export function weakeningWarnings(settings: Settings): string[] {
  const warnings: string[] = [];
  if (settings.MCP_EGRESS.mode === 'open') warnings.push('MCP_EGRESS=open: the MCP server may connect to any address, your local network included');
  if (settings.MCP_EGRESS.mode === 'learn') {
    warnings.push(
      'MCP_EGRESS=learn: egress is open (every name and address, your local network included) while the names the server reaches are recorded; `npm run egress-learned` prints the line to lock it down',
    );
  }
  if (settings.LOG_LEVEL === 'debug') warnings.push('LOG_LEVEL=debug: every JSON-RPC message, file contents included, goes to the container log');
  if (settings.MCP_AUDIT === 'true' && settings.MCP_AUDIT_ARGUMENTS === 'values') {
    warnings.push(
      `MCP_AUDIT_ARGUMENTS=values: every tool call's argument values (paths, queries, file contents, tokens a client passes) are kept in the audit trail${settings.MCP_AUDIT_STDOUT === 'true' ? ' and the container log' : ''}`,
    );
  }
  if (publishesPort(settings.template) && !['127.0.0.1', '::1'].includes(settings.BIND_ADDRESS)) {
    warnings.push(`BIND_ADDRESS=${settings.BIND_ADDRESS}: the server is reachable from other machines (still only with the token)`);
  }
  for (const mount of settings.mounts.filter((m) => !m.readOnly)) {
    // Said of the setting, not of the folder: whether uid 10002 can write there is checked for real (start/mount-check.ts).
    warnings.push(`MCP_MOUNTS: ${mount.hostPath} is mounted writable (rw): the MCP server may change or delete what is in it`);
  }
  const template = templateNamed(settings.template);
  warnings.push(...(template.startWarnings?.(settings.gatewayEnv, { name: settings.NAME, tunnelVolume: instanceNames(settings.NAME).tunnelVolume }) ?? []));
  if (!publishesPort(settings.template) && settings.AUTH === 'oauth') {
    warnings.push(
      `AUTH=oauth: the tunnel's edge no longer checks a token (discovery and registration must reach the container); the container's auth gateway checks every request instead`,
    );
  }
  return warnings;
}

/** Every warning a start prints before it runs anything: weakened sandbox, then what the env file says (settings/report.ts). */
export function startWarnings(settings: Settings): string[] {
  return [...weakeningWarnings(settings), ...settingsReport(settings).warnings];
}

/** Which setting holds what a client must send (the same choice `connect` makes). */
export function credentialSource(settings: Settings): string {
  const { setting, scheme } = credentialFor(settings.template, { ACCESS_TOKEN: settings.accessToken, ...settings.gatewayEnv });
  const how = scheme === 'Basic' ? 'HTTP basic auth' : 'header: Authorization: Bearer <token>';
  return `${setting} in ${settings.envFile} (${how})`;
}

/** How clients come to trust a certificate of the local CA. */
export function localCaTrustLine(localCa: { caFile: string; trusted: boolean }): string {
  return localCa.trusted
    ? `  Signed by the local CA, which this system trusts (Node clients: NODE_USE_SYSTEM_CA=1)`
    : `  Signed by the local CA ${localCa.caFile}: \`npm run trust\` makes every instance trusted (Node clients meanwhile: NODE_EXTRA_CA_CERTS=${localCa.caFile})`;
}

/** The lines printed once a client is served. */
export function readyReport(ctx: CommandContext, settings: Settings, info: ConnectionInfo): string {
  return [
    `  URL:          ${info.url}`,
    ...(info.sshForward ? [`  SSH tunnel:   ${info.sshForward}   (BIND_ADDRESS is loopback on the remote host: run this here, then the URL works)`] : []),
    `  Credential:   ${info.credential}`,
    ...(settings.AUTH === 'oauth'
      ? [
          `  OAuth:        web connectors add ${info.oauthResource ?? info.url} and ask you to consent once; prove it is yours there with ${settings.gatewayEnv.OAUTH_OWNER_PASSPHRASE ? 'OAUTH_OWNER_PASSPHRASE (or ACCESS_TOKEN)' : 'ACCESS_TOKEN'}. ${npmRun('revoke', ctx, settings)} revokes every OAuth token`,
        ]
      : []),
    ...(info.certificateFile
      ? [
          `  Certificate:  ${info.certificateFile}`,
          `  SHA-256:      ${info.fingerprint}`,
          settings.tlsFiles?.localCa
            ? localCaTrustLine(settings.tlsFiles.localCa)
            : settings.tlsFiles && !settings.tlsFiles.selfSigned
              ? `  From CERT_FILE, issued by ${settings.tlsFiles.issuer}: clients trust it through that CA`
              : `  Clients trust it with NODE_EXTRA_CA_CERTS=${info.certificateFile}`,
        ]
      : []),
    `  Next:         ${npmRun('connect', ctx, settings)}   (ready-to-paste client configurations)`,
    `  Stop it with: ${npmRun('stop', ctx, settings)}`,
  ].join('\n');
}

/**
 * The session gateway's warnings about MCP_TOOLS or MCP_TOOLS_DENY entries that match no tool
 * (session-gateway/src/sessions.mjs logs them at the first listing, which start's own round trip
 * makes), found in the container's log. Only the gateway's own lines count: the server's stderr
 * reaches the log prefixed "[mcp-server ...]", so it cannot forge one.
 */
export function toolPolicyWarnings(log: string): string[] {
  return [...log.matchAll(/^\[gateway\] warning: (MCP_TOOLS(?:_DENY)? '.*match(?:es)? no tool of this server.*)$/gm)].map((m) => m[1]!);
}
