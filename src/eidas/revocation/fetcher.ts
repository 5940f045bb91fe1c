/**
 * The HTTP client for OCSP and CRL downloads. URLs come from untrusted certificates, so it is an SSRF
 * surface: http/https only, no redirects, the resolved address is checked before connecting (link-local
 * and cloud metadata always refused, private and loopback ranges unless allowed), the body is capped
 * while streaming and the whole exchange has one deadline.
 */
import { lookup } from 'node:dns/promises';
import type { IncomingMessage } from 'node:http';
import * as http from 'node:http';
import * as https from 'node:https';
import { BlockList, isIP } from 'node:net';

export interface FetchResponse {
  status: number;
  contentType: string | null;
  body: Uint8Array;
}

export interface FetchGetOptions {
  maxBytes: number;
  /** Overrides the fetcher's own timeout for this request. */
  timeoutMs?: number;
  accept?: string;
}

export interface FetchPostOptions {
  contentType: string;
  maxBytes: number;
  timeoutMs?: number;
}

/** Any failure to get a complete response; HTTP error statuses are returned, not thrown. */
export interface Fetcher {
  get(url: string, opts: FetchGetOptions): Promise<FetchResponse>;
  post(url: string, body: Uint8Array, opts: FetchPostOptions): Promise<FetchResponse>;
}

export type FetchErrorKind = 'url' | 'blocked' | 'dns' | 'timeout' | 'too-large' | 'network';

export class FetchError extends Error {
  readonly kind: FetchErrorKind;
  constructor(kind: FetchErrorKind, message: string) {
    super(message);
    this.name = 'FetchError';
    this.kind = kind;
  }
}

export interface HttpFetcherOptions {
  /** Connect + total deadline per request, DNS included. Default 3000 ms. */
  timeoutMs?: number;
  /** Allow loopback and private ranges (dev PKI, tests). Link-local and metadata stay refused. */
  allowPrivateNetworks?: boolean;
  userAgent?: string;
}

const DEFAULT_TIMEOUT_MS = 3000;
const MAX_URL_LENGTH = 2048;
const MAX_DNS_ANSWERS = 16;

// Link-local (where cloud metadata lives: 169.254.169.254, fd00:ec2::254 on AWS IPv6), unspecified,
// multicast and broadcast: never a legitimate OCSP/CRL host. IPv4 rules also match IPv4-mapped IPv6.
const ALWAYS_BLOCKED = new BlockList();
ALWAYS_BLOCKED.addSubnet('169.254.0.0', 16, 'ipv4');
ALWAYS_BLOCKED.addSubnet('0.0.0.0', 8, 'ipv4');
ALWAYS_BLOCKED.addSubnet('224.0.0.0', 4, 'ipv4');
ALWAYS_BLOCKED.addSubnet('240.0.0.0', 4, 'ipv4');
ALWAYS_BLOCKED.addSubnet('fe80::', 10, 'ipv6');
ALWAYS_BLOCKED.addSubnet('ff00::', 8, 'ipv6');
ALWAYS_BLOCKED.addAddress('::', 'ipv6');
ALWAYS_BLOCKED.addAddress('fd00:ec2::254', 'ipv6');

// RFC 1918, RFC 6598 shared space, loopback, RFC 4193 unique local, and NAT64 (may embed any of these).
const PRIVATE = new BlockList();
PRIVATE.addSubnet('127.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE.addSubnet('100.64.0.0', 10, 'ipv4');
PRIVATE.addSubnet('198.18.0.0', 15, 'ipv4');
PRIVATE.addAddress('::1', 'ipv6');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');
PRIVATE.addSubnet('64:ff9b::', 96, 'ipv6');

/** Why an address may not be contacted, or null when it may. */
export function addressRefusal(address: string, allowPrivateNetworks: boolean): string | null {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (ALWAYS_BLOCKED.check(address, type)) return 'link-local, metadata or non-unicast address';
  if (!allowPrivateNetworks && PRIVATE.check(address, type)) return 'private or loopback address';
  return null;
}

interface Target {
  url: URL;
  /** Host name as written in the URL, brackets removed. */
  hostname: string;
  port: number;
}

function parseTarget(raw: string): Target {
  if (raw.length > MAX_URL_LENGTH) throw new FetchError('url', 'the URL is too long');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new FetchError('url', 'the URL is not valid');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FetchError('url', `the scheme ${url.protocol} is not http or https`);
  }
  if (url.username || url.password) throw new FetchError('url', 'the URL carries credentials');
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!hostname) throw new FetchError('url', 'the URL has no host');
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { url, hostname, port };
}

