/**
 * Shaping for the partner pages: the service's views turned into what a template prints — plain words,
 * fixed date format, badge classes, links to the exact item a reason is about. Templates stay free of
 * logic beyond loops and conditions; everything here is plain data and safe to escape with `<%=`.
 */
import { FINDINGS, isFindingCode } from '../eidas/findings.js';
import type { CertificateReport } from '../eidas/types.js';
import type { AnswerValue, QuestionView } from '../questionnaire/service.js';
import type { RegisterCheck } from '../register/service.js';
import { mediaTypeWords } from './errors.js';
import { REJECTION_REASONS, SUSPENSION_REASONS } from './reasons.js';
import type {
  ApplicationListItem,
  ApplicationOrigin,
  ApplicationState,
  ApplicationView,
  CertificateKind,
  CertificateSummary,
  ChangeItem,
  ChangeTargetType,
  Conditions,
  ConsistencyFinding,
  Decision,
  DecisionKind,
  EvidenceSummary,
  FastLaneFacts,
  Holder,
  PartnerView,
  RiskTier,
  StaffRole,
  TimelineEntry,
} from './types.js';

// --- small formatters ----------------------------------------------------------------------------

/** `YYYY-MM-DD HH:mm UTC`; an empty string for null (templates print nothing). */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`;
}

/** `YYYY-MM-DD` for due dates and date-only values. */
export function formatDay(iso: string | null | undefined): string {
  if (!iso) return '';
  return iso.slice(0, 10);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

export const STATE_LABELS: Record<ApplicationState, string> = {
  draft: 'Draft',
  submitted: 'Submitted',
  under_review: 'Under review',
  changes_requested: 'Changes requested',
  awaiting_second_approval: 'Awaiting second approval',
  approved: 'Approved',
  conditionally_approved: 'Approved with conditions',
  rejected: 'Rejected',
  withdrawn: 'Withdrawn',
};

export interface Badge {
  cls: string;
  text: string;
}

export function stateBadge(state: ApplicationState): Badge {
  return { cls: `badge badge-${state}`, text: STATE_LABELS[state] };
}

export function tierBadge(tier: RiskTier | null): Badge | null {
  if (!tier) return null;
  return { cls: `badge badge-tier-${tier}`, text: `${tier[0]!.toUpperCase()}${tier.slice(1)} risk` };
}

export function partnerBadge(status: PartnerView['status']): Badge {
  return { cls: `badge badge-partner-${status}`, text: status === 'active' ? 'Active' : 'Suspended' };
}

const ORIGIN_TEXT: Record<ApplicationOrigin, string> = {
  portal: 'Portal application',
  registration_fast_lane: 'Fast lane: registered by API with a QWAC, no portal application',
};

export function originText(origin: ApplicationOrigin): string {
  return ORIGIN_TEXT[origin];
}

/** A mark for lists: only fast-lane records carry one (portal applications are the norm). */
export function originBadge(origin: ApplicationOrigin): Badge | null {
  return origin === 'registration_fast_lane' ? { cls: 'badge badge-info badge-origin-fast-lane', text: 'Fast lane' } : null;
}

/** What officers read where a portal application would show what the applicant declared. */
export const FAST_LANE_NOT_PROVIDED = 'Not provided: registered through the fast lane';

/** Who holds the application, from the reader's side ("you" for the applicant). */
export function holderText(holder: Holder, audience: 'applicant' | 'staff'): string {
  if (holder === 'none') return 'Nobody (closed)';
  if (holder === 'bank') return audience === 'applicant' ? 'The bank' : 'The bank (us)';
  return audience === 'applicant' ? 'You' : 'The applicant';
}

const TRACK_LABELS = { regulated: 'Regulated PSD2 access', partner: 'Partner track' } as const;
export function trackText(track: keyof typeof TRACK_LABELS | null): string {
  return track ? TRACK_LABELS[track] : 'Not chosen yet';
}

const DECISION_LABELS: Record<DecisionKind, string> = {
  auto_approve: 'Approved automatically by policy',
  request_changes: 'Changes requested',
  approve: 'Approved',
  approve_with_conditions: 'Approved with conditions',
  second_approval: 'Second approval',
  reject: 'Rejected',
  suspend: 'Suspended',
  reinstate: 'Reinstated',
};

/** The catalogue text of a reason code, or null when the code is not in either catalogue. */
export function reasonText(code: string | null): string | null {
  if (!code) return null;
  const hit = [...REJECTION_REASONS, ...SUSPENSION_REASONS].find((r) => r.code === code);
  return hit ? hit.text : null;
}

// --- links to the exact item ---------------------------------------------------------------------

const CERT_LABEL: Record<CertificateKind, string> = { qwac: 'QWAC (website certificate)', qseal: 'QSealC (seal certificate)' };

export const PROFILE_FIELD_LABELS: Record<string, string> = {
  legalName: 'Legal name',
  country: 'Country',
  registrationNumber: 'Registration number',
  lei: 'LEI',
  ncaId: 'National competent authority',
  authorisationNumber: 'Authorisation number',
  track: 'Track',
  requestedRoles: 'Requested roles',
  redirectUris: 'Redirect URIs',
  'contacts.business': 'Business contact',
  'contacts.technical': 'Technical contact',
  'contacts.security': 'Security contact',
};

export interface TargetLink {
  /** Page and anchor of the item, for the applicant's pages or the staff page. */
  href: string;
  label: string;
}

/**
 * Where a change item (or a reason) points: the page and the anchor of the question, certificate, profile
 * field or evidence file. Anchors: `#q-<questionId>`, `#cert-qwac`, `#cert-qseal`, `#field-<name>`,
 * `#evidence-<id>`. Staff links point into the one staff page, which carries the same anchors.
 */
