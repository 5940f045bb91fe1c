/**
 * The partners area: an application from draft to decision, and the partner it becomes.
 *
 * - One state machine (state-machine.ts) decides which steps exist; checks.ts decides what blocks them.
 * - Every change and its audit event are written in one `tx.run`. Slow work (certificate validation, the
 *   register look-up, writing evidence files) happens before it; evidence files are removed again when
 *   the transaction fails.
 * - Applicant methods load by (id, applicant) and answer "not found" for anyone else's application, exactly
 *   as for an id that does not exist. Staff methods check the kind and, for decisions, the role.
 * - System methods (client registration, the token guard, certificate lifecycle) take no actor: partner
 *   look-ups, status-change listeners run inside the change's transaction, automatic suspension, and the
 *   regulated fast lane, which creates an approved application and partner from a QWAC alone.
 */
import { randomUUID } from 'node:crypto';
import type { Actor, AuditService } from '../audit/service.js';
import { AppError, ForbiddenError, InputError, NotFoundError } from '../errors.js';
import { readCertificates } from '../eidas/input.js';
import type { EidasService } from '../eidas/service.js';
import type { CertificateReport, OrganizationIdentifier } from '../eidas/types.js';
import type { Logger } from '../logger.js';
import {
  applicableQuestions,
  CURRENT_QUESTIONNAIRE_VERSION,
  incompleteItems,
  loadQuestionnaire,
  parseFormAnswers,
  scoreQuestionnaire,
  type Answers,
  type EvidenceState,
  type Questionnaire,
  type QuestionnaireContext,
  type QuestionView,
  type ScoreResult,
} from '../questionnaire/service.js';
import type { RegisterCheck, RegisterService } from '../register/service.js';
import type { Db } from '../store/database.js';
import { createSqlitePartnersRepository } from '../store/sqlite/partners.js';
import type { Transactor } from '../store/transaction.js';
import {
  AUTO_APPROVAL_POLICY_VERSION,
  autoApprovalChecks,
  autoRegisterAuthorised,
  consistencyFindings,
  renewalRefusal,
  ROLE_TO_PSD2,
  subjectAttribute,
  submissionBlockers,
  type CheckInput,
  type NamedResult,
} from './checks.js';
import {
  certificatePassword,
  CertificateUnreadableError,
  checksFailed,
  fourEyes,
  knockoutNeedsAcceptance,
  notEditable,
  nothingToRenew,
  RenewalRefusedError,
  renewalNotApproved,
  roleRequired,
  staffOnly,
  SubmissionBlockedError,
  uploadTooLarge,
  uploadType,
  secondOfficerRequired,
} from './errors.js';
import { CONTACT_KINDS, PROFILE_KEYS, parseProfile } from './profile.js';
import { REJECTION_REASONS, SUSPENSION_REASONS } from './reasons.js';
import type {
  ActorRecord,
  ApplicationPatch,
  ApplicationRecord,
  AutoApprovalRecord,
  CertificateRecord,
  ChangeItemRecord,
  DecisionRecord,
  EvidenceRecord,
  PartnerRecord,
  PartnersRepository,
  TransitionRecord,
} from './repository.js';
import {
  EDITABLE_STATES,
  HOLDER,
  nextPartnerStatus,
  nextState,
  type ApplicationEvent,
  type TransitionFacts,
} from './state-machine.js';
import {
  CERTIFICATE_MAX_BYTES,
  EVIDENCE_MAX_BYTES,
  evidencePath,
  removeEvidenceFile,
  sanitiseFileName,
  sha256Hex,
  sniffMediaType,
  writeEvidenceFile,
} from './uploads.js';
import {
  REQUESTED_ROLES,
  type ActorRef,
  type ApplicationListItem,
  type ApplicationState,
  type ApplicationView,
  type CertificateKind,
  type CertificateSummary,
  type ChangeItem,
  type ChangeTargetType,
  type Conditions,
  type Decision,
  type EvidenceSummary,
  type FastLaneFacts,
  type FastLaneInput,
  type Holder,
  type MonitoredPartner,
  type OrganisationProfile,
  type PartnersService,
  type PartnerStatusChange,
  type PartnerRolesListener,
  type PartnerStatusListener,
  type ApplicationStatusChange,
  type ApplicationStatusListener,
  type PartnerView,
  type RequestedRole,
  type StaffRole,
  type TimelineEntry,
  type UploadedFile,
} from './types.js';

export interface PartnersServiceDeps {
  db: Db;
  tx: Transactor;
  audit: AuditService;
  eidas: EidasService;
  register: RegisterService;
  /** Evidence files live under `<dataDir>/evidence/`. */
  dataDir: string;
  logger: Logger;
  now?: () => Date;
  repository?: PartnersRepository;
}

export const PARTNERS_LIMITS = {
  textMax: 2000,
  changeItemsMax: 50,
  remediationMax: 20,
  evidencePerQuestion: 5,
  evidencePerApplication: 60,
} as const;

const SYSTEM_ACTOR: ActorRecord = { type: 'system', id: null, label: `policy ${AUTO_APPROVAL_POLICY_VERSION}` };

/** The policy under which the registration fast lane approves an organisation. */
export const FAST_LANE_POLICY_VERSION = 'regulated-fast-lane/2026.1';
const FAST_LANE_POLICY_ACTOR: ActorRecord = { type: 'system', id: null, label: `policy ${FAST_LANE_POLICY_VERSION}` };
/** Who created a fast-lane application: client registration, not a person. */
const FAST_LANE_SOURCE_ACTOR: ActorRecord = { type: 'system', id: null, label: 'client registration (fast lane)' };
/**
 * The owner columns of a fast-lane application. No account has this id (account ids are UUIDs), and the
 * applicant methods refuse any application whose origin is not `portal` anyway.
 */
export const FAST_LANE_APPLICANT = { id: 'fast-lane', email: 'registered by API (fast lane)' } as const;

/** A refusal of the fast lane: the failed checks by name, in plain words. Nothing was written. */
export class FastLaneRefusedError extends AppError {
  constructor(readonly failed: NamedResult[], detail: string) {
    super(
      'partners.fast_lane_refused',
      403,
      `The portal cannot approve this organisation automatically: ${failed.map((c) => c.message).join(' ')} Apply in the partner portal instead.`,
      { detail },
    );
  }
}

const DAY_MS = 86_400_000;
const KIND_WORDS: Record<CertificateKind, string> = { qwac: 'QWAC', qseal: 'QSealC' };

/** Profile fields a change request may point at. */
export const PROFILE_TARGETS: readonly string[] = [...PROFILE_KEYS, 'contacts', ...CONTACT_KINDS.map((k) => `contacts.${k}`)];

type Audience = 'applicant' | 'staff';

