/**
 * The client certificate of a mutual-TLS request: from the TLS socket, or, behind a TLS-terminating proxy,
 * from a header that proxy sets (RFC 9440 `Client-Cert` / `Client-Cert-Chain`, or a URL-encoded PEM such as
 * nginx's `$ssl_client_escaped_cert`).
 *
 * Who is believed:
 * - The peer is `req.socket.remoteAddress`, never X-Forwarded-For: the proxy is the hop we talk to.
 * - A certificate header from a peer that is not a configured proxy is refused (`certificate.header_untrusted`)
 *   whatever its value, even empty: the caller refuses the request and audits it. A client that can set the
 *   header could otherwise claim any certificate.
 * - A configured proxy is only ever a proxy. Its header is the client's certificate; when it sends no header
 *   (or an empty one) the request has NO client certificate. We deliberately do not fall back to the TLS
 *   certificate on the proxy's own connection: a proxy presenting its own certificate must never become the
 *   client's identity. Consequence: a client connecting directly from an address listed as a proxy has no
 *   certificate either, so list proxies narrowly.
 *
 * Header values are hostile input: parsed strictly, with bounded sizes and counts, never throwing.
 */
import { BlockList, isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import * as asn1js from 'asn1js';
import type { Request } from 'express';
import { x509 } from '../../eidas/x509.js';

/**
 * What a TLS connection presented, read once: the peer's certificates cannot change on a connection (the
 * mutual-TLS listener refuses renegotiation), and getPeerCertificate(true) costs ~0.2 ms (it converts every
 * certificate of the chain to a JS object).
 */
const bySocket = new WeakMap<TLSSocket, Uint8Array[]>();
const leafBySocket = new WeakMap<TLSSocket, Uint8Array | null>();

/** DER certificates the client presented, its own first, then the chain it sent; [] when none. */
export function presentedCertificates(req: Request): Uint8Array[] {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function') return [];
  let out = bySocket.get(socket);
  if (!out) {
    out = readChain(socket);
    bySocket.set(socket, out);
  }
  return out;
}

/**
 * The client's own certificate from the handshake, without its chain (~0.05 ms instead of ~0.2 ms); null when
 * none. Not getPeerX509Certificate(): on Node 20, calling it on a server socket makes a later
 * getPeerCertificate(true) lose the chain the client sent.
 */
export function presentedLeaf(req: Request): Uint8Array | null {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function') return null;
  const known = bySocket.get(socket);
  if (known) return known[0] ?? null;
  // Read once per connection, like the chain: on keep-alive this was a third of an API call's cost.
  let leaf = leafBySocket.get(socket);
  if (leaf === undefined) {
    const peer = socket.getPeerCertificate(false);
    leaf = peer?.raw ? new Uint8Array(peer.raw) : null;
    leafBySocket.set(socket, leaf);
  }
  return leaf;
}

function readChain(socket: TLSSocket): Uint8Array[] {
  const peer = socket.getPeerCertificate(true);
  if (!peer?.raw) return [];
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  let current: typeof peer | undefined = peer;
  // The issuer links form a chain that ends on a self-reference; the bound guards against odd stacks.
  while (current?.raw && out.length < 10) {
    const fp = current.fingerprint256;
    if (seen.has(fp)) break;
    seen.add(fp);
    out.push(new Uint8Array(current.raw));
    current = current.issuerCertificate;
  }
  return out;
}

export function toPemBundle(ders: Uint8Array[]): string {
  return x509.PemConverter.encode(ders, 'CERTIFICATE');
}

export type CertificateSourceResult =
  | { ok: true; ders: Uint8Array[]; source: 'tls' | 'proxy-header' }
  | {
      ok: false;
      code: 'certificate.header_untrusted' | 'certificate.header_malformed';
      status: 400 | 401;
      /** Safe to show the client. */
      message: string;
      /** For logs and the audit trail (names the peer address). */
      detail: string;
    };

export interface CertificateSource {
  read(req: Request): CertificateSourceResult;
  /**
   * The leaf certificate when this request's certificate comes from the TLS handshake (not from a proxy, no
   * certificate header): lets a cache recognise a known certificate without reading the chain. Else null.
   */
  tlsLeaf(req: Request): Uint8Array | null;
}

export const CLIENT_CERT_LIMITS = {
  /** Longest RFC 9440 field value (one byte sequence), as Cloudflare's bound. */
  maxFieldLength: 16 * 1024,
  /** Most certificates in Client-Cert-Chain. */
  maxChain: 10,
  /** Longest URL-encoded PEM header value. */
  maxPemHeaderLength: 64 * 1024,
  /** Most CERTIFICATE blocks in a PEM header (leaf and chain). */
  maxPemCertificates: 11,
  /** asn1js limits for one certificate's outer structure. */
  ber: { maxDepth: 64, maxNodes: 5000, maxContentLength: 64 * 1024, parseEmbedded: false },
} as const;

const RFC9440 = 'client-cert';
const RFC9440_CHAIN = 'client-cert-chain';

const MALFORMED_MESSAGE = 'The client certificate forwarded by the proxy is malformed.';
const UNTRUSTED_MESSAGE = 'A client certificate header is accepted only from a configured TLS-terminating proxy.';

type Step<T> = { ok: true; value: T } | { ok: false; detail: string };
const fail = <T>(detail: string): Step<T> => ({ ok: false, detail });
const pass = <T>(value: T): Step<T> => ({ ok: true, value });

/** Trusted proxy addresses and CIDR ranges. IPv4-mapped IPv6 peers match IPv4 entries (BlockList does it). */
function proxyList(trusted: string[]): BlockList {
  const list = new BlockList();
  for (const entry of trusted) {
    const [address = '', bits, extra] = entry.trim().split('/');
    const family = isIP(address);
    const prefix = bits === undefined ? null : Number(bits);
    const max = family === 4 ? 32 : 128;
    if (family === 0 || extra !== undefined || (prefix !== null && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= max))) {
      throw new Error(`Trusted proxy "${entry}" is not an IP address or CIDR range.`);
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === null) list.addAddress(address, type);
    else list.addSubnet(address, prefix, type);
  }
  return list;
}

