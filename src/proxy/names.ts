import { cellIdPattern } from '../cells/workflowIds.js';

// The names of a cell's services behind Hive's proxy: `<service>.<cell>.<domain>` and
// `<cell>.<domain>` (its main service), one way (URLs shown by the API, the CLI, `.hive/env`, the
// prompt) and the other (a request's Host header to a cell and service). Plain code, no Node APIs.

/** Where the proxy is reached: its port and the domain cells are named under (`localhost`). */
export interface ProxyAddress {
  port: number;
  domain: string;
}

/**
 * A service's name as a DNS label. Service names are letters, digits, `_` and `-` starting with a
 * letter (src/templates/serviceSchema.ts); host names are case-insensitive and have no `_`, so the
 * label is the name in lower case with `_` as `-` (`Api_V2` → `api-v2`).
 */
export const serviceLabel = (service: string): string => service.toLowerCase().replace(/_/g, '-');

const LABEL = /^[a-z][a-z0-9-]{0,62}$/;

/** What a Host header names: a cell, and a service of it (none: the cell's main service). */
export interface ProxyName {
  cellId: string;
  /** The service's label as asked (lower case), or undefined for `<cell>.<domain>`. */
  service?: string;
}

/**
 * The cell and service a Host header names, or undefined when it is not `<cell>.<domain>` or
 * `<service>.<cell>.<domain>` (any port; a final dot and letter case ignored).
 */
export function parseProxyHost(header: string | undefined, domain: string): ProxyName | undefined {
  if (!header) return undefined;
  let host = header.trim().toLowerCase();
  if (host.startsWith('[')) return undefined; // an IPv6 literal names no cell
  host = host.replace(/:\d{1,5}$/, '').replace(/\.$/, '');
  const suffix = `.${domain}`;
  if (!host.endsWith(suffix)) return undefined;
  const labels = host.slice(0, -suffix.length).split('.');
  const cellId = labels.at(-1) ?? '';
  if (!cellIdPattern.test(cellId)) return undefined;
  if (labels.length === 1) return { cellId };
  const service = labels[0] ?? '';
  return labels.length === 2 && LABEL.test(service) ? { cellId, service } : undefined;
}

const origin = (host: string, { port }: ProxyAddress) => `http://${host}${port === 80 ? '' : `:${port}`}`;

/** `http://<cell>.<domain>:<port>`: the cell's main service. */
export const cellPublicUrl = (address: ProxyAddress, cellId: string): string =>
  origin(`${cellId}.${address.domain}`, address);

/** `http://<service>.<cell>.<domain>:<port>`. */
export const servicePublicUrl = (address: ProxyAddress, cellId: string, service: string): string =>
  origin(`${serviceLabel(service)}.${cellId}.${address.domain}`, address);

/**
 * The cell's main service, reached at `<cell>.<domain>`: the first service of the template, in the
 * order it declares them, that has a port; `declared` undefined (the config cannot be read) leaves
 * only the case of a cell with one service with a port.
 */
export function mainService<S extends { name: string; port: number | null }>(
  services: readonly S[],
  declared: readonly string[] | undefined,
): S | undefined {
  const withPort = services.filter((s) => s.port !== null);
  if (withPort.length <= 1) return withPort[0];
  for (const name of declared ?? []) {
    const found = withPort.find((s) => s.name === name);
    if (found) return found;
  }
  return undefined;
}
