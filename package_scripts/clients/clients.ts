import { shellQuote } from '../shell.js';
/**
 * Ready-to-paste client configurations for one endpoint. Pure: the command
 * decides the URL, token and certificate; these only shape them per client.
 */

/** mcp-remote as the Claude Desktop configuration runs it: pinned, and the same version as this project's devDependency. */
export const MCP_REMOTE_VERSION = '0.15.1';
/** The Inspector release these commands were written against (2.x needs Node 22.19 or newer). */
export const INSPECTOR_VERSION = '2.12.0';
export const INSPECTOR_MIN_NODE = '22.19.0';

export const CLIENTS = ['claude-desktop', 'claude-code', 'cursor', 'vscode', 'inspector'] as const;
export type ClientName = (typeof CLIENTS)[number];

export interface Endpoint {
  /** The key the server gets in the client's configuration. */
  serverName: string;
  url: string;
  /** The whole Authorization header value: `Bearer <token>` (or `Basic ...` with NGROK_BASIC_AUTH). */
  authorization: string;
  /** A PEM file Node-based clients must trust (NODE_EXTRA_CA_CERTS); absent for a publicly trusted certificate. */
  caFile?: string;
  /**
   * The certificate is trusted through the system store (the local CA after
   * `npm run trust`): Node-based clients are told to read that store
   * (NODE_USE_SYSTEM_CA=1, Node 22.19+) instead of a NODE_EXTRA_CA_CERTS file.
   */
  systemCa?: boolean;
}

/** The variable Node-based clients need, if any: a file to trust, or the system store. */
export function nodeTrustEnv(endpoint: Endpoint): Record<string, string> {
  if (endpoint.caFile) return { NODE_EXTRA_CA_CERTS: endpoint.caFile };
  if (endpoint.systemCa) return { NODE_USE_SYSTEM_CA: '1' };
  return {};
}

/**
 * Claude Desktop speaks stdio only: mcp-remote bridges it to HTTP. The header
 * travels in an env var and is written without a space after the colon,
 * because some clients split arguments at spaces; mcp-remote expands ${...}.
 */
export function claudeDesktopConfig(endpoint: Endpoint) {
  return {
    mcpServers: {
      [endpoint.serverName]: {
        command: 'npx',
        args: ['-y', `mcp-remote@${MCP_REMOTE_VERSION}`, endpoint.url, '--header', 'Authorization:${AUTH_HEADER}'],
        env: {
          AUTH_HEADER: endpoint.authorization,
          ...nodeTrustEnv(endpoint),
        },
      },
    },
  };
}

/** VS Code's mcp.json (.vscode/mcp.json or the user profile): type http with headers. */
export function vscodeConfig(endpoint: Endpoint) {
  return {
    servers: {
      [endpoint.serverName]: { type: 'http', url: endpoint.url, headers: { Authorization: endpoint.authorization } },
    },
  };
}

/** Cursor's mcp.json (~/.cursor/mcp.json or .cursor/mcp.json): url and headers. */
export function cursorConfig(endpoint: Endpoint) {
  return {
    mcpServers: {
      [endpoint.serverName]: { url: endpoint.url, headers: { Authorization: endpoint.authorization } },
    },
  };
}

export const claudeCodeArgv = (endpoint: Endpoint) => [
  'claude',
  'mcp',
  'add',
  ...['--transport', 'http'],
  endpoint.serverName,
  endpoint.url,
  ...['--header', `Authorization: ${endpoint.authorization}`],
];

export const inspectorArgv = (endpoint: Endpoint) => [
  'npx',
  '-y',
  `@modelcontextprotocol/inspector@${INSPECTOR_VERSION}`,
  '--cli',
  ...['--server-url', endpoint.url],
  ...['--transport', 'http'],
  ...['--header', `Authorization: ${endpoint.authorization}`],
  ...['--method', 'tools/list'],
];

/** A shell line; NODE_EXTRA_CA_CERTS (or NODE_USE_SYSTEM_CA) in front when the certificate needs it. */
export function shellLine(argv: readonly string[], nodeEnv: Record<string, string> = {}): string {
  const prefix = Object.entries(nodeEnv)
    .map(([name, value]) => `${name}=${shellQuote(value)} `)
    .join('');
  return prefix + argv.map(shellQuote).join(' ');
}

export interface ClientSnippet {
  client: ClientName;
  title: string;
  /** Where it goes. */
  where: string;
  /** JSON configurations are objects; commands are shell lines. */
  config: object | string;
  notes: string[];
}

export function clientSnippets(endpoint: Endpoint, nodeVersion = process.versions.node): ClientSnippet[] {
  const trust = endpoint.caFile
    ? [
        `The client must trust ${endpoint.caFile}: Node-based clients with NODE_EXTRA_CA_CERTS, others through the system's trust store (npm run trust; docs/GUIDE.md, "Trusting the local CA").`,
      ]
    : [];
  const systemNote = endpoint.systemCa
    ? [
        'NODE_USE_SYSTEM_CA=1 makes Node read the system trust store, which trusts the local CA (Node 22.19 or newer; docs/GUIDE.md, "Trusting the local CA", for older ones).',
      ]
    : [];
  const oldNode = compareVersions(nodeVersion, INSPECTOR_MIN_NODE) < 0;
  return [
    {
      client: 'claude-desktop',
      title: 'Claude Desktop',
      where: 'claude_desktop_config.json (Settings > Developer > Edit Config); merge into "mcpServers", then restart Claude Desktop',
      config: claudeDesktopConfig(endpoint),
      notes: ['npx fetches mcp-remote on first use (Node.js 20 or newer must be on PATH).', ...systemNote],
    },
    {
      client: 'claude-code',
      title: 'Claude Code',
      where: 'run in a shell (add --scope user to use it in every project)',
      config: shellLine(claudeCodeArgv(endpoint)),
      notes: endpoint.caFile
        ? [`Start Claude Code with NODE_EXTRA_CA_CERTS=${shellQuote(endpoint.caFile)} in its environment.`]
        : endpoint.systemCa
          ? ['Start Claude Code with NODE_USE_SYSTEM_CA=1 in its environment (it then trusts the system store, which trusts the local CA).']
          : [],
    },
    {
      client: 'cursor',
      title: 'Cursor',
      where: '~/.cursor/mcp.json (or .cursor/mcp.json in a project); merge into "mcpServers"',
      config: cursorConfig(endpoint),
      notes: trust,
    },
    {
      client: 'vscode',
      title: 'VS Code',
      where: '.vscode/mcp.json (or "MCP: Open User Configuration"); merge into "servers"',
      config: vscodeConfig(endpoint),
      notes: trust,
    },
    {
      client: 'inspector',
      title: 'MCP Inspector (lists the tools once)',
      where: 'run in a shell',
      config: shellLine(inspectorArgv(endpoint), nodeTrustEnv(endpoint)),
      notes: [
        `Inspector 2 needs Node.js ${INSPECTOR_MIN_NODE} or newer${oldNode ? ` (this one is ${nodeVersion}: upgrade Node first)` : ''}. Drop --cli and --method for the web interface.`,
      ],
    },
  ];
}

export function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, '').split('.').map(Number);
  const pb = b.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i += 1) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

export function renderConfig(config: object | string): string {
  return typeof config === 'string' ? config : JSON.stringify(config, null, 2);
}
