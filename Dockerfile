# mcp-sandbox: a stdio MCP server behind the session gateway (internal port
# 8000, loopback only), reached through one of three gateways chosen by TEMPLATE:
#   nginx   TLS proxy checking a bearer token (port 8443)
#   ngrok   ngrok agent (the @ngrok/ngrok SDK) with a traffic policy
#   pinggy  OpenSSH reverse tunnel to Pinggy
#
# This is the only Dockerfile. What all templates share lives in docker/common/:
# build/ runs only while the image is built (setup-os, with-build-ca, the
# server's installer and seal), runtime/ is what the container runs (copied to
# /opt/sandbox/ folder for folder), plus the gateways' own folders;
# a template is a folder docker/TEMPLATE/ with a `packages` file (its Debian
# packages) and `gateway/` (the hooks and files the shared entrypoint uses, listed
# once in package_scripts/templates/files.ts; plus a package-lock.json when it
# needs npm packages), and a descriptor in package_scripts/templates/.
# It builds with the legacy builder and BuildKit alike, from the repository root:
#   docker build .                                  (nginx)
#   docker build --build-arg TEMPLATE=pinggy .
# Layers go from the least to the most often changed, so that changing NPM_MCP
# rebuilds only the server stage and the last two steps.
#
# The MCP server's package is untrusted from the moment it is installed: its
# install scripts run in a stage of their own ("server"), as an unprivileged
# user, with nothing of the sandbox in reach. Only the installed tree crosses
# into the image, owned by root and read-only (docs/SECURITY.md, "Build time").

ARG NODE_VERSION=22
ARG BASE_IMAGE=node:${NODE_VERSION}-bookworm-slim

# --- Stage 1, thrown away: the session gateway (docker/common/session-gateway:
# our stdio <-> Streamable HTTP bridge on the MCP SDK), pinned by its lockfile
# and bundled into one file.
FROM ${BASE_IMAGE} AS session-gateway
COPY build-extra/ca/ /opt/sandbox/ca/
COPY docker/common/build/with-build-ca /opt/sandbox/bin/with-build-ca
COPY docker/common/session-gateway/ /build/common/session-gateway/
COPY docker/common/runtime/js/mcp-probe.mjs docker/common/runtime/js/setting-rules.cjs docker/common/runtime/js/audit-chain.cjs /build/common/runtime/js/
RUN /opt/sandbox/bin/with-build-ca npm ci --prefix /build/common/session-gateway --no-audit --no-fund \
 && /build/common/session-gateway/bundle /build/common/session-gateway /opt/session-gateway/gateway.mjs

# --- Stage 1b, thrown away: the egress enforcer (docker/common/egress-gateway,
# docs/design/EGRESS.md): its modules and their two dependencies, pinned by
# its lockfile, without development packages.
FROM ${BASE_IMAGE} AS egress-gateway
COPY build-extra/ca/ /opt/sandbox/ca/
COPY docker/common/build/with-build-ca /opt/sandbox/bin/with-build-ca
COPY docker/common/egress-gateway/package.json docker/common/egress-gateway/package-lock.json /opt/egress-gateway/
RUN /opt/sandbox/bin/with-build-ca npm ci --prefix /opt/egress-gateway --omit=dev --no-audit --no-fund
COPY docker/common/egress-gateway/src/ /opt/egress-gateway/src/