function isTrustedPeer(list: BlockList, peer: string | undefined): boolean {
  if (!peer) return false;
  const family = isIP(peer);
  if (family === 0) return false;
  return list.check(peer, family === 4 ? 'ipv4' : 'ipv6');
}

/** Every line of a header as sent (Node would join repeated lines with ", ", hiding a second Client-Cert). */
function headerLines(req: Request, name: string): string[] | undefined {
  return req.headersDistinct[name];
}

/** One DER X.509 certificate: a single element with nothing trailing, that @peculiar/x509 parses. */
function checkCertificate(der: Uint8Array, what: string): Step<Uint8Array> {
  if (der.length === 0 || der[0] !== 0x30) return fail(`${what} is not a DER certificate (no SEQUENCE).`);
  const outer = asn1js.fromBER(der, CLIENT_CERT_LIMITS.ber);
  if (outer.offset === -1) return fail(`${what} is not valid DER: ${outer.result.error || 'decoding failed'}.`);
  if (outer.offset !== der.length) return fail(`${what} has ${der.length - outer.offset} bytes after the certificate.`);
  try {
    new x509.X509Certificate(der);
  } catch (e) {
    return fail(`${what} is not an X.509 certificate: ${e instanceof Error ? e.message : String(e)}.`);
  }
  return pass(der);
}

/**
 * An RFC 8941 Byte Sequence, strictly: `:base64:`, no parameters, no whitespace inside. Missing `=` padding
 * is accepted (RFC 8941 §4.2.7 says parsers should not fail on it); non-canonical base64 is not.
 */
