// `npm run corpus [-- id…]`: the corpus of real public repositories (repos.json) run through Hive as a
// user would: snapshot → fresh git repo → `hive init` → commit → `hive up` → a cell → ready → GET
// each service → archive with discard → nothing left. Prints k/N, time to ready and each failure
// (step, type, first line; whether Hive named it or the runner's time-box ran out), one repo at a
// time. A benchmark, not a test: it needs the fetched mirrors and the npm registry.
//
// HIVE_CORPUS_MIRRORS  where the fetched mirrors are (default /work/.mirror)
// HIVE_CORPUS_DIR      where the repositories and Hive's data go (default: a new temp dir)
// HIVE_CORPUS_READY_S  time-box from request to a resting cell, install included (default 300)
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import which from 'which';
import { type CellOutcome, runCell } from './cell.js';
import { hiveInit, initProblem, startHive } from './hive.js';
import { markdownTable, type RepoResult } from './report.js';
import { commitConfig, existingConfig, loadCorpus, materialize, missing, projectRoot } from './repos.js';

const readyTimeoutMs = Number(process.env.HIVE_CORPUS_READY_S ?? 300) * 1000;
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));

const corpus = await loadCorpus();
const unknown = wanted.filter((id) => !corpus.some((r) => r.id === id));
if (unknown.length) {
  console.error(`unknown corpus ids: ${unknown.join(', ')} (known: ${corpus.map((r) => r.id).join(', ')})`);
  process.exit(2);
}
// An entry this machine cannot run whatever Hive does (its `blocked` reason) is listed, not run,
// unless it is named or --all asks for every entry.
const all = process.argv.includes('--all');
const selected = wanted.length
  ? corpus.filter((r) => wanted.includes(r.id))
  : corpus.filter((r) => all || !r.blocked);
const skipped = wanted.length || all ? [] : corpus.filter((r) => r.blocked);

for (const tool of ['pnpm', 'bun', 'go']) {
  if (!(await which(tool, { nothrow: true })))
    console.warn(
      `note: ${tool} is not on PATH (npm i -g pnpm bun; Go from go.dev): repos needing it will fail`,
    );
}

const workDir = process.env.HIVE_CORPUS_DIR
  ? path.resolve(process.env.HIVE_CORPUS_DIR)
  : await mkdtemp(path.join(tmpdir(), 'hive-corpus-'));
await mkdir(workDir, { recursive: true });
const head = (await execa('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectRoot })).stdout;
const dirty = (await execa('git', ['status', '--porcelain'], { cwd: projectRoot })).stdout.trim() !== '';
const startedAt = new Date().toISOString();
console.log(
  `corpus: ${selected.length} repos, Hive at ${head}${dirty ? ' + uncommitted work' : ''}, ${startedAt}`,
);
console.log(`work dir ${workDir}\n`);
for (const r of skipped) console.log(`- ${r.id}: skipped, blocked on this machine: ${r.blocked}`);
if (skipped.length) console.log('');

const results: RepoResult[] = [];
const ready: Array<{ result: RepoResult; dir: string }> = [];

// 1. Each repository as a user has it, with the config `hive init` writes (or its own), committed.
for (const entry of selected) {
  const result: RepoResult = { entry, found: [], outcome: { probes: [], residue: [] } };
  results.push(result);
  const why = await missing(entry);
  if (why) {
    result.outcome.failure = { step: 'mirror', type: 'missing', firstLine: why, namedBy: 'runner' };
    console.log(`✖ ${entry.id}: ${why}`);
    continue;
  }
  const dir = path.join(workDir, 'repos', entry.id);
  await materialize(entry, dir);
  const own = await existingConfig(dir);
  if (own) {
    result.config = `own ${own}`;
  } else {
    const init = await hiveInit(dir);
    await mkdir(path.join(workDir, 'logs', entry.id), { recursive: true });
    await writeFile(path.join(workDir, 'logs', entry.id, 'init.log'), init.output);
    result.config = 'hive init';
    result.found = init.output
      .split('\n')
      .filter((l) => l.trim().startsWith('found '))
      .map((l) => l.trim().slice('found '.length));
    if (!init.ok) {
      const first = initProblem(init.output);
      result.outcome.failure = { step: 'init', type: 'dry run failed', firstLine: first, namedBy: 'hive' };
      console.log(`✖ ${entry.id}: hive init: ${first}`);
      continue;
    }
    await commitConfig(dir);
  }
  console.log(`· ${entry.id}: ${result.config}${result.found.length ? ` (${result.found.join('; ')})` : ''}`);
  ready.push({ result, dir });
}

// 2. One `hive up` with every prepared repository as a workspace; the repos one at a time.
if (ready.length) {
  const hive = await startHive({
    dataDir: workDir,
    workspaces: ready.map(({ result, dir }) => ({ id: result.entry.id, path: dir })),
  });
  console.log(`\nhive up at ${hive.url} (log ${hive.logFile})\n`);
  try {
    for (const { result, dir } of ready) {
      const t0 = Date.now();
      let outcome: CellOutcome;
      try {
        outcome = await runCell(
          hive.hive,
          { id: result.entry.id, path: dir },
          { readyTimeoutMs, probeMs: 60_000, logsDir: path.join(workDir, 'logs', result.entry.id) },
        );
      } catch (err) {
        outcome = {
          probes: [],
          residue: [],
          failure: {
            step: 'runner',
            type: 'error',
            firstLine: String(err).split('\n')[0] ?? '',
            namedBy: 'runner',
          },
        };
      }
      result.outcome = outcome;
      result.totalSeconds = Math.round((Date.now() - t0) / 1000);
      const f = outcome.failure;
      console.log(
        f
          ? `✖ ${result.entry.id} (${result.totalSeconds} s): ${f.step} · ${f.type} · ${f.firstLine}${
              f.hint ? `\n    hint: ${f.hint}` : ''
            }${f.logLine ? `\n    log: ${f.logLine}` : ''}`
          : `✔ ${result.entry.id}: ready in ${outcome.readySeconds} s; ${outcome.probes
              .map((p) => `${p.service} ${p.status}`)
              .join(', ')}`,
      );
    }
  } finally {
    await hive.stop();
  }
}

const passed = results.filter((r) => !r.outcome.failure).length;
console.log(`\n${passed}/${results.length} repos: ready, answering over HTTP, archived without residue`);
if (skipped.length)
  console.log(
    `(${skipped.length} more skipped as blocked on this machine: ${skipped.map((r) => r.id).join(', ')})`,
  );
console.log('');
console.log(markdownTable(results));
await writeFile(
  path.join(workDir, 'results.json'),
  JSON.stringify(
    { head, dirty, startedAt, results, skipped: skipped.map((r) => ({ id: r.id, blocked: r.blocked })) },
    null,
    2,
  ),
);
console.log(`\nresults: ${path.join(workDir, 'results.json')}`);
process.exitCode = passed === results.length ? 0 : 1;
