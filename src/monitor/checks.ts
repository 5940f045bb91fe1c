/**
 * The monitor's decisions as pure functions: what a certificate report means for a partner, which expiry
 * notice is due, and what changed in a partner's register entry. The service applies them; tests read them.
 */
import type { CertificateReport } from '../eidas/types.js';
import type { RequestedRole } from '../partners/types.js';
import type { RegisterEntry } from '../register/service.js';
import { EXPIRY_THRESHOLDS_DAYS } from './types.js';

const DAY_MS = 86_400_000;

/** What a re-validation found, in the order the monitor acts on it. */
export type CertificateFinding =
  | { kind: 'revoked'; revokedAt: string | null; reason: string | null; source: string | null; certIndex: number }
  | { kind: 'expired'; notAfter: string }
  /** The responder or CRL could not answer (or does not know the certificate): an alert, never a suspension. */
  | { kind: 'revocation_unavailable'; detail: string }
  | { kind: 'revocation_not_checked' }
  /** Failed for another reason (chain, trust list, profile): officers judge. */
  | { kind: 'invalid'; codes: string[] }
  | { kind: 'ok' };

/**
 * Reads a report validated at the monitor's clock. Revocation is read from the findings, whatever the
 * configured policy (soft-fail turns "unavailable" into a warning, but it is still unknown, not good).
 */
export function classifyReport(report: CertificateReport, now: Date): CertificateFinding {
  const revoked = report.findings.find((f) => f.code === 'revoked');
  if (revoked) {
    const leaf = (revoked.certIndex ?? 0) === 0;
    return {
      kind: 'revoked',
      revokedAt: leaf ? (report.revocation.revokedAt ?? null) : null,
      reason: leaf ? (report.revocation.reason ?? null) : null,
      source: report.revocation.source,
      certIndex: revoked.certIndex ?? 0,
    };
  }
  const notAfter = Date.parse(report.notAfter);
  if (report.findings.some((f) => f.code === 'expired' && (f.certIndex ?? 0) === 0) || (Number.isFinite(notAfter) && notAfter <= now.getTime())) {
    return { kind: 'expired', notAfter: report.notAfter };
  }
  const unavailable = report.findings.find((f) => f.code === 'revocation.unavailable' || f.code === 'revocation.unknown');
  if (unavailable) return { kind: 'revocation_unavailable', detail: unavailable.message };
  const errors = report.findings.filter((f) => f.severity === 'error').map((f) => f.code as string);
  if (errors.length) return { kind: 'invalid', codes: [...new Set(errors)] };
  if (report.revocation.status === 'not-checked') return { kind: 'revocation_not_checked' };
  return { kind: 'ok' };
}

/** Whole and fractional days from `now` to `notAfter` (negative once expired). */
export function daysLeft(notAfter: string, now: Date): number {
  return (Date.parse(notAfter) - now.getTime()) / DAY_MS;
}

/**
 * The expiry notice due now: the smallest threshold the remaining time is within, unless that threshold or a
 * smaller one was sent already. After a gap (the monitor was off), the most urgent notice goes alone: a partner
 * with 5 days left gets the 7-day notice, not the 60, 30 and 14-day ones at once.
 */
export function dueThreshold(left: number, smallestSent: number | null): number | null {
  if (left <= 0) return null;
  const within = EXPIRY_THRESHOLDS_DAYS.filter((t) => left <= t);
  if (within.length === 0) return null;
  const t = Math.min(...within);
  if (smallestSent !== null && smallestSent <= t) return null;
  return t;
}

/** PSD2 service codes of the roles the register can speak for (CBPII has no code: never narrowed). */
export const ROLE_SERVICE: Readonly<Partial<Record<RequestedRole, string>>> = { AIS: 'PS_080', PIS: 'PS_070' };

export type RegisterChange =
  | { kind: 'withdrawn'; withdrawnOn: string | null }
  | { kind: 'reauthorised'; since: string | null }
  | { kind: 'service_removed'; role: RequestedRole; code: string; country: string }
  | { kind: 'name_changed'; from: string; to: string }
  | { kind: 'entry_missing' };

function homeCountry(e: RegisterEntry): string {
  return e.country ?? e.caOwnerId.slice(0, 2);
}

function homeServices(e: RegisterEntry): Set<string> {
  return new Set(e.services[homeCountry(e)] ?? []);
}

/**
 * What changed between what the monitor saw before (`before`; null when it never saw the organisation) and
 * the register now (`after`; null when it is not found). A withdrawal seen for the first time counts: the
 * state, not only the transition, must not stay active.
 */
export function registerChanges(before: RegisterEntry | null, after: RegisterEntry | null): RegisterChange[] {
  if (!after) return before ? [{ kind: 'entry_missing' }] : [];
  const out: RegisterChange[] = [];
  const wasWithdrawn = before?.authorisation.status === 'withdrawn';
  if (after.authorisation.status === 'withdrawn' && !wasWithdrawn) {
    out.push({ kind: 'withdrawn', withdrawnOn: after.authorisation.withdrawnOn });
  }
  if (wasWithdrawn && after.authorisation.status === 'authorised') {
    out.push({ kind: 'reauthorised', since: after.authorisation.since });
  }
  if (before) {
    const had = homeServices(before);
    const has = homeServices(after);
    for (const [role, code] of Object.entries(ROLE_SERVICE) as [RequestedRole, string][]) {
      if (had.has(code) && !has.has(code)) out.push({ kind: 'service_removed', role, code, country: homeCountry(after) });
    }
    const from = (before.names[0] ?? '').trim();
    const to = (after.names[0] ?? '').trim();
    if (from && to && from !== to) out.push({ kind: 'name_changed', from, to });
  }
  return out;
}

/** The register entry as evidence: what identifies it and what the monitor acts on, nothing else. */
export function entryEvidence(e: RegisterEntry | null): Record<string, unknown> | null {
  if (!e) return null;
  return {
    entityCode: e.entityCode,
    ncaId: e.ncaId,
    nationalRef: e.nationalRef,
    entityType: e.entityType,
    names: [...e.names],
    country: e.country,
    authorisation: { ...e.authorisation, dates: [...e.authorisation.dates] },
    services: Object.fromEntries(Object.entries(e.services).map(([c, s]) => [c, [...s]])),
  };
}

/** A certificate report as evidence: identity, validity, revocation and the findings' codes. */
export function reportEvidence(r: CertificateReport): Record<string, unknown> {
  const revocation: Record<string, unknown> = { status: r.revocation.status, source: r.revocation.source, checkedAt: r.revocation.checkedAt };
  if (r.revocation.revokedAt) revocation.revokedAt = r.revocation.revokedAt;
  if (r.revocation.reason) revocation.reason = r.revocation.reason;
  return {
    sha256: r.sha256,
    type: r.type,
    serialNumber: r.serialNumber,
    subject: r.subject,
    issuer: r.issuer,
    notBefore: r.notBefore,
    notAfter: r.notAfter,
    verdict: r.verdict,
    revocation,
    findings: r.findings.map((f) => ({ code: f.code, severity: f.severity, certIndex: f.certIndex ?? 0 })),
    validatedAt: r.validatedAt,
    trustProfile: r.trustProfile,
  };
}
