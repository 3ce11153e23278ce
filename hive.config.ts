// Hive cells' own workspace config: `npm start` in a clone of this repository offers this template,
// so a fresh clone has something real to provision, and an agent working on Hive gets a cell with a
// Hive of its own to try its change on.
import type { HiveConfigInput } from './src/index.ts';

export default {
  templates: {
    hive: {
      label: 'Hive cells',
      description:
        "A worktree of Hive cells running its own `hive up` (API, dashboard, worker, Temporal dev server, SQLite) on the cell's ports, with its data in the cell",
      // Installed once per lockfile and schema, then copied into every cell. npm's cache already
      // holds every package (`npm install` filled it), so `npm ci` needs no network. Its postinstall
      // generates the Prisma clients (gitignored), which a copied node_modules alone would lack.
      dependencies: [
        {
          key: ['package-lock.json', 'prisma/schema.prisma'],
          paths: ['node_modules', 'src/db/generated', 'src/db/generated-pg'],
          install: 'npm ci --prefer-offline --no-audit --no-fund',
        },
      ],
      services: {
        hive: {
          // The cell's own Hive, never the one that made the cell: its own ports, its data under
          // .hive/ (ignored by git), the cell's worktree as its workspace. Cells get none of Hive's
          // environment, so TEMPORAL_ADDRESS or HIVE_WORKSPACES of the outer Hive cannot leak in.
          // The Temporal CLI is the one the workspace already has (.tools/bin), else PATH's.
          run: 'HIVE_TOOLS_DIR="$HIVE_WORKSPACE_DIR/.tools/bin" node bin/hive.js up',
          ports: { primary: 'any', temporal: 'any', temporalUi: 'any' },
          env: {
            HIVE_PORT: '$PORT',
            HIVE_TEMPORAL_PORT: '$PORT:hive.temporal',
            HIVE_TEMPORAL_UI_PORT: '$PORT:hive.temporalUi',
            HIVE_DATA_DIR: '.hive/data',
            HIVE_LOG_LEVEL: 'warn',
          },
          // Ready when its API answers and reaches its Temporal and database.
          readiness: { type: 'http', path: '/healthz' },
          readyTimeoutMs: 180_000,
        },
      },
      requirements: { executables: { node: '>=20.12', git: '*' }, minFreeDiskMb: 1024 },
      resources: { cpu: 1, memoryMb: 1024, provisionSeconds: 60 },
      prompts: ['docs/architecture.md'],
    },
  },
} satisfies HiveConfigInput;
