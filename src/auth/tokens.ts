import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../db/client.js';
import { isUniqueViolation } from '../db/client.js';
import { table } from '../db/rawSql.js';

// API tokens: a secret shown once, of which only the SHA-256 is kept; a role; an optional workspace
// scope; an optional expiry; revocation. The CLI (`hive tokens …`) and the API's auth hook share
// this file.

import { type Role, roles } from './roles.js';

export { type Role, roles };

/** What a route needs, declared in its Fastify `config.access`. A route without one is admin-only. */
export const accessLevels = ['public', 'read', 'operate', 'admin'] as const;
export type Access = (typeof accessLevels)[number];

/** The least role a level of access needs (`public` needs none). */
export const roleFor: Record<Exclude<Access, 'public'>, Role> = {
  read: 'viewer',
  operate: 'operator',
  admin: 'admin',
};

const rank: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** True when `role` is at least `needed` (viewer < operator < admin). */
export const roleAllows = (role: Role, needed: Role) => rank[role] >= rank[needed];

/**
 * Who is asking. A token, or `local`: anonymous use of an API bound to loopback while no token
 * exists (as easy as before tokens: everything is allowed). `workspaces: null` means every one.
 */
export type Principal =
  | { kind: 'token'; name: string; role: Role; workspaces: readonly string[] | null }
  | { kind: 'local'; name: 'local'; role: 'admin'; workspaces: null }
  | { kind: 'anonymous'; name: 'anonymous'; role: null; workspaces: readonly string[] };

export const localPrincipal: Principal = { kind: 'local', name: 'local', role: 'admin', workspaces: null };
/** The caller of a public route, whose credentials are not looked at. */
export const anonymousPrincipal: Principal = {
  kind: 'anonymous',
  name: 'anonymous',
  role: null,
  workspaces: [],
};

/** May this principal see and touch what belongs to this workspace? */
export function inScope(principal: Principal, workspaceId: string): boolean {
  return principal.workspaces === null || principal.workspaces.includes(workspaceId);
}

/** The secret's prefix makes a leaked token recognisable (secret scanners, logs). */
export const SECRET_PREFIX = 'hive_';
const SECRET_PATTERN = /^hive_[A-Za-z0-9_-]{43}$/;
/** Token names: what actions are recorded under (`by`); `local` stands for tokenless local use. */
const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,62}$/i;
const RESERVED_NAMES = ['local', 'anonymous'];

export const hashSecret = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

/** `hive_` + 32 random bytes, base64url. */
export const newSecret = () => `${SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;

export class TokenError extends Error {
  override name = 'TokenError';
}

const UNITS: Record<string, number> = {
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** `30d`, `12h`, `90m`, `2w` → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,6})([mhdw])$/.exec(text.trim());
  const unit = match?.[2] ? UNITS[match[2]] : undefined;
  const amount = Number(match?.[1] ?? 0);
  if (!unit || amount <= 0) {
    throw new TokenError(
      `"${text}" is not a duration: use a positive number followed by m, h, d or w (e.g. 30d, 12h)`,
    );
  }
  return amount * unit;
}

export interface NewToken {
  name: string;
  role: Role;
  /** Workspace ids the token is limited to; empty means every workspace. */
  workspaces?: string[];
  /** Lifetime from now; none means it does not expire. */
  expiresInMs?: number;
}

export interface TokenInfo {
  name: string;
  role: Role;
  /** Empty: every workspace. */
  workspaces: string[];
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  state: 'active' | 'expired' | 'revoked';
}

type TokenRow = Awaited<ReturnType<Db['apiToken']['create']>>;

function parseRole(value: string): Role {
  if ((roles as readonly string[]).includes(value)) return value as Role;
  throw new TokenError(`role "${value}" is not one of ${roles.join(', ')}`);
}

function parseWorkspaces(text: string): string[] {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.filter((w): w is string => typeof w === 'string') : [];
}

function stateOf(row: TokenRow, now: Date): TokenInfo['state'] {
  if (row.revokedAt) return 'revoked';
  if (row.expiresAt && row.expiresAt <= now) return 'expired';
  return 'active';
}

function info(row: TokenRow, now = new Date()): TokenInfo {
  return {
    name: row.name,
    role: parseRole(row.role),
    workspaces: parseWorkspaces(row.workspaces),
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    revokedAt: row.revokedAt,
    lastUsedAt: row.lastUsedAt,
    state: stateOf(row, now),
  };
}

/** Creates a token; the returned secret exists nowhere else (only its hash is stored). */
export async function createToken(db: Db, token: NewToken): Promise<{ secret: string; token: TokenInfo }> {
  if (!NAME_PATTERN.test(token.name)) {
    throw new TokenError(
      `token name "${token.name}" must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  if (RESERVED_NAMES.includes(token.name.toLowerCase())) {
    throw new TokenError(
      `"${token.name}" is reserved (it stands for use without a token); choose another name`,
    );
  }
  parseRole(token.role);
  const secret = newSecret();
  try {
    const row = await db.apiToken.create({
      data: {
        id: randomUUID(),
        name: token.name,
        hash: hashSecret(secret),
        role: token.role,
        workspaces: JSON.stringify([...new Set(token.workspaces ?? [])]),
        expiresAt: token.expiresInMs ? new Date(Date.now() + token.expiresInMs) : null,
      },
    });
    return { secret, token: info(row) };
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new TokenError(
        `a token named "${token.name}" already exists (revoked ones keep their name); choose another name`,
      );
    }
    throw error;
  }
}

