/**
 * The partners area's public contract: what the pages (and later the registration area) see of an
 * application and the partner it becomes. Views are shaped here on purpose; rows never leave the repository.
 */
import type { Actor } from '../audit/service.js';
import type { CertificateReport } from '../eidas/types.js';
import type { Answers, QuestionView, ScoreResult } from '../questionnaire/service.js';
import type { RegisterCheck } from '../register/service.js';

export const TRACKS = ['regulated', 'partner'] as const;
export type Track = (typeof TRACKS)[number];

export const REQUESTED_ROLES = ['AIS', 'PIS', 'CBPII'] as const;
export type RequestedRole = (typeof REQUESTED_ROLES)[number];

export const APPLICATION_STATES = [
  'draft',
  'submitted',
  'under_review',
  'changes_requested',
  'awaiting_second_approval',
  'approved',
  'conditionally_approved',
  'rejected',
  'withdrawn',
] as const;
export type ApplicationState = (typeof APPLICATION_STATES)[number];

export const RISK_TIERS = ['low', 'medium', 'high'] as const;
export type RiskTier = (typeof RISK_TIERS)[number];

export const STAFF_ROLES = ['reviewer', 'approver', 'admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export type PartnerStatus = 'active' | 'suspended';

/**
 * How an application came to exist: an applicant's portal application, or the regulated fast lane (a TPP
 * registered an OAuth client with a valid QWAC of an authorised organisation, without applying first).
 */
export const APPLICATION_ORIGINS = ['portal', 'registration_fast_lane'] as const;
export type ApplicationOrigin = (typeof APPLICATION_ORIGINS)[number];
export type CertificateKind = 'qwac' | 'qseal';
/** Who must act next: the bank's officers, the applicant, or nobody (a final state). */
export type Holder = 'bank' | 'applicant' | 'none';

/**
 * The signed-in person acting on an application (built by the routes from the session user). A bank
 * customer's session gives one too (kind 'customer'); the partners services refuse it like any non-staff,
 * non-applicant actor.
 */
export interface ActorRef {
  id: string;
  kind: 'applicant' | 'staff' | 'customer';
  /** E-mail, for display and audit. */
  label: string;
  /** Staff roles; empty for applicants and customers. */
  roles: StaffRole[];
  ip?: string | null;
}

export interface Contact {
  name: string;
  email: string;
  phone: string | null;
}

export interface OrganisationProfile {
  legalName: string;
  /** ISO 3166-1 alpha-2 (EL for Greece as in PSD2 identifiers). */
  country: string;
  registrationNumber: string;
  lei: string | null;
  /** NCA identifier as in certificates, e.g. `DE-BAFIN`. Required on the regulated track. */
  ncaId: string | null;
  /** Authorisation number at that NCA, e.g. `152645`. Required on the regulated track. */
  authorisationNumber: string | null;
  track: Track;
  requestedRoles: RequestedRole[];
  redirectUris: string[];
  contacts: { business: Contact; technical: Contact; security: Contact };
}

export interface CertificateSummary {
  id: string;
  kind: CertificateKind;
  uploadedAt: string;
  /** SHA-256 of the DER certificate, hex. */
  sha256: string;
  report: CertificateReport;
}

/** Certificate ↔ application consistency (declared NCA and number, roles, same organisation). */
export interface ConsistencyFinding {
  code: string;
  severity: 'error' | 'warning';
  message: string;
  fix: string;
  target: CertificateKind | 'profile';
}

export interface EvidenceSummary {
  id: string;
  questionId: string;
  /** The uploaded name, sanitised, for display and Content-Disposition only; never a path. */
  fileName: string;
  mediaType: string;
  size: number;
  sha256: string;
  uploadedAt: string;
  /** Set when a reviewer checked the file (raises the evidence factor of the score). */
  verifiedAt: string | null;
}

export type ChangeTargetType = 'question' | 'certificate' | 'profile' | 'evidence';

export interface ChangeItem {
  id: string;
  target: { type: ChangeTargetType; id: string };
  /** The officer's request, shown to the applicant. */
  message: string;
  status: 'open' | 'answered';
  response: string | null;
  respondedAt: string | null;
}

export interface TimelineEntry {
  at: string;
  from: ApplicationState | null;
  to: ApplicationState;
  actor: { type: Actor['type']; label: string };
  /** Who holds the application after this step. */
  holder: Holder;
  reasonCode: string | null;
  text: string | null;
  items: ChangeItem[];
}

export interface Conditions {
  allowedRoles: RequestedRole[];
  remediation: { id: string; text: string; dueDate: string }[];
}

export type DecisionKind =
  | 'auto_approve'
  | 'request_changes'
  | 'approve'
  | 'approve_with_conditions'
  | 'second_approval'
  | 'reject'
  | 'suspend'
  | 'reinstate';

export interface Decision {
  id: string;
  kind: DecisionKind;
  actor: { type: Actor['type']; id: string | null; label: string };
  at: string;
  /** The scoring / auto-approval policy version in force when deciding. */
  policyVersion: string;
  riskTier: RiskTier | null;
  reasonCode: string | null;
  text: string | null;
  conditions: Conditions | null;
}

export interface PartnerView {
  id: string;
  applicationId: string;
  legalName: string;
  status: PartnerStatus;
  allowedRoles: RequestedRole[];
  statusReason: string | null;
  /** SUSPENSION_REASONS code of the last suspension; null when never suspended or reinstated since. */
  statusReasonCode: string | null;
  approvedAt: string;
  /** organizationIdentifier of the approved QWAC (e.g. `PSDDE-BAFIN-152645`), for client registration. */
  organizationIdentifier: string | null;
  /** SHA-256 (hex) of the approved QWAC's DER. */
  qwacSha256: string | null;
  /** Where the partner came from: a portal application or the registration fast lane. */
  origin: ApplicationOrigin;
}

/** A partner's status changed (suspend, reinstate, automatic suspension); see `onPartnerStatusChange`. */
export interface PartnerStatusChange {
  partnerId: string;
  status: PartnerStatus;
  previous: PartnerStatus;
  reasonCode: string | null;
  actor: Actor;
}

export type PartnerStatusListener = (change: PartnerStatusChange) => Promise<void> | void;

/** One step of an application's timeline, for notices to the applicant (see `onApplicationStatusChange`). */
export interface ApplicationStatusChange {
  applicationId: string;
  /** The timeline row's id. */
  transitionId: string;
  from: ApplicationState | null;
  to: ApplicationState;
  reasonCode: string | null;
  /** Set once the application has become a partner; null before. */
  partnerId: string | null;
  legalName: string | null;
  /** The applicant's sign-in e-mail; null for a fast-lane application (nobody applied). */
  applicantEmail: string | null;
  contacts: { business: string | null; technical: string | null; security: string | null } | null;
}

export type ApplicationStatusListener = (change: ApplicationStatusChange) => Promise<void> | void;

/** The roles a partner may use were narrowed (a register service code removed); see `onPartnerRolesChange`. */
export interface PartnerRolesChange {
  partnerId: string;
  allowedRoles: RequestedRole[];
  previous: RequestedRole[];
  removed: RequestedRole[];
  actor: Actor;
}

export type PartnerRolesListener = (change: PartnerRolesChange) => Promise<void> | void;

/**
 * What the lifecycle monitor (src/monitor) reads of a partner: the certificates it was approved with, where to
 * find it in the NCA register, whom to tell, and how its last suspension came about.
 */
/** What a renewal replaced. */
export interface CertificateRenewal {
  kind: CertificateKind;
  previous: { serialNumber: string; notAfter: string };
  renewed: { serialNumber: string; notAfter: string };
}

export interface MonitoredPartner {
  partner: PartnerView;
  applicationState: ApplicationState;
  /** The approved QWAC and QSealC (by the partner's sha256), each as DERs: the certificate first, then its chain. */
  certificates: { kind: CertificateKind; sha256: string; ders: Uint8Array[] }[];
  /** From the approved QWAC's organizationIdentifier (PSD scheme), else the declared NCA id and number; null when neither. */
  registerKey: { ncaId: string; authorisationNumber: string } | null;
  /** The register entry the application's register check saw (the monitor's first baseline); null when none. */
  registerAtApproval: RegisterCheck['entry'];
  /** Contact e-mails as declared; all null for a fast-lane partner (nobody declared any). */
  contacts: { business: string | null; technical: string | null; security: string | null };
  /** The last suspension while suspended: `automatic` when the system (not an officer) suspended. */
  suspension: { automatic: boolean; by: string; at: string; reasonCode: string | null; text: string | null } | null;
}

/** A reinstatement one officer proposed (kept by the monitor area) and a second officer now approves. */
export interface ReinstatementProposal {
  by: ActorRef;
  text: string;
  at: string;
}

/**
 * What the fast lane knew when it created an application. Every field is read from the QWAC (or is what the
 * registration requested), none was declared by a person: there is no applicant, and no contacts.
 */
export interface FastLaneFacts {
  /** Subject O of the QWAC. */
  legalName: string;
  /** Country of the NCA, from the organizationIdentifier. */
  country: string;
  /** `DE-BAFIN`, from the organizationIdentifier. */
  ncaId: string;
  authorisationNumber: string;
  organizationIdentifier: string;
  requestedRoles: RequestedRole[];
  /** Always null: nobody gave contacts; officers see "not provided: registered through the fast lane". */
  contacts: null;
  /** Address of the registration request, when known. */
  ip: string | null;
  registeredAt: string;
}

/** The input of the regulated fast lane: the presented QWAC (validated by the caller) and the roles asked for. */
export interface FastLaneInput {
  /** The QWAC first, then the chain that came with it, as DER. */
  qwac: { ders: Uint8Array[]; report: CertificateReport };
  requestedRoles: RequestedRole[];
  ip?: string | null;
}

/** The regulated track's automatic checks at submission (product-features.md §0). */
export interface AutoApprovalResult {
  /** e.g. `regulated-auto/2026.1`. */
  policyVersion: string;
  at: string;
  /** All checks held: the application was approved by policy. */
  passed: boolean;
  checks: { name: string; ok: boolean; message: string }[];
}

export interface ApplicationView {
  id: string;
  /** For a fast-lane application: `fast-lane` (no person; no applicant can read or change it). */
  applicantId: string;
  applicantEmail: string;
  /** A portal application, or one the registration fast lane created. */
  origin: ApplicationOrigin;
  /** Fast lane only: what was read from the QWAC (`profile` is null: nobody declared one). */
  fastLane: FastLaneFacts | null;
  state: ApplicationState;
  /** Null until the profile is saved. */
  track: Track | null;
  createdAt: string;
  updatedAt: string;
  submittedAt: string | null;
  profile: OrganisationProfile | null;
  certificates: { qwac: CertificateSummary | null; qseal: CertificateSummary | null };
  consistency: ConsistencyFinding[];
  register: RegisterCheck | null;
  questionnaire: {
    version: string;
    questions: QuestionView[];
    answers: Answers;
    evidence: EvidenceSummary[];
    /** What is missing before the questionnaire is complete (blocks submission on the partner track only). */
    incomplete: { questionId: string; message: string }[];
  };
  score: ScoreResult | null;
  riskTier: RiskTier | null;
  timeline: TimelineEntry[];
  changeRequests: ChangeItem[];
  decisions: Decision[];
  nextAction: { holder: Holder; text: string };
  /** Why the applicant cannot submit now (empty when submit is allowed or not applicable). */
  blockers: string[];
  reviewer: { id: string; label: string } | null;
  firstApprover: { id: string; label: string } | null;
  conditions: Conditions | null;
  partner: PartnerView | null;
  /** Regulated track: the automatic checks run at submission; null before submission or on the partner track. */
  autoApproval: AutoApprovalResult | null;
}

export interface ApplicationListItem {
  id: string;
  legalName: string | null;
  applicantEmail: string;
  origin: ApplicationOrigin;
  state: ApplicationState;
  track: Track | null;
  riskTier: RiskTier | null;
  submittedAt: string | null;
  updatedAt: string;
  /** Whole days since submission (or creation when never submitted). */
  ageDays: number;
  nextAction: { holder: Holder; text: string };
}

export interface QueueFilter {
  state?: ApplicationState;
  track?: Track;
  riskTier?: RiskTier;
  /** Only applications older than this many days. */
  minAgeDays?: number;
}

export interface UploadedFile {
  bytes: Buffer;
  /** As sent by the browser: untrusted, display only. */
  originalName: string;
  /** As sent by the browser: untrusted, checked against the content. */
  mediaType: string;
}

export interface PartnersService {
  // --- applicant ---------------------------------------------------------------------------------
  createApplication(applicant: ActorRef): Promise<ApplicationView>;
  listForApplicant(applicantId: string): Promise<ApplicationListItem[]>;
  /** NotFoundError when the application is not the applicant's (no existence leak). */
  getForApplicant(applicant: ActorRef, applicationId: string): Promise<ApplicationView>;
  /** `input` is the raw form; validated here. InputError with per-field messages on bad input. */
  saveProfile(applicant: ActorRef, applicationId: string, input: unknown): Promise<ApplicationView>;
  uploadCertificate(
    applicant: ActorRef,
    applicationId: string,
    kind: CertificateKind,
    file: UploadedFile & { password?: string },
  ): Promise<ApplicationView>;
  /**
   * An approved partner replaces its approved QWAC or QSealC with the renewed one (RENEWAL_CHECKS in checks.ts:
   * the slot's type, passes validation, not the same, same organizationIdentifier, keeps the allowed roles'
   * PSD2 roles, expires later). The renewed certificate becomes the approved one the monitor and the
   * mutual-TLS checks follow; audited as partner.certificate.renewed. The partner's status is not changed.
   */
  renewCertificate(
    applicant: ActorRef,
    applicationId: string,
    kind: CertificateKind,
    file: UploadedFile & { password?: string },
  ): Promise<CertificateRenewal>;
  /** Saves a draft of the answers; type errors per question come back, valid answers are kept. */
  saveAnswers(
    applicant: ActorRef,
    applicationId: string,
    form: Record<string, unknown>,
  ): Promise<{ view: ApplicationView; errors: Record<string, string> }>;
  uploadEvidence(applicant: ActorRef, applicationId: string, questionId: string, file: UploadedFile): Promise<ApplicationView>;
  removeEvidence(applicant: ActorRef, applicationId: string, evidenceId: string): Promise<ApplicationView>;
  submit(applicant: ActorRef, applicationId: string): Promise<ApplicationView>;
  respondToChange(applicant: ActorRef, applicationId: string, itemId: string, response: string): Promise<ApplicationView>;
  resubmit(applicant: ActorRef, applicationId: string): Promise<ApplicationView>;
  withdraw(applicant: ActorRef, applicationId: string, reason: string | null): Promise<ApplicationView>;
  /** An evidence file for download, by its owner or by staff. NotFoundError otherwise. */
  evidenceFile(
    actor: ActorRef,
    applicationId: string,
    evidenceId: string,
  ): Promise<{ path: string; fileName: string; mediaType: string; size: number; sha256: string }>;

  // --- staff -------------------------------------------------------------------------------------
  queue(staff: ActorRef, filter: QueueFilter): Promise<ApplicationListItem[]>;
  getForStaff(staff: ActorRef, applicationId: string): Promise<ApplicationView>;
  startReview(staff: ActorRef, applicationId: string): Promise<ApplicationView>;
  requestChanges(
    staff: ActorRef,
    applicationId: string,
    input: { items: { target: { type: ChangeTargetType; id: string }; message: string }[]; text: string | null },
  ): Promise<ApplicationView>;
  approve(staff: ActorRef, applicationId: string, input: { text: string | null }): Promise<ApplicationView>;
  approveWithConditions(
    staff: ActorRef,
    applicationId: string,
    input: { allowedRoles: RequestedRole[]; remediation: { text: string; dueDate: string }[]; text: string | null },
  ): Promise<ApplicationView>;
  secondApprove(staff: ActorRef, applicationId: string, input: { text: string | null }): Promise<ApplicationView>;
  reject(staff: ActorRef, applicationId: string, input: { reasonCode: string; text: string }): Promise<ApplicationView>;
  suspendPartner(staff: ActorRef, partnerId: string, input: { reasonCode: string; text: string }): Promise<PartnerView>;
  reinstatePartner(staff: ActorRef, partnerId: string, input: { text: string }): Promise<PartnerView>;
  listPartners(staff: ActorRef): Promise<PartnerView[]>;
  /** A reviewer marks an evidence file as checked (under review only); the score is recomputed. */
  verifyEvidence(staff: ActorRef, applicationId: string, evidenceId: string): Promise<ApplicationView>;

  // --- system (no signed-in actor: the token guard, client registration, certificate lifecycle) ---
  /** The partner by id; null when unknown. */
  getPartner(partnerId: string): Promise<PartnerView | null>;
  /**
   * The partner whose approved QWAC carries exactly this organizationIdentifier (`PSDDE-BAFIN-152645`);
   * the most recently approved one when there are several (a reapplication). Null when none.
   */
  partnerForOrganization(organizationIdentifier: string): Promise<PartnerView | null>;
  /**
   * Called inside the transaction of every partner status change (suspend, reinstate, automatic
   * suspension), after the partner row and its decision and audit event are written: what a listener
   * writes commits with the change, and a listener that throws rolls the whole change back. Listeners run
   * one after the other in registration order; no network I/O in them. Returns an unsubscribe function.
   */
  onPartnerStatusChange(listener: PartnerStatusListener): () => void;
  /**
   * Called inside the transaction of every application state change, after its timeline row is written
   * (same rules as onPartnerStatusChange). Returns an unsubscribe function.
   */
  onApplicationStatusChange(listener: ApplicationStatusListener): () => void;
  /**
   * System-initiated suspension (a revoked QWAC, a withdrawn authorisation): actor
   * `{type: 'system', id: null, label: source}`, reason code from SUSPENSION_REASONS. Already suspended:
   * returns the partner unchanged and records nothing. NotFoundError for an unknown partner.
   */
  suspendPartnerAutomatically(partnerId: string, input: { reasonCode: string; text: string; source: string }): Promise<PartnerView>;
  /**
   * The regulated fast lane: a valid QWAC of an organisation the NCA register shows authorised for the
   * requested roles creates an approved regulated-track application and its partner, by policy
   * `regulated-fast-lane/2026.1`, in one transaction. Returns the existing partner when one already holds
   * the organizationIdentifier. Refused: AppError `partners.fast_lane_refused` (403), nothing written.
   */
  registerRegulatedPartner(input: FastLaneInput): Promise<PartnerView>;

  // --- lifecycle monitor (system) -------------------------------------------------------------------
  /** Every partner with what the monitor re-checks (approved certificates, register key, contacts). */
  monitoredPartners(): Promise<MonitoredPartner[]>;
  /**
   * Removes roles from the partner's allowedRoles (a register service code was withdrawn): the registration
   * checks, software statements and (through `onPartnerRolesChange`) the OAuth and consent areas read
   * allowedRoles, so the roles stop being granted. System actor `source`; audited `partner.roles.narrowed` with
   * `evidence`. Roles the partner does not hold are ignored; nothing to remove: unchanged, nothing recorded.
   */
  narrowAllowedRoles(
    partnerId: string,
    input: { remove: RequestedRole[]; text: string; source: string; evidence?: Record<string, unknown> },
  ): Promise<PartnerView>;
  /** Same contract as onPartnerStatusChange, for narrowed roles. Returns an unsubscribe function. */
  onPartnerRolesChange(listener: PartnerRolesListener): () => void;
  /**
   * Four eyes for a partner suspended automatically (reinstatePartner refuses those with
   * `partners.second_officer_required`): `proposal.by` proposed it, `approver` (approver role, a different
   * person: else `partners.four_eyes` 403) approves now. Decision by the approver; the audit event names both.
   */
  reinstateWithSecondApproval(
    proposal: ReinstatementProposal,
    approver: ActorRef,
    partnerId: string,
    input: { text: string },
  ): Promise<PartnerView>;
}
