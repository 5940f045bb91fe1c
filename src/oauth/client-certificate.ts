/**
 * The certificate context of a mutual-TLS request. Every request on the mutual-TLS listener passes here:
 * the certificate comes from the handshake or from a trusted proxy's header (CertificateSource decides and
 * refuses forged headers), is validated by the eIDAS engine as a QWAC, and is attached to the request for
 * oidc-provider's synchronous hooks (client authentication, token binding) and the resource guard.
 *
 * Validation is cached by the certificate's bytes for `ttlMs` (and per TLS connection within that time), so a
 * partner calling on keep-alive or with new handshakes pays for the engine once a minute, not per request;
 * revocation is therefore seen within `ttlMs` (plus the engine's own OCSP/CRL cache).
 */
import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { AuditService } from '../audit/service.js';
import { Lru } from '../eidas/chain/lru.js';
import type { EidasService } from '../eidas/service.js';
import { x509 } from '../eidas/x509.js';
import type { CertificateSource } from '../http/middleware/client-cert.js';
import { toPemBundle } from '../http/middleware/client-cert.js';
import type { Logger } from '../logger.js';
import type { PresentedCertificate } from './types.js';

const CONTEXT = Symbol('presentedCertificate');
type WithContext = Request & { [CONTEXT]?: PresentedCertificate | null };

/** The validated certificate of this request; null when none was presented; undefined off the mTLS listener. */
export function presentedCertificate(req: object): PresentedCertificate | null | undefined {
  return (req as WithContext)[CONTEXT];
}

export function certificateThumbprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('base64url');
}

/** The thumbprint of a connection's leaf, which presentedLeaf hands out as the same bytes on every request. */
const leafThumbprints = new WeakMap<Uint8Array, string>();
function leafThumbprint(der: Uint8Array): string {
  let t = leafThumbprints.get(der);
  if (t === undefined) {
    t = certificateThumbprint(der);
    leafThumbprints.set(der, t);
  }
  return t;
}

export interface CertificateContextDeps {
  eidas: EidasService;
  source: CertificateSource;
  audit: AuditService;
  logger: Logger;
  /**
   * Called once per fresh validation that finds the certificate revoked, before the request goes on: the
   * oauth area revokes what is bound to it and suspends the partner whose approved QWAC it is.
   */
  onRevoked?: (certificate: PresentedCertificate) => Promise<void>;
  /** How long a validation is reused. Default 60 s. */
  ttlMs?: number;
  now?: () => number;
}

export interface CertificateContext {
  middleware(req: Request, res: Response, next: NextFunction): void;
  /** Validates DER certificates (leaf first) as presented; used by the middleware and by tools. */
  resolve(ders: Uint8Array[], source: PresentedCertificate['source']): Promise<PresentedCertificate>;
  /** Forgets cached validations (after a revocation is learnt, or in tests). */
  clear(): void;
}

export function createCertificateContext(deps: CertificateContextDeps): CertificateContext {
  const ttlMs = deps.ttlMs ?? 60_000;
  const now = deps.now ?? Date.now;
  const cache = new Lru<string, { at: number; value: Promise<PresentedCertificate> }>(5000);
  const byLeaf = new Lru<string, { at: number; value: PresentedCertificate }>(5000);

  function cacheKey(ders: Uint8Array[], source: string): string {
    const h = createHash('sha256').update(source);
    for (const d of ders) h.update(certificateThumbprint(d));
    return h.digest('base64url');
  }

  async function validate(ders: Uint8Array[], source: PresentedCertificate['source']): Promise<PresentedCertificate> {
    const leaf = ders[0]!;
    const report = await deps.eidas.validate(toPemBundle(ders), { expect: 'qwac' });
    const presented: PresentedCertificate = {
      ders,
      pem: x509.PemConverter.encode([leaf], 'CERTIFICATE'),
      thumbprint: certificateThumbprint(leaf),
      source,
      report,
      issuerKeySha256: report.chain[1]?.spkiSha256 ?? null,
    };
    if (report.revocation.status === 'revoked' && deps.onRevoked) await deps.onRevoked(presented);
    return presented;
  }

  function resolve(ders: Uint8Array[], source: PresentedCertificate['source']): Promise<PresentedCertificate> {
    const key = cacheKey(ders, source);
    const hit = cache.get(key);
    const t = now();
    if (hit && t - hit.at < ttlMs) return hit.value;
    const value = validate(ders, source);
    cache.set(key, { at: t, value });
    // A failed validation (an engine error, not a failing report) must not be cached.
    value.catch(() => cache.set(key, { at: -Infinity, value }));
    return value;
  }

  return {
    resolve,
    clear() {
      cache.clear();
      byLeaf.clear();
    },
    middleware(req, res, next) {
      const target = req as WithContext;
      // A certificate validated within ttlMs is recognised by its own bytes: reading the chain costs ~0.2 ms a
      // connection, and the verdict is about this certificate (the chain sent only helps to build its path).
      const leaf = deps.source.tlsLeaf(req);
      const leafKey = leaf ? leafThumbprint(leaf) : null;
      const known = leafKey ? byLeaf.get(leafKey) : undefined;
      if (known && now() - known.at < ttlMs) {
        target[CONTEXT] = known.value;
        next();
        return;
      }
      const read = deps.source.read(req);
      if (!read.ok) {
        const ip = req.socket.remoteAddress ?? null;
        deps.logger.warn({ code: read.code, detail: read.detail, ip }, 'client certificate header refused');
        deps.audit
          .record({
            actor: { type: 'anonymous', id: null },
            action: 'mtls.certificate_header.refused',
            data: { code: read.code, detail: read.detail, path: req.path },
            ip,
          })
          .then(
            () => refuse(res, read.status, read.code, read.message),
            (err: unknown) => next(err),
          );
        return;
      }
      if (read.ders.length === 0) {
        target[CONTEXT] = null;
        next();
        return;
      }
      resolve(read.ders, read.source).then(
        (value) => {
          if (read.source === 'tls' && leafKey) byLeaf.set(leafKey, { at: now(), value });
          target[CONTEXT] = value;
          next();
        },
        (err: unknown) => next(err),
      );
    },
  };
}

/** The refusal is shaped for OAuth clients (RFC 6749 §5.2 style), which is what calls this listener. */
function refuse(res: Response, status: number, code: string, message: string): void {
  res.status(status).set('Cache-Control', 'no-store').json({ error: 'invalid_request', error_description: message, code });
}
