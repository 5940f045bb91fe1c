/**
 * The checks an application goes through, each a small named function, grouped in lists:
 * - CONSISTENCY: the certificates against the application (and each other);
 * - SUBMISSION: what blocks submit/resubmit (plain words for the applicant);
 * - AUTO_APPROVAL: the regulated track's policy: when all hold at submission, the application is approved
 *   by policy (no human gate, product-features.md §0).
 * Adding a rule means adding a function to a list; the service only runs the lists.
 */
import { normaliseCountry } from '../eidas/data/countries.js';
import type { CertificateReport, Psd2RoleName } from '../eidas/types.js';
import type { RegisterCheck } from '../register/service.js';
import type {
  ApplicationState,
  CertificateKind,
  ChangeItem,
  ConsistencyFinding,
  OrganisationProfile,
  RequestedRole,
} from './types.js';

export const AUTO_APPROVAL_POLICY_VERSION = 'regulated-auto/2026.1';

export const ROLE_TO_PSD2: Record<RequestedRole, Psd2RoleName> = { AIS: 'PSP_AI', PIS: 'PSP_PI', CBPII: 'PSP_IC' };

const KIND_WORDS: Record<CertificateKind, string> = { qwac: 'QWAC', qseal: 'QSealC' };

export interface CheckInput {
  profile: OrganisationProfile | null;
  certificates: { qwac: CertificateReport | null; qseal: CertificateReport | null };
}

// --- consistency --------------------------------------------------------------------------------------

type ConsistencyCheck = (input: CheckInput) => ConsistencyFinding[];

function eachCertificate(
  input: CheckInput,
  fn: (kind: CertificateKind, report: CertificateReport, profile: OrganisationProfile) => ConsistencyFinding[],
): ConsistencyFinding[] {
  const { profile } = input;
  if (!profile) return [];
  const out: ConsistencyFinding[] = [];
  for (const kind of ['qwac', 'qseal'] as const) {
    const report = input.certificates[kind];
    // An unreadable certificate has nothing to compare; its own report says why.
    if (report && report.sha256 !== '') out.push(...fn(kind, report, profile));
  }
  return out;
}

/** The QWAC slot holds a QWAC and the QSealC slot a QSealC. */
export const certificateTypeMatchesSlot: ConsistencyCheck = (input) =>
  (['qwac', 'qseal'] as const).flatMap((kind): ConsistencyFinding[] => {
    const report = input.certificates[kind];
    const expected = kind === 'qwac' ? 'QWAC' : 'QSealC';
    if (!report || report.sha256 === '' || report.type === expected) return [];
    const what = report.type === 'other' ? 'not a qualified website or seal certificate' : `a ${report.type}`;
    return [
      {
        code: 'consistency.type',
        severity: 'error',
        message: `The certificate uploaded as ${KIND_WORDS[kind]} is ${what}.`,
        fix: `Upload your ${expected} here${report.type === 'other' ? '' : ` and the ${report.type} in its own slot`}.`,
        target: kind,
      },
    ];
  });

