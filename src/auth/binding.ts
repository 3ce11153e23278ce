import { isIPv4 } from 'node:net';
import { ConfigError } from '../config/env.js';
import type { Db } from '../db/client.js';
import { tokensInUse } from './tokens.js';

/** The command that makes a first token, quoted wherever a caller is told how to get one. */
export { CREATE_TOKEN_HINT } from './roles.js';

/** A name or address that only reaches this machine: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackName(name: string): boolean {
  const host = name
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  if (host === 'localhost' || host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  const v4 = host.startsWith('::ffff:') ? host.slice('::ffff:'.length) : host;
  return isIPv4(v4) && v4.startsWith('127.');
}

/** The host part of a Host header (`name`, `name:port`, `[v6]`, `[v6]:port`). */
export function hostOfHeader(header: string): string {
  const value = header.trim();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end > 0 ? value.slice(0, end + 1) : value;
  }
  const colon = value.lastIndexOf(':');
  return colon >= 0 && value.indexOf(':') === colon ? value.slice(0, colon) : value;
}

/** Why the API must not start on this interface, or undefined when it may. */
export async function unsafeBinding(db: Db, host: string): Promise<string | undefined> {
  if (isLoopbackName(host) || (await tokensInUse(db))) return undefined;
  return [
    `Refusing to start the API on ${host}: that interface is reachable from other machines and no API token exists, so anyone who reaches it could create and control cells.`,
    'Create an admin token first: hive tokens create --name admin --role admin',
    'or bind to this machine only: HIVE_HOST=127.0.0.1',
  ].join('\n');
}

/** Throws a ConfigError (hive exits with 2) when the API must not start on `host`. */
export async function refuseUnsafeBinding(db: Db, host: string): Promise<void> {
  const why = await unsafeBinding(db, host);
  if (why) throw new ConfigError(why);
}