export function createPartnersService(deps: PartnersServiceDeps): PartnersService {
  const { tx, audit, eidas, register, dataDir, logger } = deps;
  const repo = deps.repository ?? createSqlitePartnersRepository(deps.db);
  const now = deps.now ?? (() => new Date());
  const iso = () => now().toISOString();

  const statusListeners = new Set<PartnerStatusListener>();
  const applicationListeners = new Set<ApplicationStatusListener>();
  const rolesListeners = new Set<PartnerRolesListener>();
  const questionnaires = new Map<string, Questionnaire>();
  function questionnaire(version: string): Questionnaire {
    let q = questionnaires.get(version);
    if (!q) {
      q = loadQuestionnaire(version);
      questionnaires.set(version, q);
    }
    return q;
  }

  // --- helpers: actors, loading, guards ---------------------------------------------------------------

  function actorOf(ref: ActorRef): ActorRecord {
    return { type: ref.kind, id: ref.id, label: ref.label };
  }

  function record(ref: ActorRef | ActorRecord, action: string, subject: { type: 'application' | 'partner'; id: string }, data: Record<string, unknown> = {}) {
    const actor: Actor = 'kind' in ref ? { type: ref.kind, id: ref.id, label: ref.label } : { type: ref.type, id: ref.id, label: ref.label };
    const ip = 'kind' in ref ? (ref.ip ?? null) : null;
    return audit.record({ actor, action, subject, data, ip });
  }

  /**
   * An uploaded certificate, read and validated as `kind`. Read here (not only in the engine) to keep the
   * certificate DERs: the upload itself, and any private key in a PKCS#12 file, is never stored.
   */
  async function readUploadedCertificate(
    kind: CertificateKind,
    file: UploadedFile & { password?: string },
  ): Promise<{ leaf: Uint8Array; chain: Uint8Array[]; report: CertificateReport; password: string | undefined }> {
    const bytes = file.bytes;
    if (bytes.length > CERTIFICATE_MAX_BYTES) throw uploadTooLarge(CERTIFICATE_MAX_BYTES);
    const password = typeof file.password === 'string' && file.password !== '' ? file.password : undefined;
    const read = readCertificates(bytes, password === undefined ? {} : { password });
    if (!read.ok) {
      if (read.finding.code === 'input.password') throw certificatePassword(password === undefined);
      throw new CertificateUnreadableError(await eidas.validate(bytes, { expect: kind }));
    }
    const [leaf, ...chain] = read.ders;
    if (!leaf) throw new CertificateUnreadableError(await eidas.validate(bytes, { expect: kind }));
    const report: CertificateReport = await eidas.validate(Buffer.concat(read.ders.map((d) => Buffer.from(d))), { expect: kind });
    if (report.sha256 === '') throw new CertificateUnreadableError(report);
    return { leaf, chain, report, password };
  }

  /** The application's new current certificate of `kind`, as uploaded (or renewed) by `by` at `at`. */
  function currentCertificateRecord(
    applicationId: string,
    kind: CertificateKind,
    read: { leaf: Uint8Array; chain: Uint8Array[]; report: CertificateReport },
    by: ActorRef,
    at: string,
  ): CertificateRecord {
    const { leaf, chain, report } = read;
    return { id: randomUUID(), applicationId, kind, der: leaf, chain, sha256: sha256Hex(leaf), report, current: true, uploadedAt: at, uploadedBy: by.id };
  }

  async function loadOwn(applicant: ActorRef, applicationId: string): Promise<ApplicationRecord> {
    const app = typeof applicationId === 'string' && applicationId.length <= 100 ? await repo.getApplication(applicationId) : null;
    // Same answer for "not yours" and "does not exist": ids are not an oracle.
    // A fast-lane application has no applicant: it is the bank's record, never an applicant's to read or edit.
    if (!app || applicant.kind !== 'applicant' || app.origin !== 'portal' || app.applicantId !== applicant.id) {
      throw new NotFoundError('No such application.');
    }
    return app;
  }

  async function loadAny(applicationId: string): Promise<ApplicationRecord> {
    const app = typeof applicationId === 'string' && applicationId.length <= 100 ? await repo.getApplication(applicationId) : null;
    if (!app) throw new NotFoundError('No such application.');
    return app;
  }

  function requireStaff(staff: ActorRef, roles?: StaffRole[], what?: string): void {
    if (staff.kind !== 'staff') throw staffOnly();
    if (roles && !roles.some((r) => staff.roles.includes(r))) throw roleRequired(roles.join(' or '), what ?? 'do this');
  }

  function assertEditable(app: ApplicationRecord): void {
    if (!EDITABLE_STATES.has(app.state)) throw notEditable(app.state);
  }

  function contextOf(profile: OrganisationProfile | null): QuestionnaireContext {
    return { track: profile?.track ?? 'partner', roles: profile ? [...profile.requestedRoles] : [] };
  }

  /** The questionnaire context of any application: a fast-lane one is regulated, with the roles it asked for. */
  function contextOfApp(app: ApplicationRecord): QuestionnaireContext {
    if (app.fastLane) return { track: 'regulated', roles: [...app.fastLane.requestedRoles] };
    return contextOf(app.profile);
  }

  /** The legal name and roles an application stands for: declared in the profile, or read by the fast lane. */
  function declared(app: ApplicationRecord): { legalName: string; requestedRoles: RequestedRole[] } | null {
    return app.profile ?? app.fastLane;
  }

  function evidenceStates(evidence: EvidenceRecord[]): Record<string, EvidenceState> {
    const out: Record<string, EvidenceState> = {};
    for (const e of evidence) {
      if (e.verifiedAt !== null) out[e.questionId] = 'verified';
      else if (out[e.questionId] !== 'verified') out[e.questionId] = 'provided';
    }
    return out;
  }

  function certInput(profile: OrganisationProfile | null, certs: CertificateRecord[]): CheckInput {
    return {
      profile,
      certificates: {
        qwac: certs.find((c) => c.kind === 'qwac')?.report ?? null,
        qseal: certs.find((c) => c.kind === 'qseal')?.report ?? null,
      },
    };
  }

  function boundedText(value: unknown, field: string, opts: { required: boolean; max?: number }): string | null {
    const t = typeof value === 'string' ? value.trim() : '';
    const max = opts.max ?? PARTNERS_LIMITS.textMax;
    if (t === '') {
      if (opts.required) throw new InputError('Some fields need attention.', [{ path: field, message: 'Enter a text.' }]);
      return null;
    }
    if (t.length > max) throw new InputError('Some fields need attention.', [{ path: field, message: `At most ${max} characters.` }]);
    return t;
  }

  async function registerCheckFor(profile: OrganisationProfile | null): Promise<RegisterCheck | null> {
    if (!profile || profile.ncaId === null || profile.authorisationNumber === null) return null;
    try {
      return await register.check({
        ncaId: profile.ncaId,
        authorisationNumber: profile.authorisationNumber,
        legalName: profile.legalName,
        country: profile.country,
        roles: [...profile.requestedRoles],
      });
    } catch (err) {
      // The register is evidence, not a gate: a failing look-up only rules out automatic approval.
      logger.warn({ err }, 'register check failed');
      return null;
    }
  }

  /** Writes a timeline row and moves the application, in the caller's transaction. */
  async function move(
    app: ApplicationRecord,
    event: ApplicationEvent,
    actor: ActorRecord,
    opts: { facts?: TransitionFacts; reasonCode?: string | null; text?: string | null; patch?: ApplicationPatch; at: string },
  ): Promise<{ to: ApplicationState; transition: TransitionRecord }> {
    const to = nextState(app.state, event, opts.facts);
    const transition = await repo.insertTransition({
      id: randomUUID(),
      applicationId: app.id,
      from: app.state,
      to,
      event,
      actor,
      holder: HOLDER[to],
      reasonCode: opts.reasonCode ?? null,
      text: opts.text ?? null,
      at: opts.at,
    });
    await repo.updateApplication(app.id, { ...opts.patch, state: to, updatedAt: opts.at });
    const from = app.state;
    app.state = to;
    if (applicationListeners.size > 0) {
      const partner = await repo.partnerForApplication(app.id);
      const profile = opts.patch?.profile ?? app.profile;
      const change: ApplicationStatusChange = {
        applicationId: app.id,
        transitionId: transition.id,
        from,
        to,
        reasonCode: opts.reasonCode ?? null,
        partnerId: partner?.id ?? null,
        legalName: profile?.legalName ?? app.fastLane?.legalName ?? null,
        applicantEmail: app.origin === 'portal' ? app.applicantEmail : null,
        contacts: profile
          ? { business: profile.contacts.business.email, technical: profile.contacts.technical.email, security: profile.contacts.security.email }
          : null,
      };
      for (const listener of [...applicationListeners]) await listener(change);
    }
    return { to, transition };
  }

  async function insertDecision(d: Omit<DecisionRecord, 'id'>): Promise<DecisionRecord> {
    const rec = { ...d, id: randomUUID() };
    await repo.insertDecision(rec);
    return rec;
  }

  /** The partner an approved application becomes (same transaction as the approval). */
  async function createPartner(app: ApplicationRecord, conditions: Conditions | null, actor: ActorRecord, at: string, ip: string | null) {
    const profile = declared(app)!;
    const certs = await repo.currentCertificates(app.id);
    const qwac = certs.find((c) => c.kind === 'qwac') ?? null;
    const qseal = certs.find((c) => c.kind === 'qseal') ?? null;
    const partner: Omit<PartnerRecord, 'origin'> = {
      id: randomUUID(),
      applicationId: app.id,
      applicantId: app.applicantId,
      legalName: profile.legalName,
      status: 'active',
      allowedRoles: conditions ? [...conditions.allowedRoles] : [...profile.requestedRoles],
      statusReasonCode: null,
      statusReason: null,
      organizationIdentifier: qwac?.report.organizationIdentifier?.raw ?? null,
      qwacSha256: qwac?.sha256 ?? null,
      qsealSha256: qseal?.sha256 ?? null,
      approvedAt: at,
      updatedAt: at,
    };
    await repo.insertPartner(partner);
    await audit.record({
      actor: { type: actor.type, id: actor.id, label: actor.label },
      action: 'partner.created',
      subject: { type: 'partner', id: partner.id },
      data: { applicationId: app.id, allowedRoles: partner.allowedRoles, qwacSha256: partner.qwacSha256 },
      ip,
    });
    return partner;
  }

  // --- views --------------------------------------------------------------------------------------------

  function certificateSummary(c: CertificateRecord): CertificateSummary {
    return { id: c.id, kind: c.kind, uploadedAt: c.uploadedAt, sha256: c.sha256, report: c.report };
  }

  function evidenceSummary(e: EvidenceRecord): EvidenceSummary {
    return {
      id: e.id,
      questionId: e.questionId,
      fileName: e.fileName,
      mediaType: e.mediaType,
      size: e.size,
      sha256: e.sha256,
      uploadedAt: e.uploadedAt,
      verifiedAt: e.verifiedAt,
    };
  }

  function changeItem(c: ChangeItemRecord): ChangeItem {
    return {
      id: c.id,
      target: { ...c.target },
      message: c.message,
      status: c.status,
      response: c.response,
      respondedAt: c.respondedAt,
    };
  }

  /** Staff names are the bank's internal business: applicants see "the bank". */
  function actorLabel(a: ActorRecord, audience: Audience): string {
    if (audience === 'applicant' && a.type === 'staff') return 'Risk officer';
    return a.label;
  }

  function partnerView(p: PartnerRecord): PartnerView {
    return {
      id: p.id,
      applicationId: p.applicationId,
      legalName: p.legalName,
      status: p.status,
      allowedRoles: [...p.allowedRoles],
      statusReason: p.statusReason,
      statusReasonCode: p.statusReasonCode,
      approvedAt: p.approvedAt,
      organizationIdentifier: p.organizationIdentifier,
      qwacSha256: p.qwacSha256,
      origin: p.origin,
    };
  }

  function nextActionFor(
    app: ApplicationRecord,
    facts: { blockers: string[]; openItems: number; hasCertificates: boolean; incomplete: number },
  ): { holder: Holder; text: string } {
    const holder = HOLDER[app.state];
    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
    switch (app.state) {
      case 'draft':
        if (!app.profile || !facts.hasCertificates) return { holder, text: 'Complete your profile and upload certificates' };
        if (app.profile.track === 'partner' && facts.incomplete > 0) return { holder, text: 'Complete the security questionnaire' };
        if (facts.blockers.length > 0) return { holder, text: 'Fix the problems listed, then submit your application' };
        return { holder, text: 'Submit your application' };
      case 'submitted':
        return { holder, text: 'Waiting for a risk officer (usually within 2 working days)' };
      case 'under_review':
        return { holder, text: 'A risk officer is reviewing your application' };
      case 'changes_requested':
        if (facts.openItems > 0) return { holder, text: `Answer ${plural(facts.openItems, 'change request')}` };
        if (facts.blockers.length > 0) return { holder, text: 'Fix the problems listed, then resubmit your application' };
        return { holder, text: 'Resubmit your application' };
      case 'awaiting_second_approval':
        return { holder, text: 'Waiting for a second approver' };
      case 'approved':
        if (app.origin === 'registration_fast_lane') {
          return { holder, text: 'Approved by policy when the organisation registered a client (fast lane)' };
        }
        return { holder, text: 'Approved: your organisation can now register its software' };
      case 'conditionally_approved':
        return { holder, text: 'Approved with conditions: complete the remediation items by their due dates' };
      case 'rejected':
        return { holder, text: 'Rejected: the reason is in the timeline' };
      case 'withdrawn':
        return { holder, text: 'Withdrawn: you may start a new application' };
    }
  }

  async function buildView(app: ApplicationRecord, audience: Audience): Promise<ApplicationView> {
    const [certs, answers, evidence, transitions, items, decisions, partner] = await Promise.all([
      repo.currentCertificates(app.id),
      repo.answers(app.id),
      repo.listEvidence(app.id),
      repo.listTransitions(app.id),
      repo.listChangeItems(app.id),
      repo.listDecisions(app.id),
      repo.partnerForApplication(app.id),
    ]);
    const q = questionnaire(app.questionnaireVersion);
    const ctx = contextOfApp(app);
    const typedAnswers = answers as Answers;
    const states = evidenceStates(evidence);
    const questions: QuestionView[] = applicableQuestions(q, ctx, typedAnswers);
    const incomplete = incompleteItems(q, ctx, typedAnswers, states);
    const input = certInput(app.profile, certs);
    const consistency = consistencyFindings(input);
    const editable = EDITABLE_STATES.has(app.state);
    // While the applicant can still change things, show the register as it is now; afterwards, as submitted.
    const registerView = editable ? await registerCheckFor(app.profile) : app.register;
    const changeRequests = items.map(changeItem);
    const blockers = editable
      ? submissionBlockers({ ...input, consistency, incomplete, state: app.state, changeItems: changeRequests })
      : [];
    const itemsByTransition = new Map<string, ChangeItem[]>();
    for (const it of items) {
      const list = itemsByTransition.get(it.transitionId) ?? [];
      list.push(changeItem(it));
      itemsByTransition.set(it.transitionId, list);
    }
    const timeline: TimelineEntry[] = transitions.map((t) => ({
      at: t.at,
      from: t.from,
      to: t.to,
      actor: { type: t.actor.type, label: actorLabel(t.actor, audience) },
      holder: t.holder,
      reasonCode: t.reasonCode,
      text: t.text,
      items: itemsByTransition.get(t.id) ?? [],
    }));
    const decisionViews: Decision[] = decisions.map((d) => ({
      id: d.id,
      kind: d.kind,
      actor: {
        type: d.actor.type,
        id: audience === 'staff' ? d.actor.id : null,
        label: actorLabel(d.actor, audience),
      },
      at: d.at,
      policyVersion: d.policyVersion,
      riskTier: d.riskTier,
      reasonCode: d.reasonCode,
      text: d.text,
      conditions: d.conditions,
    }));
    const openItems = changeRequests.filter((i) => i.status === 'open').length;
    return {
      id: app.id,
      applicantId: app.applicantId,
      applicantEmail: app.applicantEmail,
      origin: app.origin,
      fastLane: app.fastLane,
      state: app.state,
      track: app.track,
      createdAt: app.createdAt,
      updatedAt: app.updatedAt,
      submittedAt: app.submittedAt,
      profile: app.profile,
      certificates: {
        qwac: certs.find((c) => c.kind === 'qwac') ? certificateSummary(certs.find((c) => c.kind === 'qwac')!) : null,
        qseal: certs.find((c) => c.kind === 'qseal') ? certificateSummary(certs.find((c) => c.kind === 'qseal')!) : null,
      },
      consistency,
      register: registerView,
      questionnaire: {
        version: app.questionnaireVersion,
        questions,
        answers: typedAnswers,
        evidence: evidence.map(evidenceSummary),
        incomplete,
      },
      score: app.score,
      riskTier: app.riskTier,
      timeline,
      changeRequests,
      decisions: decisionViews,
      nextAction: nextActionFor(app, {
        blockers,
        openItems,
        hasCertificates: certs.length === 2,
        incomplete: incomplete.length,
      }),
      blockers,
      reviewer: audience === 'staff' ? app.reviewer : null,
      firstApprover: audience === 'staff' ? app.firstApprover : null,
      conditions: app.conditions,
      partner: partner ? partnerView(partner) : null,
      autoApproval: app.autoApproval,
    };
  }

  async function listItem(app: ApplicationRecord): Promise<ApplicationListItem> {
    const openItems =
      app.state === 'changes_requested' ? (await repo.listChangeItems(app.id)).filter((i) => i.status === 'open').length : 0;
    const started = Date.parse(app.submittedAt ?? app.createdAt);
    const certs = app.state === 'draft' ? await repo.currentCertificates(app.id) : [];
    return {
      id: app.id,
      legalName: declared(app)?.legalName ?? null,
      applicantEmail: app.applicantEmail,
      origin: app.origin,
      state: app.state,
      track: app.track,
      riskTier: app.riskTier,
      submittedAt: app.submittedAt,
      updatedAt: app.updatedAt,
      ageDays: Math.max(0, Math.floor((now().getTime() - started) / DAY_MS)),
      nextAction: nextActionFor(app, {
        blockers: [],
        openItems,
        hasCertificates: app.state !== 'draft' || certs.length === 2,
        incomplete: 0,
      }),
    };
  }

  // --- shared pieces of submit / resubmit ---------------------------------------------------------------

  async function gather(app: ApplicationRecord) {
    const [certs, answers, evidence, items] = await Promise.all([
      repo.currentCertificates(app.id),
      repo.answers(app.id),
      repo.listEvidence(app.id),
      repo.listChangeItems(app.id),
    ]);
    const q = questionnaire(app.questionnaireVersion);
    const ctx = contextOf(app.profile);
    const states = evidenceStates(evidence);
    const typed = answers as Answers;
    const input = certInput(app.profile, certs);
    const consistency = consistencyFindings(input);
    const incomplete = incompleteItems(q, ctx, typed, states);
    const blockers = submissionBlockers({
      ...input,
      consistency,
      incomplete,
      state: app.state,
      changeItems: items.map(changeItem),
    });
    return { certs, q, ctx, states, answers: typed, input, consistency, blockers, evidence };
  }

  function score(q: Questionnaire, ctx: QuestionnaireContext, answers: Answers, states: Record<string, EvidenceState>): ScoreResult {
    return scoreQuestionnaire(q, ctx, answers, states, { now: now() });
  }

  function knockOutIds(s: ScoreResult | null): string[] {
    return (s?.knockOuts ?? []).map((k) => k.questionId);
  }

  /** Four eyes on the partner track for medium/high risk or knock-outs; always when conditions are attached. */
  function needsSecondApproval(app: ApplicationRecord, withConditions: boolean): boolean {
    if (withConditions) return true;
    if (app.track !== 'partner') return false;
    return app.riskTier !== 'low' || knockOutIds(app.score).length > 0;
  }

  async function assertCertificatesPass(app: ApplicationRecord): Promise<void> {
    const certs = await repo.currentCertificates(app.id);
    const problems: string[] = [];
    for (const kind of ['qwac', 'qseal'] as const) {
      const c = certs.find((x) => x.kind === kind);
      if (!c) problems.push(`There is no ${KIND_WORDS[kind]}.`);
      else if (c.report.verdict !== 'pass') problems.push(`The ${KIND_WORDS[kind]} does not pass validation.`);
    }
    if (problems.length > 0) throw checksFailed(problems);
  }

  // --- the service ---------------------------------------------------------------------------------------

  const service: PartnersService = {
    async createApplication(applicant) {
      if (applicant.kind !== 'applicant') throw new AppError('partners.applicant_only', 403, 'Only applicants can start an application.');
      const at = iso();
      const app: ApplicationRecord = {
        id: randomUUID(),
        applicantId: applicant.id,
        applicantEmail: applicant.label,
        origin: 'portal',
        fastLane: null,
        state: 'draft',
        track: null,
        profile: null,
        questionnaireVersion: CURRENT_QUESTIONNAIRE_VERSION,
        reviewer: null,
        firstApprover: null,
        score: null,
        riskTier: null,
        policyVersion: null,
        conditions: null,
        register: null,
        autoApproval: null,
        createdAt: at,
        updatedAt: at,
        submittedAt: null,
        decidedAt: null,
      };
      await tx.run(async () => {
        await repo.insertApplication(app);
        await repo.insertTransition({
          id: randomUUID(),
          applicationId: app.id,
          from: null,
          to: 'draft',
          event: 'create',
          actor: actorOf(applicant),
          holder: HOLDER.draft,
          reasonCode: null,
          text: null,
          at,
        });
        await record(applicant, 'application.created', { type: 'application', id: app.id }, {
          questionnaireVersion: app.questionnaireVersion,
        });
      });
      return buildView(app, 'applicant');
    },

    async listForApplicant(applicantId) {
      const apps = await repo.listApplications({ applicantId, origin: 'portal', order: 'newest' });
      return Promise.all(apps.map(listItem));
    },

    async getForApplicant(applicant, applicationId) {
      return buildView(await loadOwn(applicant, applicationId), 'applicant');
    },

    async saveProfile(applicant, applicationId, input) {
      assertEditable(await loadOwn(applicant, applicationId));
      const profile = parseProfile(input);
      const app = await tx.run(async () => {
        const fresh = await loadOwn(applicant, applicationId);
        assertEditable(fresh);
        const at = iso();
        await repo.updateApplication(fresh.id, { profile, track: profile.track, updatedAt: at });
        await record(applicant, 'application.profile.saved', { type: 'application', id: fresh.id }, {
          track: profile.track,
          requestedRoles: profile.requestedRoles,
          ncaId: profile.ncaId,
          authorisationNumber: profile.authorisationNumber,
        });
        return { ...fresh, profile, track: profile.track, updatedAt: at };
      });
      return buildView(app, 'applicant');
    },

    async uploadCertificate(applicant, applicationId, kind, file) {
      if (kind !== 'qwac' && kind !== 'qseal') throw new NotFoundError('No such certificate slot.');
      assertEditable(await loadOwn(applicant, applicationId));
      const { leaf, chain, report, password } = await readUploadedCertificate(kind, file);

      const app = await tx.run(async () => {
        const fresh = await loadOwn(applicant, applicationId);
        assertEditable(fresh);
        const at = iso();
        const rec = currentCertificateRecord(fresh.id, kind, { leaf, chain, report }, applicant, at);
        await repo.insertCertificate(rec);
        await repo.updateApplication(fresh.id, { updatedAt: at });
        await record(applicant, 'application.certificate.uploaded', { type: 'application', id: fresh.id }, {
          kind,
          certificateId: rec.id,
          sha256: rec.sha256,
          verdict: report.verdict,
          type: report.type,
          findings: report.findings.filter((f) => f.severity === 'error').map((f) => f.code),
          pkcs12: password !== undefined,
        });
        return { ...fresh, updatedAt: at };
      });
      return buildView(app, 'applicant');
    },

    async renewCertificate(applicant, applicationId, kind, file) {
      if (kind !== 'qwac' && kind !== 'qseal') throw new NotFoundError('No such certificate slot.');
      const before = await loadOwn(applicant, applicationId);
      if (before.state !== 'approved' && before.state !== 'conditionally_approved') throw renewalNotApproved(before.state);
      const { leaf, chain, report } = await readUploadedCertificate(kind, file);

      return tx.run(async () => {
        // Read again inside the transaction: an officer may have acted while the certificate was validated.
        const app = await loadOwn(applicant, applicationId);
        if (app.state !== 'approved' && app.state !== 'conditionally_approved') throw renewalNotApproved(app.state);
        const partner = await repo.partnerForApplication(app.id);
        const approvedSha = partner ? (kind === 'qwac' ? partner.qwacSha256 : partner.qsealSha256) : null;
        const current = approvedSha ? (await repo.currentCertificates(app.id)).find((c) => c.kind === kind && c.sha256 === approvedSha) : undefined;
        if (!partner || !current) throw nothingToRenew(kind);
        const refusal = renewalRefusal({ kind, current: current.report, renewed: report, allowedRoles: partner.allowedRoles });
        if (refusal) throw new RenewalRefusedError(refusal.code, refusal.message, refusal.fix, report);

        const at = iso();
        const rec = currentCertificateRecord(app.id, kind, { leaf, chain, report }, applicant, at);
        await repo.insertCertificate(rec);
        await repo.updatePartnerCertificate(partner.id, kind, rec.sha256, at);
        const summary = (r: CertificateReport) => ({ sha256: r.sha256, serialNumber: r.serialNumber, issuer: r.issuer, notAfter: r.notAfter });
        await record(applicant, 'partner.certificate.renewed', { type: 'partner', id: partner.id }, {
          applicationId: app.id,
          kind,
          certificateId: rec.id,
          previous: summary(current.report),
          renewed: summary(report),
          sameIssuingCa: (current.report.chain[1]?.spkiSha256 ?? null) === (report.chain[1]?.spkiSha256 ?? null),
        });
        return {
          kind,
          previous: { serialNumber: current.report.serialNumber, notAfter: current.report.notAfter },
          renewed: { serialNumber: report.serialNumber, notAfter: report.notAfter },
        };
      });
    },

    async saveAnswers(applicant, applicationId, form) {
      const before = await loadOwn(applicant, applicationId);
      assertEditable(before);
      const q = questionnaire(before.questionnaireVersion);
      const ctx = contextOf(before.profile);
      const current = (await repo.answers(before.id)) as Answers;
      const parsed = parseFormAnswers(q, ctx, form && typeof form === 'object' ? form : {}, current, { now: now() });
      const next = parsed.answers as Record<string, unknown>;
      const changed = [...new Set([...Object.keys(current), ...Object.keys(next)])].filter(
        (k) => JSON.stringify((current as Record<string, unknown>)[k]) !== JSON.stringify(next[k]),
      );
      let app = before;
      if (changed.length > 0) {
        app = await tx.run(async () => {
          const fresh = await loadOwn(applicant, applicationId);
          assertEditable(fresh);
          const at = iso();
          await repo.replaceAnswers(fresh.id, next, at);
          await repo.updateApplication(fresh.id, { updatedAt: at });
          await record(applicant, 'application.answers.saved', { type: 'application', id: fresh.id }, {
            questionIds: changed.sort(),
            questionnaireVersion: fresh.questionnaireVersion,
          });
          return { ...fresh, updatedAt: at };
        });
      }
      return { view: await buildView(app, 'applicant'), errors: errorMap(parsed.errors) };
    },

    async uploadEvidence(applicant, applicationId, questionId, file) {
      const before = await loadOwn(applicant, applicationId);
      assertEditable(before);
      const q = questionnaire(before.questionnaireVersion);
      const ctx = contextOf(before.profile);
      const answers = (await repo.answers(before.id)) as Answers;
      const question = applicableQuestions(q, ctx, answers).find((x) => x.id === questionId);
      if (!question || !question.evidence) {
        throw new InputError('This question takes no evidence file.', [
          { path: 'questionId', message: 'Choose a question of the questionnaire that asks for evidence.' },
        ]);
      }
      const existing = await repo.listEvidence(before.id);
      if (
        existing.filter((e) => e.questionId === questionId).length >= PARTNERS_LIMITS.evidencePerQuestion ||
        existing.length >= PARTNERS_LIMITS.evidencePerApplication
      ) {
        throw new InputError('Too many files.', [
          { path: 'file', message: `At most ${PARTNERS_LIMITS.evidencePerQuestion} files per question: remove one first.` },
        ]);
      }
      const limit = Math.min(question.evidence.maxBytes, EVIDENCE_MAX_BYTES);
      const bytes = file.bytes;
      if (bytes.length > limit) throw uploadTooLarge(limit);
      const accepted = question.evidence.accept;
      const sniffed = sniffMediaType(bytes);
      if (sniffed === null || !accepted.includes(sniffed) || disguised(file, sniffed)) throw uploadType(accepted);

      const fileName = sanitiseFileName(typeof file.originalName === 'string' ? file.originalName : '');
      const sha256 = sha256Hex(bytes);
      // The file first (slow, and not undoable by ROLLBACK), then the row; the file goes if the row does not.
      const storedName = await writeEvidenceFile(dataDir, before.id, bytes);
      try {
        const app = await tx.run(async () => {
          const fresh = await loadOwn(applicant, applicationId);
          assertEditable(fresh);
          const at = iso();
          const rec: EvidenceRecord = {
            id: randomUUID(),
            applicationId: fresh.id,
            questionId,
            storedName,
            fileName,
            mediaType: sniffed,
            size: bytes.length,
            sha256,
            uploadedAt: at,
            verifiedAt: null,
            verifiedBy: null,
          };
          await repo.insertEvidence(rec);
          await repo.updateApplication(fresh.id, { updatedAt: at });
          await record(applicant, 'application.evidence.uploaded', { type: 'application', id: fresh.id }, {
            evidenceId: rec.id,
            questionId,
            fileName,
            mediaType: sniffed,
            size: rec.size,
            sha256,
          });
          return { ...fresh, updatedAt: at };
        });
        return buildView(app, 'applicant');
      } catch (err) {
        await removeEvidenceFile(dataDir, before.id, storedName).catch((e: unknown) =>
          logger.error({ err: e, applicationId: before.id }, 'could not remove an orphaned evidence file'),
        );
        throw err;
      }
    },

    async removeEvidence(applicant, applicationId, evidenceId) {
      assertEditable(await loadOwn(applicant, applicationId));
      const { app, removed } = await tx.run(async () => {
        const fresh = await loadOwn(applicant, applicationId);
        assertEditable(fresh);
        const ev = typeof evidenceId === 'string' ? await repo.getEvidence(fresh.id, evidenceId) : null;
        if (!ev) throw new NotFoundError('No such evidence file.');
        const at = iso();
        await repo.deleteEvidence(fresh.id, ev.id);
        await repo.updateApplication(fresh.id, { updatedAt: at });
        await record(applicant, 'application.evidence.removed', { type: 'application', id: fresh.id }, {
          evidenceId: ev.id,
          questionId: ev.questionId,
          sha256: ev.sha256,
        });
        return { app: { ...fresh, updatedAt: at }, removed: ev };
      });
      // After the commit: a crash here leaves an unreferenced file, never a row without its file.
      await removeEvidenceFile(dataDir, app.id, removed.storedName).catch((err: unknown) =>
        logger.error({ err, applicationId: app.id }, 'could not remove an evidence file'),
      );
      return buildView(app, 'applicant');
    },

    async submit(applicant, applicationId) {
      const before = await loadOwn(applicant, applicationId);
      nextState(before.state, 'submit');
      const registerResult = await registerCheckFor(before.profile);
      const app = await tx.run(async () => {
        const fresh = await loadOwn(applicant, applicationId);
        nextState(fresh.state, 'submit');
        const g = await gather(fresh);
        if (g.blockers.length > 0) throw new SubmissionBlockedError(g.blockers);
        const profile = fresh.profile!;
        const at = iso();
        const s = score(g.q, g.ctx, g.answers, g.states);
        let auto: AutoApprovalRecord | null = null;
        if (profile.track === 'regulated') {
          const checks = autoApprovalChecks({ ...g.input, consistency: g.consistency, register: registerResult });
          auto = { policyVersion: AUTO_APPROVAL_POLICY_VERSION, at, passed: checks.every((c) => c.ok), checks };
        }
        const failed = auto && !auto.passed ? auto.checks.filter((c) => !c.ok) : [];
        await move(fresh, 'submit', actorOf(applicant), {
          at,
          reasonCode: failed.length > 0 ? 'AUTO_APPROVAL_NOT_MET' : null,
          text: failed.length > 0 ? `Not approved automatically: ${failed.map((c) => c.message).join(' ')}` : null,
          patch: {
            submittedAt: at,
            score: s,
            riskTier: s.tier,
            policyVersion: s.policyVersion,
            register: registerResult,
            autoApproval: auto,
          },
        });
        await record(applicant, 'application.submitted', { type: 'application', id: fresh.id }, {
          track: profile.track,
          score: s.overall,
          riskTier: s.tier,
          policyVersion: s.policyVersion,
          questionnaireVersion: s.questionnaireVersion,
          knockOuts: knockOutIds(s),
          registerStatus: registerResult?.status ?? null,
          autoApproval: auto ? { passed: auto.passed, failed: failed.map((c) => c.name) } : null,
        });
        if (auto?.passed) {
          await move(fresh, 'auto_approve', SYSTEM_ACTOR, {
            at,
            text: 'All automatic checks passed: certificates, consistency, NCA register and services.',
            patch: { decidedAt: at },
          });
          await insertDecision({
            applicationId: fresh.id,
            partnerId: null,
            kind: 'auto_approve',
            actor: SYSTEM_ACTOR,
            at,
            policyVersion: AUTO_APPROVAL_POLICY_VERSION,
            riskTier: null,
            reasonCode: null,
            text: auto.checks.map((c) => c.message).join(' '),
            conditions: null,
          });
          await record(SYSTEM_ACTOR, 'application.auto_approved', { type: 'application', id: fresh.id }, {
            policyVersion: AUTO_APPROVAL_POLICY_VERSION,
            checks: auto.checks.map((c) => c.name),
          });
          await createPartner(fresh, null, SYSTEM_ACTOR, at, null);
        }
        return (await repo.getApplication(fresh.id))!;
      });
      return buildView(app, 'applicant');
    },

    async respondToChange(applicant, applicationId, itemId, response) {
      const text = boundedText(response, 'response', { required: true });
      const app = await tx.run(async () => {
        const fresh = await loadOwn(applicant, applicationId);
        if (fresh.state !== 'changes_requested') throw notEditable(fresh.state);
        // Only the items of the latest request are open to answers; earlier rounds are closed history.
        const latest = (await repo.listTransitions(fresh.id)).filter((t) => t.event === 'request_changes').at(-1);
        const item = (await repo.listChangeItems(fresh.id)).find((i) => i.id === itemId && i.transitionId === latest?.id);
        if (!item) throw new NotFoundError('No such change request.');
        const at = iso();
        await repo.answerChangeItem(fresh.id, item.id, text!, at);
        await repo.updateApplication(fresh.id, { updatedAt: at });
        await record(applicant, 'application.change.answered', { type: 'application', id: fresh.id }, {
          itemId: item.id,
          target: item.target,
        });
        return { ...fresh, updatedAt: at };
      });
      return buildView(app, 'applicant');
    },

    async resubmit(applicant, applicationId) {
      const before = await loadOwn(applicant, applicationId);
      nextState(before.state, 'resubmit');
      const registerResult = await registerCheckFor(before.profile);
      const app = await tx.run(async () => {
        const fresh = await loadOwn(applicant, applicationId);
        nextState(fresh.state, 'resubmit');
        const g = await gather(fresh);
        if (g.blockers.length > 0) throw new SubmissionBlockedError(g.blockers);
        const at = iso();
        const s = score(g.q, g.ctx, g.answers, g.states);
        await move(fresh, 'resubmit', actorOf(applicant), {
          at,
          patch: { score: s, riskTier: s.tier, policyVersion: s.policyVersion, register: registerResult },
        });
        await record(applicant, 'application.resubmitted', { type: 'application', id: fresh.id }, {
          score: s.overall,
          riskTier: s.tier,
          policyVersion: s.policyVersion,
          knockOuts: knockOutIds(s),
          registerStatus: registerResult?.status ?? null,
        });
        return (await repo.getApplication(fresh.id))!;
      });
      return buildView(app, 'applicant');
    },

    async withdraw(applicant, applicationId, reason) {
      const text = boundedText(reason, 'reason', { required: false });
      const app = await tx.run(async () => {
        const fresh = await loadOwn(applicant, applicationId);
        const at = iso();
        await move(fresh, 'withdraw', actorOf(applicant), { at, text, patch: { decidedAt: at } });
        await record(applicant, 'application.withdrawn', { type: 'application', id: fresh.id }, { reason: text });
        return (await repo.getApplication(fresh.id))!;
      });
      return buildView(app, 'applicant');
    },

    async evidenceFile(actor, applicationId, evidenceId) {
      const app = actor.kind === 'staff' ? (requireStaff(actor), await loadAny(applicationId)) : await loadOwn(actor, applicationId);
      const ev = typeof evidenceId === 'string' ? await repo.getEvidence(app.id, evidenceId) : null;
      if (!ev) throw new NotFoundError('No such evidence file.');
      return {
        path: evidencePath(dataDir, app.id, ev.storedName),
        fileName: ev.fileName,
        mediaType: ev.mediaType,
        size: ev.size,
        sha256: ev.sha256,
      };
    },

    // --- staff -----------------------------------------------------------------------------------------

    async queue(staff, filter) {
      requireStaff(staff);
      const f = filter ?? {};
      const minAge = typeof f.minAgeDays === 'number' && Number.isFinite(f.minAgeDays) && f.minAgeDays > 0 ? f.minAgeDays : 0;
      const apps = await repo.listApplications({
        // Drafts are the applicant's work in progress, not the bank's business yet.
        states: f.state ? [f.state] : ['submitted', 'under_review', 'changes_requested', 'awaiting_second_approval', 'approved', 'conditionally_approved', 'rejected', 'withdrawn'],
        ...(f.track ? { track: f.track } : {}),
        ...(f.riskTier ? { riskTier: f.riskTier } : {}),
        ...(minAge > 0 ? { startedBefore: new Date(now().getTime() - minAge * DAY_MS).toISOString() } : {}),
        order: 'oldest',
      });
      return Promise.all(apps.map(listItem));
    },

    async getForStaff(staff, applicationId) {
      requireStaff(staff);
      return buildView(await loadAny(applicationId), 'staff');
    },

    async startReview(staff, applicationId) {
      requireStaff(staff, ['reviewer', 'approver'], 'review applications');
      const app = await tx.run(async () => {
        const fresh = await loadAny(applicationId);
        const at = iso();
        await move(fresh, 'start_review', actorOf(staff), {
          at,
          patch: { reviewer: { id: staff.id, label: staff.label } },
        });
        await record(staff, 'application.review_started', { type: 'application', id: fresh.id }, { reviewerId: staff.id });
        return (await repo.getApplication(fresh.id))!;
      });
      return buildView(app, 'staff');
    },

    async requestChanges(staff, applicationId, input) {
      requireStaff(staff, ['reviewer', 'approver'], 'request changes');
      const text = boundedText(input?.text, 'text', { required: false });
      const app = await tx.run(async () => {
        const fresh = await loadAny(applicationId);
        nextState(fresh.state, 'request_changes');
        const items = await validateChangeItems(fresh, input?.items);
        const at = iso();
        const actor = actorOf(staff);
        const { transition } = await move(fresh, 'request_changes', actor, { at, text });
        const records: ChangeItemRecord[] = items.map((it, i) => ({
          id: randomUUID(),
          applicationId: fresh.id,
          transitionId: transition.id,
          seq: i + 1,
          target: it.target,
          message: it.message,
          status: 'open',
          response: null,
          respondedAt: null,
          createdAt: at,
        }));
        for (const r of records) await repo.insertChangeItem(r);
        await insertDecision({
          applicationId: fresh.id,
          partnerId: null,
          kind: 'request_changes',
          actor,
          at,
          policyVersion: fresh.policyVersion ?? fresh.score?.policyVersion ?? 'none',
          riskTier: fresh.riskTier,
          reasonCode: null,
          text,
          conditions: null,
        });
        await record(staff, 'application.changes_requested', { type: 'application', id: fresh.id }, {
          items: records.map((r) => ({ id: r.id, target: r.target })),
        });
        return (await repo.getApplication(fresh.id))!;
      });
      return buildView(app, 'staff');
    },

    async approve(staff, applicationId, input) {
      requireStaff(staff, ['approver'], 'approve applications');
      const text = boundedText(input?.text, 'text', { required: false });
      const app = await tx.run(async () => {
        const fresh = await loadAny(applicationId);
        const second = needsSecondApproval(fresh, false);
        nextState(fresh.state, 'approve', { secondApproval: second });
        await assertCertificatesPass(fresh);
        const kos = fresh.track === 'partner' ? knockOutIds(fresh.score) : [];
        if (kos.length > 0 && text === null) throw knockoutNeedsAcceptance(kos);
        return firstApproval(fresh, staff, { kind: 'approve', text, conditions: null, second, knockOuts: kos });
      });
      return buildView(app, 'staff');
    },

    async approveWithConditions(staff, applicationId, input) {
      requireStaff(staff, ['approver'], 'approve applications');
      const text = boundedText(input?.text, 'text', { required: false });
      const app = await tx.run(async () => {
        const fresh = await loadAny(applicationId);
        const second = needsSecondApproval(fresh, true);
        nextState(fresh.state, 'approve_with_conditions', { secondApproval: second });
        const conditions = validateConditions(fresh, input);
        await assertCertificatesPass(fresh);
        const kos = fresh.track === 'partner' ? knockOutIds(fresh.score) : [];
        if (kos.length > 0 && text === null) throw knockoutNeedsAcceptance(kos);
        return firstApproval(fresh, staff, { kind: 'approve_with_conditions', text, conditions, second, knockOuts: kos });
      });
      return buildView(app, 'staff');
    },

    async secondApprove(staff, applicationId, input) {
      requireStaff(staff, ['approver'], 'approve applications');
      const text = boundedText(input?.text, 'text', { required: false });
      const app = await tx.run(async () => {
        const fresh = await loadAny(applicationId);
        const conditions = fresh.conditions;
        nextState(fresh.state, 'second_approve', { conditions: conditions !== null });
        if (staff.id === fresh.reviewer?.id || staff.id === fresh.firstApprover?.id) throw fourEyes();
        await assertCertificatesPass(fresh);
        const at = iso();
        const actor = actorOf(staff);
        const { to } = await move(fresh, 'second_approve', actor, {
          at,
          facts: { conditions: conditions !== null },
          text,
          patch: { decidedAt: at },
        });
        await insertDecision({
          applicationId: fresh.id,
          partnerId: null,
          kind: 'second_approval',
          actor,
          at,
          policyVersion: fresh.policyVersion ?? 'none',
          riskTier: fresh.riskTier,
          reasonCode: null,
          text,
          conditions,
        });
        await record(staff, to === 'approved' ? 'application.approved' : 'application.conditionally_approved', {
          type: 'application',
          id: fresh.id,
        }, {
          secondApproval: true,
          firstApproverId: fresh.firstApprover?.id ?? null,
          riskTier: fresh.riskTier,
          policyVersion: fresh.policyVersion,
          conditions: conditions ? { allowedRoles: conditions.allowedRoles, remediation: conditions.remediation.length } : null,
        });
        await createPartner(fresh, conditions, actor, at, staff.ip ?? null);
        return (await repo.getApplication(fresh.id))!;
      });
      return buildView(app, 'staff');
    },

    async reject(staff, applicationId, input) {
      requireStaff(staff, ['approver'], 'reject applications');
      const reasonCode = typeof input?.reasonCode === 'string' ? input.reasonCode : '';
      if (!REJECTION_REASONS.some((r) => r.code === reasonCode)) {
        throw new InputError('Choose a reason.', [{ path: 'reasonCode', message: 'Choose one of the listed reasons.' }]);
      }
      const text = boundedText(input?.text, 'text', { required: true });
      const app = await tx.run(async () => {
        const fresh = await loadAny(applicationId);
        const at = iso();
        const actor = actorOf(staff);
        await move(fresh, 'reject', actor, { at, reasonCode, text, patch: { decidedAt: at } });
        await insertDecision({
          applicationId: fresh.id,
          partnerId: null,
          kind: 'reject',
          actor,
          at,
          policyVersion: fresh.policyVersion ?? 'none',
          riskTier: fresh.riskTier,
          reasonCode,
          text,
          conditions: null,
        });
        await record(staff, 'application.rejected', { type: 'application', id: fresh.id }, { reasonCode });
        return (await repo.getApplication(fresh.id))!;
      });
      return buildView(app, 'staff');
    },

    async suspendPartner(staff, partnerId, input) {
      requireStaff(staff, ['approver'], 'suspend partners');
      const reasonCode = typeof input?.reasonCode === 'string' ? input.reasonCode : '';
      if (!SUSPENSION_REASONS.some((r) => r.code === reasonCode)) {
        throw new InputError('Choose a reason.', [{ path: 'reasonCode', message: 'Choose one of the listed reasons.' }]);
      }
      const text = boundedText(input?.text, 'text', { required: true });
      return changePartner(actorOf(staff), staff.ip ?? null, partnerId, 'suspend', reasonCode, text!);
    },

    async reinstatePartner(staff, partnerId, input) {
      requireStaff(staff, ['approver'], 'reinstate partners');
      const text = boundedText(input?.text, 'text', { required: true });
      return changePartner(actorOf(staff), staff.ip ?? null, partnerId, 'reinstate', null, text!, { singleOfficer: true });
    },

    async listPartners(staff) {
      requireStaff(staff);
      return (await repo.listPartners()).map(partnerView);
    },

    async verifyEvidence(staff, applicationId, evidenceId) {
      requireStaff(staff, ['reviewer', 'approver'], 'verify evidence');
      const app = await tx.run(async () => {
        const fresh = await loadAny(applicationId);
        if (fresh.state !== 'under_review') {
          throw new AppError('partners.not_in_review', 409, 'Evidence can be verified only while the application is under review.');
        }
        const ev = typeof evidenceId === 'string' ? await repo.getEvidence(fresh.id, evidenceId) : null;
        if (!ev) throw new NotFoundError('No such evidence file.');
        const at = iso();
        if (ev.verifiedAt === null) await repo.markEvidenceVerified(fresh.id, ev.id, staff.id, at);
        // The score rests on evidence states: recompute it so the decision uses what the reviewer saw.
        const g = await gather(fresh);
        const s = score(g.q, g.ctx, g.answers, g.states);
        await repo.updateApplication(fresh.id, { score: s, riskTier: s.tier, policyVersion: s.policyVersion, updatedAt: at });
        await record(staff, 'application.evidence.verified', { type: 'application', id: fresh.id }, {
          evidenceId: ev.id,
          questionId: ev.questionId,
          sha256: ev.sha256,
          score: s.overall,
          riskTier: s.tier,
        });
        return (await repo.getApplication(fresh.id))!;
      });
      return buildView(app, 'staff');
    },

    // --- system ----------------------------------------------------------------------------------------

    async getPartner(partnerId) {
      const p = await loadPartner(partnerId);
      return p ? partnerView(p) : null;
    },

    async partnerForOrganization(organizationIdentifier) {
      if (typeof organizationIdentifier !== 'string' || organizationIdentifier === '' || organizationIdentifier.length > 200) return null;
      const p = await repo.partnerForOrganization(organizationIdentifier);
      return p ? partnerView(p) : null;
    },

    onApplicationStatusChange(listener) {
      const entry: ApplicationStatusListener = (change) => listener(change);
      applicationListeners.add(entry);
      return () => {
        applicationListeners.delete(entry);
      };
    },

    onPartnerStatusChange(listener) {
      // A wrapper per call: the same function registered twice is two subscriptions, each removed once.
      const entry: PartnerStatusListener = (change) => listener(change);
      statusListeners.add(entry);
      return () => {
        statusListeners.delete(entry);
      };
    },

    async suspendPartnerAutomatically(partnerId, input) {
      const reasonCode = typeof input?.reasonCode === 'string' ? input.reasonCode : '';
      if (!SUSPENSION_REASONS.some((r) => r.code === reasonCode)) {
        throw new InputError('Unknown suspension reason.', [{ path: 'reasonCode', message: 'Use a code of SUSPENSION_REASONS.' }]);
      }
      const text = boundedText(input?.text, 'text', { required: true });
      const source = boundedText(input?.source, 'source', { required: true, max: 200 });
      return changePartner({ type: 'system', id: null, label: source! }, null, partnerId, 'suspend', reasonCode, text!, {
        automatic: { source: source! },
      });
    },

    async registerRegulatedPartner(input) {
      return registerFastLane(input);
    },

    // --- lifecycle monitor (system) ---------------------------------------------------------------------

    async monitoredPartners() {
      const out: MonitoredPartner[] = [];
      for (const p of await repo.listPartners()) {
        const app = await repo.getApplication(p.applicationId);
        if (!app) continue;
        const current = await repo.currentCertificates(app.id);
        const certificates: MonitoredPartner['certificates'] = [];
        for (const [kind, sha256] of [['qwac', p.qwacSha256], ['qseal', p.qsealSha256]] as const) {
          const c = sha256 ? current.find((x) => x.kind === kind && x.sha256 === sha256) : undefined;
          if (c) certificates.push({ kind, sha256: c.sha256, ders: [c.der, ...c.chain] });
        }
        const oi = current.find((x) => x.kind === 'qwac' && x.sha256 === p.qwacSha256)?.report.organizationIdentifier ?? null;
        const registerKey =
          oi && oi.scheme === 'PSD' && oi.nca
            ? { ncaId: `${oi.country}-${oi.nca}`, authorisationNumber: oi.authorisationNumber }
            : app.profile?.ncaId && app.profile.authorisationNumber
              ? { ncaId: app.profile.ncaId, authorisationNumber: app.profile.authorisationNumber }
              : null;
        const contacts = app.profile?.contacts;
        out.push({
          partner: partnerView(p),
          applicationState: app.state,
          certificates,
          registerKey,
          registerAtApproval: app.register?.entry ?? null,
          contacts: {
            business: contacts?.business.email ?? null,
            technical: contacts?.technical.email ?? null,
            security: contacts?.security.email ?? null,
          },
          suspension: p.status === 'suspended' ? await lastSuspension(p) : null,
        });
      }
      return out;
    },

    async narrowAllowedRoles(partnerId, input) {
      const raw: unknown[] = Array.isArray(input?.remove) ? input.remove : [];
      const remove = REQUESTED_ROLES.filter((r) => raw.includes(r));
      if (remove.length === 0 || remove.length !== new Set(raw).size) {
        throw new InputError('Name the roles to remove.', [{ path: 'remove', message: `Use one or more of ${REQUESTED_ROLES.join(', ')}.` }]);
      }
      const text = boundedText(input?.text, 'text', { required: true });
      const source = boundedText(input?.source, 'source', { required: true, max: 200 });
      return tx.run(async () => {
        const partner = await loadPartner(partnerId);
        if (!partner) throw new NotFoundError('No such partner.');
        const removed = partner.allowedRoles.filter((r) => remove.includes(r));
        // Idempotent like the automatic suspension: a second report of the same register change records nothing.
        if (removed.length === 0) return partnerView(partner);
        const allowedRoles = partner.allowedRoles.filter((r) => !remove.includes(r));
        const at = iso();
        await repo.updatePartnerRoles(partner.id, allowedRoles, at);
        const actor: Actor = { type: 'system', id: null, label: source! };
        await audit.record({
          actor,
          action: 'partner.roles.narrowed',
          subject: { type: 'partner', id: partner.id },
          data: {
            applicationId: partner.applicationId,
            previous: [...partner.allowedRoles],
            allowedRoles,
            removed,
            text: text!,
            ...(input.evidence ? { evidence: input.evidence } : {}),
          },
        });
        const change = { partnerId: partner.id, allowedRoles, previous: [...partner.allowedRoles], removed, actor };
        for (const listener of [...rolesListeners]) {
          await listener({ ...change, allowedRoles: [...allowedRoles], previous: [...change.previous], removed: [...removed], actor: { ...actor } });
        }
        return partnerView((await repo.getPartner(partner.id))!);
      });
    },

    onPartnerRolesChange(listener) {
      const entry: PartnerRolesListener = (change) => listener(change);
      rolesListeners.add(entry);
      return () => {
        rolesListeners.delete(entry);
      };
    },

    async reinstateWithSecondApproval(proposal, approver, partnerId, input) {
      requireStaff(approver, ['approver'], 'approve a reinstatement');
      const by = proposal?.by;
      if (!by || by.kind !== 'staff') throw staffOnly();
      requireStaff(by, ['reviewer', 'approver'], 'propose a reinstatement');
      if (by.id === approver.id) {
        throw new ForbiddenError('partners.four_eyes', 'The reinstatement must be approved by a different officer than the one who proposed it.');
      }
      const proposed = boundedText(proposal.text, 'proposal', { required: true });
      const text = boundedText(input?.text, 'text', { required: true });
      return changePartner(actorOf(approver), approver.ip ?? null, partnerId, 'reinstate', null, text!, {
        fourEyes: { proposedBy: { id: by.id, label: by.label }, proposedAt: String(proposal.at), proposal: proposed! },
      });
    },
  };

  // --- the regulated fast lane ---------------------------------------------------------------------------

  /**
   * The regulated track's automatic approval, for a TPP that registers a client before (or instead of)
   * applying: the same certificate and register policy, with the QWAC as the only source of facts. All
   * checks run before the transaction (the register look-up included); the transaction writes the
   * application, its certificate, timeline, decision, the partner and the audit events together.
   */
  async function registerFastLane(input: FastLaneInput): Promise<PartnerView> {
    const facts = fastLaneFacts(input);
    const certChecks = FAST_LANE_CERTIFICATE_CHECKS.map((check) => check(facts));
    const oi = facts.oi;
    const certOk = certChecks.every((c) => c.ok);
    if (certOk && oi) {
      const existing = await repo.partnerForOrganization(oi.raw);
      if (existing) return partnerView(existing);
    }
    const register = oi && facts.ncaId && facts.legalName !== null ? await fastLaneRegisterCheck(oi, facts) : null;
    const checks = [...certChecks, ...FAST_LANE_REGISTER_CHECKS.map((check) => check({ register }))];
    const failed = checks.filter((c) => !c.ok);
    if (failed.length > 0 || !oi || facts.ncaId === null || facts.legalName === null || facts.leaf === null) {
      throw new FastLaneRefusedError(
        failed,
        `fast lane refused: ${failed.map((c) => c.name).join(', ')}; organizationIdentifier ${oi?.raw ?? '-'}; sha256 ${facts.report?.sha256 ?? '-'}`,
      );
    }
    const report = facts.report!;
    const leaf = facts.leaf;
    const ip = facts.ip;
    const ncaId = facts.ncaId;
    const legalName = facts.legalName;

    return tx.run(async () => {
      // Two registrations of one organisation at once: the second finds the first one's partner here.
      const raced = await repo.partnerForOrganization(oi.raw);
      if (raced) return partnerView(raced);
      const at = iso();
      const fastLane: FastLaneFacts = {
        legalName,
        country: oi.country,
        ncaId,
        authorisationNumber: oi.authorisationNumber,
        organizationIdentifier: oi.raw,
        requestedRoles: [...facts.roles],
        contacts: null,
        ip,
        registeredAt: at,
      };
      const autoApproval: AutoApprovalRecord = { policyVersion: FAST_LANE_POLICY_VERSION, at, passed: true, checks };
      const app: ApplicationRecord = {
        id: randomUUID(),
        applicantId: FAST_LANE_APPLICANT.id,
        applicantEmail: FAST_LANE_APPLICANT.email,
        origin: 'registration_fast_lane',
        fastLane,
        state: 'submitted',
        track: 'regulated',
        profile: null,
        questionnaireVersion: CURRENT_QUESTIONNAIRE_VERSION,
        reviewer: null,
        firstApprover: null,
        score: null,
        riskTier: null,
        policyVersion: null,
        conditions: null,
        register,
        autoApproval,
        createdAt: at,
        updatedAt: at,
        submittedAt: at,
        decidedAt: null,
      };
      await repo.insertApplication(app);
      await repo.insertCertificate({
        id: randomUUID(),
        applicationId: app.id,
        kind: 'qwac',
        der: leaf,
        chain: facts.chain,
        sha256: report.sha256,
        report,
        current: true,
        uploadedAt: at,
        uploadedBy: FAST_LANE_APPLICANT.id,
      });
      await repo.insertTransition({
        id: randomUUID(),
        applicationId: app.id,
        from: null,
        to: 'submitted',
        event: 'fast_lane_register',
        actor: FAST_LANE_SOURCE_ACTOR,
        holder: HOLDER.submitted,
        reasonCode: null,
        text:
          `Created by the fast lane: the QWAC of ${oi.raw} was presented at client registration` +
          `${ip ? ` from ${ip}` : ''}, without a portal application. No profile, contacts or questionnaire were provided.`,
        at,
      });
      await audit.record({
        actor: FAST_LANE_SOURCE_ACTOR,
        action: 'application.submitted',
        subject: { type: 'application', id: app.id },
        data: {
          origin: app.origin,
          track: 'regulated',
          organizationIdentifier: oi.raw,
          requestedRoles: fastLane.requestedRoles,
          qwacSha256: report.sha256,
          registerStatus: register?.status ?? null,
          autoApproval: { passed: true, failed: [] },
        },
        ip,
      });
      await move(app, 'auto_approve', FAST_LANE_POLICY_ACTOR, {
        at,
        text: 'All fast-lane checks passed: certificate, organizationIdentifier, PSD2 roles, NCA register and services.',
        patch: { decidedAt: at },
      });
      await insertDecision({
        applicationId: app.id,
        partnerId: null,
        kind: 'auto_approve',
        actor: FAST_LANE_POLICY_ACTOR,
        at,
        policyVersion: FAST_LANE_POLICY_VERSION,
        riskTier: null,
        reasonCode: null,
        text: checks.map((c) => c.message).join(' '),
        conditions: null,
      });
      await record(FAST_LANE_POLICY_ACTOR, 'application.auto_approved', { type: 'application', id: app.id }, {
        policyVersion: FAST_LANE_POLICY_VERSION,
        checks: checks.map((c) => c.name),
      });
      const partner = await createPartner(app, null, FAST_LANE_POLICY_ACTOR, at, ip);
      await audit.record({
        actor: FAST_LANE_POLICY_ACTOR,
        action: 'partner.fast_lane.created',
        subject: { type: 'partner', id: partner.id },
        data: {
          applicationId: app.id,
          organizationIdentifier: oi.raw,
          allowedRoles: partner.allowedRoles,
          qwacSha256: report.sha256,
          policyVersion: FAST_LANE_POLICY_VERSION,
          registerSnapshot: register?.snapshot?.sha256 ?? null,
        },
        ip,
      });
      return partnerView((await repo.getPartner(partner.id))!);
    });
  }

  async function fastLaneRegisterCheck(oi: OrganizationIdentifier, facts: FastLaneContext): Promise<RegisterCheck | null> {
    try {
      return await register.check({
        ncaId: facts.ncaId!,
        authorisationNumber: oi.authorisationNumber,
        legalName: facts.legalName!,
        country: oi.country,
        roles: [...facts.roles],
      });
    } catch (err) {
      // As for auto-approval: a failing look-up only rules out approval by policy.
      logger.warn({ err }, 'register check failed (fast lane)');
      return null;
    }
  }

  async function firstApproval(
    app: ApplicationRecord,
    staff: ActorRef,
    opts: {
      kind: 'approve' | 'approve_with_conditions';
      text: string | null;
      conditions: Conditions | null;
      second: boolean;
      knockOuts: string[];
    },
  ): Promise<ApplicationRecord> {
    const at = iso();
    const actor = actorOf(staff);
    const { to } = await move(app, opts.kind, actor, {
      at,
      facts: { secondApproval: opts.second },
      reasonCode: opts.knockOuts.length > 0 ? 'RISK_ACCEPTED' : null,
      text: opts.text,
      patch: {
        firstApprover: { id: staff.id, label: staff.label },
        conditions: opts.conditions,
        ...(opts.second ? {} : { decidedAt: at }),
      },
    });
    await insertDecision({
      applicationId: app.id,
      partnerId: null,
      kind: opts.kind,
      actor,
      at,
      policyVersion: app.policyVersion ?? 'none',
      riskTier: app.riskTier,
      reasonCode: opts.knockOuts.length > 0 ? 'RISK_ACCEPTED' : null,
      text: opts.text,
      conditions: opts.conditions,
    });
    const data = {
      riskTier: app.riskTier,
      policyVersion: app.policyVersion,
      knockOutsAccepted: opts.knockOuts,
      conditions: opts.conditions
        ? { allowedRoles: opts.conditions.allowedRoles, remediation: opts.conditions.remediation.length }
        : null,
    };
    if (to === 'awaiting_second_approval') {
      await record(staff, 'application.first_approval', { type: 'application', id: app.id }, data);
    } else {
      await record(staff, to === 'approved' ? 'application.approved' : 'application.conditionally_approved', {
        type: 'application',
        id: app.id,
      }, { ...data, secondApproval: false });
      await createPartner({ ...app, conditions: opts.conditions }, opts.conditions, actor, at, staff.ip ?? null);
    }
    return (await repo.getApplication(app.id))!;
  }

  async function changePartner(
    actor: ActorRecord,
    ip: string | null,
    partnerId: string,
    event: 'suspend' | 'reinstate',
    reasonCode: string | null,
    text: string,
    opts: {
      automatic?: { source: string };
      /** One officer's reinstatement: refused when the suspension was automatic (reinstateWithSecondApproval). */
      singleOfficer?: boolean;
      fourEyes?: { proposedBy: { id: string; label: string }; proposedAt: string; proposal: string };
    } = {},
  ): Promise<PartnerView> {
    return tx.run(async () => {
      const partner = await loadPartner(partnerId);
      if (!partner) throw new NotFoundError('No such partner.');
      // Automatic suspension is idempotent: a second report of the same revoked certificate changes nothing.
      if (opts.automatic && event === 'suspend' && partner.status === 'suspended') return partnerView(partner);
      const status = nextPartnerStatus(partner.status, event);
      if (opts.singleOfficer && (await lastSuspension(partner))?.automatic) throw secondOfficerRequired();
      const at = iso();
      await repo.updatePartner(partner.id, {
        status,
        statusReasonCode: reasonCode,
        statusReason: text,
        updatedAt: at,
      });
      const app = await repo.getApplication(partner.applicationId);
      await insertDecision({
        applicationId: partner.applicationId,
        partnerId: partner.id,
        kind: event,
        actor,
        at,
        policyVersion: app?.policyVersion ?? 'none',
        riskTier: app?.riskTier ?? null,
        reasonCode,
        text,
        conditions: null,
      });
      await audit.record({
        actor: { type: actor.type, id: actor.id, label: actor.label },
        action: event === 'suspend' ? 'partner.suspended' : 'partner.reinstated',
        subject: { type: 'partner', id: partner.id },
        data: {
          applicationId: partner.applicationId,
          reasonCode,
          ...(opts.automatic ? { automatic: true, source: opts.automatic.source } : {}),
          ...(opts.fourEyes ? { fourEyes: opts.fourEyes } : {}),
        },
        ip,
      });
      // Last, in the same transaction: what listeners write (revoked grants) commits with the change, and a
      // listener that throws undoes it.
      const change: PartnerStatusChange = {
        partnerId: partner.id,
        status,
        previous: partner.status,
        reasonCode,
        actor: { type: actor.type, id: actor.id, label: actor.label },
      };
      for (const listener of [...statusListeners]) await listener({ ...change, actor: { ...change.actor } });
      return partnerView((await repo.getPartner(partner.id))!);
    });
  }

  /** The partner's last suspension decision; null when it was never suspended. */
  async function lastSuspension(p: PartnerRecord): Promise<MonitoredPartner['suspension']> {
    const d = (await repo.listDecisions(p.applicationId)).filter((x) => x.partnerId === p.id && x.kind === 'suspend').at(-1);
    if (!d) return null;
    return { automatic: d.actor.type === 'system', by: d.actor.label, at: d.at, reasonCode: d.reasonCode, text: d.text };
  }

  async function loadPartner(partnerId: unknown): Promise<PartnerRecord | null> {
    return typeof partnerId === 'string' && partnerId.length > 0 && partnerId.length <= 100 ? repo.getPartner(partnerId) : null;
  }

  async function validateChangeItems(
    app: ApplicationRecord,
    raw: unknown,
  ): Promise<{ target: { type: ChangeTargetType; id: string }; message: string }[]> {
    const list = Array.isArray(raw) ? raw : [];
    if (list.length === 0) {
      throw new InputError('Add at least one change request.', [{ path: 'items', message: 'Add at least one item.' }]);
    }
    if (list.length > PARTNERS_LIMITS.changeItemsMax) {
      throw new InputError('Too many items.', [{ path: 'items', message: `At most ${PARTNERS_LIMITS.changeItemsMax} items.` }]);
    }
    const questionIds = new Set(questionnaire(app.questionnaireVersion).questions.map((q) => q.id));
    const evidenceIds = new Set((await repo.listEvidence(app.id)).map((e) => e.id));
    const fields: { path: string; message: string }[] = [];
    const out: { target: { type: ChangeTargetType; id: string }; message: string }[] = [];
    list.forEach((item: unknown, i) => {
      const it = (item ?? {}) as { target?: { type?: unknown; id?: unknown }; message?: unknown };
      const type = it.target?.type;
      const id = typeof it.target?.id === 'string' ? it.target.id.trim() : '';
      const message = typeof it.message === 'string' ? it.message.trim() : '';
      let known = false;
      if (type === 'question') known = questionIds.has(id);
      else if (type === 'certificate') known = id === 'qwac' || id === 'qseal';
      else if (type === 'profile') known = PROFILE_TARGETS.includes(id);
      else if (type === 'evidence') known = evidenceIds.has(id);
      if (!known) fields.push({ path: `items.${i}.target`, message: 'Point the request at an existing question, certificate, profile field or evidence file.' });
      if (message === '') fields.push({ path: `items.${i}.message`, message: 'Say what the applicant should change.' });
      else if (message.length > PARTNERS_LIMITS.textMax) fields.push({ path: `items.${i}.message`, message: `At most ${PARTNERS_LIMITS.textMax} characters.` });
      if (known && message !== '') out.push({ target: { type: type as ChangeTargetType, id }, message });
    });
    if (fields.length > 0) throw new InputError('Some change requests need attention.', fields);
    return out;
  }

  function validateConditions(app: ApplicationRecord, input: unknown): Conditions {
    const raw = (input ?? {}) as { allowedRoles?: unknown; remediation?: unknown };
    const fields: { path: string; message: string }[] = [];
    const requested = app.profile?.requestedRoles ?? [];
    const roles = Array.isArray(raw.allowedRoles) ? raw.allowedRoles : [];
    const allowed = REQUESTED_ROLES.filter((r) => roles.includes(r));
    if (allowed.length === 0 || roles.some((r) => !requested.includes(r as RequestedRole))) {
      fields.push({ path: 'allowedRoles', message: `Choose one or more of the requested services (${requested.join(', ')}).` });
    }
    const items = Array.isArray(raw.remediation) ? raw.remediation : [];
    if (items.length > PARTNERS_LIMITS.remediationMax) {
      fields.push({ path: 'remediation', message: `At most ${PARTNERS_LIMITS.remediationMax} remediation items.` });
    }
    const today = iso().slice(0, 10);
    const remediation: Conditions['remediation'] = [];
    items.slice(0, PARTNERS_LIMITS.remediationMax).forEach((item: unknown, i) => {
      const it = (item ?? {}) as { text?: unknown; dueDate?: unknown };
      const text = typeof it.text === 'string' ? it.text.trim() : '';
      const due = typeof it.dueDate === 'string' ? it.dueDate.trim() : '';
      if (text === '' || text.length > PARTNERS_LIMITS.textMax) {
        fields.push({ path: `remediation.${i}.text`, message: `Describe the remediation (1 to ${PARTNERS_LIMITS.textMax} characters).` });
      }
      if (!isIsoDate(due) || due < today) fields.push({ path: `remediation.${i}.dueDate`, message: 'Give a due date (YYYY-MM-DD) from today on.' });
      remediation.push({ id: randomUUID(), text, dueDate: due });
    });
    if (allowed.length === requested.length && remediation.length === 0 && fields.length === 0) {
      fields.push({ path: 'allowedRoles', message: 'Conditions must limit the services or add remediation items; otherwise approve without conditions.' });
    }
    if (fields.length > 0) throw new InputError('Some conditions need attention.', fields);
    return { allowedRoles: allowed, remediation };
  }

  return service;
}