/** organizationIdentifier (PSD scheme) names the NCA and authorisation number declared in the profile. */
export const organisationIdentifierMatchesProfile: ConsistencyCheck = (input) =>
  eachCertificate(input, (kind, report, profile) => {
    const oi = report.organizationIdentifier;
    if (profile.ncaId === null || profile.authorisationNumber === null) return [];
    if (!oi || oi.scheme !== 'PSD' || oi.nca === null) {
      return [
        {
          code: 'consistency.organization_identifier',
          severity: 'error',
          message: `The ${KIND_WORDS[kind]} has no PSD2 organizationIdentifier (PSDXX-NCA-number)${oi ? `: it reads “${oi.raw}”` : ''}.`,
          fix: 'Ask your QTSP for a PSD2 certificate whose organizationIdentifier names your NCA and authorisation number.',
          target: kind,
        },
      ];
    }
    const certNca = `${normaliseCountry(oi.country)}-${oi.nca}`;
    const [declaredCountry = '', ...rest] = profile.ncaId.split('-');
    const declaredNca = `${normaliseCountry(declaredCountry)}-${rest.join('-')}`;
    const out: ConsistencyFinding[] = [];
    if (certNca !== declaredNca) {
      out.push({
        code: 'consistency.nca',
        severity: 'error',
        message: `The ${KIND_WORDS[kind]} names the NCA ${oi.country}-${oi.nca}, but the application declares ${profile.ncaId}.`,
        fix: 'Correct the NCA in your profile, or upload the certificate issued for the declared authorisation.',
        target: kind,
      });
    }
    if (oi.authorisationNumber.trim() !== profile.authorisationNumber.trim()) {
      out.push({
        code: 'consistency.authorisation_number',
        severity: 'error',
        message: `The ${KIND_WORDS[kind]} carries authorisation number ${oi.authorisationNumber}, but the application declares ${profile.authorisationNumber}.`,
        fix: 'Correct the authorisation number in your profile, or upload the certificate issued for it.',
        target: kind,
      });
    }
    return out;
  });

/** The PSD2 roles in the certificate cover every requested service (AIS→PSP_AI, PIS→PSP_PI, CBPII→PSP_IC). */
export const rolesCoverRequested: ConsistencyCheck = (input) =>
  eachCertificate(input, (kind, report, profile) => {
    const held = new Set(report.psd2?.roles ?? []);
    const missing = profile.requestedRoles.filter((r) => !held.has(ROLE_TO_PSD2[r]));
    if (missing.length === 0) return [];
    return [
      {
        code: 'consistency.roles',
        severity: 'error',
        message: `The ${KIND_WORDS[kind]} does not carry the PSD2 role${missing.length > 1 ? 's' : ''} ${missing
          .map((r) => `${ROLE_TO_PSD2[r]} (${r})`)
          .join(', ')} you request${report.psd2 ? ` (it has: ${report.psd2.roles.join(', ') || 'none'})` : ' (it has no PSD2 statement)'}.`,
        fix: 'Request only the services your certificate covers, or ask your QTSP for a certificate with these roles.',
        target: kind,
      },
    ];
  });

/** The QWAC and the QSealC name the same organisation (organizationIdentifier and O). */
export const sameOrganisation: ConsistencyCheck = (input) => {
  const { qwac, qseal } = input.certificates;
  if (!qwac || !qseal || qwac.sha256 === '' || qseal.sha256 === '') return [];
  const out: ConsistencyFinding[] = [];
  const oiA = qwac.organizationIdentifier?.raw ?? null;
  const oiB = qseal.organizationIdentifier?.raw ?? null;
  if (oiA !== oiB) {
    out.push({
      code: 'consistency.same_organisation',
      severity: 'error',
      message: `The QWAC and the QSealC name different organisations (organizationIdentifier ${oiA ?? 'none'} and ${oiB ?? 'none'}).`,
      fix: 'Upload the QWAC and the QSealC issued to the same organisation.',
      target: 'qseal',
    });
  }
  const oA = subjectAttribute(qwac.subject, 'O');
  const oB = subjectAttribute(qseal.subject, 'O');
  if (oA !== oB) {
    out.push({
      code: 'consistency.same_organisation_name',
      severity: 'error',
      message: `The QWAC and the QSealC carry different organisation names (“${oA ?? 'none'}” and “${oB ?? 'none'}”).`,
      fix: 'Upload the QWAC and the QSealC issued to the same organisation.',
      target: 'qseal',
    });
  }
  return out;
};

export const CONSISTENCY_CHECKS: readonly ConsistencyCheck[] = [
  certificateTypeMatchesSlot,
  organisationIdentifierMatchesProfile,
  rolesCoverRequested,
  sameOrganisation,
];

