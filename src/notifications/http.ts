/**
 * The webhook POST. Partners choose the URL, so it is an SSRF surface: https only, no redirects followed, the
 * address is resolved once and checked before connecting (and the connection goes to exactly that address,
 * so a DNS answer cannot change between check and use). Link-local and metadata addresses are always
 * refused; loopback and private ranges unless allowed (development and tests). One deadline covers DNS,
 * connect and the answer; the answer's body is read up to a small cap and then dropped.
 */
import { lookup } from 'node:dns/promises';
import * as https from 'node:https';
import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { addressRefusal } from '../eidas/revocation/fetcher.js';

export interface WebhookRequest {
  url: string;
  body: Uint8Array;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Bytes of the answer's body to keep; the rest is not read. */
  maxResponseBytes: number;
}

export interface WebhookResponse {
  status: number;
  /** At most maxResponseBytes. */
  body: Uint8Array;
}

/** The transport the worker uses (injectable: tests may replace it). HTTP error statuses are returned, not thrown. */
export type WebhookFetch = (req: WebhookRequest) => Promise<WebhookResponse>;

export type WebhookSendErrorKind = 'url' | 'blocked' | 'dns' | 'timeout' | 'network';

/** A failure to get an answer. `message` is safe to store and show to the partner. */
export class WebhookSendError extends Error {
  constructor(
    readonly kind: WebhookSendErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookSendError';
  }

  /** A refused URL or address will be refused again: retrying cannot help. */
  get permanent(): boolean {
    return this.kind === 'url' || this.kind === 'blocked';
  }
}

export interface WebhookFetchOptions {
  /** Loopback and private ranges (development, tests). Default false. */
  allowPrivateNetworks: boolean;
  /** Extra trusted CA certificates (PEM) for receivers, e.g. the dev root; added to Node's default CAs. */
  ca?: string | Buffer;
  userAgent?: string;
}

const MAX_DNS_ANSWERS = 16;

function target(raw: string): { url: URL; hostname: string; port: number } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookSendError('url', 'the webhook URL is not valid');
  }
  if (url.protocol !== 'https:') throw new WebhookSendError('url', 'the webhook URL is not https');
  if (url.username || url.password) throw new WebhookSendError('url', 'the webhook URL carries credentials');
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!hostname) throw new WebhookSendError('url', 'the webhook URL has no host');
  return { url, hostname, port: url.port ? Number(url.port) : 443 };
}

function deadline<T>(p: Promise<T>, signal: AbortSignal, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new WebhookSendError('timeout', `no answer within ${timeoutMs} ms`));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export function createWebhookFetch(opts: WebhookFetchOptions): WebhookFetch {
  const userAgent = opts.userAgent ?? 'open-banking-portal-webhooks/1';
  // `ca` replaces Node's default list: keep the public roots so that real receivers still verify.
  const ca = opts.ca ? [...rootCertificates, opts.ca.toString()] : undefined;
  return async (req) => {
    const t = target(req.url);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), req.timeoutMs);
    try {
      let candidates: { address: string; family: number }[];
      const literal = isIP(t.hostname);
      if (literal !== 0) candidates = [{ address: t.hostname, family: literal }];
      else {
        try {
          candidates = await deadline(lookup(t.hostname, { all: true, verbatim: true }), controller.signal, req.timeoutMs);
        } catch (e) {
          if (e instanceof WebhookSendError) throw e;
          throw new WebhookSendError('dns', `the host ${t.hostname} could not be resolved`);
        }
      }
      let refusal = 'no address';
      let chosen: { address: string; family: number } | null = null;
      for (const c of candidates.slice(0, MAX_DNS_ANSWERS)) {
        const why = addressRefusal(c.address, opts.allowPrivateNetworks);
        if (why === null) {
          chosen = c;
          break;
        }
        refusal = `${c.address} is a ${why}`;
      }
      if (!chosen) throw new WebhookSendError('blocked', `refused to connect to ${t.hostname}: ${refusal}`);

      const options: https.RequestOptions = {
        method: 'POST',
        host: chosen.address,
        family: chosen.family,
        port: t.port,
        path: `${t.url.pathname}${t.url.search}`,
        headers: { ...req.headers, Host: t.url.host, 'User-Agent': userAgent, 'Content-Length': String(req.body.length) },
        agent: false,
        signal: controller.signal,
        // TLS name check against the URL's host, not the address dialled.
        servername: isIP(t.hostname) === 0 ? t.hostname : undefined,
        ...(ca ? { ca } : {}),
      };
      const exchange = new Promise<WebhookResponse>((resolve, reject) => {
        const r = https.request(options, (res) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          const finish = () => resolve({ status: res.statusCode ?? 0, body: new Uint8Array(Buffer.concat(chunks, kept)) });
          res.on('data', (chunk: Buffer) => {
            if (kept >= req.maxResponseBytes) return;
            const take = chunk.subarray(0, req.maxResponseBytes - kept);
            chunks.push(take);
            kept += take.length;
            // Enough for the excerpt: the rest of a large answer is not read.
            if (kept >= req.maxResponseBytes) {
              res.destroy();
              finish();
            }
          });
          res.on('end', finish);
          res.on('error', () => finish());
        });
        r.on('error', (e: NodeJS.ErrnoException) => {
          if (controller.signal.aborted) reject(new WebhookSendError('timeout', `no answer within ${req.timeoutMs} ms`));
          else reject(new WebhookSendError('network', `connection to ${t.url.host} failed (${e.code ?? 'error'})`));
        });
        r.end(req.body);
      });
      return await deadline(exchange, controller.signal, req.timeoutMs);
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  };
}
