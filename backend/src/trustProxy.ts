import { lookup as dnsLookup } from 'node:dns/promises';
import type { RequestHandler } from 'express';
import proxyAddr from 'proxy-addr';

/*
 * Which peers may tell the API who the client is (X-Forwarded-For: the sign-in limiter's per-address count) and
 * how it connected (X-Forwarded-Proto: the session cookie's Secure flag). Express's own `trust proxy` decides, with
 * proxy-addr's semantics: the address is the rightmost X-Forwarded-For entry not sent by a trusted hop. Trusting
 * every private address (as before) let anyone on the Docker network or a LAN forge their address; TRUST_PROXY
 * names the proxies instead (compose: the stack's own web server, `frontend`, and nothing else).
 *
 * Compose gives containers new addresses when they are recreated, so an entry may be a host name too: it is
 * resolved when a request comes from a peer no entry trusts yet (at most once a second, and in the background
 * once the answer is 30 s old), and trusted for exactly the addresses it resolves to.
 */

/** The setting, parsed: Express's hop count, or addresses/CIDRs/named ranges plus host names to resolve. */
export type TrustProxySetting =
  | { kind: 'hops'; hops: number }
  | { kind: 'list'; ranges: string[]; hostnames: string[] };

/** proxy-addr's named ranges (loopback: 127.0.0.1/8, ::1/128; linklocal; uniquelocal: 10/8, 172.16/12, 192.168/16, fc00::/7). */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);
/** A DNS name whose last label has a letter (so "1.2.3" is a bad address, not a host name). */
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const MAX_HOPS = 10;

/**
 * Parses TRUST_PROXY: `none`, a hop count (0-10: trust that many hops nearest the API, whatever their address), or
 * a comma-separated list of IP addresses, CIDRs (`10.1.0.0/16`, `10.1.0.0/255.255.0.0`), proxy-addr's named
 * ranges and host names. Throws an Error saying what is wrong (the caller names the variable).
 */
export function parseTrustProxy(raw: string): TrustProxySetting {
  const value = raw.trim().toLowerCase();
  if (value === 'none' || value === 'false') return { kind: 'list', ranges: [], hostnames: [] };
  if (value === 'true' || value === '*') {
    throw new Error('trusting every peer lets any client forge its address; name the proxies, or give a hop count');
  }
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > MAX_HOPS) throw new Error(`a hop count must be 0 to ${MAX_HOPS}`);
    return { kind: 'hops', hops };
  }
  const entries = value.split(',').map((s) => s.trim());
  if (entries.some((e) => e === '')) throw new Error('an entry is empty; give a comma-separated list like frontend,10.1.2.3,192.168.0.0/16');
  const ranges: string[] = [];
  const hostnames: string[] = [];
  for (const entry of entries) {
    if (['none', 'false', 'true'].includes(entry) || /^\d+$/.test(entry)) {
      throw new Error(`${entry} stands alone; it cannot be part of a list`);
    }
    if (!NAMED_RANGES.has(entry) && HOSTNAME.test(entry)) {
      hostnames.push(entry);
      continue;
    }
    try {
      proxyAddr.compile(entry); // proxy-addr's own validation: "invalid IP address", "invalid range on address"
    } catch (err) {
      throw new Error(`${(err as Error).message}; give IP addresses, CIDRs, loopback/linklocal/uniquelocal or host names`);
    }
    ranges.push(entry);
  }
  return { kind: 'list', ranges, hostnames };
}

type Lookup = (hostname: string) => Promise<string[]>;

const lookupAll: Lookup = async (hostname) => (await dnsLookup(hostname, { all: true })).map((a) => a.address);

export interface TrustProxy {
  /** For `app.set('trust proxy', …)`: a hop count, or proxy-addr's (address, hop index) predicate. */
  value: number | ((addr: string, i: number) => boolean);
  /** Runs first: resolves the host names again when a peer is not trusted yet (a recreated proxy container). */
  middleware: RequestHandler;
  /** Resolves the host names now (start-up, tests). */
  refresh(): Promise<void>;
}

/** Builds Express's trust setting; `lookup` resolves a host name to its addresses (DNS unless a test gives one). */
export function createTrustProxy(
  setting: TrustProxySetting,
  opts: { lookup?: Lookup; log?: (msg: string) => void; retryMs?: number; maxAgeMs?: number } = {},
): TrustProxy {
  const pass: RequestHandler = (_req, _res, next) => next();
  if (setting.kind === 'hops') return { value: setting.hops, middleware: pass, refresh: async () => undefined };
  const fixed = proxyAddr.compile(setting.ranges);
  if (setting.hostnames.length === 0) return { value: fixed, middleware: pass, refresh: async () => undefined };

  const { lookup = lookupAll, log = () => undefined, retryMs = 1_000, maxAgeMs = 30_000 } = opts;
  let resolved: (addr: string, i: number) => boolean = () => false;
  let known = '';
  let resolvedAt = -Infinity;
  let inFlight: Promise<void> | null = null;

  const resolveAll = async () => {
    const addresses = new Set<string>();
    const missing: string[] = [];
    await Promise.all(
      setting.hostnames.map(async (name) => {
        try {
          for (const a of await lookup(name)) addresses.add(a);
        } catch {
          missing.push(name);
        }
      }),
    );
    const list = [...addresses].sort();
    resolved = proxyAddr.compile(list);
    resolvedAt = Date.now();
    const now = `${list.join(',') || 'nothing'}${missing.length ? ` (${missing.sort().join(', ')} not found)` : ''}`;
    if (now !== known) log(`trust proxy: ${setting.hostnames.join(',')} → ${now}`);
    known = now;
  };
  const refresh = () => {
    inFlight ??= resolveAll().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
  const value = (addr: string, i: number) => fixed(addr, i) || resolved(addr, i);
  const middleware: RequestHandler = (req, _res, next) => {
    const peer = req.socket.remoteAddress ?? '';
    const age = Date.now() - resolvedAt;
    if (!value(peer, 0) && age >= retryMs) {
      // A peer no entry trusts: maybe the proxy came back with a new address. Look before answering.
      refresh().then(() => next(), next);
      return;
    }
    if (age >= maxAgeMs) void refresh().catch(() => undefined); // drop addresses a name no longer has
    next();
  };
  return { value, middleware, refresh };
}
