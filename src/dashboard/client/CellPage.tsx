import { useEffect, useRef, useState } from 'preact/hooks';
import { provisioningStatuses, statusIn, undoingStatuses } from '../../cells/status.js';
import { api, errorText } from './api.js';
import { CellDialogs, type Dialog } from './CellDialogs.js';
import { ArchiveRecordCard, History, PromptCard, Workplace } from './CellFacts.js';
import { ErrorNote, LiveIndicator, Section, StatusBadge } from './components.js';
import { FailurePanel } from './FailurePanel.js';
import { subscribeFeed } from './feed.js';
import { ago } from './format.js';
import { useCoalesced, useNow } from './hooks.js';
import { Eta, Rollback, StepList } from './Progress.js';
import { type LogLine, Logs, ServiceTable } from './Services.js';
import { followCellEvents, type StreamState } from './sse.js';
import { stepRows } from './steps.js';
import type { About, CellDetail, TemplateDetail } from './types.js';

let aboutOnce: Promise<About | null> | undefined;
const about = () => {
  aboutOnce ??= api.get<About>('/about').catch(() => {
    aboutOnce = undefined;
    return null;
  });
  return aboutOnce;
};

/** The template's services enabled under the cell's options, in the template's order. */
function plannedServices(template: TemplateDetail | null, options: Record<string, unknown>): string[] {
  if (!template) return [];
  return template.services
    .filter((s) => {
      const when = s.enabledWhen;
      if (!when) return true;
      const value = options[when.option];
      return when.equals === undefined ? Boolean(value) : value === when.equals;
    })
    .map((s) => s.name);
}

