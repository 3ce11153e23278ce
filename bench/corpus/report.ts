// The corpus run as a Markdown table for docs/benchmarks.md: one row per repository.
import type { CellOutcome } from './cell.js';
import type { CorpusRepo } from './repos.js';

export interface RepoResult {
  entry: CorpusRepo;
  /** `hive init`, or the repository's own config. */
  config?: string;
  /** What init said it found. */
  found: string[];
  outcome: CellOutcome;
  /** Request to clean, in seconds (install, ready, probes, archive). */
  totalSeconds?: number;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();

export function markdownTable(results: RepoResult[]): string {
  const rows = [
    '| Repo | Kind | Result | Ready (s) | Failure: step · type · first line | Named by |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const { entry, outcome } of results) {
    const f = outcome.failure;
    const name = entry.repo
      ? `${entry.repo}${entry.subdir ? `/${entry.subdir}` : ''}@${entry.commit?.slice(0, 7)}`
      : `${entry.local} (this tree)`;
    const failure = f
      ? `${f.step} · ${f.type} · ${f.firstLine}${f.stepSeconds !== undefined ? ` (step ran ${f.stepSeconds} s)` : ''}`
      : '';
    rows.push(
      `| ${cell(`${entry.id}: ${name}`)} | ${cell(entry.kind)} | ${f ? 'fail' : 'pass'} | ${
        outcome.readySeconds ?? '–'
      } | ${cell(failure.slice(0, 300))} | ${f ? f.namedBy : ''} |`,
    );
  }
  return rows.join('\n');
}
