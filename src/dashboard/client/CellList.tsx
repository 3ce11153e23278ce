import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, errorText } from './api.js';
import { ErrorNote, LiveIndicator, StatusBadge } from './components.js';
import { onFeedState, subscribeFeed } from './feed.js';
import { ago, statusLook } from './format.js';
import { HostsPanel } from './HostsPanel.js';
import { useCoalesced, useNow } from './hooks.js';
import type { StreamState } from './sse.js';
import type { CellRecord, CellStatus } from './types.js';

/** Every cell of every workspace, newest first, with filters; statuses change live. */
export function CellList() {
  const [cells, setCells] = useState<CellRecord[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState<StreamState>('connecting');
  const [workspace, setWorkspace] = useState('');
  const [template, setTemplate] = useState('');
  const [status, setStatus] = useState('');
  const now = useNow(5000);

  const load = useCoalesced(() => {
    api
      .get<{ cells: CellRecord[] }>('/cells?limit=500')
      .then((r) => {
        setCells(r.cells);
        setError(null);
      })
      .catch((e) => setError(errorText(e)));
  }, 200);

  useEffect(() => {
    load();
    const offState = onFeedState(setLive);
    const off = subscribeFeed((event, feed) => {
      if (event !== 'status') return;
      const next = (feed.data as { status?: CellStatus }).status;
      setCells((list) => {
        const known = list?.find((c) => c.id === feed.cellId);
        // A cell this list has not seen (made elsewhere): read the list again.
        if (!known || !next) {
          load();
          return list;
        }
        return (list ?? []).map((c) =>
          c.id === feed.cellId ? { ...c, status: next, updatedAt: new Date().toISOString() } : c,
        );
      });
    });
    return () => {
      off();
      offState();
    };
  }, []);

  const options = useMemo(() => {
    const all = cells ?? [];
    return {
      workspaces: [...new Set(all.map((c) => c.workspaceId))].sort(),
      templates: [...new Set(all.map((c) => c.templateId))].sort(),
    };
  }, [cells]);
  const shown = (cells ?? []).filter(
    (c) =>
      (!workspace || c.workspaceId === workspace) &&
      (!template || c.templateId === template) &&
      (!status || c.status === status),
  );

  return (
    <div class="page">
      <div class="page-head">
        <div>
          <h1>Cells</h1>
          <p class="muted">Isolated worktrees with their services, for agents to work in.</p>
        </div>
        <div class="head-actions">
          <LiveIndicator state={live} />
          <a class="button primary" href="#/new">
            New cell
          </a>
        </div>
      </div>

      <HostsPanel />

      <fieldset class="filters">
        <legend class="sr-only">Filters</legend>
        <label class="field inline">
          <span>Workspace</span>
          <select value={workspace} onChange={(e) => setWorkspace(e.currentTarget.value)}>
            <option value="">All</option>
            {options.workspaces.map((w) => (
              <option key={w}>{w}</option>
            ))}
          </select>
        </label>
        <label class="field inline">
          <span>Template</span>
          <select value={template} onChange={(e) => setTemplate(e.currentTarget.value)}>
            <option value="">All</option>
            {options.templates.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label class="field inline">
          <span>Status</span>
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">All</option>
            {Object.entries(statusLook).map(([value, look]) => (
              <option key={value} value={value}>
                {look.label}
              </option>
            ))}
          </select>
        </label>
      </fieldset>

      {error && <ErrorNote>{error}</ErrorNote>}
      {cells === null && !error && <p class="muted">Loading cells…</p>}
      {cells !== null && cells.length === 0 && (
        <div class="empty card">
          <h2>No cells yet</h2>
          <p>
            A cell is a git worktree with its services running on free ports, an environment and a prompt.
          </p>
          <a class="button primary" href="#/new">
            Create the first cell
          </a>
        </div>
      )}
      {cells !== null && cells.length > 0 && (
        <table class="cells">
          <caption class="sr-only">Cells, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Cell</th>
              <th scope="col">Status</th>
              <th scope="col">Template</th>
              <th scope="col">Brief</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((c) => (
              <tr key={c.id} data-cell={c.id}>
                <td data-label="Cell">
                  <a href={`#/cells/${c.id}`} class="cell-link">
                    {c.name}
                  </a>
                  {c.name !== c.id && <div class="mono muted small">{c.id}</div>}
                </td>
                <td data-label="Status">
                  <StatusBadge status={c.status} />
                </td>
                <td data-label="Template">
                  <span class="mono">{c.templateId}</span>
                  <div class="muted small">{c.workspaceId}</div>
                </td>
                <td data-label="Brief" class="brief">
                  {c.brief}
                </td>
                <td data-label="Created" class="nowrap muted">
                  <time dateTime={c.createdAt} title={new Date(c.createdAt).toLocaleString()}>
                    {ago(c.createdAt, now)}
                  </time>
                </td>
              </tr>
            ))}
            {shown.length === 0 && (
              <tr>
                <td colSpan={5} class="muted">
                  No cell matches these filters.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </div>
  );
}
