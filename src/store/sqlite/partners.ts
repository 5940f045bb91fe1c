/**
 * better-sqlite3 implementation of the partners repository (src/partners/repository.ts). Prepared
 * statements only; the one dynamic query (listApplications) builds its WHERE from fixed fragments and
 * its ORDER BY from an allowlist.
 */
import type { ActorType } from '../../audit/service.js';
import type { Db } from '../database.js';
import type {
  ApplicationPatch,
  ApplicationQuery,
  ApplicationRecord,
  CertificateRecord,
  ChangeItemRecord,
  DecisionRecord,
  EvidenceRecord,
  PartnerRecord,
  PartnersRepository,
  TransitionRecord,
} from '../../partners/repository.js';
import type {
  ApplicationOrigin,
  ApplicationState,
  CertificateKind,
  ChangeTargetType,
  DecisionKind,
  Holder,
  PartnerStatus,
  RiskTier,
  Track,
} from '../../partners/types.js';

interface ApplicationRow {
  id: string;
  applicant_id: string;
  applicant_email: string;
  origin: string;
  fast_lane: string | null;
  state: string;
  track: string | null;
  legal_name: string | null;
  profile: string | null;
  questionnaire_version: string;
  reviewer_id: string | null;
  reviewer_label: string | null;
  first_approver_id: string | null;
  first_approver_label: string | null;
  score: string | null;
  risk_tier: string | null;
  policy_version: string | null;
  conditions: string | null;
  register_check: string | null;
  auto_approval: string | null;
  created_at: string;
  updated_at: string;
  submitted_at: string | null;
  decided_at: string | null;
}

interface CertificateRow {
  id: string;
  application_id: string;
  kind: string;
  der: Buffer;
  chain: string;
  sha256: string;
  report: string;
  verdict: string;
  is_current: number;
  uploaded_at: string;
  uploaded_by: string;
}

interface EvidenceRow {
  id: string;
  application_id: string;
  question_id: string;
  stored_name: string;
  file_name: string;
  media_type: string;
  size: number;
  sha256: string;
  uploaded_at: string;
  verified_at: string | null;
  verified_by: string | null;
}

interface TransitionRow {
  id: string;
  application_id: string;
  seq: number;
  from_state: string | null;
  to_state: string;
  event: string;
  actor_type: string;
  actor_id: string | null;
  actor_label: string;
  holder: string;
  reason_code: string | null;
  text: string | null;
  at: string;
}

interface ChangeItemRow {
  id: string;
  application_id: string;
  transition_id: string;
  seq: number;
  target_type: string;
  target_id: string;
  message: string;
  status: string;
  response: string | null;
  responded_at: string | null;
  created_at: string;
}

interface DecisionRow {
  id: string;
  application_id: string;
  partner_id: string | null;
  kind: string;
  actor_type: string;
  actor_id: string | null;
  actor_label: string;
  at: string;
  policy_version: string;
  risk_tier: string | null;
  reason_code: string | null;
  text: string | null;
  conditions: string | null;
}

interface PartnerRow {
  id: string;
  application_id: string;
  applicant_id: string;
  legal_name: string;
  status: string;
  allowed_roles: string;
  status_reason_code: string | null;
  status_reason: string | null;
  organization_identifier: string | null;
  qwac_sha256: string | null;
  qseal_sha256: string | null;
  approved_at: string;
  updated_at: string;
  /** From the application (joined). */
  origin: string;
}

function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

function parse<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

function person(id: string | null, label: string | null): { id: string; label: string } | null {
  return id === null ? null : { id, label: label ?? '' };
}

function toApplication(r: ApplicationRow): ApplicationRecord {
  return {
    id: r.id,
    applicantId: r.applicant_id,
    applicantEmail: r.applicant_email,
    origin: r.origin as ApplicationOrigin,
    fastLane: parse(r.fast_lane),
    state: r.state as ApplicationState,
    track: r.track as Track | null,
    profile: parse(r.profile),
    questionnaireVersion: r.questionnaire_version,
    reviewer: person(r.reviewer_id, r.reviewer_label),
    firstApprover: person(r.first_approver_id, r.first_approver_label),
    score: parse(r.score),
    riskTier: r.risk_tier as RiskTier | null,
    policyVersion: r.policy_version,
    conditions: parse(r.conditions),
    register: parse(r.register_check),
    autoApproval: parse(r.auto_approval),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    submittedAt: r.submitted_at,
    decidedAt: r.decided_at,
  };
}