export function targetLink(
  base: string,
  target: { type: ChangeTargetType; id: string },
  ctx: { questionText?: (id: string) => string | undefined; evidenceName?: (id: string) => string | undefined; staff?: boolean },
): TargetLink {
  const page = (sub: string) => (ctx.staff ? base : `${base}/${sub}`);
  switch (target.type) {
    case 'question': {
      const text = ctx.questionText?.(target.id);
      return { href: `${page('questionnaire')}#q-${target.id}`, label: text ? `Question ${target.id}: ${text}` : `Question ${target.id}` };
    }
    case 'certificate': {
      const kind = target.id === 'qseal' ? 'qseal' : 'qwac';
      return { href: `${page('certificates')}#cert-${kind}`, label: `Certificate: ${CERT_LABEL[kind]}` };
    }
    case 'profile': {
      // `contacts` as a whole points at the first contact block.
      const id = target.id === 'contacts' ? 'contacts.business' : target.id;
      const label = target.id === 'contacts' ? 'Contacts' : (PROFILE_FIELD_LABELS[id] ?? id);
      return { href: `${page('profile')}#field-${fieldAnchor(id)}`, label: `Profile: ${label}` };
    }
    case 'evidence': {
      const name = ctx.evidenceName?.(target.id);
      return { href: `${page('questionnaire')}#evidence-${target.id}`, label: name ? `Evidence file ${name}` : 'Evidence file' };
    }
  }
}

/** Anchor-safe form of a dotted field name (`contacts.business.email` → `contacts-business-email`). */
export function fieldAnchor(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]+/g, '-');
}

// --- certificate reports -------------------------------------------------------------------------

export interface FindingView {
  code: string;
  severity: 'error' | 'warning' | 'info';
  severityText: string;
  /** What is wrong with this certificate, in plain words. */
  what: string;
  /** How to fix it (the catalogue's advice). */
  fix: string;
  requirement: string | null;
  where: string | null;
}

const SEVERITY_TEXT = { error: 'Must fix', warning: 'Should fix', info: 'For information' } as const;

export interface CertificateReportView {
  kind: CertificateKind;
  kindLabel: string;
  anchor: string;
  uploadedAt: string;
  sha256: string;
  verdict: 'pass' | 'fail';
  verdictText: string;
  type: string;
  subject: string;
  issuer: string;
  organisationId: string | null;
  roles: string;
  nca: string | null;
  validFrom: string;
  validTo: string;
  revocation: string;
  checkedAt: string;
  trustProfile: string;
  findings: FindingView[];
}

const TYPE_TEXT = { QWAC: 'QWAC (qualified website authentication certificate)', QSealC: 'QSealC (qualified electronic seal certificate)', other: 'Not a qualified PSD2 certificate' } as const;

const REVOCATION_TEXT = {
  good: 'Not revoked',
  revoked: 'Revoked',
  unknown: 'Unknown to the issuer',
  unavailable: 'Could not be checked',
  'not-checked': 'Not checked',
} as const;

export function findingView(f: CertificateReport['findings'][number]): FindingView {
  const spec = isFindingCode(f.code) ? FINDINGS[f.code] : null;
  const fix = spec?.fix ?? '';
  // The engine's message is "<specific problem> <fix>": show the two parts separately.
  let what = f.message;
  if (fix && what.endsWith(fix)) what = what.slice(0, what.length - fix.length).trim();
  if (!what) what = spec?.summary ?? f.message;
  return {
    code: f.code,
    severity: f.severity,
    severityText: SEVERITY_TEXT[f.severity],
    what,
    fix,
    requirement: f.requirement || null,
    where: f.certIndex ? `in chain certificate ${f.certIndex}` : null,
  };
}

