/**
 * The engine's entry point: input bytes in, a CertificateReport out. The pipeline reads like the spec:
 * decode → profile checks (EN 319 412 / TS 119 495) → path validation (RFC 5280) → qualification against
 * the trusted-list service (TS 119 615) → revocation (RFC 6960 / RFC 5280). Each stage adds findings; the
 * verdict is derived from them and nothing else.
 */
import { createHash } from 'node:crypto';
import { parseCertificate } from './certificate.js';
import { type TrustAnchor, validatePath } from './chain/index.js';
import { finding } from './findings.js';
import { readCertificates } from './input.js';
import { runProfileChecks } from './profile/index.js';
import { type Fetcher, type RevocationCache, checkRevocation } from './revocation/index.js';
import type { TrustProfile } from './trust/index.js';
import type {
  CertType,
  CertificateReport,
  ExpectedType,
  Finding,
  RevocationPolicy,
  RevocationResult,
} from './types.js';

export interface ValidationOptions {
  trust: TrustProfile;
  revocation: RevocationPolicy;
  /** The use the certificate is presented for: a QWAC for mutual TLS, a QSealC for signatures. */
  expect?: ExpectedType;
  /** Validation time; defaults to now. Every time-dependent check uses it. */
  at?: Date;
  /** PKCS#12 password. */
  password?: string;
  fetcher?: Fetcher;
  revocationCache?: RevocationCache;
  reportCache?: ReportCache;
}

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;

export async function validateCertificate(
  input: Uint8Array | string,
  opts: ValidationOptions,
): Promise<CertificateReport> {
  const at = opts.at ?? new Date();
  // Keyed on the raw input, so a hit costs one hash. PKCS#12 with a password is never cached: the key
  // would have to depend on the password.
  const cacheKey = opts.reportCache && opts.password === undefined ? reportCacheKey(input, opts, at) : '';
  const cached = cacheKey ? opts.reportCache?.get(cacheKey, at) : undefined;
  if (cached) return cached;

  const decoded = readCertificates(input, opts.password === undefined ? {} : { password: opts.password });
  if (!decoded.ok) return unreadableReport([decoded.finding], at, opts.trust.name);
  const [leafDer, ...intermediates] = decoded.ders;
  if (!leafDer) return unreadableReport([finding('malformed', 'The input holds no certificate.')], at, opts.trust.name);

  const parsed = parseCertificate(leafDer);
  if (!parsed.ok) return unreadableReport([parsed.finding], at, opts.trust.name);
  const cert = parsed.cert;

  const profile = runProfileChecks(cert, opts.expect ? { expect: opts.expect } : {});
  const path = await validatePath({ leaf: leafDer, intermediates, anchors: opts.trust.anchors, at });
  const qualification = checkQualification(path.anchor, profile.type);
  const revocation = await checkPathRevocation(path.path, opts, at);

  const findings = normalise([...profile.findings, ...path.findings, ...qualification, ...revocation.findings]);
  const report: CertificateReport = {
    verdict: findings.some((f) => f.severity === 'error') ? 'fail' : 'pass',
    type: profile.type,
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: cert.serialNumber,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    sha256: cert.sha256,
    organizationIdentifier: profile.organizationIdentifier,
    psd2: profile.psd2,
    qc: profile.qc,
    chain: path.chain,
    revocation: revocation.result,
    validatedAt: at.toISOString(),
    trustProfile: opts.trust.name,
    findings,
  };
  if (cacheKey) opts.reportCache?.set(cacheKey, report, at);
  return report;
}

/**
 * TS 119 615 §4.3 (subset): a chain ending at a trusted-list service only makes a QWAC (QSealC) qualified
 * when that service is granted and marked for website authentication (e-seals). PEM anchors carry no
 * qualification data: they are trusted as configured.
 */
export function checkQualification(anchor: TrustAnchor | null, type: CertType): Finding[] {
  if (!anchor || anchor.qualifiers === null || type === 'other') return [];
  const out: Finding[] = [];
  if (anchor.status !== null && anchor.status !== 'granted') {
    out.push(
      finding('chain.not-qualified', `The trusted-list service "${anchor.source}" is not granted (status ${anchor.status}).`),
    );
  }
  if (type === 'QWAC' && !anchor.qualifiers.web) {
    out.push(
      finding('chain.not-qualified', `The trusted-list service "${anchor.source}" is not granted for website authentication, so this certificate is not a qualified QWAC.`),
    );
  }
  if (type === 'QSealC' && !anchor.qualifiers.eseal) {
    out.push(
      finding('chain.not-qualified', `The trusted-list service "${anchor.source}" is not granted for electronic seals, so this certificate is not a qualified QSealC.`),
    );
  }
  return out;
}

