/**
 * Online revocation checking: OCSP from the AIA first (RFC 6960, RFC 5019), then the CRL from the
 * distribution points (RFC 5280 §4.2.1.13), answers cached until their nextUpdate. The policy decides
 * what an unobtainable status means: a warning (soft-fail), an error (hard-fail), or no check (off).
 */
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AuthorityInfoAccessSyntax, CRLDistributionPoints } from '@peculiar/asn1-x509';
import type * as pkijs from 'pkijs';
import { verifyCrlStatus } from '../chain/crl.js';
import { finding } from '../findings.js';
import { id_ad_ocsp, id_ce_cRLDistributionPoints, id_pe_authorityInfoAccess } from '../oids.js';
import type { Finding, RevocationPolicy, RevocationResult } from '../types.js';
import type { CachedRevocation, RevocationCache } from './cache.js';
import { createHttpFetcher, type Fetcher, FetchError } from './fetcher.js';
import { buildOcspRequest, newNonce, parsePkijsCertificate, verifyOcspResponse } from './ocsp.js';

export { type CachedRevocation, createRevocationCache, type RevocationCache, type RevocationCacheOptions } from './cache.js';
export {
  addressRefusal,
  createHttpFetcher,
  type FetchErrorKind,
  FetchError,
  type Fetcher,
  type FetchGetOptions,
  type FetchPostOptions,
  type FetchResponse,
  type HttpFetcherOptions,
} from './fetcher.js';

