/**
 * Loopback CRL / OCSP / CA-certificate server for the dev PKI (development and tests only).
 *   GET  /crl/<ca>.crl           fresh CRL (RFC 5280 §5) with the current revoked set
 *   GET  /ca/<ca>.cer            the CA certificate (DER), for AIA caIssuers
 *   POST /ocsp/<ca>              RFC 6960 OCSP, the CA signs its own responses
 *   GET  /ocsp/<ca>/<request>    RFC 6960 Appendix A.1 (base64 or base64url, URL-encoded)
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { ensurePkijsEngine } from '../eidas/pkijs-engine.js';
import { x509 } from '../eidas/x509.js';
import { buildCrl, isRevocationReason } from './crl.js';
import { CA_SLUGS, type CaSlug, type DevCa, type DevPki, type IssuedEntry, crlEntries } from './generate.js';

const MAX_BODY = 64 * 1024;
const OCSP_VALIDITY_MS = 5 * 60_000;
const CRL_VALIDITY_MS = 24 * 3_600_000;
const id_pkix_ocsp_basic = '1.3.6.1.5.5.7.48.1.1';
const id_pkix_ocsp_nonce = '1.3.6.1.5.5.7.48.1.2';

/** RFC 6960 §4.2.1 OCSPResponseStatus. */
const OcspStatus = { successful: 0, malformedRequest: 1, internalError: 2, unauthorized: 6 } as const;

/** CertID hash algorithms a client may use (RFC 6960 §4.1.1). */
const HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

export interface Responder {
  url: string;
  port: number;
  close(): Promise<void>;
  /** Marks a certificate revoked now (any CA that issued that serial). Throws for an unknown serial. */
  revoke(serialHex: string, reason?: string): void;
  /** While down, every request is answered by closing the connection. */
  setDown(down: boolean): void;
}

/** RFC 5280 §4.1.2.5.2 style times: DER GeneralizedTime without fractional seconds. */
function wholeSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

function normSerial(hex: string): string {
  return hex.toLowerCase().replace(/^(00)+(?=.)/, '');
}

interface CaContext {
  ca: DevCa;
  pkijsCert: pkijs.Certificate;
  /** DER of the subject Name and the subjectPublicKey bits, hashed per request algorithm. */
  nameDer: Uint8Array;
  keyBits: Uint8Array;
}

