import { open } from 'node:fs/promises';
import { listenedPorts } from './listeners.js';

// What a starting service really listens on, looked at now and then during its readiness wait:
// the truth behind "web not ready after 120 s" when the command ignored $PORT, and the port an
// `auto` service chose. Reading /proc costs a few milliseconds, so a fast service that passes its
// probe in its first 250 ms is never looked at.

/** A service that passes its probe within this long is never looked at. */
const FIRST_LOOK_MS = 250;
/** Time between looks while the probe fails. */
const LOOK_EVERY_MS = 300;
/** An `auto` service has nothing to probe until its port is known: it is looked at this often. */
const AUTO_LOOK_EVERY_MS = 100;
/**
 * How long a service may listen only elsewhere before that counts: a tool may open a helper port
 * (an HMR websocket, a debugger) before its real one.
 */
export const FOREIGN_GRACE_MS = 1_500;
/** An `auto` service's single port is adopted once its listeners stayed the same this long. */
const AUTO_STABLE_MS = 300;
/** How much of the end of the log is searched for the URL a service printed. */
const LOG_TAIL_BYTES = 64 * 1024;

export type PortVerdict =
  /** Not looked at yet, or nothing new to say. */
  | { kind: 'unknown' }
  | { kind: 'nowhere' }
  /** It listens on one of its ports (or, `auto`, not long enough to decide). */
  | { kind: 'fine'; ports: number[] }
  /** Only elsewhere, for longer than the grace: its command ignores $PORT. */
  | { kind: 'wrong'; ports: number[] }
  /** `auto`: the port it chose. */
  | { kind: 'adopt'; port: number }
  /** `auto`: several ports, none named by its log. */
  | { kind: 'ambiguous'; ports: number[] };

/** Ports a log names in a URL or address (`http://localhost:3333/`, `0.0.0.0:8080`). */
function portsNamed(text: string): Set<number> {
  const named = new Set<number>();
  for (const m of text.matchAll(/(?:localhost|\d{1,3}(?:\.\d{1,3}){3}|\[[\da-f:]*\]):(\d{2,5})\b/gi)) {
    named.add(Number(m[1]));
  }
  return named;
}

/** What the service printed since its run command was logged (`$ <run>`, the last such line). */
async function runOutput(logFile: string): Promise<string> {
  const file = await open(logFile, 'r').catch(() => undefined);
  if (!file) return '';
  try {
    const { size } = await file.stat();
    const length = Math.min(size, LOG_TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await file.read(buffer, 0, length, size - length);
    const text = buffer.toString('utf8');
    const start = text.lastIndexOf('\n$ ');
    return start === -1 ? text : text.slice(start);
  } finally {
    await file.close();
  }
}

export interface PortWatchOptions {
  pgid: number;
  /** The service's allocated ports; empty when it has none (nothing to be wrong about). */
  allocated: number[];
  /** Whether its port is `auto` (and not adopted yet). */
  auto: boolean;
  logFile: string;
}

export function createPortWatch({ pgid, allocated, auto, logFile }: PortWatchOptions) {
  const began = Date.now();
  let lookedAt = 0;
  let foreignSince: number | undefined;
  let stableSince = 0;
  let last = '';
  /** What the last look found; undefined before the first. */
  let seen: number[] | undefined;

  async function judgeAuto(ports: number[], now: number): Promise<PortVerdict> {
    if (ports.length === 0) return { kind: 'nowhere' };
    const named = [...portsNamed(await runOutput(logFile))].filter((p) => ports.includes(p));
    // The URL it printed settles it at once; otherwise its listeners must stay the same a moment.
    if (named.length === 1) return { kind: 'adopt', port: named[0] as number };
    const stable = now - stableSince;
    if (ports.length === 1 && stable >= AUTO_STABLE_MS) return { kind: 'adopt', port: ports[0] as number };
    if (ports.length > 1 && stable >= FOREIGN_GRACE_MS) return { kind: 'ambiguous', ports };
    return { kind: 'fine', ports };
  }

  function judge(ports: number[], now: number): PortVerdict {
    if (ports.length === 0) {
      foreignSince = undefined;
      return { kind: 'nowhere' };
    }
    if (allocated.length === 0 || ports.some((p) => allocated.includes(p))) {
      foreignSince = undefined;
      return { kind: 'fine', ports };
    }
    foreignSince ??= now;
    return now - foreignSince >= FOREIGN_GRACE_MS ? { kind: 'wrong', ports } : { kind: 'fine', ports };
  }

  return {
    /** The ports of the last look (undefined before the first). */
    get seen() {
      return seen;
    },
    /**
     * Looks when one is due (`force`: now), and says what it means. Not due: `unknown`, so a fast
     * service costs nothing.
     */
    async look({ force = false } = {}): Promise<PortVerdict> {
      const now = Date.now();
      const due = auto
        ? now - lookedAt >= AUTO_LOOK_EVERY_MS
        : now - began >= FIRST_LOOK_MS && now - lookedAt >= LOOK_EVERY_MS;
      if (!force && !due) return { kind: 'unknown' };
      lookedAt = now;
      seen = await listenedPorts(pgid);
      const key = seen.join(',');
      if (key !== last) {
        last = key;
        stableSince = now;
      }
      return auto ? judgeAuto(seen, now) : judge(seen, now);
    },
  };
}
