// Database per cell benchmark: a seed that takes seconds (tables, 300,000 rows, indexes) run for a
// cell, against the cell's clone of a template database the seed built once.
// Run: npm run bench -- [N]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import {
  cloneDatabase,
  databaseTarget,
  databaseUrl,
  dropDatabase,
  ensureTemplate,
} from '../src/databases/cellDatabases.js';
import { client, ensureServer, serverPaths, stopServer } from '../src/databases/server.js';
import { median } from './measure.js';

const N = Math.max(1, Math.min(Number(process.argv[2] ?? 3), 10));
const seed = `
CREATE TABLE customers (id int PRIMARY KEY, name text, email text UNIQUE, created_at timestamptz);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers, total numeric, placed_at timestamptz);
INSERT INTO customers SELECT g, 'customer ' || g, 'c' || g || '@example.com', now() - g * interval '1 minute' FROM generate_series(1, 100000) g;
INSERT INTO orders SELECT g, 1 + g % 100000, (g % 997) * 1.5, now() - g * interval '1 second' FROM generate_series(1, 200000) g;
CREATE INDEX ON orders (customer_id);
CREATE INDEX ON orders (placed_at);
ANALYZE;
`;

const dataDir = await mkdtemp(path.join(tmpdir(), 'hive-bench-db-'));
const server = serverPaths(dataDir, 'bench');
let started = performance.now();
await ensureServer(server);
const serverStart = performance.now() - started;
const runSeed = async (database: string) => {
  await execa('psql', [
    '-v',
    'ON_ERROR_STOP=1',
    '-q',
    databaseUrl({ ...databaseTarget(server, 'x', 'db'), database }),
    '-c',
    seed,
  ]);
};
const admin = async (sql: string) => {
  const c = client(server);
  await c.connect();
  await c.query(sql);
  await c.end();
};

const seeded: number[] = [];
for (let i = 0; i < N; i++) {
  await admin(`CREATE DATABASE seeded_${i}`);
  started = performance.now();
  await runSeed(`seeded_${i}`);
  seeded.push(performance.now() - started);
  await dropDatabase(server, `seeded_${i}`);
}

const template = { prefix: 't_bench_', name: 't_bench_1' };
started = performance.now();
await ensureTemplate(server, template, 'cbench', (target) => runSeed(target.database));
const build = performance.now() - started;
const clones: number[] = [];
for (let i = 0; i < N; i++) {
  const target = databaseTarget(server, `cbench${i}`, 'db');
  started = performance.now();
  await cloneDatabase(server, template.name, target);
  clones.push(performance.now() - started);
}

console.log(`\nDatabase per cell, N = ${N} (server start: ${serverStart.toFixed(0)} ms, once per workspace)`);
console.log('| run | median | ratio to seeding |');
console.log('| --- | --- | --- |');
console.log(
  `| seed run for the cell (100k + 200k rows, 2 indexes) | ${median(seeded).toFixed(0)} ms | 1.00 |`,
);
console.log(
  `| first cell: build the template | ${build.toFixed(0)} ms | ${(build / median(seeded)).toFixed(2)} |`,
);
console.log(
  `| later cell: clone the template | ${median(clones).toFixed(0)} ms | ${(median(clones) / median(seeded)).toFixed(2)} |`,
);
await stopServer(server);
await rm(dataDir, { recursive: true, force: true });