// --- fast-lane checks ----------------------------------------------------------------------------------------

/** What the fast lane reads from its input, each part null when absent or unusable. */
interface FastLaneContext {
  leaf: Uint8Array | null;
  chain: Uint8Array[];
  report: CertificateReport | null;
  /** The requested roles, deduplicated, in REQUESTED_ROLES order; `rolesValid` false when any was unknown. */
  roles: RequestedRole[];
  rolesValid: boolean;
  /** The report's organizationIdentifier when it is a PSD one (scheme PSD, an NCA); null otherwise. */
  oi: OrganizationIdentifier | null;
  /** `DE-BAFIN`, from the PSD organizationIdentifier. */
  ncaId: string | null;
  /** Subject O of the QWAC. */
  legalName: string | null;
  ip: string | null;
}

const FAST_LANE_MAX_DERS = 10;

/** Reads the (system-supplied, still bounded) input; never throws, the checks say what is missing. */
function fastLaneFacts(input: FastLaneInput): FastLaneContext {
  const raw = (input ?? {}) as Partial<FastLaneInput>;
  const ders = Array.isArray(raw.qwac?.ders) ? raw.qwac.ders : [];
  const usable =
    ders.length > 0 &&
    ders.length <= FAST_LANE_MAX_DERS &&
    ders.every((d) => d instanceof Uint8Array && d.length > 0) &&
    ders.reduce((n, d) => n + d.length, 0) <= CERTIFICATE_MAX_BYTES;
  const report = raw.qwac?.report && typeof raw.qwac.report === 'object' ? raw.qwac.report : null;
  const requested: unknown[] = Array.isArray(raw.requestedRoles) ? raw.requestedRoles : [];
  const roles = REQUESTED_ROLES.filter((r) => requested.includes(r));
  const rolesValid = requested.length > 0 && requested.length <= 10 && requested.every((r) => (REQUESTED_ROLES as readonly unknown[]).includes(r));
  const o = report?.organizationIdentifier ?? null;
  const oi = o && o.scheme === 'PSD' && o.nca !== null && o.authorisationNumber.trim() !== '' ? o : null;
  const name = report && typeof report.subject === 'string' ? subjectAttribute(report.subject, 'O') : null;
  const ip = typeof raw.ip === 'string' && raw.ip !== '' && raw.ip.length <= 100 ? raw.ip : null;
  return {
    leaf: usable ? new Uint8Array(ders[0]!) : null,
    chain: usable ? ders.slice(1).map((d) => new Uint8Array(d)) : [],
    report,
    roles,
    rolesValid,
    oi,
    ncaId: oi ? `${oi.country}-${oi.nca}` : null,
    legalName: name && name.length <= 300 ? name : null,
    ip,
  };
}

