/**
 * What the monitor tells partners and officers, in plain words. The suspension text is what the partner reads
 * next to the reason code, so it says what was found, when, and by which source.
 */
import { formatDate, formatDay } from '../partners/view-models.js';
import type { CertificateKind, RequestedRole } from '../partners/types.js';
import type { CertificateReport } from '../eidas/types.js';
import type { CertificateFinding } from './checks.js';

const KIND: Record<CertificateKind, string> = { qwac: 'QWAC', qseal: 'QSealC' };
const ROLE_WORDS: Record<RequestedRole, string> = {
  AIS: 'account information (AIS)',
  PIS: 'payment initiation (PIS)',
  CBPII: 'card-based payment instrument issuing (CBPII)',
};
const SOURCE_WORDS: Record<string, string> = { ocsp: 'its issuer’s OCSP responder', crl: 'its issuer’s revocation list (CRL)' };

const clip = (s: string, n = 200) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const SIGNATURE = '\n\n— Partner Portal, the bank’s partner risk team';

export function kindWord(kind: CertificateKind): string {
  return KIND[kind];
}

export function roleWords(roles: RequestedRole[]): string {
  return roles.map((r) => ROLE_WORDS[r]).join(' and ');
}

/** The statusReason of an automatic certificate suspension (at most a few hundred characters). */
export function certificateSuspensionText(kind: CertificateKind, report: CertificateReport, finding: CertificateFinding, checkedAt: Date): string {
  const cert = `Your approved ${KIND[kind]} (serial ${report.serialNumber}, issued by ${clip(report.issuer, 120)})`;
  const checked = `checked by the bank’s certificate monitor on ${formatDate(checkedAt.toISOString())}`;
  if (finding.kind === 'revoked') {
    const by = finding.source ? SOURCE_WORDS[finding.source] ?? finding.source : 'its issuer';
    if (finding.certIndex > 0) {
      return `${cert} chains to a CA certificate that ${by} reports revoked; ${checked}. Obtain a new certificate from your QTSP.`;
    }
    const when = finding.revokedAt ? ` on ${formatDate(finding.revokedAt)}` : '';
    const why = finding.reason ? ` (reason: ${finding.reason})` : '';
    return `${cert} was revoked${when}${why} according to ${by}; ${checked}. Obtain a new certificate from your QTSP.`;
  }
  return `${cert} expired on ${formatDate(report.notAfter)}; ${checked}. Renew it with your QTSP and send the renewed certificate to the bank.`;
}

export function expiryNotice(input: {
  legalName: string;
  kind: CertificateKind;
  report: CertificateReport;
  threshold: number;
}): { subject: string; text: string } {
  const { legalName, kind, report, threshold } = input;
  const days = threshold === 1 ? '1 day' : `${threshold} days`;
  const consequence =
    kind === 'qwac'
      ? 'If the approved QWAC expires before a renewed one is uploaded, the bank suspends your organisation’s API clients automatically.'
      : 'Without a valid QSealC your organisation cannot sign registration requests.';
  return {
    subject: `Your ${KIND[kind]} expires within ${days} (${legalName})`,
    text:
      `Hello,\n\nThe ${KIND[kind]} that ${legalName} was approved with expires on ${formatDate(report.notAfter)}, within ${days}.\n\n` +
      `Certificate: serial ${report.serialNumber}\nSubject: ${clip(report.subject, 300)}\nIssuer: ${clip(report.issuer, 300)}\n\n` +
      `What to do: obtain a renewed certificate from your QTSP and, before that date, upload it in the partner portal (your application’s Certificates page, “Renew this certificate”). It replaces the approved one at once when it passes the checks. ${consequence}\n\n` +
      'You receive this notice 60, 30, 14, 7 and 1 days before a certificate expires.' +
      SIGNATURE,
  };
}

export function suspensionNotice(legalName: string, reasonCode: string, reason: string): { subject: string; text: string } {
  return {
    subject: `${legalName}: API access suspended (${reasonCode})`,
    text:
      `Hello,\n\nThe bank has suspended the API access of ${legalName}. Your OAuth clients cannot obtain tokens and the tokens ` +
      `issued to them no longer work.\n\nReason (${reasonCode}): ${reason}\n\n` +
      'When the cause is resolved, a risk officer can reinstate your organisation; two officers must agree. Reply to this ' +
      'message or contact your relationship manager.' +
      SIGNATURE,
  };
}

export function narrowedNotice(legalName: string, removed: RequestedRole[], reason: string): { subject: string; text: string } {
  return {
    subject: `${legalName}: ${removed.join(', ')} no longer allowed`,
    text:
      `Hello,\n\n${reason}\n\nThe bank has therefore removed ${roleWords(removed)} from the services ${legalName} may use: new ` +
      'consents and tokens for them are refused. Other services are not affected.' +
      SIGNATURE,
  };
}

export function withdrawalText(input: { legalName: string; ncaId: string; number: string; withdrawnOn: string | null; snapshot: string }): string {
  const on = input.withdrawnOn ? ` on ${formatDay(input.withdrawnOn)}` : '';
  return (
    `The NCA register (${input.snapshot}) shows the authorisation of ${input.legalName} (${input.ncaId} ${input.number}) ` +
    `withdrawn${on}. Access under PSD2 requires a current authorisation.`
  );
}

export function serviceRemovedText(input: { legalName: string; role: RequestedRole; code: string; country: string; snapshot: string }): string {
  return (
    `The NCA register (${input.snapshot}) no longer lists ${ROLE_WORDS[input.role]} services (${input.code}) for ` +
    `${input.legalName} in ${input.country}.`
  );
}