export function certificateView(kind: CertificateKind, c: CertificateSummary | null): CertificateReportView | null {
  return c ? reportView(kind, c.report, { uploadedAt: c.uploadedAt, sha256: c.sha256 }) : null;
}

/** A report in plain words; `stored` is null for a report of an upload that was refused (nothing stored). */
export function reportView(kind: CertificateKind, r: CertificateReport, stored: { uploadedAt: string; sha256: string } | null): CertificateReportView {
  const o = r.organizationIdentifier;
  const rv = r.revocation;
  let revocation: string = REVOCATION_TEXT[rv.status];
  if (rv.source) revocation += ` (checked by ${rv.source.toUpperCase()}${rv.checkedAt ? ` at ${formatDate(rv.checkedAt)}` : ''})`;
  if (rv.revokedAt) revocation += `, revoked on ${formatDate(rv.revokedAt)}`;
  if (rv.reason) revocation += `, reason: ${rv.reason}`;
  const order = { error: 0, warning: 1, info: 2 } as const;
  return {
    kind,
    kindLabel: CERT_LABEL[kind],
    anchor: `cert-${kind}`,
    uploadedAt: formatDate(stored?.uploadedAt),
    sha256: stored?.sha256 ?? '',
    verdict: r.verdict,
    verdictText: r.verdict === 'pass' ? 'Accepted: no problem blocks this certificate' : 'Not accepted: fix the problems marked "Must fix"',
    type: TYPE_TEXT[r.type],
    subject: r.subject,
    issuer: r.issuer,
    organisationId: o
      ? `${o.raw} (${[`scheme ${o.scheme}`, `country ${o.country}`, o.nca ? `authority ${o.nca}` : null, `number ${o.authorisationNumber}`]
          .filter(Boolean)
          .join(', ')})`
      : null,
    roles: r.psd2 ? r.psd2.roles.join(', ') || 'none' : 'none (no PSD2 statement)',
    nca: r.psd2 ? `${r.psd2.ncaName} (${r.psd2.ncaId})` : null,
    validFrom: formatDate(r.notBefore),
    validTo: formatDate(r.notAfter),
    revocation,
    checkedAt: formatDate(r.validatedAt),
    trustProfile: r.trustProfile,
    findings: [...r.findings].sort((a, b) => order[a.severity] - order[b.severity]).map(findingView),
  };
}

export interface ConsistencyView {
  code: string;
  severity: 'error' | 'warning';
  severityText: string;
  message: string;
  fix: string;
  targetLabel: string;
  href: string;
}

export function consistencyViews(base: string, list: ConsistencyFinding[], staff = false): ConsistencyView[] {
  return list.map((f) => ({
    code: f.code,
    severity: f.severity,
    severityText: SEVERITY_TEXT[f.severity],
    message: f.message,
    fix: f.fix,
    targetLabel: f.target === 'profile' ? 'Organisation profile' : CERT_LABEL[f.target],
    href:
      f.target === 'profile'
        ? staff
          ? `${base}#profile`
          : `${base}/profile`
        : `${staff ? base : `${base}/certificates`}#cert-${f.target}`,
  }));
}

// --- timeline, change items, decisions -----------------------------------------------------------

export interface ChangeItemView {
  id: string;
  link: TargetLink;
  message: string;
  open: boolean;
  response: string | null;
  respondedAt: string;
}

export interface TimelineEntryView {
  at: string;
  from: string | null;
  to: Badge;
  actor: string;
  holder: string;
  reasonCode: string | null;
  reasonText: string | null;
  text: string | null;
  items: ChangeItemView[];
}

export interface DecisionView {
  kind: string;
  actor: string;
  at: string;
  policyVersion: string;
  riskTier: Badge | null;
  reasonCode: string | null;
  reasonText: string | null;
  text: string | null;
  conditions: ConditionsView | null;
}

export interface ConditionsView {
  allowedRoles: string;
  remediation: { text: string; dueDate: string }[];
}

export function conditionsView(c: Conditions | null): ConditionsView | null {
  if (!c) return null;
  return {
    allowedRoles: c.allowedRoles.join(', ') || 'none',
    remediation: c.remediation.map((r) => ({ text: r.text, dueDate: formatDay(r.dueDate) })),
  };
}

