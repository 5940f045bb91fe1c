/**
 * Storage contract of the partners area. Async so that a PostgreSQL implementation fits later; the SQLite
 * one is src/store/sqlite/partners.ts. Records are storage-shaped; the service turns them into views.
 * Writes are called inside the service's `tx.run`.
 */
import type { ActorType } from '../audit/service.js';
import type { CertificateReport } from '../eidas/types.js';
import type { RegisterCheck } from '../register/service.js';
import type { ScoreResult } from '../questionnaire/service.js';
import type {
  ApplicationOrigin,
  ApplicationState,
  AutoApprovalResult,
  CertificateKind,
  ChangeTargetType,
  Conditions,
  DecisionKind,
  FastLaneFacts,
  Holder,
  OrganisationProfile,
  PartnerStatus,
  RequestedRole,
  RiskTier,
  Track,
} from './types.js';

export interface PersonRef {
  id: string;
  label: string;
}

/** The outcome of the regulated track's automatic checks at submission. */
export type AutoApprovalRecord = AutoApprovalResult;

export interface ApplicationRecord {
  id: string;
  applicantId: string;
  applicantEmail: string;
  origin: ApplicationOrigin;
  /** Fast lane only: what was read from the QWAC; `profile` stays null. */
  fastLane: FastLaneFacts | null;
  state: ApplicationState;
  track: Track | null;
  profile: OrganisationProfile | null;
  questionnaireVersion: string;
  reviewer: PersonRef | null;
  firstApprover: PersonRef | null;
  score: ScoreResult | null;
  riskTier: RiskTier | null;
  policyVersion: string | null;
  conditions: Conditions | null;
  register: RegisterCheck | null;
  autoApproval: AutoApprovalRecord | null;
  createdAt: string;
  updatedAt: string;
  submittedAt: string | null;
  decidedAt: string | null;
}

/** Columns the service may change after creation. */
export type ApplicationPatch = Partial<
  Pick<
    ApplicationRecord,
    | 'state'
    | 'track'
    | 'profile'
    | 'reviewer'
    | 'firstApprover'
    | 'score'
    | 'riskTier'
    | 'policyVersion'
    | 'conditions'
    | 'register'
    | 'autoApproval'
    | 'updatedAt'
    | 'submittedAt'
    | 'decidedAt'
  >
>;

export interface CertificateRecord {
  id: string;
  applicationId: string;
  kind: CertificateKind;
  /** DER of the subject certificate. */
  der: Uint8Array;
  /** DERs of the intermediates that came with it. */
  chain: Uint8Array[];
  sha256: string;
  report: CertificateReport;
  current: boolean;
  uploadedAt: string;
  uploadedBy: string;
}

export interface EvidenceRecord {
  id: string;
  applicationId: string;
  questionId: string;
  storedName: string;
  fileName: string;
  mediaType: string;
  size: number;
  sha256: string;
  uploadedAt: string;
  verifiedAt: string | null;
  verifiedBy: string | null;
}

export interface ActorRecord {
  type: ActorType;
  id: string | null;
  label: string;
}

export interface TransitionRecord {
  id: string;
  applicationId: string;
  seq: number;
  from: ApplicationState | null;
  to: ApplicationState;
  event: string;
  actor: ActorRecord;
  holder: Holder;
  reasonCode: string | null;
  text: string | null;
  at: string;
}

export interface ChangeItemRecord {
  id: string;
  applicationId: string;
  transitionId: string;
  seq: number;
  target: { type: ChangeTargetType; id: string };
  message: string;
  status: 'open' | 'answered';
  response: string | null;
  respondedAt: string | null;
  createdAt: string;
}

export interface DecisionRecord {
  id: string;
  applicationId: string;
  partnerId: string | null;
  kind: DecisionKind;
  actor: ActorRecord;
  at: string;
  policyVersion: string;
  riskTier: RiskTier | null;
  reasonCode: string | null;
  text: string | null;
  conditions: Conditions | null;
}