type FastLaneCheck = (ctx: FastLaneContext) => NamedResult;

const result = (name: string, ok: boolean, pass: string, failure: string): NamedResult => ({ name, ok, message: ok ? pass : failure });

/** At least one role was requested, each AIS, PIS or CBPII. */
export const fastLaneRolesRequested: FastLaneCheck = (c) =>
  result('roles_requested', c.rolesValid, `Requested roles: ${c.roles.join(', ')}.`, 'The registration must request one or more of the roles AIS, PIS and CBPII.');

/** The report describes the certificate that was presented (the caller validated it). */
export const fastLaneCertificateMatches: FastLaneCheck = (c) =>
  result(
    'certificate_present',
    c.leaf !== null && c.report !== null && c.report.sha256 === sha256Hex(c.leaf),
    'The presented certificate is the one its validation report describes.',
    c.leaf === null ? 'No usable client certificate was presented.' : 'The validation report does not describe the presented certificate.',
  );

export const fastLaneCertificatePasses: FastLaneCheck = (c) => {
  const errors = (c.report?.findings ?? []).filter((f) => f.severity === 'error');
  const why = errors.slice(0, 3).map((f) => f.message).join(' ');
  return result(
    'certificate_pass',
    c.report?.verdict === 'pass',
    'The certificate passes validation.',
    `The certificate does not pass validation${why ? `: ${why}` : '.'}`,
  );
};

