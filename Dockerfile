# mcp-sandbox: a stdio MCP server behind the session gateway (internal port
# 8000, loopback only), reached through one of three gateways chosen by TEMPLATE:
#   nginx   TLS proxy checking a bearer token (port 8443)
#   ngrok   ngrok agent (the @ngrok/ngrok SDK) with a traffic policy
#   pinggy  OpenSSH reverse tunnel to Pinggy
#
# This is the only Dockerfile. What all templates share lives in docker/common/;
# a template is a folder docker/TEMPLATE/ with a `packages` file (its Debian
# packages) and `gateway/` (hooks the shared entrypoint runs: prepare, run,
# healthcheck, keep-env; plus a package-lock.json when it needs npm packages).
# It builds with the legacy builder and BuildKit alike, from the repository root:
#   docker build .                                  (nginx)
#   docker build --build-arg TEMPLATE=pinggy .
# Layers go from the least to the most often changed, so that changing NPM_MCP
# rebuilds only the last one.

ARG NODE_VERSION=22
ARG BASE_IMAGE=node:${NODE_VERSION}-bookworm-slim

# --- Stage 1, thrown away: the session gateway (docker/common/session-gateway:
# our stdio <-> Streamable HTTP bridge on the MCP SDK), pinned by its lockfile
# and bundled into one file.
FROM ${BASE_IMAGE} AS session-gateway
COPY build-extra/ca/ /opt/sandbox/ca/
COPY docker/common/bin/with-build-ca /opt/sandbox/bin/with-build-ca
COPY docker/common/session-gateway/ /build/common/session-gateway/
COPY docker/common/lib/mcp-probe.mjs /build/common/lib/mcp-probe.mjs
RUN /opt/sandbox/bin/with-build-ca npm ci --prefix /build/common/session-gateway --no-audit --no-fund \
 && /build/common/session-gateway/bundle /build/common/session-gateway /opt/session-gateway/gateway.mjs

# --- Stage 1b, thrown away: Supergateway, pinned by its lockfile, bundled into
# one file (docker/common/supergateway/bundle says why). The product no longer
# runs it; it stays as `npm run bench`'s reference ("Supergateway alone").
FROM ${BASE_IMAGE} AS supergateway
COPY build-extra/ca/ /opt/sandbox/ca/
COPY docker/common/bin/with-build-ca /opt/sandbox/bin/with-build-ca
COPY docker/common/supergateway/ /build/supergateway/
RUN /opt/sandbox/bin/with-build-ca npm ci --prefix /build/supergateway --no-audit --no-fund \
 && /build/supergateway/bundle /build/supergateway /opt/supergateway

# --- Stage 2: the image.
FROM ${BASE_IMAGE}
ARG TEMPLATE=nginx

# Operating system: tini, iptables and two unprivileged users for every
# template, plus the template's own packages.
COPY docker/common/setup-os docker/${TEMPLATE}/packages /opt/sandbox/build/
RUN /opt/sandbox/build/setup-os /opt/sandbox/build/packages

# A CA bundle for networks that inspect TLS (EXTRA_CA_CERT). Public data; the
# folder holds only a README when no bundle is given.
COPY build-extra/ca/ /opt/sandbox/ca/

# The session gateway and Supergateway (the bench's reference): one bundled file each.
COPY --from=session-gateway /opt/session-gateway/ /opt/session-gateway/
COPY --from=supergateway /opt/supergateway/ /opt/supergateway/
COPY docker/common/bin/with-build-ca /opt/sandbox/bin/with-build-ca
RUN ln -s /opt/supergateway/dist/lib/supergateway.mjs /usr/local/bin/supergateway

# The template's gateway, and its npm packages when it has a lockfile.
COPY docker/${TEMPLATE}/gateway/ /opt/sandbox/gateway/
RUN if [ -f /opt/sandbox/gateway/package-lock.json ]; then \
      /opt/sandbox/bin/with-build-ca npm ci --prefix /opt/sandbox/gateway --omit=dev --no-audit --no-fund && rm -rf /root/.npm; \
    fi

# The sandbox runtime shared by all templates.
COPY docker/common/bin/ /opt/sandbox/bin/
COPY docker/common/lib/ /opt/sandbox/lib/

# The MCP server, installed at build time so nothing is fetched at run time.
# NPM_MCP is a registry spec (name or name@version) or ./FILE.tgz from
# build-extra/server/ (the CLI packs local directories there).
ARG NPM_MCP=@modelcontextprotocol/server-filesystem@2026.8.31
ARG NPM_MCP_BIN=
COPY build-extra/server/ /opt/sandbox/server-package/
RUN /opt/sandbox/bin/install-server "$NPM_MCP" "$NPM_MCP_BIN"

LABEL org.opencontainers.image.title="mcp-sandbox" \
      io.mcp-sandbox.template="${TEMPLATE}"
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ["/opt/sandbox/bin/healthcheck"]
ENTRYPOINT ["/opt/sandbox/bin/entrypoint"]