export function consistencyFindings(input: CheckInput): ConsistencyFinding[] {
  return CONSISTENCY_CHECKS.flatMap((check) => check(input));
}

/** An RDN value out of an RFC 4514-style subject string (`CN=x, O=Acme\, Inc., C=DE`). */
export function subjectAttribute(subject: string, name: string): string | null {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < subject.length; i++) {
    const ch = subject[i]!;
    if (ch === '\\' && i + 1 < subject.length) {
      current += subject[++i];
    } else if (ch === ',' || ch === '+') {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim().toUpperCase() === name.toUpperCase()) return part.slice(eq + 1).trim();
  }
  return null;
}

// --- submission blockers --------------------------------------------------------------------------------

export interface SubmissionInput extends CheckInput {
  consistency: ConsistencyFinding[];
  /** What the questionnaire still misses (applies on the partner track only). */
  incomplete: { questionId: string; message: string }[];
  state: ApplicationState;
  changeItems: ChangeItem[];
}

type SubmissionCheck = (input: SubmissionInput) => string[];

export const profileComplete: SubmissionCheck = (input) =>
  input.profile ? [] : ['Complete and save the organisation profile.'];

export const certificatesPass: SubmissionCheck = (input) =>
  (['qwac', 'qseal'] as const).flatMap((kind) => {
    const report = input.certificates[kind];
    if (!report) return [`Upload your ${KIND_WORDS[kind]}.`];
    if (report.verdict !== 'pass') {
      return [`Your ${KIND_WORDS[kind]} does not pass validation: fix the problems listed in its report and upload it again.`];
    }
    return [];
  });

export const noConsistencyErrors: SubmissionCheck = (input) =>
  input.consistency.filter((f) => f.severity === 'error').map((f) => `${f.message} ${f.fix}`);

/** Partner track only: the questionnaire (with required evidence) is complete. Informational on the regulated track. */
export const questionnaireComplete: SubmissionCheck = (input) => {
  if (input.profile?.track !== 'partner' || input.incomplete.length === 0) return [];
  const n = input.incomplete.length;
  return [`Complete the security questionnaire: ${n} item${n > 1 ? 's need' : ' needs'} an answer or evidence.`];
};

/** On resubmission every change request has an answer. */
export const changeRequestsAnswered: SubmissionCheck = (input) => {
  if (input.state !== 'changes_requested') return [];
  const open = input.changeItems.filter((i) => i.status === 'open').length;
  return open === 0 ? [] : [`Answer ${open} open change request${open > 1 ? 's' : ''}.`];
};

export const SUBMISSION_CHECKS: readonly SubmissionCheck[] = [
  profileComplete,
  certificatesPass,
  noConsistencyErrors,
  questionnaireComplete,
  changeRequestsAnswered,
];

export function submissionBlockers(input: SubmissionInput): string[] {
  return SUBMISSION_CHECKS.flatMap((check) => check(input));
}

// --- auto-approval (regulated track) --------------------------------------------------------------------

export interface AutoApprovalInput extends CheckInput {
  consistency: ConsistencyFinding[];
  register: RegisterCheck | null;
}

export interface NamedResult {
  name: string;
  ok: boolean;
  message: string;
}

type AutoCheck = (input: AutoApprovalInput) => NamedResult;

export const autoCertificatesPass: AutoCheck = (input) => {
  const failing = (['qwac', 'qseal'] as const).filter((k) => input.certificates[k]?.verdict !== 'pass');
  return {
    name: 'certificates_pass',
    ok: failing.length === 0,
    message:
      failing.length === 0
        ? 'Both certificates pass validation.'
        : `The ${failing.map((k) => KIND_WORDS[k]).join(' and ')} do${failing.length === 1 ? 'es' : ''} not pass validation.`,
  };
};