function toCertificate(r: CertificateRow): CertificateRecord {
  return {
    id: r.id,
    applicationId: r.application_id,
    kind: r.kind as CertificateKind,
    der: new Uint8Array(r.der),
    chain: (JSON.parse(r.chain) as string[]).map((b64) => new Uint8Array(Buffer.from(b64, 'base64'))),
    sha256: r.sha256,
    report: JSON.parse(r.report) as CertificateRecord['report'],
    current: r.is_current === 1,
    uploadedAt: r.uploaded_at,
    uploadedBy: r.uploaded_by,
  };
}

function toEvidence(r: EvidenceRow): EvidenceRecord {
  return {
    id: r.id,
    applicationId: r.application_id,
    questionId: r.question_id,
    storedName: r.stored_name,
    fileName: r.file_name,
    mediaType: r.media_type,
    size: r.size,
    sha256: r.sha256,
    uploadedAt: r.uploaded_at,
    verifiedAt: r.verified_at,
    verifiedBy: r.verified_by,
  };
}

function toTransition(r: TransitionRow): TransitionRecord {
  return {
    id: r.id,
    applicationId: r.application_id,
    seq: r.seq,
    from: r.from_state as ApplicationState | null,
    to: r.to_state as ApplicationState,
    event: r.event,
    actor: { type: r.actor_type as ActorType, id: r.actor_id, label: r.actor_label },
    holder: r.holder as Holder,
    reasonCode: r.reason_code,
    text: r.text,
    at: r.at,
  };
}

function toChangeItem(r: ChangeItemRow): ChangeItemRecord {
  return {
    id: r.id,
    applicationId: r.application_id,
    transitionId: r.transition_id,
    seq: r.seq,
    target: { type: r.target_type as ChangeTargetType, id: r.target_id },
    message: r.message,
    status: r.status as 'open' | 'answered',
    response: r.response,
    respondedAt: r.responded_at,
    createdAt: r.created_at,
  };
}

function toDecision(r: DecisionRow): DecisionRecord {
  return {
    id: r.id,
    applicationId: r.application_id,
    partnerId: r.partner_id,
    kind: r.kind as DecisionKind,
    actor: { type: r.actor_type as ActorType, id: r.actor_id, label: r.actor_label },
    at: r.at,
    policyVersion: r.policy_version,
    riskTier: r.risk_tier as RiskTier | null,
    reasonCode: r.reason_code,
    text: r.text,
    conditions: parse(r.conditions),
  };
}

function toPartner(r: PartnerRow): PartnerRecord {
  return {
    id: r.id,
    applicationId: r.application_id,
    applicantId: r.applicant_id,
    legalName: r.legal_name,
    status: r.status as PartnerStatus,
    allowedRoles: JSON.parse(r.allowed_roles) as PartnerRecord['allowedRoles'],
    statusReasonCode: r.status_reason_code,
    statusReason: r.status_reason,
    organizationIdentifier: r.organization_identifier,
    qwacSha256: r.qwac_sha256,
    qsealSha256: r.qseal_sha256,
    approvedAt: r.approved_at,
    updatedAt: r.updated_at,
    origin: r.origin as ApplicationOrigin,
  };
}

/** Partner rows with the origin of their application. */
const PARTNER_SELECT = 'SELECT p.*, a.origin AS origin FROM partners p JOIN applications a ON a.id = p.application_id';