function actorText(actor: { type: string; label: string }, audience: 'applicant' | 'staff'): string {
  if (actor.type === 'system') return 'The portal (automatic)';
  // Applicants see "the bank" rather than an officer's e-mail: names of staff are internal.
  if (actor.type === 'staff' && audience === 'applicant') return 'The bank';
  return actor.label || actor.type;
}

// --- whole pages ---------------------------------------------------------------------------------

export interface ListRow {
  id: string;
  href: string;
  name: string;
  applicantEmail: string;
  origin: ApplicationOrigin;
  originBadge: Badge | null;
  badge: Badge;
  track: string;
  tier: Badge | null;
  submittedAt: string;
  updatedAt: string;
  ageDays: number;
  holder: string;
  nextAction: string;
}

export function listRows(items: ApplicationListItem[], audience: 'applicant' | 'staff'): ListRow[] {
  return items.map((a) => ({
    id: a.id,
    href: audience === 'staff' ? `/staff/applications/${a.id}` : `/applications/${a.id}`,
    name: a.legalName ?? `Application ${a.id.slice(0, 8)}`,
    applicantEmail: a.applicantEmail,
    origin: a.origin,
    originBadge: originBadge(a.origin),
    badge: stateBadge(a.state),
    track: trackText(a.track),
    tier: tierBadge(a.riskTier),
    submittedAt: formatDate(a.submittedAt),
    updatedAt: formatDate(a.updatedAt),
    ageDays: a.ageDays,
    holder: holderText(a.nextAction.holder, audience),
    nextAction: a.nextAction.text,
  }));
}

export interface EvidenceView {
  id: string;
  anchor: string;
  questionId: string;
  fileName: string;
  mediaType: string;
  size: string;
  sha256: string;
  uploadedAt: string;
  /** Empty until a reviewer checked the file. */
  verifiedAt: string;
  href: string;
}

export function evidenceViews(base: string, list: EvidenceSummary[]): EvidenceView[] {
  return list.map((e) => ({
    id: e.id,
    anchor: `evidence-${e.id}`,
    questionId: e.questionId,
    fileName: e.fileName,
    mediaType: e.mediaType,
    size: formatBytes(e.size),
    sha256: e.sha256,
    uploadedAt: formatDate(e.uploadedAt),
    verifiedAt: formatDate(e.verifiedAt),
    href: `${base}/evidence/${e.id}`,
  }));
}

/** Everything the overview pages (applicant and staff) print about one application. */
export interface ApplicationPage {
  id: string;
  base: string;
  name: string;
  badge: Badge;
  state: ApplicationState;
  track: string;
  tier: Badge | null;
  createdAt: string;
  updatedAt: string;
  submittedAt: string;
  applicantEmail: string;
  origin: ApplicationOrigin;
  originText: string;
  originBadge: Badge | null;
  /** Fast lane only: the facts read from the QWAC, with "not provided" where a portal application has answers. */
  fastLane: FastLaneView | null;
  nextAction: { holder: string; text: string };
  blockers: string[];
  certificates: { qwac: CertificateReportView | null; qseal: CertificateReportView | null };
  /** When the partner renewed a certificate after its approval (formatted date), per kind; null otherwise. */
  renewedAt: { qwac: string | null; qseal: string | null };
  consistency: ConsistencyView[];
  timeline: TimelineEntryView[];
  changeRequests: ChangeItemView[];
  openChangeCount: number;
  decisions: DecisionView[];
  conditions: ConditionsView | null;
  evidence: EvidenceView[];
  reviewer: string | null;
  firstApprover: string | null;
  partner: { id: string; badge: Badge; allowedRoles: string; statusReason: string | null; approvedAt: string } | null;
  /** The regulated track's automatic decision at submission: each named check and the policy version. */
  autoApproval: { passed: boolean; policyVersion: string; at: string; checks: { name: string; ok: boolean; message: string }[] } | null;
}

export interface FastLaneView {
  legalName: string;
  country: string;
  ncaId: string;
  authorisationNumber: string;
  organizationIdentifier: string;
  requestedRoles: string;
  /** Printed for contacts, registration number and redirect URIs: the fast lane has none of them. */
  notProvided: string;
  registeredAt: string;
  ip: string;
}

export function fastLaneView(f: FastLaneFacts | null): FastLaneView | null {
  if (!f) return null;
  return {
    legalName: f.legalName,
    country: f.country,
    ncaId: f.ncaId,
    authorisationNumber: f.authorisationNumber,
    organizationIdentifier: f.organizationIdentifier,
    requestedRoles: f.requestedRoles.join(', '),
    notProvided: FAST_LANE_NOT_PROVIDED,
    registeredAt: formatDate(f.registeredAt),
    ip: f.ip ?? 'unknown',
  };
}