export const autoConsistencyClean: AutoCheck = (input) => {
  const errors = input.consistency.filter((f) => f.severity === 'error');
  return {
    name: 'consistency_clean',
    ok: errors.length === 0,
    message: errors.length === 0 ? 'The certificates match the application.' : errors.map((e) => e.message).join(' '),
  };
};

/**
 * The register shows an active authorisation for the declared NCA and number, under the declared name.
 * Service coverage is its own check (below). The name and NCA-code warnings do not block submission, but
 * they do send the application to a human: policy approves only what it can confirm.
 */
export const autoRegisterAuthorised: AutoCheck = (input) => {
  const r = input.register;
  if (!r) return { name: 'register_authorised', ok: false, message: 'No NCA register check was possible.' };
  const problems = r.findings.filter(
    (f) => (f.severity === 'error' && f.code !== 'register.service_missing') || HUMAN_CONFIRMS.has(f.code),
  );
  const authorised = r.entry !== null && r.entry.authorisation.status === 'authorised' && !NOT_MATCHED.has(r.status);
  const ok = authorised && problems.length === 0;
  let message: string;
  if (ok) message = 'The NCA register shows an authorisation that matches the application.';
  else if (problems.length > 0) message = problems.map((f) => f.message).join(' ');
  else if (NOT_MATCHED.has(r.status)) message = REGISTER_STATUS_WORDS[r.status];
  else message = 'The NCA register entry is not an active authorisation.';
  return { name: 'register_authorised', ok, message };
};

const NOT_MATCHED: ReadonlySet<RegisterCheck['status']> = new Set(['not_found', 'withdrawn', 'unavailable']);
const HUMAN_CONFIRMS: ReadonlySet<string> = new Set(['register.name_mismatch', 'register.nca_code_differs']);

const REGISTER_STATUS_WORDS: Record<RegisterCheck['status'], string> = {
  match: 'The NCA register entry matches.',
  mismatch: 'The NCA register entry does not match the application.',
  not_found: 'The NCA register has no entry for this NCA and authorisation number.',
  withdrawn: 'The NCA register shows the authorisation as withdrawn.',
  unavailable: 'The NCA register could not be checked.',
};

/**
 * The register lists every requested service. CBPII has no register service code, so a request for it is
 * confirmed by a reviewer, never by policy.
 */
export const autoServicesCoverRoles: AutoCheck = (input) => {
  const r = input.register;
  const problems = (r?.findings ?? []).filter(
    (f) => f.code === 'register.service_missing' || f.code === 'register.cbpii_no_service_code',
  );
  const ok = input.profile !== null && r !== null && r.entry !== null && problems.length === 0;
  return {
    name: 'services_cover_roles',
    ok,
    message: ok
      ? 'The register lists every requested service.'
      : problems.length > 0
        ? problems.map((f) => f.message).join(' ')
        : 'The register services could not be compared with the requested roles.',
  };
};

export const AUTO_APPROVAL_CHECKS: readonly AutoCheck[] = [
  autoCertificatesPass,
  autoConsistencyClean,
  autoRegisterAuthorised,
  autoServicesCoverRoles,
];

export function autoApprovalChecks(input: AutoApprovalInput): NamedResult[] {
  return AUTO_APPROVAL_CHECKS.map((check) => check(input));
}

// --- certificate renewal (an approved partner replaces its QWAC or QSealC) ------------------------------

export interface RenewalInput {
  kind: CertificateKind;
  /** The report of the partner's approved certificate of that kind, as validated when it was approved. */
  current: CertificateReport;
  renewed: CertificateReport;
  /** The partner's allowed roles: a renewed certificate must still carry each. */
  allowedRoles: readonly RequestedRole[];
}

/** A failed renewal check: its code (`renewal.*`), what is wrong and how to fix it, in the partner's words. */
export interface RenewalRefusal {
  code: string;
  message: string;
  fix: string;
}

type RenewalCheck = (input: RenewalInput) => RenewalRefusal | null;

