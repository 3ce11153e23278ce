import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { Section } from './components.js';
import type { HostView } from './types.js';

/** How often the panel reads GET /hosts again: host states change with heartbeats, not events. */
const REFRESH_MS = 15_000;

const stateLook: Record<HostView['state'], { label: string; tone: 'ok' | 'warn' | 'bad' }> = {
  live: { label: 'Live', tone: 'ok' },
  drained: { label: 'Drained', tone: 'warn' },
  unresponsive: { label: 'Unresponsive', tone: 'bad' },
  lost: { label: 'Lost', tone: 'bad' },
};

const gib = (mb: number) => (mb / 1024).toFixed(1);
const cpus = (n: number) => String(Math.round(n * 100) / 100);

/**
 * The hosts whose workers take cells: shown only when there is something to see (more than one
 * host, or one that is not live). A single live host is the ordinary one-machine setup.
 */
export function HostsPanel() {
  const [hosts, setHosts] = useState<HostView[]>([]);
  useEffect(() => {
    let stopped = false;
    const load = () =>
      api
        .get<{ hosts: HostView[] }>('/hosts')
        .then((r) => !stopped && setHosts(r.hosts))
        // Hosts are background facts: a failed read leaves the last ones shown (the list reports errors).
        .catch(() => undefined);
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);
  if (hosts.length <= 1 && hosts.every((h) => h.state === 'live')) return null;
  return (
    <div class="hosts-panel">
      <Section title="Hosts" id="hosts">
        <table class="hosts">
          <caption class="sr-only">Hosts, with what their cells reserve of what they offer</caption>
          <thead>
            <tr>
              <th scope="col">Host</th>
              <th scope="col">State</th>
              <th scope="col">Cells</th>
              <th scope="col">CPUs</th>
              <th scope="col">Memory (GiB)</th>
            </tr>
          </thead>
          <tbody>
            {hosts.map((h) => {
              const look = stateLook[h.state];
              return (
                <tr key={h.id} data-host={h.id}>
                  <td class="mono">{h.id}</td>
                  <td>
                    <span class={`badge tone-${look.tone}`} data-state={h.state}>
                      {look.label}
                    </span>
                  </td>
                  <td>{h.cells}</td>
                  <td class="nowrap">
                    {cpus(h.reserved.cpus)} / {cpus(h.capacity.cpus)}
                  </td>
                  <td class="nowrap">
                    {gib(h.reserved.memoryMb)} / {gib(h.capacity.memoryMb)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </Section>
    </div>
  );
}