/** A certificate stored after the partner's approval can only be a renewal (the slots are closed otherwise). */
function renewedAt(v: ApplicationView, kind: CertificateKind): string | null {
  const c = v.certificates[kind];
  if (!c || !v.partner || Date.parse(c.uploadedAt) <= Date.parse(v.partner.approvedAt)) return null;
  return formatDate(c.uploadedAt);
}

export function applicationPage(v: ApplicationView, audience: 'applicant' | 'staff'): ApplicationPage {
  const base = audience === 'staff' ? `/staff/applications/${v.id}` : `/applications/${v.id}`;
  const staff = audience === 'staff';
  const questions = new Map(v.questionnaire.questions.map((q) => [q.id, q.text]));
  const evidenceNames = new Map(v.questionnaire.evidence.map((e) => [e.id, e.fileName]));
  const ctx = {
    questionText: (id: string) => questions.get(id),
    evidenceName: (id: string) => evidenceNames.get(id),
    staff,
  };
  const item = (c: ChangeItem): ChangeItemView => ({
    id: c.id,
    link: targetLink(base, c.target, ctx),
    message: c.message,
    open: c.status === 'open',
    response: c.response,
    respondedAt: formatDate(c.respondedAt),
  });
  const entry = (t: TimelineEntry): TimelineEntryView => ({
    at: formatDate(t.at),
    from: t.from ? STATE_LABELS[t.from] : null,
    to: stateBadge(t.to),
    actor: actorText(t.actor, audience),
    holder: holderText(t.holder, audience),
    reasonCode: t.reasonCode,
    reasonText: reasonText(t.reasonCode),
    text: t.text,
    items: t.items.map(item),
  });
  const decision = (d: Decision): DecisionView => ({
    kind: DECISION_LABELS[d.kind],
    actor: actorText(d.actor, audience),
    at: formatDate(d.at),
    policyVersion: d.policyVersion,
    riskTier: tierBadge(d.riskTier),
    reasonCode: d.reasonCode,
    reasonText: reasonText(d.reasonCode),
    text: d.text,
    conditions: conditionsView(d.conditions),
  });
  return {
    id: v.id,
    base,
    name: v.profile?.legalName || v.fastLane?.legalName || `Application ${v.id.slice(0, 8)}`,
    badge: stateBadge(v.state),
    state: v.state,
    track: trackText(v.track),
    tier: tierBadge(v.riskTier),
    createdAt: formatDate(v.createdAt),
    updatedAt: formatDate(v.updatedAt),
    submittedAt: formatDate(v.submittedAt),
    applicantEmail: v.applicantEmail,
    origin: v.origin,
    originText: originText(v.origin),
    originBadge: originBadge(v.origin),
    fastLane: fastLaneView(v.fastLane),
    nextAction: { holder: holderText(v.nextAction.holder, audience), text: v.nextAction.text },
    blockers: v.blockers,
    certificates: { qwac: certificateView('qwac', v.certificates.qwac), qseal: certificateView('qseal', v.certificates.qseal) },
    renewedAt: { qwac: renewedAt(v, 'qwac'), qseal: renewedAt(v, 'qseal') },
    consistency: consistencyViews(base, v.consistency, staff),
    timeline: [...v.timeline].reverse().map(entry),
    changeRequests: v.changeRequests.map(item),
    openChangeCount: v.changeRequests.filter((c) => c.status === 'open').length,
    decisions: v.decisions.map(decision),
    conditions: conditionsView(v.conditions),
    evidence: evidenceViews(base, v.questionnaire.evidence),
    reviewer: v.reviewer?.label ?? null,
    firstApprover: v.firstApprover?.label ?? null,
    partner: v.partner
      ? {
          id: v.partner.id,
          badge: partnerBadge(v.partner.status),
          allowedRoles: v.partner.allowedRoles.join(', '),
          statusReason: v.partner.statusReason,
          approvedAt: formatDate(v.partner.approvedAt),
        }
      : null,
    autoApproval: v.autoApproval
      ? {
          passed: v.autoApproval.passed,
          policyVersion: v.autoApproval.policyVersion,
          at: formatDate(v.autoApproval.at),
          checks: v.autoApproval.checks.map((c) => ({ ...c })),
        }
      : null,
  };
}

// --- partners list ------------------------------------------------------------------------------

