// Liveness probe used by the health checks: GET URL and expect STATUS.
// TLS is not verified: the probe talks to this container's own loopback.
import http from 'node:http';
import https from 'node:https';

const [url, expected] = process.argv.slice(2);
const client = url.startsWith('https:') ? https : http;
const request = client.get(url, { rejectUnauthorized: false, timeout: 4000 }, (response) => {
  response.resume();
  if (String(response.statusCode) === expected) process.exit(0);
  console.error(`${url} answered ${response.statusCode}, expected ${expected}`);
  process.exit(1);
});
request.on('timeout', () => request.destroy(new Error('timed out')));
request.on('error', (error) => {
  console.error(`${url}: ${error.message}`);
  process.exit(1);
});