function byteSequence(value: string, what: string): Step<Uint8Array> {
  if (value.length > CLIENT_CERT_LIMITS.maxFieldLength + 2) {
    return fail(`${what} is ${value.length} characters, more than ${CLIENT_CERT_LIMITS.maxFieldLength}.`);
  }
  const m = /^:([A-Za-z0-9+/]*)(={0,2}):$/.exec(value);
  if (!m) return fail(`${what} is not a single structured-field byte sequence (:base64:).`);
  const [, body = '', padding = ''] = m;
  if (body.length === 0) return fail(`${what} is an empty byte sequence.`);
  if (body.length % 4 === 1 || (padding.length > 0 && (body.length + padding.length) % 4 !== 0)) {
    return fail(`${what} is not valid base64 (bad length or padding).`);
  }
  const bytes = Buffer.from(body, 'base64');
  if (bytes.toString('base64').replace(/=+$/, '') !== body) return fail(`${what} is not canonical base64.`);
  return checkCertificate(new Uint8Array(bytes), what);
}

/** List members are separated by OWS "," OWS: SP / HTAB only. A loop, as a trailing-space regex is quadratic. */
function trimOws(value: string): string {
  const ows = (c: string | undefined) => c === ' ' || c === '\t';
  let start = 0;
  let end = value.length;
  while (start < end && ows(value[start])) start++;
  while (end > start && ows(value[end - 1])) end--;
  return value.slice(start, end);
}

/** RFC 9440: Client-Cert (the leaf) and the optional Client-Cert-Chain (a List of byte sequences). */
function readRfc9440(req: Request): Step<Uint8Array[]> {
  const leafLines = headerLines(req, RFC9440) ?? [];
  const chainLines = headerLines(req, RFC9440_CHAIN) ?? [];
  if (leafLines.length > 1) return fail(`Client-Cert was sent ${leafLines.length} times; it must be one value.`);
  const leafValue = leafLines[0] ?? '';
  // A List may be split over several lines (RFC 8941 §3.1); empty lines carry no members.
  const chainValue = chainLines.filter((l) => l !== '').join(',');

  if (leafValue === '') {
    if (chainValue !== '') return fail('Client-Cert-Chain was sent without a Client-Cert (RFC 9440 §2.3).');
    return pass([]);
  }
  const leaf = byteSequence(leafValue, 'Client-Cert');
  if (!leaf.ok) return leaf;
  if (chainValue === '') return pass([leaf.value]);

  if (chainValue.length > (CLIENT_CERT_LIMITS.maxFieldLength + 4) * CLIENT_CERT_LIMITS.maxChain) {
    return fail(`Client-Cert-Chain is ${chainValue.length} characters, too long for ${CLIENT_CERT_LIMITS.maxChain} certificates.`);
  }
  const members = chainValue.split(',');
  if (members.length > CLIENT_CERT_LIMITS.maxChain) {
    return fail(`Client-Cert-Chain has ${members.length} entries, more than ${CLIENT_CERT_LIMITS.maxChain}.`);
  }
  const out = [leaf.value];
  for (const [i, member] of members.entries()) {
    const cert = byteSequence(trimOws(member), `Client-Cert-Chain entry ${i + 1}`);
    if (!cert.ok) return cert;
    out.push(cert.value);
  }
  return pass(out);
}

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';

