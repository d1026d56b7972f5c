# mcp-sandbox, nginx template: a stdio MCP server behind Supergateway (internal
# port 8000) and an nginx TLS proxy that checks a bearer token (port 8443).
#
# All three templates (nginx, ngrok, pinggy) share this layout; what they have in
# common lives in docker/common/ and is only referenced here. The file works with
# the legacy builder and BuildKit alike, from the repository root:
#   docker build -f docker/nginx/Dockerfile .
# Layers are ordered from the least to the most often changed, so that changing
# NPM_MCP rebuilds only the last one.

ARG NODE_VERSION=22
ARG BASE_IMAGE=node:${NODE_VERSION}-bookworm-slim
FROM ${BASE_IMAGE}

# Operating system: the sandbox runtime shared by all templates (tini,
# iptables, two unprivileged users) plus this template's gateway, nginx.
COPY docker/common/setup-os /opt/sandbox/setup-os
RUN /opt/sandbox/setup-os nginx openssl \
 && rm -rf /etc/nginx/sites-enabled /var/log/nginx/*

# A CA bundle for networks that inspect TLS (EXTRA_CA_CERT). Public data; the
# folder holds only a README when no bundle is given.
COPY build-extra/ca/ /opt/sandbox/ca/

# Supergateway, with its whole dependency tree pinned by a lockfile.
COPY docker/common/supergateway/ /opt/supergateway/
COPY docker/common/bin/with-build-ca /opt/sandbox/bin/with-build-ca
RUN /opt/sandbox/bin/with-build-ca npm ci --prefix /opt/supergateway --omit=dev --no-audit --no-fund \
 && ln -s /opt/supergateway/node_modules/.bin/supergateway /usr/local/bin/supergateway

# The sandbox runtime shared by all templates, then this template's gateway.
COPY docker/common/bin/ /opt/sandbox/bin/
COPY docker/nginx/gateway/ /opt/sandbox/gateway/

# The MCP server, installed at build time so nothing is fetched at run time.
# NPM_MCP is a registry spec (name or name@version) or ./FILE.tgz from
# build-extra/server/ (the CLI packs local directories there).
ARG NPM_MCP=@modelcontextprotocol/server-filesystem@2026.8.31
ARG NPM_MCP_BIN=
COPY build-extra/server/ /opt/sandbox/server-package/
RUN /opt/sandbox/bin/install-server "$NPM_MCP" "$NPM_MCP_BIN"

LABEL org.opencontainers.image.title="mcp-sandbox (nginx)" \
      io.mcp-sandbox.template="nginx"
EXPOSE 8443
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ["/opt/sandbox/bin/healthcheck"]
ENTRYPOINT ["/opt/sandbox/bin/entrypoint"]