export const OCSP_MAX_BYTES = 64 * 1024;
export const CRL_MAX_BYTES = 1024 * 1024;
/** RFC 5019 §4 leaves clock skew to local policy; five minutes is the usual allowance. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
// Bounds on what a hostile certificate can make us fetch per check.
const MAX_OCSP_URLS = 2;
const MAX_CRL_URLS = 2;

export interface CheckRevocationInput {
  cert: Uint8Array;
  issuer: Uint8Array;
  policy: RevocationPolicy;
  at: Date;
  fetcher?: Fetcher;
  cache?: RevocationCache;
}

let defaultFetcher: Fetcher | null = null;

function safeText(s: string, max = 200): string {
  // eslint-disable-next-line no-control-regex -- stripping control characters from hostile URLs
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** The validation clock as ISO; null for an invalid Date rather than a RangeError. */
function iso(at: Date): string | null {
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

function hex(bytes: ArrayBuffer | Uint8Array): string {
  return Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toString('hex');
}

function extensionValue(cert: pkijs.Certificate, oid: string): Uint8Array | null {
  const ext = cert.extensions?.find((e) => e.extnID === oid);
  return ext ? ext.extnValue.valueBlock.valueHexView : null;
}

interface Locations {
  ocsp: string[];
  crl: string[];
  /** Locations found but not usable (ldap:, ftp:, indirect CRLs), for the message. */
  skipped: string[];
}

function isHttp(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/** RFC 5280 §4.2.2.1 AIA id-ad-ocsp and §4.2.1.13 CRL distribution points, http(s) only. */
function revocationLocations(cert: pkijs.Certificate): Locations {
  const out: Locations = { ocsp: [], crl: [], skipped: [] };
  const aia = extensionValue(cert, id_pe_authorityInfoAccess);
  if (aia) {
    try {
      for (const ad of AsnConvert.parse(aia, AuthorityInfoAccessSyntax)) {
        const uri = ad.accessLocation.uniformResourceIdentifier;
        if (ad.accessMethod !== id_ad_ocsp || uri === undefined) continue;
        (isHttp(uri) ? out.ocsp : out.skipped).push(uri);
      }
    } catch {
      out.skipped.push('(malformed authorityInfoAccess)');
    }
  }
  const cdp = extensionValue(cert, id_ce_cRLDistributionPoints);
  if (cdp) {
    try {
      for (const dp of AsnConvert.parse(cdp, CRLDistributionPoints)) {
        for (const gn of dp.distributionPoint?.fullName ?? []) {
          const uri = gn.uniformResourceIdentifier;
          if (uri === undefined) continue;
          // An indirect or partitioned CRL is signed or scoped differently from what we can check
          // against the issuer alone (RFC 5280 §5.2.5, §6.3.3 (b)).
          if (dp.cRLIssuer || dp.reasons || !isHttp(uri)) out.skipped.push(uri);
          else out.crl.push(uri);
        }
      }
    } catch {
      out.skipped.push('(malformed cRLDistributionPoints)');
    }
  }
  out.ocsp = [...new Set(out.ocsp)];
  out.crl = [...new Set(out.crl)];
  return out;
}

function describeError(e: unknown): string {
  if (e instanceof FetchError) return e.message;
  return 'the request failed';
}

function reasonText(reason: string | undefined): string {
  return reason ? ` (reason: ${safeText(reason, 40)})` : '';
}

interface Answer {
  status: 'good' | 'revoked' | 'unknown';
  source: 'ocsp' | 'crl';
  location: string;
  revokedAt?: Date;
  reason?: string;
  cached: boolean;
}

function answerResult(a: Answer, serial: string, at: Date): { result: RevocationResult; findings: Finding[] } {
  const result: RevocationResult = { status: a.status, source: a.source, checkedAt: iso(at) };
  const where = `${a.source === 'ocsp' ? 'OCSP responder' : 'CRL'} ${safeText(a.location)}${a.cached ? ' (cached answer)' : ''}`;
  const findings: Finding[] = [];
  if (a.status === 'revoked') {
    if (a.revokedAt) result.revokedAt = a.revokedAt.toISOString();
    if (a.reason) result.reason = a.reason;
    const when = a.revokedAt ? ` on ${a.revokedAt.toISOString()}` : '';
    findings.push(finding('revoked', `The ${where} reports serial number ${serial} as revoked${when}${reasonText(a.reason)}.`));
  } else if (a.status === 'unknown') {
    findings.push(finding('revocation.unknown', `The ${where} answered "unknown" for serial number ${serial}.`));
  }
  return { result, findings };
}

function unavailable(
  policy: RevocationPolicy,
  at: Date,
  detail: string,
): { result: RevocationResult; findings: Finding[] } {
  return {
    result: { status: 'unavailable', source: null, checkedAt: iso(at) },
    // RFC 5280 §6.3.3 (k): no status; the policy decides whether that fails the validation.
    findings: [finding('revocation.unavailable', detail, { severity: policy === 'soft-fail' ? 'warning' : 'error' })],
  };
}

/**
 * Revocation status of `cert` (issued by `issuer`) at `at`. Never throws; every failure becomes a status
 * and, by policy, a finding.
 */
export async function checkRevocation(input: {
  cert: Uint8Array;
  issuer: Uint8Array;
  policy: RevocationPolicy;
  at: Date;
  fetcher?: Fetcher;
  cache?: RevocationCache;
}): Promise<{ result: RevocationResult; findings: Finding[] }> {
  const { policy, at } = input;
  if (policy === 'off') return { result: { status: 'not-checked', source: null, checkedAt: null }, findings: [] };
  try {
    return await check(input);
  } catch {
    // Defensive: a bug or an unexpected library throw must not escape; report it as no status.
    return unavailable(policy, at, 'The revocation check failed unexpectedly, so no revocation status was obtained.');
  }
}

async function check(input: CheckRevocationInput): Promise<{ result: RevocationResult; findings: Finding[] }> {
  const { policy, at, cache } = input;
  if (iso(at) === null) return unavailable(policy, at, 'The validation time is not a valid date, so no revocation status was checked.');
  const cert = parsePkijsCertificate(input.cert);
  const issuer = parsePkijsCertificate(input.issuer);
  if (!cert || !issuer) {
    return unavailable(policy, at, 'The certificate or its issuer could not be decoded, so its revocation status could not be checked.');
  }
  const serial = hex(cert.serialNumber.valueBlock.valueHexView);
  const issuerKeyHash = createHash('sha256').update(issuer.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView).digest('hex');
  const key = `${issuerKeyHash}:${serial}`;

  const hit = cache?.get(key, at, CLOCK_SKEW_MS);
  if (hit) {
    const a: Answer = { status: hit.status, source: hit.source, location: hit.location ?? '', cached: true };
    if (hit.revokedAt) a.revokedAt = new Date(hit.revokedAt);
    if (hit.reason) a.reason = hit.reason;
    return answerResult(a, serial, at);
  }

  const loc = revocationLocations(cert);
  if (loc.ocsp.length === 0 && loc.crl.length === 0) {
    const extra = loc.skipped.length > 0 ? ` (only unsupported locations: ${loc.skipped.slice(0, 3).map((u) => safeText(u)).join(', ')})` : '';
    return unavailable(
      policy,
      at,
      `The certificate names neither an http OCSP responder (authorityInfoAccess) nor an http CRL distribution point${extra}, so its revocation status cannot be checked.`,
    );
  }

  defaultFetcher ??= createHttpFetcher();
  const fetcher = input.fetcher ?? defaultFetcher;
  const failures: string[] = [];

  const remember = (entry: Omit<CachedRevocation, 'thisUpdate' | 'nextUpdate'>, thisUpdate?: Date, nextUpdate?: Date) => {
    // RFC 5019 §4: cache only an answer with a known validity window.
    if (cache && thisUpdate && nextUpdate && nextUpdate > thisUpdate) cache.set(key, { ...entry, thisUpdate, nextUpdate });
  };

  async function fetchOrFail(
    label: string,
    url: string,
    go: () => Promise<{ status: number; body: Uint8Array }>,
  ): Promise<Uint8Array | null> {
    const shown = `${label} ${safeText(url)}`;
    const recent = cache?.getFailure(url);
    if (recent) {
      failures.push(`${shown}: ${recent} (not retried yet)`);
      return null;
    }
    let why: string;
    try {
      const res = await go();
      if (res.status === 200) return res.body;
      why = `HTTP status ${res.status}`;
    } catch (e) {
      why = describeError(e);
    }
    // A dead or erroring endpoint is skipped for the negative TTL rather than asked on every validation.
    cache?.setFailure(url, why);
    failures.push(`${shown}: ${why}`);
    return null;
  }

  /** A verified answer from one source: cached until its nextUpdate, then returned. */
  const settle = (
    source: 'ocsp' | 'crl',
    location: string,
    r: { status: 'good' | 'revoked' | 'unknown'; revokedAt?: Date; reason?: string; thisUpdate?: Date; nextUpdate?: Date },
  ) => {
    const entry: Omit<CachedRevocation, 'thisUpdate' | 'nextUpdate'> = { status: r.status, source, location };
    const a: Answer = { status: r.status, source, location, cached: false };
    if (r.revokedAt) {
      entry.revokedAt = r.revokedAt.toISOString();
      a.revokedAt = r.revokedAt;
    }
    if (r.reason) {
      entry.reason = r.reason;
      a.reason = r.reason;
    }
    remember(entry, r.thisUpdate, r.nextUpdate);
    return answerResult(a, serial, at);
  };

  for (const url of loc.ocsp.slice(0, MAX_OCSP_URLS)) {
    const nonce = newNonce();
    const request = await buildOcspRequest(cert, issuer, nonce);
    const body = await fetchOrFail('OCSP', url, () =>
      fetcher.post(url, request, { contentType: 'application/ocsp-request', maxBytes: OCSP_MAX_BYTES }),
    );
    if (!body) continue;
    const outcome = await verifyOcspResponse({ body, cert, issuer, at, nonce, skewMs: CLOCK_SKEW_MS });
    if (!outcome.ok) {
      failures.push(`OCSP ${safeText(url)}: ${outcome.error}`);
      continue;
    }
    return settle('ocsp', url, outcome);
  }

  for (const url of loc.crl.slice(0, MAX_CRL_URLS)) {
    const body = await fetchOrFail('CRL', url, () =>
      fetcher.get(url, { maxBytes: CRL_MAX_BYTES, accept: 'application/pkix-crl' }),
    );
    if (!body) continue;
    const r = await verifyCrlStatus({ cert: input.cert, issuer: input.issuer, crl: body, at });
    if (r.status === 'invalid') {
      failures.push(`CRL ${safeText(url)}: ${safeText(r.error ?? 'the CRL is not valid for this certificate')}`);
      continue;
    }
    return settle('crl', url, { ...r, status: r.status });
  }

  return unavailable(
    policy,
    at,
    `No revocation status could be obtained for serial number ${serial}: ${failures.join('; ')}.`,
  );
}
