// @ts-check
// Build step of the "server" stage, run as the unprivileged user "builder":
// install the MCP server named by MCP_SERVER (npm or Python) into
// /opt/mcp-server, a folder that user owns, and point /opt/mcp-server/mcp-server
// at its executable. What runs is planned by plan.cjs (the CLI validates with
// the same code); installer.mjs carries the plan out, without a shell.
//
// The package's install scripts (npm lifecycle scripts, a Python build
// backend) run here as untrusted code, with network access. This stage holds
// nothing of the sandbox runtime and "builder" can write only this tree; the
// final stage takes the tree alone, owned by root (see seal).
import { existsSync } from 'node:fs';
import { InstallError, PREFIX, carryOut, linkServer, nodeHeadersEnv, npmExecutables, pythonExecutables, requestedServer, stepsFor } from './installer.mjs';

const env = { ...process.env, ...nodeHeadersEnv() };
try {
  if (process.getuid?.() === 0) throw new InstallError('refusing to install the MCP server as root');
  const request = requestedServer(env);
  if (request.server.ecosystem === 'python' && !existsSync('/usr/bin/python3')) {
    throw new InstallError(`${request.value} is a Python server: build with --build-arg SERVER_RUNTIME=python (npm run build does)`);
  }
  carryOut(stepsFor(request, { env }), { env });
  const installed = request.server.ecosystem === 'npm' ? npmExecutables(PREFIX) : pythonExecutables(PREFIX, request.server);
  const chosen = linkServer(PREFIX, installed, env);
  console.log(`mcp-server -> ${installed.name} (${chosen})`);
} catch (error) {
  if (!(error instanceof InstallError)) throw error;
  console.error(`install: ${error.message}`);
  process.exit(error.exitCode);
}
