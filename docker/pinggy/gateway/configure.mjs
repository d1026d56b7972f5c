// @ts-check
// Set-up step of the Pinggy gateway (root, from prepare): validate the
// environment and write the ssh configuration, the known host and the
// supervisor's settings into the gateway's private folder.
import { readFileSync, writeFileSync } from 'node:fs';
import { ConfigError, isMountPoint, knownHostsPlan, pinggySettings, sshConfig } from './ssh-config.cjs';

const dir = process.argv[2];
// The instance's volume (npm run start mounts NAME-tunnel here), owned by "gateway".
const STATE_DIR = '/var/lib/mcp-sandbox/tunnel';
try {
  const settings = pinggySettings(process.env);
  const plan = knownHostsPlan(settings, dir, STATE_DIR, isMountPoint(readFileSync('/proc/self/mountinfo', 'utf8'), STATE_DIR));
  writeFileSync(`${dir}/ssh_config`, sshConfig(settings, plan.file), { mode: 0o600 });
  // In the volume ssh itself (as "gateway") adds the key it first sees; root here cannot enter it.
  if (plan.write !== undefined) writeFileSync(plan.file, plan.write, { mode: 0o600 });
  const secrets = [settings.token, settings.bearer, settings.basicAuth].filter(Boolean);
  writeFileSync(
    `${dir}/tunnel.json`,
    JSON.stringify({
      server: settings.server,
      port: settings.port,
      pinned: Boolean(settings.hostKey),
      knownHostsFile: plan.file,
      keptInVolume: plan.kept,
      retries: settings.retries,
      secrets,
    }),
    { mode: 0o600 },
  );
  console.log(
    `[sandbox] pinggy: tunnel to ${settings.server}:${settings.port}, host key ${
      settings.hostKey
        ? 'pinned by PINGGY_HOST_KEY'
        : plan.kept
          ? "as first seen, kept in the instance's volume (set PINGGY_HOST_KEY to pin it)"
          : 'trusted on first use for this start only: no volume (set PINGGY_HOST_KEY to pin it)'
    }`,
  );
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`[sandbox] error: ${error.message}`);
  process.exit(78);
}