export const fastLaneCertificateIsQwac: FastLaneCheck = (c) =>
  result(
    'certificate_qwac',
    c.report?.type === 'QWAC',
    'The certificate is a QWAC.',
    c.report?.type === 'QSealC' ? 'The certificate is a QSealC, not a QWAC.' : 'The certificate is not a QWAC (qualified website authentication certificate).',
  );

export const fastLaneOrganisationIdentifier: FastLaneCheck = (c) => {
  const o = c.report?.organizationIdentifier ?? null;
  return result(
    'organization_identifier_psd',
    c.oi !== null,
    `The certificate names the authorisation ${c.oi?.raw ?? ''} (PSD2 organizationIdentifier).`,
    `The certificate has no PSD2 organizationIdentifier (PSDXX-NCA-number)${o ? `: it reads “${o.raw}”` : ''}.`,
  );
};

export const fastLaneOrganisationName: FastLaneCheck = (c) =>
  result('organisation_name', c.legalName !== null, `The certificate names the organisation “${c.legalName ?? ''}”.`, 'The certificate carries no organisation name (subject O).');

/** The certificate's PSD2 roles cover every requested one (AIS→PSP_AI, PIS→PSP_PI, CBPII→PSP_IC). */
export const fastLaneCertificateRoles: FastLaneCheck = (c) => {
  const held = new Set(c.report?.psd2?.roles ?? []);
  const missing = c.roles.filter((r) => !held.has(ROLE_TO_PSD2[r]));
  return result(
    'certificate_roles_cover',
    c.rolesValid && missing.length === 0,
    'The certificate carries the PSD2 role of every requested service.',
    missing.length === 0
      ? 'The requested roles could not be compared with the certificate.'
      : `The certificate does not carry the PSD2 role${missing.length > 1 ? 's' : ''} ${missing
          .map((r) => `${ROLE_TO_PSD2[r]} (${r})`)
          .join(', ')} (it has: ${c.report?.psd2 ? c.report.psd2.roles.join(', ') || 'none' : 'no PSD2 statement'}).`,
  );
};