export interface PartnerRecord {
  id: string;
  applicationId: string;
  applicantId: string;
  legalName: string;
  status: PartnerStatus;
  allowedRoles: RequestedRole[];
  statusReasonCode: string | null;
  statusReason: string | null;
  organizationIdentifier: string | null;
  qwacSha256: string | null;
  qsealSha256: string | null;
  approvedAt: string;
  updatedAt: string;
  /** Read from the partner's application (not a column of its own). */
  origin: ApplicationOrigin;
}

export interface ApplicationQuery {
  applicantId?: string;
  origin?: ApplicationOrigin;
  states?: ApplicationState[];
  track?: Track;
  riskTier?: RiskTier;
  /** Only applications submitted (or, never submitted, created) at or before this ISO time. */
  startedBefore?: string;
  /** Oldest first (a queue) or newest first (an applicant's list). */
  order: 'oldest' | 'newest';
  limit?: number;
}

export interface PartnersRepository {
  insertApplication(rec: ApplicationRecord): Promise<void>;
  getApplication(id: string): Promise<ApplicationRecord | null>;
  updateApplication(id: string, patch: ApplicationPatch): Promise<void>;
  listApplications(q: ApplicationQuery): Promise<ApplicationRecord[]>;

  /** Stores a certificate as the current one of its kind (the previous one stays, no longer current). */
  insertCertificate(rec: CertificateRecord): Promise<void>;
  currentCertificates(applicationId: string): Promise<CertificateRecord[]>;

  answers(applicationId: string): Promise<Record<string, unknown>>;
  /** Replaces every answer of the application with `answers` (questions absent from it are cleared). */
  replaceAnswers(applicationId: string, answers: Record<string, unknown>, at: string): Promise<void>;

  insertEvidence(rec: EvidenceRecord): Promise<void>;
  listEvidence(applicationId: string): Promise<EvidenceRecord[]>;
  getEvidence(applicationId: string, evidenceId: string): Promise<EvidenceRecord | null>;
  deleteEvidence(applicationId: string, evidenceId: string): Promise<void>;
  markEvidenceVerified(applicationId: string, evidenceId: string, by: string, at: string): Promise<void>;

  /** Appends a timeline row; `seq` is assigned here (next for the application) and returned. */
  insertTransition(rec: Omit<TransitionRecord, 'seq'>): Promise<TransitionRecord>;
  listTransitions(applicationId: string): Promise<TransitionRecord[]>;

  insertChangeItem(rec: ChangeItemRecord): Promise<void>;
  listChangeItems(applicationId: string): Promise<ChangeItemRecord[]>;
  answerChangeItem(applicationId: string, itemId: string, response: string, at: string): Promise<void>;

  insertDecision(rec: DecisionRecord): Promise<void>;
  listDecisions(applicationId: string): Promise<DecisionRecord[]>;

  /** `origin` comes from the application; it is not written here. */
  insertPartner(rec: Omit<PartnerRecord, 'origin'>): Promise<void>;
  getPartner(id: string): Promise<PartnerRecord | null>;
  partnerForApplication(applicationId: string): Promise<PartnerRecord | null>;
  /** Exact organizationIdentifier; the most recently approved partner when there are several. */
  partnerForOrganization(organizationIdentifier: string): Promise<PartnerRecord | null>;
  listPartners(): Promise<PartnerRecord[]>;
  updatePartner(
    id: string,
    patch: Pick<PartnerRecord, 'status' | 'statusReasonCode' | 'statusReason' | 'updatedAt'>,
  ): Promise<void>;
  /** Replaces the partner's allowed roles (the monitor narrows them when a register service is withdrawn). */
  /** The partner's approved certificate of `kind` is now the one with this SHA-256 (a renewal). */
  updatePartnerCertificate(id: string, kind: CertificateKind, sha256: string, updatedAt: string): Promise<void>;
  updatePartnerRoles(id: string, allowedRoles: RequestedRole[], updatedAt: string): Promise<void>;
}
