# Hive cells (API + worker). Used by docker-compose.yml; not exercised by CI (no Docker engine there).
FROM node:20-bookworm
RUN apt-get update \
  && apt-get install -y --no-install-recommends git postgresql procps \
  && rm -rf /var/lib/apt/lists/* \
  && git config --system safe.directory "*"
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
# The Temporal SDK patch (patches/, docs/benchmarks.md): applied by postinstall.
COPY patches ./patches
COPY prisma ./prisma
COPY prisma.config.ts ./
# prisma.config.ts loads the PostgreSQL CLI adapter from here (postinstall generates both clients).
COPY src/db/postgres.ts ./src/db/
RUN npm install --no-audit --no-fund
COPY . .
ENV HIVE_HOST=0.0.0.0 \
    HIVE_PORT=4400 \
    HIVE_DATA_DIR=/var/lib/hive
EXPOSE 4400
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:4400/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# With TEMPORAL_ADDRESS set, `hive up` connects to that server and starts no dev server.
CMD ["node", "bin/hive.js", "up"]