/**
 * Revocation of every certificate of a validated path except the anchor, in parallel. Without a path
 * there is no trusted issuer to ask, so nothing is checked (the chain finding already fails the report).
 */
async function checkPathRevocation(
  path: Uint8Array[],
  opts: ValidationOptions,
  at: Date,
): Promise<{ result: RevocationResult; findings: Finding[] }> {
  if (opts.revocation === 'off' || path.length < 2) {
    return { result: { status: 'not-checked', source: null, checkedAt: null }, findings: [] };
  }
  const checks = await Promise.all(
    path.slice(0, -1).map((der, i) =>
      checkRevocation({
        cert: der,
        issuer: path[i + 1]!,
        policy: opts.revocation,
        at,
        ...(opts.fetcher ? { fetcher: opts.fetcher } : {}),
        ...(opts.revocationCache ? { cache: opts.revocationCache } : {}),
      }),
    ),
  );
  const findings = checks.flatMap((c, i) => c.findings.map((f) => ({ ...f, certIndex: f.certIndex ?? i })));
  return { result: checks[0]!.result, findings };
}

/** Errors first, then warnings and infos; the same finding reported twice is kept once. */
function normalise(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const f of findings) {
    const key = `${f.code}|${f.certIndex ?? 0}|${f.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
  }
  return out.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}

function unreadableReport(findings: Finding[], at: Date, trustProfile: string): CertificateReport {
  return {
    verdict: 'fail',
    type: 'other',
    subject: '',
    issuer: '',
    serialNumber: '',
    notBefore: '',
    notAfter: '',
    sha256: '',
    organizationIdentifier: null,
    psd2: null,
    qc: null,
    chain: [],
    revocation: { status: 'not-checked', source: null, checkedAt: null },
    validatedAt: at.toISOString(),
    trustProfile,
    findings,
  };
}

// --- report cache ------------------------------------------------------------------------------------

export interface ReportCache {
  get(key: string, at: Date): CertificateReport | undefined;
  set(key: string, report: CertificateReport, at: Date): void;
  clear(): void;
}

/**
 * Reports keyed by the input certificates, the trust profile, the expected type, the revocation policy
 * and the validation time (to the second). An entry lives `ttlMs` of wall time at most, so a revocation
 * is seen within that delay; the revocation cache below it keeps OCSP/CRL answers until their nextUpdate.
 */
export function createReportCache(opts: { maxEntries?: number; ttlMs?: number } = {}): ReportCache {
  const max = opts.maxEntries ?? 1000;
  const ttl = opts.ttlMs ?? 60_000;
  const entries = new Map<string, { report: CertificateReport; expires: number }>();
  return {
    get(key) {
      const e = entries.get(key);
      if (!e) return undefined;
      if (Date.now() >= e.expires) {
        entries.delete(key);
        return undefined;
      }
      // Refresh LRU position.
      entries.delete(key);
      entries.set(key, e);
      return e.report;
    },
    set(key, report) {
      if (entries.size >= max) entries.delete(entries.keys().next().value as string);
      // Shared between callers, so frozen: a caller that tries to change a cached report fails loudly.
      entries.set(key, { report: deepFreeze(report), expires: Date.now() + ttl });
    },
    clear() {
      entries.clear();
    },
  };
}

const fingerprints = new WeakMap<TrustProfile, string>();

/** Identifies a loaded trust profile by its anchors, so a reloaded profile never serves stale reports. */
function trustFingerprint(trust: TrustProfile): string {
  let fp = fingerprints.get(trust);
  if (!fp) {
    const h = createHash('sha256').update(trust.name);
    for (const a of trust.anchors) h.update(a.sha256);
    fp = h.digest('hex');
    fingerprints.set(trust, fp);
  }
  return fp;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function reportCacheKey(input: Uint8Array | string, opts: ValidationOptions, at: Date): string {
  const h = createHash('sha256').update(input);
  return [
    h.digest('hex'),
    trustFingerprint(opts.trust),
    opts.expect ?? '',
    opts.revocation,
    Math.floor(at.getTime() / 1000),
  ].join('|');
}
