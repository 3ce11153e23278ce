// Where a cell's webhook may point: not at Hive's own machine or network (loopback, private,
// link-local — the cloud metadata service at 169.254.169.254 —, multicast, unspecified, reserved),
// unless an administrator allows it in HIVE_NOTIFY_ALLOW. Checked when a cell is requested (the URL,
// and the addresses its name resolves to now) and again when a delivery connects (the address
// actually connected to: a DNS answer can change between the two).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** The environment variable naming what an administrator allows despite the rules above. */
export const NOTIFY_ALLOW_ENV = 'HIVE_NOTIFY_ALLOW';

const refused: Array<{ why: string; ranges: Array<[string, number, 'ipv4' | 'ipv6']> }> = [
  {
    why: 'an unspecified address',
    ranges: [
      ['0.0.0.0', 8, 'ipv4'],
      ['::', 128, 'ipv6'],
    ],
  },
  {
    why: 'a loopback address',
    ranges: [
      ['127.0.0.0', 8, 'ipv4'],
      ['::1', 128, 'ipv6'],
    ],
  },
  {
    why: 'a private address',
    ranges: [
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
      ['100.64.0.0', 10, 'ipv4'],
      ['fc00::', 7, 'ipv6'],
    ],
  },
  {
    why: 'a link-local address',
    ranges: [
      ['169.254.0.0', 16, 'ipv4'],
      ['fe80::', 10, 'ipv6'],
    ],
  },
  {
    why: 'a multicast address',
    ranges: [
      ['224.0.0.0', 4, 'ipv4'],
      ['ff00::', 8, 'ipv6'],
    ],
  },
  {
    why: 'a reserved address',
    ranges: [
      ['192.0.0.0', 24, 'ipv4'],
      ['198.18.0.0', 15, 'ipv4'],
      ['240.0.0.0', 4, 'ipv4'],
      // IPv4-compatible IPv6 (deprecated): an IPv4 address in disguise.
      ['::', 96, 'ipv6'],
    ],
  },
];
// BlockList also matches IPv4-mapped IPv6 (::ffff:10.0.0.1) against the IPv4 ranges.
const classes = refused.map(({ why, ranges }) => {
  const list = new BlockList();
  for (const [address, prefix, type] of ranges) list.addSubnet(address, prefix, type);
  return { why, list };
});

/** An administrator's exceptions: addresses, CIDR ranges and host names (exact, case-insensitive). */
export interface NotifyAllowList {
  addresses: BlockList;
  names: Set<string>;
  /** Entries that are none of the three. */
  invalid: string[];
}

export function parseNotifyAllowList(text: string | undefined): NotifyAllowList {
  const allow: NotifyAllowList = { addresses: new BlockList(), names: new Set(), invalid: [] };
  for (const entry of (text ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [address = '', prefix, extra] = entry.split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
    if (
      family &&
      extra === undefined &&
      Number.isInteger(bits) &&
      bits >= 0 &&
      bits <= (family === 6 ? 128 : 32)
    ) {
      allow.addresses.addSubnet(address, bits, family === 6 ? 'ipv6' : 'ipv4');
    } else if (
      prefix === undefined &&
      /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(entry)
    ) {
      allow.names.add(entry.toLowerCase());
    } else {
      allow.invalid.push(entry);
    }
  }
  return allow;
}

let cached: { text: string | undefined; allow: NotifyAllowList } | undefined;

/** The allow-list as the environment says now (read per use: API and workers share the setting). */
export function notifyAllowList(): NotifyAllowList {
  const text = process.env[NOTIFY_ALLOW_ENV];
  if (!cached || cached.text !== text) cached = { text, allow: parseNotifyAllowList(text) };
  return cached.allow;
}

/** Why a webhook may not be delivered to this IP address, or undefined when it may. */
export function refusedAddress(address: string, allow = notifyAllowList()): string | undefined {
  const family = isIP(address);
  if (!family) return undefined;
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (allow.addresses.check(address, type)) return undefined;
  return classes.find(({ list }) => list.check(address, type))?.why;
}

const bare = (hostname: string) => hostname.replace(/^\[|\]$/g, '').toLowerCase();

/**
 * What is wrong with a notify URL as written (no DNS): credentials in it (they could never be sent,
 * and would be shown wherever the URL is), or a host that is a refused address or a loopback name.
 */
export function notifyUrlProblem(url: string, allow = notifyAllowList()): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (parsed.username || parsed.password) {
    return 'must not hold credentials (user:password@): send a secret instead, it signs every delivery';
  }
  const host = bare(parsed.hostname);
  if (allow.names.has(host)) return undefined;
  if (host === 'localhost' || host.endsWith('.localhost')) return refusal(host, 'a loopback name');
  const why = refusedAddress(host, allow);
  return why ? refusal(host, why) : undefined;
}

const refusal = (host: string, why: string) =>
  `${host} is ${why}: webhooks go to public addresses only, unless ${NOTIFY_ALLOW_ENV} allows it (an administrator's setting)`;

const RESOLVE_TIMEOUT_MS = 3_000;

/**
 * `notifyUrlProblem`, and the addresses the URL's host name resolves to now. A name that does not
 * resolve (yet) is let through: delivery retries, and checks the address it connects to.
 */
export async function notifyTargetProblem(
  url: string,
  allow = notifyAllowList(),
): Promise<string | undefined> {
  const problem = notifyUrlProblem(url, allow);
  if (problem) return problem;
  const host = bare(new URL(url).hostname);
  if (isIP(host) || allow.names.has(host)) return undefined;
  const addresses = await Promise.race([
    new Promise<LookupAddress[]>((resolve) =>
      dnsLookup(host, { all: true }, (error, found) => resolve(error ? [] : found)),
    ),
    new Promise<LookupAddress[]>((resolve) => setTimeout(() => resolve([]), RESOLVE_TIMEOUT_MS).unref()),
  ]);
  for (const { address } of addresses) {
    const why = refusedAddress(address, allow);
    if (why) return refusal(`${host} (${address})`, why);
  }
  return undefined;
}

/** The error a delivery's connection fails with when its address is refused. */
export class RefusedAddressError extends Error {
  readonly code = 'EADDRREFUSED';
}

/**
 * A `lookup` for http(s).request: the system's answer, refused when any address is one webhooks may
 * not reach (unless the name itself is allowed). So the address checked is the address connected to.
 */
export function guardedLookup(hostname: string): LookupFunction {
  return (name, options, callback) => {
    dnsLookup(name, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const allow = notifyAllowList();
      if (!allow.names.has(bare(hostname))) {
        for (const { address } of addresses) {
          const why = refusedAddress(address, allow);
          if (why) return callback(new RefusedAddressError(refusal(address, why)), '', 0);
        }
      }
      if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const [first] = addresses;
      if (!first) return callback(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  };
}