export const FAST_LANE_CERTIFICATE_CHECKS: readonly FastLaneCheck[] = [
  fastLaneRolesRequested,
  fastLaneCertificateMatches,
  fastLaneCertificatePasses,
  fastLaneCertificateIsQwac,
  fastLaneOrganisationIdentifier,
  fastLaneOrganisationName,
  fastLaneCertificateRoles,
];

type FastLaneRegisterCheck = (ctx: { register: RegisterCheck | null }) => NamedResult;

/** The auto-approval's own register policy: an active authorisation, no error, no name or NCA-code doubt. */
export const fastLaneRegisterAuthorised: FastLaneRegisterCheck = ({ register }) =>
  autoRegisterAuthorised({ profile: null, certificates: { qwac: null, qseal: null }, consistency: [], register });

/** The register lists every requested service; CBPII has no service code, so policy cannot confirm it. */
export const fastLaneServicesCoverRoles: FastLaneRegisterCheck = ({ register }) => {
  const problems = (register?.findings ?? []).filter(
    (f) => f.code === 'register.service_missing' || f.code === 'register.cbpii_no_service_code',
  );
  const ok = register !== null && register.entry !== null && problems.length === 0;
  return result(
    'services_cover_roles',
    ok,
    'The register lists every requested service.',
    problems.length > 0
      ? problems.map((f) => f.message).join(' ')
      : 'The register services could not be compared with the requested roles.',
  );
};