/** Application patch field → column and how to write it. */
const PATCH_COLUMNS: Record<keyof ApplicationPatch, (v: never) => Record<string, unknown>> = {
  state: (v: ApplicationState) => ({ state: v }),
  track: (v: Track | null) => ({ track: v }),
  profile: (v: ApplicationRecord['profile']) => ({ profile: json(v), legal_name: v?.legalName ?? null }),
  reviewer: (v: ApplicationRecord['reviewer']) => ({ reviewer_id: v?.id ?? null, reviewer_label: v?.label ?? null }),
  firstApprover: (v: ApplicationRecord['firstApprover']) => ({
    first_approver_id: v?.id ?? null,
    first_approver_label: v?.label ?? null,
  }),
  score: (v: ApplicationRecord['score']) => ({ score: json(v) }),
  riskTier: (v: RiskTier | null) => ({ risk_tier: v }),
  policyVersion: (v: string | null) => ({ policy_version: v }),
  conditions: (v: ApplicationRecord['conditions']) => ({ conditions: json(v) }),
  register: (v: ApplicationRecord['register']) => ({ register_check: json(v) }),
  autoApproval: (v: ApplicationRecord['autoApproval']) => ({ auto_approval: json(v) }),
  updatedAt: (v: string) => ({ updated_at: v }),
  submittedAt: (v: string | null) => ({ submitted_at: v }),
  decidedAt: (v: string | null) => ({ decided_at: v }),
};

const ORDER: Record<ApplicationQuery['order'], string> = {
  oldest: 'COALESCE(submitted_at, created_at) ASC, id ASC',
  newest: 'created_at DESC, id DESC',
};