export interface PartnerRow extends PartnerView {
  badge: Badge;
  approvedAtText: string;
  rolesText: string;
  originText: string;
  originBadge: Badge | null;
  organizationIdentifierText: string;
}

export function partnerRows(list: PartnerView[]): PartnerRow[] {
  return list.map((p) => ({
    ...p,
    badge: partnerBadge(p.status),
    approvedAtText: formatDate(p.approvedAt),
    rolesText: p.allowedRoles.join(', ') || 'none',
    originText: originText(p.origin),
    originBadge: originBadge(p.origin),
    organizationIdentifierText: p.organizationIdentifier ?? 'none (no approved QWAC)',
  }));
}

// --- what the reader may do now ------------------------------------------------------------------

/** Applicant actions by state; the service enforces them again. */
export function applicantActions(state: ApplicationState): {
  edit: boolean;
  submit: boolean;
  answerChanges: boolean;
  resubmit: boolean;
  withdraw: boolean;
} {
  const open = !['approved', 'conditionally_approved', 'rejected', 'withdrawn'].includes(state);
  return {
    edit: state === 'draft' || state === 'changes_requested',
    submit: state === 'draft',
    answerChanges: state === 'changes_requested',
    resubmit: state === 'changes_requested',
    withdraw: open,
  };
}

/**
 * Staff decisions shown for a state and role (hiding is a courtesy: the service checks again). Reviewers and
 * approvers review and request changes; only approvers approve, reject and give the second approval, and
 * the second approver is neither the reviewer nor the first approver.
 */
export function staffActions(
  v: Pick<ApplicationView, 'state' | 'reviewer' | 'firstApprover'>,
  user: { id: string; roles: StaffRole[] },
): {
  startReview: boolean;
  requestChanges: boolean;
  approve: boolean;
  reject: boolean;
  secondApproval: boolean;
  verifyEvidence: boolean;
} {
  const approver = user.roles.includes('approver');
  const reviewer = approver || user.roles.includes('reviewer');
  const underReview = v.state === 'under_review';
  return {
    startReview: reviewer && v.state === 'submitted',
    requestChanges: reviewer && underReview,
    approve: approver && underReview,
    reject: approver && (underReview || v.state === 'awaiting_second_approval'),
    secondApproval:
      approver && v.state === 'awaiting_second_approval' && v.firstApprover?.id !== user.id && v.reviewer?.id !== user.id,
    verifyEvidence: reviewer && underReview,
  };
}

export const REJECTION_OPTIONS = REJECTION_REASONS;
export const SUSPENSION_OPTIONS = SUSPENSION_REASONS;

// --- questionnaire -------------------------------------------------------------------------------

export interface QuestionOptionView {
  value: string;
  label: string;
  /** Element id of the radio / checkbox. */
  id: string;
  checked: boolean;
}

export interface QuestionItemView {
  id: string;
  /** `q-<id>`: the element id change requests and reasons link to. */
  anchor: string;
  text: string;
  help: string;
  type: QuestionView['type'];
  required: boolean;
  unit: string | null;
  options: QuestionOptionView[];
  /** The value printed into text-like inputs (the user's input when it was refused). */
  value: string;
  error: string | null;
  /** The answer in words, for the staff page. */
  answerText: string;
  evidence: { label: string; required: boolean; accept: string; acceptText: string; maxText: string } | null;
  files: EvidenceView[];
  score: { pointsText: string; reason: string; improve: string | null; knockOut: boolean } | null;
  /** Why the question blocks submission, if it does. */
  incomplete: string | null;
}

export interface QuestionnairePageView {
  version: string;
  /** On the regulated track the questionnaire never gates (product-features.md §0). */
  informational: boolean;
  domains: { id: string; label: string; scoreText: string | null; questions: QuestionItemView[] }[];
  overall: { scoreText: string; tier: Badge | null; policyVersion: string; knockOuts: { questionId: string; text: string; reason: string }[] } | null;
  incomplete: { questionId: string; message: string; href: string }[];
  answered: number;
  total: number;
}

const EXTENSIONS: Record<string, string> = {
  'application/pdf': '.pdf',
  'image/png': '.png',
  'image/jpeg': '.jpg,.jpeg',
  'text/plain': '.txt',
};

function storedText(v: AnswerValue | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.join(', ');
  return String(v);
}