function withDeadline<T>(p: Promise<T>, signal: AbortSignal, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new FetchError('timeout', `no answer within ${timeoutMs} ms`));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function resolveAddress(t: Target, allowPrivate: boolean, signal: AbortSignal, timeoutMs: number) {
  let candidates: { address: string; family: number }[];
  const literal = isIP(t.hostname);
  if (literal !== 0) {
    candidates = [{ address: t.hostname, family: literal }];
  } else {
    try {
      candidates = await withDeadline(lookup(t.hostname, { all: true, verbatim: true }), signal, timeoutMs);
    } catch (e) {
      if (e instanceof FetchError) throw e;
      throw new FetchError('dns', `the host ${t.hostname} could not be resolved`);
    }
  }
  let refusal = 'no address';
  // Connect to the first address that passes; the check applies to what we connect to, not the name.
  for (const c of candidates.slice(0, MAX_DNS_ANSWERS)) {
    const why = addressRefusal(c.address, allowPrivate);
    if (why === null) return c;
    refusal = `${c.address} is a ${why}`;
  }
  throw new FetchError('blocked', `refused to connect to ${t.hostname}: ${refusal}`);
}

function readBody(res: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (e: FetchError): void => {
      if (settled) return;
      settled = true;
      reject(e);
      res.destroy();
    };
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      fail(new FetchError('too-large', `the response declares ${declared} bytes, over the limit of ${maxBytes}`));
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    res.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) {
        fail(new FetchError('too-large', `the response exceeds the limit of ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(new Uint8Array(Buffer.concat(chunks, total)));
    });
    res.on('error', () => fail(new FetchError('network', 'the connection failed while reading the response')));
    res.on('aborted', () => fail(new FetchError('network', 'the response was cut short')));
  });
}

export function createHttpFetcher(opts: HttpFetcherOptions = {}): Fetcher {
  const defaultTimeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const allowPrivate = opts.allowPrivateNetworks ?? false;
  const userAgent = opts.userAgent ?? 'eidas-revocation/1';

  async function request(
    method: 'GET' | 'POST',
    rawUrl: string,
    body: Uint8Array | null,
    headers: Record<string, string>,
    maxBytes: number,
    timeoutMs: number | undefined,
  ): Promise<FetchResponse> {
    const t = parseTarget(rawUrl);
    const deadline = Math.max(1, timeoutMs ?? defaultTimeout);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), deadline);
    try {
      const addr = await resolveAddress(t, allowPrivate, controller.signal, deadline);
      const isHttps = t.url.protocol === 'https:';
      const reqHeaders: Record<string, string> = { ...headers, Host: t.url.host, 'User-Agent': userAgent };
      if (body) reqHeaders['Content-Length'] = String(body.length);
      const options: https.RequestOptions = {
        method,
        host: addr.address,
        family: addr.family,
        port: t.port,
        path: `${t.url.pathname}${t.url.search}`,
        headers: reqHeaders,
        agent: false,
        signal: controller.signal,
      };
      // TLS: SNI and certificate name check against the URL's host, not the address we dialled.
      if (isHttps && isIP(t.hostname) === 0) options.servername = t.hostname;
      const exchange = new Promise<FetchResponse>((resolve, reject) => {
        const req = (isHttps ? https : http).request(options, (res) => {
          // No redirects are followed (a redirect could lead anywhere); the status is returned as is.
          const ct = res.headers['content-type'];
          readBody(res, maxBytes).then(
            (b) => resolve({ status: res.statusCode ?? 0, contentType: ct ?? null, body: b }),
            reject,
          );
        });
        req.on('error', (e: NodeJS.ErrnoException) => {
          if (controller.signal.aborted) reject(new FetchError('timeout', `no answer within ${deadline} ms`));
          else reject(new FetchError('network', `connection to ${t.url.host} failed (${e.code ?? 'error'})`));
        });
        req.end(body ?? undefined);
      });
      return await withDeadline(exchange, controller.signal, deadline);
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  }

  return {
    get(url, o) {
      const headers: Record<string, string> = {};
      if (o.accept) headers.Accept = o.accept;
      return request('GET', url, null, headers, o.maxBytes, o.timeoutMs);
    },
    post(url, body, o) {
      return request('POST', url, body, { 'Content-Type': o.contentType }, o.maxBytes, o.timeoutMs);
    },
  };
}