export const FAST_LANE_REGISTER_CHECKS: readonly FastLaneRegisterCheck[] = [fastLaneRegisterAuthorised, fastLaneServicesCoverRoles];

function isIsoDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** The browser's claim (media type or extension) says a binary type the content is not: a disguised file. */
function disguised(file: { originalName: string; mediaType: string }, sniffed: string): boolean {
  const claims = new Set<string>();
  const declared = typeof file.mediaType === 'string' ? file.mediaType.toLowerCase().split(';')[0]!.trim() : '';
  if (['application/pdf', 'image/png', 'image/jpeg'].includes(declared)) claims.add(declared);
  const ext = /\.([a-z0-9]{1,5})$/i.exec(typeof file.originalName === 'string' ? file.originalName : '')?.[1]?.toLowerCase();
  const byExt: Record<string, string> = { pdf: 'application/pdf', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg' };
  if (ext && byExt[ext]) claims.add(byExt[ext]);
  return [...claims].some((c) => c !== sniffed);
}

function errorMap(errors: unknown): Record<string, string> {
  if (Array.isArray(errors)) {
    const out: Record<string, string> = {};
    for (const e of errors as { questionId?: string; path?: string; message?: string }[]) {
      const key = e.questionId ?? e.path;
      if (key && e.message) out[key] = e.message;
    }
    return out;
  }
  return errors && typeof errors === 'object' ? { ...(errors as Record<string, string>) } : {};
}