/** Every token, oldest first, without hashes. */
export async function listTokens(db: Db): Promise<TokenInfo[]> {
  const now = new Date();
  return (await db.apiToken.findMany({ orderBy: { createdAt: 'asc' } })).map((row) => info(row, now));
}

/** Revokes the token named so; false when it was revoked already. Throws when there is none. */
export async function revokeToken(db: Db, name: string): Promise<boolean> {
  const row = await db.apiToken.findUnique({ where: { name } });
  if (!row) throw new TokenError(`no token is named "${name}" (hive tokens ls lists them)`);
  if (row.revokedAt) return false;
  await db.apiToken.update({ where: { id: row.id }, data: { revokedAt: new Date() } });
  return true;
}

/**
 * Whether tokens are in use: at least one token that is not revoked exists (an expired one counts,
 * so letting a token expire never opens the API to anonymous callers).
 */
export async function tokensInUse(db: Db): Promise<boolean> {
  // Asked on every request: raw SQL (src/db/rawSql.ts), a tenth of a model query's CPU.
  const rows = await db.$queryRaw<unknown[]>`SELECT 1 FROM ${table(db, 'ApiToken')}
    WHERE "revokedAt" IS NULL LIMIT 1`;
  return rows.length > 0;
}

export type Verification =
  | { ok: true; principal: Extract<Principal, { kind: 'token' }>; id: string; lastUsedAt: Date | null }
  | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' | 'expired'; name?: string; at?: Date };

/** Looks a presented secret up by its hash, and says why it cannot be used if it cannot. */
export async function verifyToken(db: Db, secret: string, now = new Date()): Promise<Verification> {
  if (!SECRET_PATTERN.test(secret)) return { ok: false, reason: 'malformed' };
  const row = await db.apiToken.findUnique({ where: { hash: hashSecret(secret) } });
  if (!row) return { ok: false, reason: 'unknown' };
  if (row.revokedAt) return { ok: false, reason: 'revoked', name: row.name, at: row.revokedAt };
  if (row.expiresAt && row.expiresAt <= now) {
    return { ok: false, reason: 'expired', name: row.name, at: row.expiresAt };
  }
  const workspaces = parseWorkspaces(row.workspaces);
  return {
    ok: true,
    id: row.id,
    lastUsedAt: row.lastUsedAt,
    principal: {
      kind: 'token',
      name: row.name,
      role: parseRole(row.role),
      workspaces: workspaces.length ? workspaces : null,
    },
  };
}

/** lastUsedAt is a hint, not an audit log: written at most once a minute per token. */
const LAST_USED_RESOLUTION_MS = 60_000;

export async function touchToken(db: Db, id: string, lastUsedAt: Date | null, now = new Date()) {
  if (lastUsedAt && now.getTime() - lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
  await db.apiToken.update({ where: { id }, data: { lastUsedAt: now } }).catch(() => undefined);
}
