import { z } from 'zod';
import type { CommandContext } from '../context.js';
import { readPublicUrlArgs } from '../docker/argv.js';
import { engineEndpoint, formatCommand } from '../docker/engine.js';
import { DockerError, parseOrThrow, StateError } from '../errors.js';
import { CLIENTS, clientSnippets, renderConfig, type Endpoint } from '../clients/clients.js';
import { remoteReach, servesOwnCertificate } from '../instance/endpoint.js';
import { engineFor } from '../instance/engine-select.js';
import { requireInstance } from '../instance/find.js';
import { saveServedCertificate } from '../start/certificate.js';
import { npmRun, settingsFor, type EnvOptions } from '../instance/env-file.js';
import { oauthResourceUrl } from '../instance/oauth.js';
import { credentialFor } from '../templates/registry.js';
import { findCa, issuedBy } from '../tls/ca.js';
import { systemTrusts } from '../tls/trust-state.js';

export const connectOptionsSchema = z.object({
  client: z.enum(CLIENTS, { message: `--client must be one of ${CLIENTS.join(', ')}` }).optional(),
  json: z.boolean().default(false),
});
export type ConnectOptions = z.input<typeof connectOptionsSchema> & EnvOptions;

export interface ConnectResult {
  endpoint: Endpoint;
  /** SHA-256 of the certificate the instance serves (a published port only). */
  fingerprint?: string;
  /** A remote engine publishing on its own loopback: the `ssh -L` line the URL needs. */
  sshForward?: string;
}

/**
 * The endpoint of the running instance of this env file: its real URL (from
 * Docker, or the tunnel's URL file) and the certificate it really serves,
 * saved where the configurations point.
 */
async function resolveEndpoint(ctx: CommandContext, options: ConnectOptions): Promise<ConnectResult> {
  const settings = settingsFor(ctx, options);
  const docker = engineFor(ctx, options, settings, settings.secrets);
  const instance = await requireInstance(docker, settings.NAME);
  const { remote } = await engineEndpoint(docker);
  if (instance.state !== 'running') {
    throw new StateError(`${instance.container} is ${instance.state}, not running. Start it first: ${npmRun('start', ctx, settings, '-d')}`);
  }
  const { authorization } = credentialFor(settings.template, { ACCESS_TOKEN: settings.accessToken, ...settings.gatewayEnv });
  if (!instance.url) {
    throw new DockerError(
      `${instance.container} has not reported its URL yet (a tunnel may still be connecting). Wait a few seconds and retry; ${npmRun('logs', ctx, settings)} shows why`,
      formatCommand(readPublicUrlArgs(instance.container)),
    );
  }
  if (settings.AUTH === 'oauth') {
    // The resource the instance announces: start's choice on a published port, the public URL with a tunnel.
    const resource = servesOwnCertificate(settings.template) ? oauthResourceUrl(settings, remote) : instance.url;
    const secret = settings.gatewayEnv.OAUTH_OWNER_PASSPHRASE ? 'OAUTH_OWNER_PASSPHRASE (or ACCESS_TOKEN)' : 'ACCESS_TOKEN';
    ctx.out.note(
      `AUTH=oauth: web connectors (claude.ai, ChatGPT) add ${resource} as a custom connector and send you to a consent page once, where ${secret} proves the instance is yours (docs/GUIDE.md, "Connecting web connectors (OAuth)"). The configurations below use ACCESS_TOKEN directly.`,
    );
  }
  if (!servesOwnCertificate(settings.template)) {
    return { endpoint: { serverName: settings.NAME, url: instance.url, authorization } };
  }
  const { file, certificate } = await saveServedCertificate(docker, settings);
  // On a remote's loopback the URL (127.0.0.1, the same port) works through an SSH forward only; say how.
  const forward =
    remote && /^https:\/\/(127\.0\.0\.1|\[::1\]):/.test(instance.url) ? remoteReach('127.0.0.1', Number(new URL(instance.url).port), remote) : undefined;
  // Signed by the local CA: trusted through the system store once `npm run trust` ran, else through the CA's file.
  const localCa = findCa(ctx.hostEnv);
  if (localCa && issuedBy(certificate, localCa)) {
    const trusted = await systemTrusts(localCa, ctx.hostEnv);
    if (!trusted) {
      ctx.out.note(
        `The certificate is signed by the local CA ${localCa.paths.cert}; \`npm run trust\` adds it to this machine's trust store (then no client needs a certificate setting).`,
      );
    }
    return {
      endpoint: { serverName: settings.NAME, url: instance.url, authorization, ...(trusted ? { systemCa: true } : { caFile: localCa.paths.cert }) },
      fingerprint: certificate.fingerprint256,
      ...(forward?.sshForward ? { sshForward: forward.sshForward } : {}),
    };
  }
  // A certificate signed by a CA (mkcert, a company CA) is trusted through that CA, not through the leaf.
  const selfSigned = certificate.issuer === certificate.subject;
  if (!selfSigned) {
    ctx.out.note(
      `The certificate is issued by ${certificate.issuer.replace(/\n/g, ', ')}: clients trust it when they trust that CA (mkcert: NODE_EXTRA_CA_CERTS="$(mkcert -CAROOT)/rootCA.pem").`,
    );
  }
  return {
    endpoint: { serverName: settings.NAME, url: instance.url, authorization, ...(selfSigned ? { caFile: file } : {}) },
    fingerprint: certificate.fingerprint256,
    ...(forward?.sshForward ? { sshForward: forward.sshForward } : {}),
  };
}

