// Set-up step of the Pinggy gateway (root, from prepare): validate the
// environment and write the ssh configuration, the known host and the
// supervisor's settings into the gateway's private folder.
import { writeFileSync } from 'node:fs';
import { ConfigError, knownHosts, pinggySettings, sshConfig } from './ssh-config.cjs';

const dir = process.argv[2];
try {
  const settings = pinggySettings(process.env);
  const knownHostsFile = `${dir}/known_hosts`;
  writeFileSync(`${dir}/ssh_config`, sshConfig(settings, knownHostsFile), { mode: 0o600 });
  writeFileSync(knownHostsFile, knownHosts(settings), { mode: 0o600 });
  const secrets = [settings.token, settings.bearer, settings.basicAuth].filter(Boolean);
  writeFileSync(
    `${dir}/tunnel.json`,
    JSON.stringify({ server: settings.server, port: settings.port, pinned: Boolean(settings.hostKey), retries: settings.retries, secrets }),
    { mode: 0o600 },
  );
  console.log(
    `[sandbox] pinggy: tunnel to ${settings.server}:${settings.port}, host key ${settings.hostKey ? 'pinned by PINGGY_HOST_KEY' : 'trusted on first use (set PINGGY_HOST_KEY to pin it)'}`,
  );
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`[sandbox] error: ${error.message}`);
  process.exit(78);
}