/** A URL-encoded PEM bundle (nginx `$ssl_client_escaped_cert`): CERTIFICATE blocks only, leaf first. */
function readEscapedPem(req: Request, header: string): Step<Uint8Array[]> {
  const values = headerLines(req, header) ?? [];
  if (values.length > 1) return fail(`${header} was sent ${values.length} times; it must be one value.`);
  const raw = values[0] ?? '';
  if (raw === '') return pass([]);
  if (raw.length > CLIENT_CERT_LIMITS.maxPemHeaderLength) {
    return fail(`${header} is ${raw.length} characters, more than ${CLIENT_CERT_LIMITS.maxPemHeaderLength}.`);
  }
  let text: string;
  try {
    text = decodeURIComponent(raw).replace(/\r\n/g, '\n');
  } catch {
    return fail(`${header} is not valid URL encoding.`);
  }

  // Line-by-line shape check first: linear, and nothing outside the blocks is silently skipped.
  let blocks = 0;
  let inside = false;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop(); // the final newline ends the last line, it does not start one
  for (const line of lines) {
    if (!inside) {
      if (line === '') continue;
      if (line !== BEGIN) return fail(`${header} has text outside CERTIFICATE blocks.`);
      if (++blocks > CLIENT_CERT_LIMITS.maxPemCertificates) {
        return fail(`${header} has more than ${CLIENT_CERT_LIMITS.maxPemCertificates} certificates.`);
      }
      inside = true;
    } else if (line === END) {
      inside = false;
    } else if (!/^[A-Za-z0-9+/]+={0,2}$/.test(line)) {
      return fail(`${header} has a line that is not base64 inside a CERTIFICATE block.`);
    }
  }
  if (inside) return fail(`${header} has a CERTIFICATE block without its END line.`);
  if (blocks === 0) return fail(`${header} holds no PEM CERTIFICATE block.`);

  let structs: ReturnType<typeof x509.PemConverter.decodeWithHeaders>;
  try {
    structs = x509.PemConverter.decodeWithHeaders(text);
  } catch (e) {
    return fail(`${header} is not valid PEM: ${e instanceof Error ? e.message : String(e)}.`);
  }
  if (structs.length !== blocks || structs.some((s) => s.type !== 'CERTIFICATE')) {
    return fail(`${header} is not valid PEM (${structs.length} of ${blocks} CERTIFICATE blocks decoded).`);
  }
  const out: Uint8Array[] = [];
  for (const [i, s] of structs.entries()) {
    const cert = checkCertificate(new Uint8Array(s.rawData), `${header} certificate ${i + 1}`);
    if (!cert.ok) return cert;
    out.push(cert.value);
  }
  return pass(out);
}

/**
 * Reads the client certificate per the trust rules in the header comment. `header` is the lowercased header
 * name: `client-cert` means RFC 9440 (with `client-cert-chain`), any other name a URL-encoded PEM.
 */
export function createCertificateSource(opts: { trusted: string[]; header: string }): CertificateSource {
  const proxies = proxyList(opts.trusted);
  const noProxies = opts.trusted.length === 0;
  const header = opts.header.toLowerCase();
  const rfc9440 = header === RFC9440;
  const names = rfc9440 ? [RFC9440, RFC9440_CHAIN] : [header];

  return {
    tlsLeaf(req: Request): Uint8Array | null {
      if (names.some((n) => req.headers[n] !== undefined)) return null;
      if (!noProxies && isTrustedPeer(proxies, req.socket?.remoteAddress)) return null;
      return presentedLeaf(req);
    },
    read(req: Request): CertificateSourceResult {
      try {
        const peer = req.socket?.remoteAddress;
        const sent = names.filter((n) => req.headers[n] !== undefined);
        const trusted = noProxies ? false : isTrustedPeer(proxies, peer);

        if (!trusted) {
          if (sent.length > 0) {
            return {
              ok: false,
              code: 'certificate.header_untrusted',
              status: 400,
              message: UNTRUSTED_MESSAGE,
              detail: `Header ${sent.join(', ')} from ${peer ?? 'an unknown address'}, which is not a trusted proxy (TRUSTED_PROXIES).`,
            };
          }
          return { ok: true, ders: presentedCertificates(req), source: 'tls' };
        }

        // From here the peer is a proxy: its own TLS certificate is never the client's.
        if (sent.length === 0) return { ok: true, ders: [], source: 'proxy-header' };
        const parsed = rfc9440 ? readRfc9440(req) : readEscapedPem(req, header);
        if (!parsed.ok) {
          return {
            ok: false,
            code: 'certificate.header_malformed',
            status: 400,
            message: MALFORMED_MESSAGE,
            detail: `From proxy ${peer}: ${parsed.detail}`,
          };
        }
        return { ok: true, ders: parsed.value, source: 'proxy-header' };
      } catch (e) {
        // Not expected (every step returns its failure); a bug here must not become an accepted certificate.
        return {
          ok: false,
          code: 'certificate.header_malformed',
          status: 400,
          message: MALFORMED_MESSAGE,
          detail: `Reading the client certificate failed: ${e instanceof Error ? e.message : String(e)}.`,
        };
      }
    },
  };
}