# --- Stage 2, thrown away: the MCP server, installed as "builder" (uid 10003)
# into /opt/mcp-server, the only folder that user may write. Install scripts
# run here (MCP_INSTALL_SCRIPTS=false skips them); whatever else they change in
# this stage is discarded with it. Python servers (SERVER_RUNTIME=python) get
# Debian's Python with venv, setuptools and wheel here, to build offline, and
# MCP_BUILD_PACKAGES (e.g. python3,make,g++ for node-gyp) are installed here
# only: the compiler never reaches the image.
FROM ${BASE_IMAGE} AS server
ARG SERVER_RUNTIME=node
ARG MCP_BUILD_PACKAGES=
COPY docker/common/build/package-names docker/common/build/setup-install-stage /build/setup/
RUN /build/setup/setup-install-stage "$SERVER_RUNTIME" "$MCP_BUILD_PACKAGES"
COPY build-extra/ca/ /build/ca/
COPY docker/common/build/server/plan.cjs docker/common/build/server/installer.mjs docker/common/build/server/install.mjs /build/bin/
# MCP_SERVER is npm:NAME[@VERSION], pypi:REQUIREMENT, or npm:./FILE.tgz,
# pypi:./FILE.whl, pypi:./FILE.tar.gz or pypi:./FOLDER staged in build-extra/server/
# (the CLI stages local packages there). NPM_MCP, the guide's name, means npm:.
COPY build-extra/server/ /build/server-package/
ARG MCP_SERVER=npm:@modelcontextprotocol/server-filesystem@2026.8.31
ARG NPM_MCP=
ARG MCP_SERVER_BIN=
ARG NPM_MCP_BIN=
ARG MCP_INSTALL_SCRIPTS=true
ARG PIP_INDEX_URL=
ARG PIP_EXTRA_INDEX_URL=
USER builder
# The modes seal wants, set here on the builder's own files: a chmod in the final
# stage copies every file it touches into one more layer (the tree twice in the image).
RUN node /build/bin/install.mjs && chmod -R u=rwX,go=rX,a-st /opt/mcp-server

# --- Stage 3: the image. Every step here runs as root on files we ship; the
# server's package never runs in this stage.
FROM ${BASE_IMAGE}
ARG TEMPLATE=nginx

# Operating system: tini, iptables and two unprivileged users for every
# template, plus the template's own packages, Python's interpreter for
# Python servers only, and the owner's MCP_SYSTEM_PACKAGES (their versions are
# printed and kept in /opt/sandbox/build/system-packages); no setuid or setgid
# file is left.
ARG SERVER_RUNTIME=node
ARG MCP_SYSTEM_PACKAGES=
COPY docker/common/build/setup-os docker/common/build/package-names docker/${TEMPLATE}/packages /opt/sandbox/build/
RUN /opt/sandbox/build/setup-os /opt/sandbox/build/packages "$SERVER_RUNTIME" "$MCP_SYSTEM_PACKAGES"

# A CA bundle for networks that inspect TLS (EXTRA_CA_CERT). Public data; the
# folder holds only a README when no bundle is given.
COPY build-extra/ca/ /opt/sandbox/ca/

# The session gateway: one bundled file. (Supergateway, the bench's reference,
# is not here: bench/supergateway/Dockerfile adds it on top of this image.)
COPY --from=session-gateway /opt/session-gateway/ /opt/session-gateway/
# The egress enforcer, started as "egress" when MCP_EGRESS names hosts or is learn.
COPY --from=egress-gateway --chown=0:0 /opt/egress-gateway/ /opt/egress-gateway/
COPY docker/common/build/with-build-ca /opt/sandbox/bin/with-build-ca

# The template's gateway, and its npm packages when it has a lockfile.
COPY docker/${TEMPLATE}/gateway/ /opt/sandbox/gateway/
RUN if [ -f /opt/sandbox/gateway/package-lock.json ]; then \
      /opt/sandbox/bin/with-build-ca npm ci --prefix /opt/sandbox/gateway --omit=dev --no-audit --no-fund && rm -rf /root/.npm; \
    fi

# The sandbox runtime shared by all templates (docker/common/runtime is
# /opt/sandbox, folder for folder: bin, lib, js, tables), and the auth gateway
# that AUTH=oauth starts (plain Node, no dependency: nothing to install).
COPY docker/common/runtime/ /opt/sandbox/
COPY docker/common/auth-gateway/src/ /opt/sandbox/auth-gateway/

# The MCP server from stage 2: its tree only, owned by root, sealed read-only.
COPY docker/common/build/server/seal /opt/sandbox/build/seal
COPY --from=server --chown=0:0 /opt/mcp-server/ /opt/mcp-server/
RUN /opt/sandbox/build/seal

LABEL org.opencontainers.image.title="mcp-sandbox" \
      io.mcp-sandbox.template="${TEMPLATE}"
# The check runs as nobody with an empty environment (package_scripts/docker/healthcheck.ts says why).
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 CMD ["/usr/bin/setpriv","--reuid=nobody","--regid=nogroup","--clear-groups","--inh-caps=-all","--bounding-set=-all","--no-new-privs","--","/usr/bin/env","-i","PATH=/usr/bin:/bin","/opt/sandbox/bin/healthcheck"]
ENTRYPOINT ["/opt/sandbox/bin/entrypoint"]
