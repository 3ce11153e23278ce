import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, errorText } from './api.js';
import type { ServiceLogsView, ServiceView } from './types.js';

export interface LogLine {
  service: string;
  line: string;
}

/** Services with their URL, state and stop/start/restart buttons. */
export function ServiceTable(props: {
  services: ServiceView[];
  canControl: boolean;
  busy: string | null;
  onCommand: (service: string, command: 'stop' | 'start' | 'restart') => void;
}) {
  if (props.services.length === 0) return <p class="muted">No service started yet.</p>;
  return (
    <table class="services">
      <thead>
        <tr>
          <th scope="col">Service</th>
          <th scope="col">State</th>
          <th scope="col">URL</th>
          <th scope="col">
            <span class="sr-only">Controls</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {props.services.map((s) => (
          <tr key={s.name} data-service={s.name}>
            <td data-label="Service">
              <strong class="mono">{s.name}</strong>
              <div class="muted small">
                {s.pid ? `pid ${s.pid}` : 'not running'}
                {s.exitCode !== null && ` · exit ${s.exitCode}`}
              </div>
            </td>
            <td data-label="State">
              <span class={`svc svc-${s.status}`}>{s.status}</span>
            </td>
            <td data-label="URL">
              {s.url ? (
                <a href={s.url} target="_blank" rel="noreferrer" class="mono">
                  {s.url}
                </a>
              ) : (
                <span class="muted">{s.port ? `port ${s.port}` : '—'}</span>
              )}
              {s.publicUrl && (
                <div class="small">
                  <a href={s.publicUrl} target="_blank" rel="noreferrer" class="mono" data-public-url>
                    {s.publicUrl}
                  </a>
                </div>
              )}
            </td>
            <td class="controls">
              {(['stop', 'start', 'restart'] as const).map((command) => (
                <button
                  type="button"
                  key={command}
                  class="ghost small"
                  disabled={!props.canControl || props.busy !== null}
                  aria-label={`${command} ${s.name}`}
                  onClick={() => props.onCommand(s.name, command)}
                >
                  {command[0]?.toUpperCase() + command.slice(1)}
                </button>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * A service's log: its last lines (GET …/logs), then the lines the cell's event stream pushes while
 * it is live. `reloadKey` reads the tail again (after an action, or when the stream ended).
 */
export function Logs(props: { cellId: string; services: string[]; live: LogLine[]; reloadKey: number }) {
  const [service, setService] = useState<string | null>(null);
  const [tail, setTail] = useState<{ lines: string[]; liveFrom: number } | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const box = useRef<HTMLPreElement>(null);
  const chosen = service ?? props.services[0] ?? null;

  useEffect(() => {
    if (!chosen) return;
    let current = true;
    const liveFrom = props.live.length;
    api
      .get<ServiceLogsView>(`/cells/${props.cellId}/services/${encodeURIComponent(chosen)}/logs?lines=200`)
      .then((r) => {
        if (!current) return;
        setTail({ lines: r.lines, liveFrom });
        setNote(null);
      })
      .catch((e) => {
        if (!current) return;
        setTail({ lines: [], liveFrom });
        setNote(e instanceof ApiError && e.status === 404 ? 'No log yet.' : errorText(e));
      });
    return () => {
      current = false;
    };
  }, [chosen, props.reloadKey]);

  const lines = [
    ...(tail?.lines ?? []),
    ...props.live
      .slice(tail?.liveFrom ?? 0)
      .filter((l) => l.service === chosen)
      .map((l) => l.line),
  ].slice(-500);

  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lines.length]);

  if (props.services.length === 0) return <p class="muted">Logs appear once a service starts.</p>;
  return (
    <div class="logs">
      <div class="tabs" role="tablist" aria-label="Service logs">
        {props.services.map((s) => (
          <button
            type="button"
            role="tab"
            key={s}
            aria-selected={s === chosen}
            class={s === chosen ? 'tab active' : 'tab'}
            onClick={() => setService(s)}
          >
            {s}
          </button>
        ))}
      </div>
      <pre class="log" ref={box} role="log" aria-label={`Log of ${chosen}`}>
        {lines.length ? lines.join('\n') : (note ?? 'The log is empty.')}
      </pre>
    </div>
  );
}