/** `npm run connect`: configurations for MCP clients, made from the running instance. */
export async function connect(ctx: CommandContext, rawOptions: ConnectOptions): Promise<ConnectResult> {
  const options = parseOrThrow(connectOptionsSchema, rawOptions);
  const result = await resolveEndpoint(ctx, rawOptions);
  const snippets = clientSnippets(result.endpoint).filter((s) => !options.client || s.client === options.client);
  ctx.out.note('This output holds your ACCESS_TOKEN: paste it into the client configuration, never into a chat, an issue or a screenshot.');
  if (result.sshForward) {
    ctx.out.note(`The instance listens on the remote host's loopback (BIND_ADDRESS). Keep this running while clients use it: ${result.sshForward}`);
  }

  if (options.json) {
    const clients = Object.fromEntries(snippets.map((s) => [s.client, s.config]));
    ctx.out.data(
      JSON.stringify(
        options.client
          ? clients[options.client]
          : {
              url: result.endpoint.url,
              certificate: result.endpoint.caFile ?? null,
              fingerprint: result.fingerprint ?? null,
              ...(result.sshForward ? { sshForward: result.sshForward } : {}),
              clients,
            },
        null,
        2,
      ),
    );
    return result;
  }
  if (options.client) {
    // Only the configuration on stdout, so that it can be piped or pasted as is; the rest on stderr.
    const [snippet] = snippets;
    ctx.out.note(`${snippet!.title}: ${snippet!.where}`);
    for (const line of snippet!.notes) ctx.out.note(line);
    ctx.out.data(renderConfig(snippet!.config));
    return result;
  }
  const lines = [
    `URL:          ${result.endpoint.url}`,
    ...(result.sshForward ? [`SSH tunnel:   ${result.sshForward}   (run it here first: the instance listens on the remote's loopback)`] : []),
    ...(result.endpoint.caFile ? [`Certificate:  ${result.endpoint.caFile}`] : []),
    ...(result.fingerprint ? [`SHA-256:      ${result.fingerprint}`] : []),
    '',
  ];
  for (const snippet of snippets) {
    lines.push(`## ${snippet.title}`, `# ${snippet.where}`, renderConfig(snippet.config), ...snippet.notes.map((n) => `# ${n}`), '');
  }
  lines.push('Only one client: npm run connect -- --client claude-desktop|claude-code|cursor|vscode|inspector');
  ctx.out.data(lines.join('\n'));
  return result;
}
