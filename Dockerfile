# syntax=docker/dockerfile:1
# Build stage: the toolchain better-sqlite3 compiles with (python3, make, g++ are in the full image).
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Runtime: slim Node LTS, production dependencies only, non-root, tini as PID 1 so signals reach Node.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/mde-forwarder /etc/mde-forwarder \
 && chown node:node /var/lib/mde-forwarder
ENV NODE_ENV=production \
    MDE_FORWARDER_CONFIG=/etc/mde-forwarder/forwarder.yaml
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config/forwarder.example.yaml config/forwarder.reference.yaml ./config/
USER node
# The state (state.path: /var/lib/mde-forwarder/state.db in the mounted config).
VOLUME ["/var/lib/mde-forwarder"]
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli/main.js"]
CMD ["run"]