function answerWords(q: QuestionView, v: AnswerValue | undefined): string {
  if (v === null || v === undefined || (Array.isArray(v) && v.length === 0)) return 'Not answered';
  const label = (x: string) => q.options.find((o) => o.value === x)?.label ?? x;
  if (typeof v === 'boolean') return v ? 'Yes' : 'No';
  if (Array.isArray(v)) return v.map(label).join('; ');
  if (q.type === 'choice' && typeof v === 'string') return label(v);
  if (q.type === 'number') return `${v}${q.unit ? ` ${q.unit}` : ''}`;
  return String(v);
}

/** The raw posted value(s) of a field, as strings. */
function postedList(input: Record<string, unknown> | null, id: string): string[] | null {
  if (!input || !Object.hasOwn(input, id)) return null;
  const raw = input[id];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.filter((x): x is string => typeof x === 'string');
}

/**
 * The questionnaire grouped by domain for the form (applicant) and the score tables (staff). After a refused
 * save, `input` (the posted form) is printed back for the questions that had errors; the others show what is
 * stored (valid answers were saved).
 */
export function questionnairePage(
  v: ApplicationView,
  opts: { base: string; errors: Record<string, string>; input: Record<string, unknown> | null; staff?: boolean },
): QuestionnairePageView {
  const qn = v.questionnaire;
  const answers = qn.answers;
  const scoreItems = new Map((v.score?.items ?? []).map((i) => [i.questionId, i]));
  const incomplete = new Map(qn.incomplete.map((i) => [i.questionId, i.message]));
  const files = evidenceViews(opts.base, qn.evidence);
  const domains: QuestionnairePageView['domains'] = [];
  let answered = 0;
  for (const q of qn.questions) {
    const stored = answers[q.id];
    if (stored !== null && stored !== undefined && !(Array.isArray(stored) && stored.length === 0)) answered++;
    const error = Object.hasOwn(opts.errors, q.id) ? (opts.errors[q.id] ?? null) : null;
    const posted = error ? postedList(opts.input, q.id) : null;
    const chosen = posted ?? (Array.isArray(stored) ? stored : stored === null || stored === undefined ? [] : [storedText(stored)]);
    const options: QuestionOptionView[] =
      q.type === 'yesno'
        ? [
            { value: 'yes', label: 'Yes', id: `${q.id}-yes`, checked: chosen.includes('yes') },
            { value: 'no', label: 'No', id: `${q.id}-no`, checked: chosen.includes('no') },
          ]
        : q.options.map((o) => ({ value: o.value, label: o.label, id: `${q.id}-${o.value}`, checked: chosen.includes(o.value) }));
    const s = scoreItems.get(q.id);
    const item: QuestionItemView = {
      id: q.id,
      anchor: `q-${q.id}`,
      text: q.text,
      help: q.help,
      type: q.type,
      required: q.required,
      unit: q.unit,
      options,
      value: posted ? (posted[0] ?? '') : storedText(stored),
      error,
      answerText: answerWords(q, stored),
      evidence: q.evidence
        ? {
            label: q.evidence.label,
            required: q.evidence.required,
            accept: q.evidence.accept.flatMap((t) => [t, ...(EXTENSIONS[t] ?? '').split(',').filter(Boolean)]).join(','),
            acceptText: q.evidence.accept.map(mediaTypeWords).join(', '),
            maxText: formatBytes(q.evidence.maxBytes),
          }
        : null,
      files: files.filter((f) => f.questionId === q.id),
      score: s
        ? {
            pointsText:
              s.points === null
                ? '—'
                : `${s.points} / ${s.maxPoints}${s.evidenceFactor < 1 ? ` × ${s.evidenceFactor} (evidence factor)` : ''}`,
            reason: s.reason,
            improve: s.improve,
            knockOut: s.knockOut,
          }
        : null,
      incomplete: incomplete.get(q.id) ?? null,
    };
    let d = domains.find((x) => x.id === q.domain);
    if (!d) {
      const ds = v.score?.domains.find((x) => x.id === q.domain);
      d = { id: q.domain, label: q.domainLabel, scoreText: ds ? (ds.score === null ? 'not scored' : `${ds.score} / 100`) : null, questions: [] };
      domains.push(d);
    }
    d.questions.push(item);
  }
  const sc = v.score;
  return {
    version: qn.version,
    informational: v.track === 'regulated',
    domains,
    overall: sc
      ? {
          scoreText: sc.overall === null ? 'not scored' : `${sc.overall} / 100`,
          tier: tierBadge(v.riskTier ?? sc.tier),
          policyVersion: sc.policyVersion,
          knockOuts: sc.knockOuts,
        }
      : null,
    incomplete: qn.incomplete.map((i) => ({
      questionId: i.questionId,
      message: i.message,
      href: `${opts.staff ? opts.base : `${opts.base}/questionnaire`}#q-${i.questionId}`,
    })),
    answered,
    total: qn.questions.length,
  };
}

