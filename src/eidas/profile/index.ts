/**
 * Profile checks: a certificate's eIDAS / PSD2 content against ETSI TS 119 495 and EN 319 412-x.
 *
 * runProfileChecks decodes the qcStatements, the PSD2 statement and the organizationIdentifier once, then
 * runs every check in PROFILE_CHECKS. Every check runs on every certificate: a finding is reported whenever
 * its condition holds, whatever else is wrong. qc / psd2 / organizationIdentifier are filled whenever they
 * could be read, even when they are also reported as malformed.
 */
import type { ParsedCertificate } from '../certificate.js';
import { errorText } from '../certificate.js';
import { finding } from '../findings.js';
import type { CertType, ExpectedType, Finding, OrganizationIdentifier, Psd2Info, QcInfo } from '../types.js';
import type { ProfileCheck, ProfileContext } from './context.js';
import { keyStrength, signatureAlgorithm } from './key.js';
import {
  analyseOrgId,
  cabfOrganizationIdentifier,
  orgIdGrammar,
  orgIdMatchesNca,
  orgIdPresent,
} from './organization-identifier.js';
import { analysePsd2, psd2Nca, psd2Roles, psd2Statement } from './psd2.js';
import {
  analyseQcStatements,
  qcCompliance,
  qcLegislation,
  qcPds,
  qcStatementsEncoding,
  qcTypeStatement,
  qcUnknownStatements,
} from './qc-statements.js';
import { duplicateExtensions, extensionSyntax, precertificate } from './structure.js';
import { subjectCountry, subjectOrganization } from './subject.js';
import {
  determineType,
  ekuForType,
  keyUsageForType,
  policiesForType,
  sanForType,
  sscdForType,
  typeMatchesUse,
} from './type.js';

export interface ProfileResult {
  type: CertType;
  qc: QcInfo | null;
  psd2: Psd2Info | null;
  organizationIdentifier: OrganizationIdentifier | null;
  findings: Finding[];
}

export type { ProfileCheck, ProfileContext } from './context.js';

/** The checks, in report order. */
export const PROFILE_CHECKS: readonly ProfileCheck[] = [
  // certificate structure
  precertificate,
  duplicateExtensions,
  extensionSyntax,
  // qcStatements (RFC 3739, EN 319 412-5)
  qcStatementsEncoding,
  qcCompliance,
  qcTypeStatement,
  typeMatchesUse,
  sscdForType,
  qcPds,
  qcLegislation,
  qcUnknownStatements,
  // PSD2 statement (TS 119 495 §5)
  psd2Statement,
  psd2Roles,
  psd2Nca,
  // subject (EN 319 412-1/-3)
  orgIdPresent,
  orgIdGrammar,
  orgIdMatchesNca,
  cabfOrganizationIdentifier,
  subjectCountry,
  subjectOrganization,
  // per-type rules (EN 319 412-4, EN 319 411-2)
  sanForType,
  policiesForType,
  keyUsageForType,
  ekuForType,
  // keys (TS 119 312)
  keyStrength,
  signatureAlgorithm,
];

export function runProfileChecks(
  cert: ParsedCertificate,
  opts: { expect?: ExpectedType; certIndex?: number } = {},
): ProfileResult {
  const certIndex = opts.certIndex ?? 0;
  let ctx: ProfileContext;
  try {
    const qc = analyseQcStatements(cert);
    const psd2 = analysePsd2(qc);
    const orgId = analyseOrgId(cert);
    ctx = { certIndex, qc, psd2, orgId, type: determineType(qc, opts.expect) };
    if (opts.expect !== undefined) ctx.expect = opts.expect;
  } catch (e) {
    return {
      type: 'other',
      qc: null,
      psd2: null,
      organizationIdentifier: null,
      findings: [finding('malformed', `The certificate's eIDAS content cannot be decoded: ${errorText(e)}.`, { certIndex })],
    };
  }
  const findings: Finding[] = [];
  for (const check of PROFILE_CHECKS) {
    try {
      findings.push(...check(cert, ctx));
    } catch (e) {
      // A check must not take the whole report down on data it did not foresee.
      findings.push(finding('malformed', `The certificate could not be checked (${check.name}): ${errorText(e)}.`, { certIndex }));
    }
  }
  return {
    type: ctx.type,
    qc: ctx.qc.info,
    psd2: ctx.psd2.info,
    organizationIdentifier: ctx.orgId.parsed,
    findings,
  };
}