export async function startResponder(opts: { pki: DevPki; port?: number; host?: string }): Promise<Responder> {
  ensurePkijsEngine();
  const { pki } = opts;
  const host = opts.host ?? '127.0.0.1';
  let down = false;
  let crlNumber = 1;

  const contexts = new Map<CaSlug, CaContext>();
  for (const slug of CA_SLUGS) {
    const ca = pki.cas[slug];
    const pkijsCert = pkijs.Certificate.fromBER(ca.cert.rawData);
    contexts.set(slug, {
      ca,
      pkijsCert,
      nameDer: new Uint8Array(pkijsCert.subject.toSchema().toBER(false)),
      keyBits: new Uint8Array(pkijsCert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView),
    });
  }

  const findEntry = (slug: CaSlug, serial: string): IssuedEntry | undefined =>
    pki.issued[slug].find((e) => normSerial(e.serial) === serial);

  async function crlFor(slug: CaSlug): Promise<Uint8Array> {
    const now = new Date();
    // RFC 5280 §5.2.3: monotonically increasing, also across responder restarts.
    crlNumber = Math.max(crlNumber + 1, Math.floor(now.getTime() / 1000));
    const crl = await buildCrl({
      issuer: pki.cas[slug],
      entries: crlEntries(pki.issued[slug]),
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + CRL_VALIDITY_MS),
      crlNumber,
    });
    return new Uint8Array(crl.rawData);
  }

  function statusOnly(status: number): Uint8Array {
    const resp = new pkijs.OCSPResponse({ responseStatus: new asn1js.Enumerated({ value: status }) });
    return new Uint8Array(resp.toSchema().toBER(false));
  }

  function certStatus(entry: IssuedEntry | undefined): asn1js.BaseBlock {
    if (!entry) {
      // CertStatus unknown [2] IMPLICIT NULL
      return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 2 } });
    }
    if (entry.status === 'good') {
      // CertStatus good [0] IMPLICIT NULL
      return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 } });
    }
    // CertStatus revoked [1] IMPLICIT RevokedInfo { revocationTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
    const value: asn1js.BaseBlock[] = [new asn1js.GeneralizedTime({ valueDate: entry.revokedAt ?? new Date(0) })];
    if (entry.reason && entry.reason !== 'unspecified') {
      value.push(
        new asn1js.Constructed({
          idBlock: { tagClass: 3, tagNumber: 0 },
          value: [new asn1js.Enumerated({ value: x509.X509CrlReason[entry.reason] })],
        }),
      );
    }
    return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 1 }, value });
  }

  async function ocspFor(slug: CaSlug, body: Uint8Array): Promise<Uint8Array> {
    const ctx = contexts.get(slug)!;
    let request: pkijs.OCSPRequest;
    try {
      const asn = asn1js.fromBER(body);
      if (asn.offset === -1 || asn.offset !== body.length) return statusOnly(OcspStatus.malformedRequest);
      request = new pkijs.OCSPRequest({ schema: asn.result });
    } catch {
      return statusOnly(OcspStatus.malformedRequest);
    }
    const requests = request.tbsRequest.requestList;
    if (requests.length === 0 || requests.length > 32) return statusOnly(OcspStatus.malformedRequest);

    const now = wholeSeconds(new Date());
    const responses: pkijs.SingleResponse[] = [];
    let forThisCa = 0;
    for (const r of requests) {
      const id = r.reqCert;
      const hash = HASHES[id.hashAlgorithm.algorithmId];
      let entry: IssuedEntry | undefined;
      if (hash) {
        const nameHash = createHash(hash).update(ctx.nameDer).digest();
        const keyHash = createHash(hash).update(ctx.keyBits).digest();
        const sameIssuer =
          nameHash.equals(Buffer.from(id.issuerNameHash.valueBlock.valueHexView)) &&
          keyHash.equals(Buffer.from(id.issuerKeyHash.valueBlock.valueHexView));
        if (sameIssuer) {
          forThisCa += 1;
          const serial = normSerial(Buffer.from(id.serialNumber.valueBlock.valueHexView).toString('hex'));
          entry = findEntry(slug, serial);
        }
      }
      responses.push(
        new pkijs.SingleResponse({
          certID: id,
          certStatus: certStatus(entry),
          thisUpdate: now,
          nextUpdate: new Date(now.getTime() + OCSP_VALIDITY_MS),
        }),
      );
    }
    // RFC 6960 §2.3: a responder that is not authoritative for any requested certificate says so.
    if (forThisCa === 0) return statusOnly(OcspStatus.unauthorized);

    const basic = new pkijs.BasicOCSPResponse();
    basic.tbsResponseData.responderID = ctx.pkijsCert.subject;
    basic.tbsResponseData.producedAt = now;
    basic.tbsResponseData.responses = responses;
    // RFC 6960 §4.4.1: echo the nonce.
    const nonce = request.tbsRequest.requestExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
    if (nonce) {
      basic.tbsResponseData.responseExtensions = [
        new pkijs.Extension({
          extnID: id_pkix_ocsp_nonce,
          critical: false,
          extnValue: nonce.extnValue.valueBlock.valueHexView.slice().buffer,
        }),
      ];
    }
    basic.certs = [ctx.pkijsCert];
    await basic.sign(ctx.ca.keys.privateKey as unknown as Parameters<pkijs.BasicOCSPResponse['sign']>[0], 'SHA-256');

    const resp = new pkijs.OCSPResponse({
      responseStatus: new asn1js.Enumerated({ value: OcspStatus.successful }),
      responseBytes: new pkijs.ResponseBytes({
        responseType: id_pkix_ocsp_basic,
        response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER(false) }),
      }),
    });
    return new Uint8Array(resp.toSchema().toBER(false));
  }

  function send(res: http.ServerResponse, status: number, type: string, body: Uint8Array | string): void {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  function readBody(req: http.IncomingMessage): Promise<Uint8Array | null> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) {
          // A chunked body over the limit: drop the connection rather than read on.
          resolve(null);
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
      req.on('error', reject);
    });
  }

  const slugOf = (s: string | undefined): CaSlug | null =>
    s !== undefined && (CA_SLUGS as readonly string[]).includes(s) ? (s as CaSlug) : null;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://responder.invalid');
    const parts = url.pathname.split('/').filter((p) => p !== '');
    const [kind, name] = parts;

    if (req.method === 'GET' && kind === 'crl' && parts.length === 2 && name?.endsWith('.crl')) {
      const slug = slugOf(name.slice(0, -4));
      if (slug) return send(res, 200, 'application/pkix-crl', await crlFor(slug));
    }
    if (req.method === 'GET' && kind === 'ca' && parts.length === 2 && name?.endsWith('.cer')) {
      const slug = slugOf(name.slice(0, -4));
      if (slug) return send(res, 200, 'application/pkix-cert', new Uint8Array(pki.cas[slug].cert.rawData));
    }
    if (kind === 'ocsp' && slugOf(name)) {
      const slug = slugOf(name)!;
      if (req.method === 'POST' && parts.length === 2) {
        if (req.headers['content-type']?.split(';')[0]?.trim() !== 'application/ocsp-request') {
          return send(res, 415, 'text/plain', 'content-type must be application/ocsp-request\n');
        }
        if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) {
          res.setHeader('connection', 'close');
          return send(res, 413, 'text/plain', 'request too large\n');
        }
        const body = await readBody(req);
        if (body === null) return;
        return send(res, 200, 'application/ocsp-response', await ocspFor(slug, body));
      }
      if (req.method === 'GET' && parts.length >= 3) {
        // RFC 6960 A.1: the URL-encoded base64 of the DER request; base64 '/' may split it into segments.
        const raw = url.pathname.split('/').slice(3).join('/');
        if (raw.length > MAX_BODY) return send(res, 414, 'text/plain', 'request too large\n');
        let encoded: string;
        try {
          encoded = decodeURIComponent(raw);
        } catch {
          return send(res, 200, 'application/ocsp-response', statusOnly(OcspStatus.malformedRequest));
        }
        const b64 = encoded.replace(/-/g, '+').replace(/_/g, '/');
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return send(res, 200, 'application/ocsp-response', statusOnly(OcspStatus.malformedRequest));
        return send(res, 200, 'application/ocsp-response', await ocspFor(slug, new Uint8Array(Buffer.from(b64, 'base64'))));
      }
    }
    send(res, 404, 'text/plain', 'not found\n');
  }

  const server = http.createServer((req, res) => {
    if (down) {
      // Simulates an unreachable responder: no HTTP answer at all.
      req.socket.destroy();
      return;
    }
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
      else res.destroy();
    });
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
    revoke(serialHex, reason = 'unspecified') {
      if (!isRevocationReason(reason)) throw new Error(`unknown revocation reason: ${reason}`);
      const serial = normSerial(serialHex);
      let found = false;
      for (const slug of CA_SLUGS) {
        const entry = findEntry(slug, serial);
        if (entry) {
          found = true;
          if (entry.status !== 'revoked') Object.assign(entry, { status: 'revoked', revokedAt: wholeSeconds(new Date()), reason });
        }
      }
      if (!found) throw new Error(`no dev CA issued serial ${serialHex}`);
    },
    setDown(value) {
      down = value;
    },
  };
}