// --- request-changes targets ---------------------------------------------------------------------

export interface TargetGroup {
  label: string;
  options: { value: string; label: string }[];
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** What a change item can point at: every shown question, both certificates, each profile field, each file. */
export function targetOptions(v: ApplicationView): TargetGroup[] {
  const groups: TargetGroup[] = [
    {
      label: 'Profile',
      options: Object.entries(PROFILE_FIELD_LABELS).map(([k, label]) => ({ value: `profile:${k}`, label })),
    },
    {
      label: 'Certificates',
      options: (['qwac', 'qseal'] as const).map((k) => ({ value: `certificate:${k}`, label: CERT_LABEL[k] })),
    },
  ];
  if (v.questionnaire.questions.length) {
    groups.push({
      label: 'Questions',
      options: v.questionnaire.questions.map((q) => ({ value: `question:${q.id}`, label: `${q.id} — ${clip(q.text, 70)}` })),
    });
  }
  if (v.questionnaire.evidence.length) {
    groups.push({
      label: 'Evidence files',
      options: v.questionnaire.evidence.map((e) => ({ value: `evidence:${e.id}`, label: `${clip(e.fileName, 60)} (${e.questionId})` })),
    });
  }
  return groups;
}

// --- register check ------------------------------------------------------------------------------

const REGISTER_STATUS_TEXT: Record<RegisterCheck['status'], string> = {
  match: 'Found and consistent with your application',
  mismatch: 'Found, but it differs from your application',
  not_found: 'Not found in the register',
  withdrawn: 'Authorisation withdrawn',
  unavailable: 'Register not available',
};

const PSD2_SERVICES: Record<string, string> = {
  PS_010: 'cash placement',
  PS_020: 'cash withdrawal',
  PS_030: 'payment transactions',
  PS_040: 'payment transactions with a credit line',
  PS_050: 'issuing instruments / acquiring',
  PS_060: 'money remittance',
  PS_070: 'payment initiation (PIS)',
  PS_080: 'account information (AIS)',
};

export interface RegisterView {
  status: RegisterCheck['status'];
  badge: Badge;
  checkedAt: string;
  snapshot: { importedAt: string; source: string; sha256: string; entityCount: number } | null;
  entry: {
    names: string;
    entityCode: string;
    ncaId: string;
    nationalRef: string;
    entityType: string;
    country: string;
    authorisation: string;
    services: { country: string; list: string }[];
    parent: string | null;
  } | null;
  findings: { code: string; severity: 'error' | 'warning' | 'info'; severityText: string; message: string; fix: string | null }[];
}

export function registerView(r: RegisterCheck | null): RegisterView | null {
  if (!r) return null;
  const e = r.entry;
  const auth = e?.authorisation;
  let authorisation = '';
  if (auth) {
    authorisation = { authorised: 'Authorised', withdrawn: 'Withdrawn', not_applicable: 'Not applicable (agent or branch)', unknown: 'Unknown' }[auth.status];
    if (auth.since) authorisation += ` since ${formatDay(auth.since)}`;
    if (auth.withdrawnOn) authorisation += `, withdrawn on ${formatDay(auth.withdrawnOn)}`;
  }
  return {
    status: r.status,
    badge: { cls: `badge badge-register-${r.status}`, text: REGISTER_STATUS_TEXT[r.status] },
    checkedAt: formatDate(r.checkedAt),
    snapshot: r.snapshot
      ? { importedAt: formatDate(r.snapshot.importedAt), source: r.snapshot.source, sha256: r.snapshot.sha256, entityCount: r.snapshot.entityCount }
      : null,
    entry: e
      ? {
          names: e.names.join(' / '),
          entityCode: e.entityCode,
          ncaId: e.ncaId,
          nationalRef: e.nationalRef,
          entityType: e.entityType,
          country: e.country ?? '—',
          authorisation,
          services: Object.entries(e.services).map(([country, codes]) => ({
            country,
            list: codes.map((c) => (PSD2_SERVICES[c] ? `${PSD2_SERVICES[c]} (${c})` : c)).join(', '),
          })),
          parent: e.parent ? `${e.parent.entityCode}${e.parent.status ? ` (${e.parent.status})` : ''}` : null,
        }
      : null,
    findings: r.findings.map((f) => ({ code: f.code, severity: f.severity, severityText: SEVERITY_TEXT[f.severity], message: f.message, fix: f.fix })),
  };
}