export function createSqlitePartnersRepository(db: Db): PartnersRepository {
  const s = {
    insertApplication: db.prepare(`INSERT INTO applications
      (id, applicant_id, applicant_email, origin, fast_lane, state, track, legal_name, profile, questionnaire_version,
       reviewer_id, reviewer_label, first_approver_id, first_approver_label, score, risk_tier, policy_version, conditions,
       register_check, auto_approval, created_at, updated_at, submitted_at, decided_at)
      VALUES (@id, @applicant_id, @applicant_email, @origin, @fast_lane, @state, @track, @legal_name, @profile,
       @questionnaire_version,
       @reviewer_id, @reviewer_label, @first_approver_id, @first_approver_label, @score, @risk_tier, @policy_version,
       @conditions, @register_check, @auto_approval, @created_at, @updated_at, @submitted_at, @decided_at)`),
    getApplication: db.prepare('SELECT * FROM applications WHERE id = ?'),
    clearCurrent: db.prepare('UPDATE application_certificates SET is_current = 0 WHERE application_id = ? AND kind = ? AND is_current = 1'),
    insertCertificate: db.prepare(`INSERT INTO application_certificates
      (id, application_id, kind, der, chain, sha256, report, verdict, is_current, uploaded_at, uploaded_by)
      VALUES (@id, @application_id, @kind, @der, @chain, @sha256, @report, @verdict, @is_current, @uploaded_at, @uploaded_by)`),
    currentCertificates: db.prepare(
      'SELECT * FROM application_certificates WHERE application_id = ? AND is_current = 1 ORDER BY kind',
    ),
    answers: db.prepare('SELECT question_id, value FROM application_answers WHERE application_id = ? ORDER BY question_id'),
    deleteAnswers: db.prepare('DELETE FROM application_answers WHERE application_id = ?'),
    insertAnswer: db.prepare(
      'INSERT INTO application_answers (application_id, question_id, value, updated_at) VALUES (?, ?, ?, ?)',
    ),
    insertEvidence: db.prepare(`INSERT INTO evidence
      (id, application_id, question_id, stored_name, file_name, media_type, size, sha256, uploaded_at, verified_at, verified_by)
      VALUES (@id, @application_id, @question_id, @stored_name, @file_name, @media_type, @size, @sha256, @uploaded_at,
       @verified_at, @verified_by)`),
    listEvidence: db.prepare('SELECT * FROM evidence WHERE application_id = ? ORDER BY uploaded_at, rowid'),
    getEvidence: db.prepare('SELECT * FROM evidence WHERE application_id = ? AND id = ?'),
    deleteEvidence: db.prepare('DELETE FROM evidence WHERE application_id = ? AND id = ?'),
    verifyEvidence: db.prepare('UPDATE evidence SET verified_at = ?, verified_by = ? WHERE application_id = ? AND id = ?'),
    nextSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM application_transitions WHERE application_id = ?'),
    insertTransition: db.prepare(`INSERT INTO application_transitions
      (id, application_id, seq, from_state, to_state, event, actor_type, actor_id, actor_label, holder, reason_code, text, at)
      VALUES (@id, @application_id, @seq, @from_state, @to_state, @event, @actor_type, @actor_id, @actor_label, @holder,
       @reason_code, @text, @at)`),
    listTransitions: db.prepare('SELECT * FROM application_transitions WHERE application_id = ? ORDER BY seq'),
    insertChangeItem: db.prepare(`INSERT INTO change_items
      (id, application_id, transition_id, seq, target_type, target_id, message, status, response, responded_at, created_at)
      VALUES (@id, @application_id, @transition_id, @seq, @target_type, @target_id, @message, @status, @response,
       @responded_at, @created_at)`),
    listChangeItems: db.prepare('SELECT * FROM change_items WHERE application_id = ? ORDER BY created_at, seq'),
    answerChangeItem: db.prepare(
      "UPDATE change_items SET status = 'answered', response = ?, responded_at = ? WHERE application_id = ? AND id = ?",
    ),
    insertDecision: db.prepare(`INSERT INTO decisions
      (id, application_id, partner_id, kind, actor_type, actor_id, actor_label, at, policy_version, risk_tier, reason_code,
       text, conditions)
      VALUES (@id, @application_id, @partner_id, @kind, @actor_type, @actor_id, @actor_label, @at, @policy_version,
       @risk_tier, @reason_code, @text, @conditions)`),
    listDecisions: db.prepare('SELECT * FROM decisions WHERE application_id = ? ORDER BY at, rowid'),
    insertPartner: db.prepare(`INSERT INTO partners
      (id, application_id, applicant_id, legal_name, status, allowed_roles, status_reason_code, status_reason,
       organization_identifier, qwac_sha256, qseal_sha256, approved_at, updated_at)
      VALUES (@id, @application_id, @applicant_id, @legal_name, @status, @allowed_roles, @status_reason_code,
       @status_reason, @organization_identifier, @qwac_sha256, @qseal_sha256, @approved_at, @updated_at)`),
    getPartner: db.prepare(`${PARTNER_SELECT} WHERE p.id = ?`),
    partnerForApplication: db.prepare(`${PARTNER_SELECT} WHERE p.application_id = ?`),
    // Served by partners_organization (0009); rowid breaks a tie of two approvals in the same millisecond.
    partnerForOrganization: db.prepare(
      `${PARTNER_SELECT} WHERE p.organization_identifier = ? ORDER BY p.approved_at DESC, p.rowid DESC LIMIT 1`,
    ),
    listPartners: db.prepare(`${PARTNER_SELECT} ORDER BY p.legal_name, p.id`),
    updatePartner: db.prepare(
      'UPDATE partners SET status = ?, status_reason_code = ?, status_reason = ?, updated_at = ? WHERE id = ?',
    ),
    updatePartnerRoles: db.prepare('UPDATE partners SET allowed_roles = ?, updated_at = ? WHERE id = ?'),
    updatePartnerQwac: db.prepare('UPDATE partners SET qwac_sha256 = ?, updated_at = ? WHERE id = ?'),
    updatePartnerQseal: db.prepare('UPDATE partners SET qseal_sha256 = ?, updated_at = ? WHERE id = ?'),
  };

  return {
    async insertApplication(a) {
      s.insertApplication.run({
        id: a.id,
        applicant_id: a.applicantId,
        applicant_email: a.applicantEmail,
        origin: a.origin,
        fast_lane: json(a.fastLane),
        state: a.state,
        track: a.track,
        legal_name: a.profile?.legalName ?? a.fastLane?.legalName ?? null,
        profile: json(a.profile),
        questionnaire_version: a.questionnaireVersion,
        reviewer_id: a.reviewer?.id ?? null,
        reviewer_label: a.reviewer?.label ?? null,
        first_approver_id: a.firstApprover?.id ?? null,
        first_approver_label: a.firstApprover?.label ?? null,
        score: json(a.score),
        risk_tier: a.riskTier,
        policy_version: a.policyVersion,
        conditions: json(a.conditions),
        register_check: json(a.register),
        auto_approval: json(a.autoApproval),
        created_at: a.createdAt,
        updated_at: a.updatedAt,
        submitted_at: a.submittedAt,
        decided_at: a.decidedAt,
      });
    },

    async getApplication(id) {
      const row = s.getApplication.get(id) as ApplicationRow | undefined;
      return row ? toApplication(row) : null;
    },

    async updateApplication(id, patch) {
      const values: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(patch)) {
        const column = PATCH_COLUMNS[key as keyof ApplicationPatch];
        if (!column || value === undefined) continue;
        Object.assign(values, column(value as never));
      }
      const columns = Object.keys(values);
      if (columns.length === 0) return;
      // Column names come from PATCH_COLUMNS only, never from the caller.
      const sql = `UPDATE applications SET ${columns.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @__id`;
      db.prepare(sql).run({ ...values, __id: id });
    },

    async listApplications(q) {
      const where: string[] = [];
      const params: Record<string, unknown> = {};
      if (q.applicantId !== undefined) {
        where.push('applicant_id = @applicantId');
        params.applicantId = q.applicantId;
      }
      if (q.origin !== undefined) {
        where.push('origin = @origin');
        params.origin = q.origin;
      }
      if (q.states !== undefined) {
        if (q.states.length === 0) return [];
        where.push(`state IN (${q.states.map((_, i) => `@state${i}`).join(', ')})`);
        q.states.forEach((st, i) => (params[`state${i}`] = st));
      }
      if (q.track !== undefined) {
        where.push('track = @track');
        params.track = q.track;
      }
      if (q.riskTier !== undefined) {
        where.push('risk_tier = @riskTier');
        params.riskTier = q.riskTier;
      }
      if (q.startedBefore !== undefined) {
        where.push('COALESCE(submitted_at, created_at) <= @startedBefore');
        params.startedBefore = q.startedBefore;
      }
      params.limit = Math.min(Math.max(q.limit ?? 500, 1), 5000);
      const sql = `SELECT * FROM applications ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY ${ORDER[q.order]} LIMIT @limit`;
      return (db.prepare(sql).all(params) as ApplicationRow[]).map(toApplication);
    },

    async insertCertificate(c) {
      if (c.current) s.clearCurrent.run(c.applicationId, c.kind);
      s.insertCertificate.run({
        id: c.id,
        application_id: c.applicationId,
        kind: c.kind,
        der: Buffer.from(c.der),
        chain: JSON.stringify(c.chain.map((d) => Buffer.from(d).toString('base64'))),
        sha256: c.sha256,
        report: JSON.stringify(c.report),
        verdict: c.report.verdict,
        is_current: c.current ? 1 : 0,
        uploaded_at: c.uploadedAt,
        uploaded_by: c.uploadedBy,
      });
    },

    async currentCertificates(applicationId) {
      return (s.currentCertificates.all(applicationId) as CertificateRow[]).map(toCertificate);
    },

    async answers(applicationId) {
      const out: Record<string, unknown> = {};
      for (const r of s.answers.all(applicationId) as { question_id: string; value: string }[]) {
        out[r.question_id] = JSON.parse(r.value) as unknown;
      }
      return out;
    },

    async replaceAnswers(applicationId, answers, at) {
      s.deleteAnswers.run(applicationId);
      for (const [questionId, value] of Object.entries(answers)) {
        if (value === undefined) continue;
        s.insertAnswer.run(applicationId, questionId, JSON.stringify(value), at);
      }
    },

    async insertEvidence(e) {
      s.insertEvidence.run({
        id: e.id,
        application_id: e.applicationId,
        question_id: e.questionId,
        stored_name: e.storedName,
        file_name: e.fileName,
        media_type: e.mediaType,
        size: e.size,
        sha256: e.sha256,
        uploaded_at: e.uploadedAt,
        verified_at: e.verifiedAt,
        verified_by: e.verifiedBy,
      });
    },

    async listEvidence(applicationId) {
      return (s.listEvidence.all(applicationId) as EvidenceRow[]).map(toEvidence);
    },

    async getEvidence(applicationId, evidenceId) {
      const row = s.getEvidence.get(applicationId, evidenceId) as EvidenceRow | undefined;
      return row ? toEvidence(row) : null;
    },

    async deleteEvidence(applicationId, evidenceId) {
      s.deleteEvidence.run(applicationId, evidenceId);
    },

    async markEvidenceVerified(applicationId, evidenceId, by, at) {
      s.verifyEvidence.run(at, by, applicationId, evidenceId);
    },

    async insertTransition(t) {
      const { seq } = s.nextSeq.get(t.applicationId) as { seq: number };
      s.insertTransition.run({
        id: t.id,
        application_id: t.applicationId,
        seq,
        from_state: t.from,
        to_state: t.to,
        event: t.event,
        actor_type: t.actor.type,
        actor_id: t.actor.id,
        actor_label: t.actor.label,
        holder: t.holder,
        reason_code: t.reasonCode,
        text: t.text,
        at: t.at,
      });
      return { ...t, seq };
    },

    async listTransitions(applicationId) {
      return (s.listTransitions.all(applicationId) as TransitionRow[]).map(toTransition);
    },

    async insertChangeItem(c) {
      s.insertChangeItem.run({
        id: c.id,
        application_id: c.applicationId,
        transition_id: c.transitionId,
        seq: c.seq,
        target_type: c.target.type,
        target_id: c.target.id,
        message: c.message,
        status: c.status,
        response: c.response,
        responded_at: c.respondedAt,
        created_at: c.createdAt,
      });
    },

    async listChangeItems(applicationId) {
      return (s.listChangeItems.all(applicationId) as ChangeItemRow[]).map(toChangeItem);
    },

    async answerChangeItem(applicationId, itemId, response, at) {
      s.answerChangeItem.run(response, at, applicationId, itemId);
    },

    async insertDecision(d) {
      s.insertDecision.run({
        id: d.id,
        application_id: d.applicationId,
        partner_id: d.partnerId,
        kind: d.kind,
        actor_type: d.actor.type,
        actor_id: d.actor.id,
        actor_label: d.actor.label,
        at: d.at,
        policy_version: d.policyVersion,
        risk_tier: d.riskTier,
        reason_code: d.reasonCode,
        text: d.text,
        conditions: json(d.conditions),
      });
    },

    async listDecisions(applicationId) {
      return (s.listDecisions.all(applicationId) as DecisionRow[]).map(toDecision);
    },

    async insertPartner(p) {
      s.insertPartner.run({
        id: p.id,
        application_id: p.applicationId,
        applicant_id: p.applicantId,
        legal_name: p.legalName,
        status: p.status,
        allowed_roles: JSON.stringify(p.allowedRoles),
        status_reason_code: p.statusReasonCode,
        status_reason: p.statusReason,
        organization_identifier: p.organizationIdentifier,
        qwac_sha256: p.qwacSha256,
        qseal_sha256: p.qsealSha256,
        approved_at: p.approvedAt,
        updated_at: p.updatedAt,
      });
    },

    async getPartner(id) {
      const row = s.getPartner.get(id) as PartnerRow | undefined;
      return row ? toPartner(row) : null;
    },

    async partnerForApplication(applicationId) {
      const row = s.partnerForApplication.get(applicationId) as PartnerRow | undefined;
      return row ? toPartner(row) : null;
    },

    async partnerForOrganization(organizationIdentifier) {
      const row = s.partnerForOrganization.get(organizationIdentifier) as PartnerRow | undefined;
      return row ? toPartner(row) : null;
    },

    async listPartners() {
      return (s.listPartners.all() as PartnerRow[]).map(toPartner);
    },

    async updatePartner(id, p) {
      s.updatePartner.run(p.status, p.statusReasonCode, p.statusReason, p.updatedAt, id);
    },

    async updatePartnerRoles(id, allowedRoles, updatedAt) {
      s.updatePartnerRoles.run(JSON.stringify(allowedRoles), updatedAt, id);
    },

    async updatePartnerCertificate(id, kind, sha256, updatedAt) {
      (kind === 'qwac' ? s.updatePartnerQwac : s.updatePartnerQseal).run(sha256, updatedAt, id);
    },
  };
}
