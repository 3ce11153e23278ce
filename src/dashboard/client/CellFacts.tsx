import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { CopyButton, Section } from './components.js';
import { duration } from './format.js';
import { Markdown } from './markdown.js';
import type { CellDetail, CellEnvView } from './types.js';

/** Where the cell lives: worktree, branch, host, ports, and its environment's names. */
export function Workplace({ cell, reloadKey }: { cell: CellDetail; reloadKey: number }) {
  const [env, setEnv] = useState<CellEnvView | null>(null);
  useEffect(() => {
    api
      .get<CellEnvView>(`/cells/${cell.id}/env`)
      .then(setEnv)
      .catch(() => setEnv(null));
  }, [cell.id, reloadKey]);
  const activePorts = cell.ports.filter((p) => p.active);
  return (
    <Section title="Workplace" id="workplace">
      <dl class="kv">
        <div>
          <dt>Worktree</dt>
          <dd>
            {cell.worktreePath ? (
              <>
                <code data-worktree>{cell.worktreePath}</code>
                <CopyButton text={cell.worktreePath} label="worktree path" />
              </>
            ) : (
              <span class="muted">not created</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Branch</dt>
          <dd>
            {cell.branch ? (
              <>
                <code>{cell.branch}</code>
                <CopyButton text={cell.branch} label="branch" />
              </>
            ) : (
              <span class="muted">—</span>
            )}
            <span class="muted small"> from {cell.baseRef}</span>
          </dd>
        </div>
        {cell.host && (
          <div>
            <dt>Host</dt>
            <dd class="mono">{cell.host}</dd>
          </div>
        )}
        {Object.keys(cell.options).length > 0 && (
          <div>
            <dt>Options</dt>
            <dd class="mono small">
              {Object.entries(cell.options)
                .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
                .join('  ')}
            </dd>
          </div>
        )}
      </dl>
      <h3>Ports</h3>
      {activePorts.length ? (
        <ul class="chips">
          {activePorts.map((p) => (
            <li class="chip mono" key={`${p.service}.${p.name}`}>
              {p.service}
              {p.name === 'primary' ? '' : `.${p.name}`} → {p.port}
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">No port allocated.</p>
      )}
      <h3>Environment</h3>
      {env && env.variables.length > 0 ? (
        <>
          {env.file && (
            <p class="muted small">
              <code>{env.file}</code>
            </p>
          )}
          <table class="env">
            <tbody>
              {env.variables.map((v) => (
                <tr key={v.name}>
                  <th scope="row" class="mono">
                    {v.name}
                  </th>
                  <td class="mono">
                    {v.secret ? (
                      <span class="secret">secret — value hidden</span>
                    ) : (
                      <span class="value">{v.value}</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : (
        <p class="muted">No environment written yet.</p>
      )}
    </Section>
  );
}

export function PromptCard({ cell }: { cell: CellDetail }) {
  const [raw, setRaw] = useState(false);
  if (!cell.prompt) return null;
  return (
    <Section
      title="Agent prompt"
      id="prompt"
      actions={
        <>
          <button type="button" class="ghost small" aria-pressed={raw} onClick={() => setRaw(!raw)}>
            {raw ? 'Rendered' : 'Markdown'}
          </button>
          <CopyButton text={cell.prompt.content} label="prompt" />
        </>
      }
    >
      <p class="muted small">
        <code>{cell.prompt.path}</code>
      </p>
      {raw ? <pre class="code">{cell.prompt.content}</pre> : <Markdown source={cell.prompt.content} />}
    </Section>
  );
}

/** Every recorded step, forward and compensation, with attempts and timings. */
export function History({ cell }: { cell: CellDetail }) {
  const steps = [...cell.steps].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  return (
    <details class="card history">
      <summary>
        <h2>Steps history</h2> <span class="muted small">{steps.length} recorded</span>
      </summary>
      <table>
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">Kind</th>
            <th scope="col">Status</th>
            <th scope="col">Attempt</th>
            <th scope="col">Started</th>
            <th scope="col">Took</th>
          </tr>
        </thead>
        <tbody>
          {steps.map((s) => (
            <tr key={`${s.kind}:${s.name}`}>
              <td class="mono">{s.name}</td>
              <td>{s.kind === 'compensation' ? 'undo' : 'do'}</td>
              <td>{s.status}</td>
              <td>{s.attempt}</td>
              <td class="nowrap">{new Date(s.startedAt).toLocaleTimeString()}</td>
              <td class="nowrap">
                {s.endedAt ? duration((Date.parse(s.endedAt) - Date.parse(s.startedAt)) / 1000) : '…'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

/** What the last archive saved, and where; Restore brings it back. */
export function ArchiveRecordCard({ cell }: { cell: CellDetail }) {
  const a = cell.archive;
  if (!a) return null;
  const count = (files: typeof a.saved) =>
    files ? files.modified.length + files.deleted.length + files.untracked.length + files.ignored.length : 0;
  return (
    <Section title="Archived work" id="archive-record">
      <dl class="kv">
        <div>
          <dt>Saved</dt>
          <dd>
            {a.ref ? (
              <>
                {count(a.saved)} files at <code>{a.ref}</code>
                <CopyButton text={a.ref} label="archive ref" />
              </>
            ) : (
              'nothing needed saving'
            )}
          </dd>
        </div>
        <div>
          <dt>Branch</dt>
          <dd>
            <code>{a.branch}</code> ({a.commits} {a.commits === 1 ? 'commit' : 'commits'} beyond its base
            {a.commits > 0 ? ', kept' : ''})
          </dd>
        </div>
        {a.discarded && (
          <div>
            <dt>Discarded</dt>
            <dd>{count(a.discarded)} files</dd>
          </div>
        )}
        <div>
          <dt>When</dt>
          <dd>{new Date(a.at).toLocaleString()}</dd>
        </div>
      </dl>
    </Section>
  );
}
