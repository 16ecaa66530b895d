# syntax=docker/dockerfile:1
# mde-siem-forwarder. Build: docker build -t mde-siem-forwarder .   Run: see docker-compose.yml.
# Both stages use the same Node major and Debian release: better-sqlite3's native module is compiled in the
# first and loaded by the second.
ARG NODE_MAJOR=20

# Build stage: the full image has the toolchain better-sqlite3 compiles with (python3, make, g++).
FROM node:${NODE_MAJOR}-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Runtime: slim Node LTS, production dependencies only, non-root, tini as PID 1 so that SIGTERM (stop) and
# SIGHUP (config reload) reach Node and zombies are reaped.
FROM node:${NODE_MAJOR}-bookworm-slim
LABEL org.opencontainers.image.title="mde-siem-forwarder" \
      org.opencontainers.image.description="Microsoft Defender for Endpoint detections to CEF/LEEF/JSON over syslog" \
      org.opencontainers.image.licenses="MIT"
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/mde-forwarder /etc/mde-forwarder \
 && chown node:node /var/lib/mde-forwarder \
 && chmod 0750 /var/lib/mde-forwarder
# Read-only root filesystem (docker run --read-only, compose read_only): nothing is written outside the state
# volume. Node writes no files of its own; SQLite puts its temporary files (large sorts, statement journals
# that spill) in SQLITE_TMPDIR, here the volume, so the image needs no writable /tmp either.
ENV NODE_ENV=production \
    MDE_FORWARDER_CONFIG=/etc/mde-forwarder/forwarder.yaml \
    SQLITE_TMPDIR=/var/lib/mde-forwarder
COPY --from=build /app/package.json /app/
COPY --from=build /app/node_modules /app/node_modules
COPY --from=build /app/dist /app/dist
COPY config/forwarder.example.yaml config/forwarder.reference.yaml /app/config/
USER node
# The working directory is the state volume, so a relative state.path (./data/state.db of the example
# config) lands in it too. Put the config at $MDE_FORWARDER_CONFIG (mounted read-only).
WORKDIR /var/lib/mde-forwarder
VOLUME ["/var/lib/mde-forwarder"]
# /metrics, /healthz, /readyz (metrics.port). The health check assumes the default port 9464.
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli/main.js"]
CMD ["run"]