/** One cell: its progress as it happens, its failure, services, logs, workplace and prompt. */
export function CellPage({ id }: { id: string }) {
  const [cell, setCell] = useState<CellDetail | null>(null);
  const [fetchedAt, setFetchedAt] = useState(Date.now());
  const [error, setError] = useState<string | null>(null);
  const [template, setTemplate] = useState<TemplateDetail | null>(null);
  const [info, setInfo] = useState<About | null>(null);
  const [stream, setStream] = useState<StreamState>('connecting');
  const [streamEpoch, setStreamEpoch] = useState(0);
  const [live, setLive] = useState<LogLine[]>([]);
  const [reloadKey, setReloadKey] = useState(0);
  const [busy, setBusy] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [dialog, setDialog] = useState<Dialog>(null);
  const streamState = useRef<StreamState>('connecting');
  const now = useNow(1000);

  const refresh = useCoalesced(() => {
    api
      .get<CellDetail>(`/cells/${id}`)
      .then((detail) => {
        setCell(detail);
        setFetchedAt(Date.now());
        setError(null);
      })
      .catch((e) => setError(errorText(e)));
  }, 120);

  useEffect(() => {
    refresh();
    void about().then(setInfo);
  }, [id]);

  useEffect(() => {
    if (!cell || template) return;
    api
      .get<TemplateDetail>(`/templates/${cell.templateId}?workspace=${encodeURIComponent(cell.workspaceId)}`)
      .then(setTemplate)
      .catch(() => undefined);
  }, [cell?.templateId]);

  // The cell's own stream: its events (re-read the cell) and its services' log lines, pushed.
  useEffect(
    () =>
      followCellEvents(id, {
        onEvent({ event, data }) {
          if (event === 'log') {
            setLive((lines) => [...lines.slice(-2000), data]);
            return;
          }
          refresh();
          if (event === 'end') setReloadKey((n) => n + 1);
        },
        onState(state) {
          streamState.current = state;
          setStream(state);
        },
      }),
    [id, streamEpoch],
  );

  // Every cell's events: this cell's stream ends when it rests; something done elsewhere (the CLI,
  // the workflow's own timer, a service dying) still reaches this page.
  useEffect(
    () =>
      subscribeFeed((event, feed) => {
        if (feed.cellId !== id) return;
        refresh();
        if (event === 'status' && (streamState.current === 'ended' || streamState.current === 'failed'))
          setStreamEpoch((n) => n + 1);
        if (event === 'step') setReloadKey((n) => n + 1);
      }),
    [id],
  );

  const act = async (label: string, run: () => Promise<unknown>) => {
    setBusy(label);
    setActionError(null);
    try {
      await run();
      setStreamEpoch((n) => n + 1);
      setReloadKey((n) => n + 1);
      refresh();
    } catch (e) {
      setActionError(errorText(e));
    } finally {
      setBusy(null);
    }
  };
  const post = (path: string) => () => api.post(`/cells/${id}/${path}`);

  if (error && !cell)
    return (
      <div class="page">
        <ErrorNote>{error}</ErrorNote>
      </div>
    );
  if (!cell)
    return (
      <div class="page">
        <p class="muted">Loading cell…</p>
      </div>
    );

  const rows = stepRows(cell, plannedServices(template, cell.options));
  const provisioning = statusIn(provisioningStatuses, cell.status);
  const undoing = statusIn(undoingStatuses, cell.status) && cell.steps.some((s) => s.kind === 'compensation');
  const workflowUrl = info?.temporal.uiUrl
    ? `${info.temporal.uiUrl}/namespaces/${encodeURIComponent(info.temporal.namespace)}/workflows/${encodeURIComponent(cell.workflowId)}`
    : null;
  const serviceNames = cell.services.map((s) => s.name);

  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/">Cells</a> <span aria-hidden="true">/</span> <span class="mono">{cell.id}</span>
      </nav>
      <div class="page-head">
        <div>
          <h1>
            {cell.name} <StatusBadge status={cell.status} />
          </h1>
          <p class="muted">
            <span class="mono">{cell.templateId}</span> in <span class="mono">{cell.workspaceId}</span> ·
            created {ago(cell.createdAt, now)} · workflow{' '}
            {workflowUrl ? (
              <a href={workflowUrl} target="_blank" rel="noreferrer" class="mono">
                {cell.workflowId}
              </a>
            ) : (
              <span class="mono">{cell.workflowId}</span>
            )}
          </p>
          <p class="brief-text">{cell.brief}</p>
        </div>
        <div class="head-actions">
          <LiveIndicator state={stream === 'ended' ? 'ended' : stream} />
          {cell.actions.includes('cancel') && provisioning && (
            <button type="button" class="danger" disabled={busy !== null} onClick={() => setDialog('cancel')}>
              Cancel
            </button>
          )}
          {cell.actions.includes('archive') && (
            <button type="button" class="ghost" disabled={busy !== null} onClick={() => setDialog('archive')}>
              Archive
            </button>
          )}
          {cell.actions.includes('restore') && (
            <button
              type="button"
              class="primary"
              disabled={busy !== null}
              onClick={() => act('restore', post('restore'))}
            >
              Restore
            </button>
          )}
          {cell.actions.includes('resume') && (
            <button
              type="button"
              class="primary"
              disabled={busy !== null}
              onClick={() => act('resume', post('resume'))}
            >
              Wake
            </button>
          )}
        </div>
      </div>
      {cell.suspended && (
        <div class="note suspended" role="status">
          Suspended {ago(cell.suspended.since, now)} —{' '}
          {cell.suspended.mode === 'freeze'
            ? 'its processes are frozen (memory kept)'
            : 'its services are stopped'}
          : {cell.suspended.why}
          {cell.suspended.fallback ? ` (${cell.suspended.fallback})` : ''}. The first request through its
          URLs, or Wake, wakes it.
        </div>
      )}
      {actionError && <ErrorNote>{actionError}</ErrorNote>}
      {error && <ErrorNote>{error}</ErrorNote>}

      <FailurePanel
        cell={cell}
        preserveFailedForMs={info?.preserveFailedForMs ?? null}
        now={now}
        busy={busy}
        onRetry={() => act('retry', post('retry'))}
        onRollBack={() => setDialog('rollback')}
        onCleanup={() => act('cleanup', post('cleanup'))}
      />

      <div class="grid">
        <div class="col">
          <Section title={provisioning ? 'Provisioning' : 'Steps'} id="progress">
            {provisioning && <Eta cell={cell} fetchedAt={fetchedAt} now={now} />}
            <StepList rows={rows} now={now} />
          </Section>
          {undoing && (
            <Section
              title={
                cell.status === 'cancelling' || cell.status === 'rolling_back' || cell.status === 'archiving'
                  ? 'Undoing, step by step'
                  : 'What was undone'
              }
              id="rollback"
            >
              <Rollback cell={cell} now={now} />
            </Section>
          )}
          <Section title="Services" id="services">
            <ServiceTable
              services={cell.services}
              canControl={cell.actions.includes('service')}
              busy={busy}
              onCommand={(service, command) =>
                act(`${command} ${service}`, () => api.post(`/cells/${id}/services/${service}/${command}`))
              }
            />
            <Logs cellId={cell.id} services={serviceNames} live={live} reloadKey={reloadKey} />
          </Section>
        </div>
        <div class="col">
          <Workplace cell={cell} reloadKey={reloadKey} />
          <ArchiveRecordCard cell={cell} />
          <PromptCard cell={cell} />
          <History cell={cell} />
        </div>
      </div>

      <CellDialogs
        cell={cell}
        dialog={dialog}
        onClose={() => setDialog(null)}
        onCancel={() => act('cancel', post('cancel'))}
        onArchive={(discard) =>
          act('archive', () => api.delete(`/cells/${id}${discard ? '?discard=true' : ''}`))
        }
      />
    </div>
  );
}
