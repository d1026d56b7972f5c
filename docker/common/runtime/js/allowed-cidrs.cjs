'use strict';
// The client addresses a tunnel lets in (NGROK_ALLOW_CIDRS, PINGGY_ALLOW_CIDRS):
// one rule for both tunnels' modules (docker/ngrok/gateway/forward-options.cjs,
// docker/pinggy/gateway/ssh-config.cjs), which load it from /opt/sandbox/js in
// the image and from docker/common/runtime/js in the repository.

/** An address or CIDR, IPv4 or IPv6. */
const CIDR =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}(?:\/(?:3[0-2]|[12]?[0-9]))?|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)$/;

/** The entries of a comma-separated setting, trimmed, empty ones dropped. */
const list = (value) =>
  (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

/** The first entry that is not an address or CIDR, or undefined. */
const badCidr = (cidrs) => cidrs.find((c) => !CIDR.test(c));

/** An address as a CIDR (/32 or /128), for an edge that takes CIDRs only; CIDRs and bad entries as they are. */
const asCidr = (entry) => (!CIDR.test(entry) || entry.includes('/') ? entry : `${entry}/${entry.includes(':') ? 128 : 32}`);

module.exports = { CIDR, list, badCidr, asCidr };