/** It is a certificate of the slot's type (a QWAC for the QWAC, a QSealC for the QSealC). */
export const renewalTypeMatches: RenewalCheck = ({ kind, renewed }) => {
  const expected = kind === 'qwac' ? 'QWAC' : 'QSealC';
  if (renewed.type === expected) return null;
  return {
    code: 'renewal.wrong_type',
    message: `The file holds ${renewed.type === 'other' ? 'a certificate that is neither a QWAC nor a QSealC' : `a ${renewed.type}`}, not a ${expected}.`,
    fix: `Upload the renewed ${expected} here.`,
  };
};

/** The eIDAS engine passes it: a valid qualified certificate, chaining to the trust profile, not revoked, not expired. */
export const renewalValidates: RenewalCheck = ({ renewed }) => {
  if (renewed.verdict === 'pass') return null;
  const errors = renewed.findings.filter((f) => f.severity === 'error');
  return {
    code: 'renewal.certificate_invalid',
    message: `The renewed certificate does not pass validation: ${errors.map((f) => f.message).join(' ') || 'see its report.'}`,
    fix: 'Each finding says what to fix; the certificate report on this page lists them all.',
  };
};

/** It is not the approved certificate itself. */
export const renewalIsNew: RenewalCheck = ({ current, renewed }) =>
  renewed.sha256 === current.sha256
    ? { code: 'renewal.same_certificate', message: 'This is the certificate already approved.', fix: 'Upload the new certificate your QTSP issued.' }
    : null;

/** It names the same organisation: the organizationIdentifier the partner was vetted for. */
export const renewalSameOrganisation: RenewalCheck = ({ current, renewed }) => {
  const before = current.organizationIdentifier?.raw ?? null;
  const after = renewed.organizationIdentifier?.raw ?? null;
  if (before !== null && after === before) return null;
  return {
    code: 'renewal.other_organisation',
    message: `The renewed certificate names the organisation ${after ?? '(no organizationIdentifier)'}, but you were approved as ${before ?? '(unknown)'}.`,
    fix: 'A certificate for another organisation (a new authorisation, a merger) needs a new application, not a renewal.',
  };
};

/** It still carries the PSD2 role behind every service the partner is allowed. */
export const renewalKeepsRoles: RenewalCheck = ({ renewed, allowedRoles }) => {
  const held = new Set(renewed.psd2?.roles ?? []);
  const missing = allowedRoles.filter((r) => !held.has(ROLE_TO_PSD2[r]));
  if (missing.length === 0) return null;
  return {
    code: 'renewal.roles_missing',
    message: `The renewed certificate lacks the PSD2 role${missing.length > 1 ? 's' : ''} ${missing.map((r) => `${ROLE_TO_PSD2[r]} (${r})`).join(', ')} you are allowed.`,
    fix: 'Ask your QTSP for a certificate with the same roles, or ask the bank to narrow your services first.',
  };
};

/** It lasts longer than the approved one (a renewal, not a step back to an older certificate). */
export const renewalLastsLonger: RenewalCheck = ({ current, renewed }) =>
  Date.parse(renewed.notAfter) > Date.parse(current.notAfter)
    ? null
    : {
        code: 'renewal.not_later',
        message: `The renewed certificate expires on ${renewed.notAfter.slice(0, 10)}, not after the approved one (${current.notAfter.slice(0, 10)}).`,
        fix: 'Upload the certificate your QTSP issued most recently.',
      };

export const RENEWAL_CHECKS: readonly RenewalCheck[] = [
  renewalTypeMatches,
  renewalValidates,
  renewalIsNew,
  renewalSameOrganisation,
  renewalKeepsRoles,
  renewalLastsLonger,
];

/** The first failed renewal check, or null when the certificate may replace the approved one. */
export function renewalRefusal(input: RenewalInput): RenewalRefusal | null {
  for (const check of RENEWAL_CHECKS) {
    const refusal = check(input);
    if (refusal) return refusal;
  }
  return null;
}
