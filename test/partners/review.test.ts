/**
 * Partner track: questionnaire and evidence, scoring stored on submission, officer review, change requests,
 * four eyes, knock-outs, conditions, rejection, and partner suspension.
 */
import assert from 'node:assert/strict';
import type { ActorRef, ApplicationView } from '../../src/partners/types.js';
import {
  acmeProfile,
  APPROVER_A,
  APPROVER_B,
  applicant,
  auditActions,
  auditHead,
  file,
  goodAnswers,
  harness,
  partnerCert,
  PDF,
  REVIEWER,
  snapshot,
  staff,
  type Harness,
  expectError,
} from './helpers.js';

const A = applicant(1);

async function partnerDraft(h: Harness, answers: Record<string, unknown> = goodAnswers(h.clock.now)): Promise<ApplicationView> {
  const app = await h.service.createApplication(A);
  await h.service.saveProfile(A, app.id, acmeProfile({ track: 'partner', requestedRoles: ['AIS'] }));
  await h.service.uploadCertificate(A, app.id, 'qwac', partnerCert(h.pki, 'acme-payments', 'qwac'));
  await h.service.uploadCertificate(A, app.id, 'qseal', partnerCert(h.pki, 'acme-payments', 'qseal'));
  const { errors } = await h.service.saveAnswers(A, app.id, answers);
  assert.deepEqual(errors, {});
  for (const q of ['q.iso27001', 'q.soc2', 'q.pentest_date']) {
    await h.service.uploadEvidence(A, app.id, q, file(PDF, `${q}.pdf`, 'application/pdf'));
  }
  return h.service.getForApplicant(A, app.id);
}

async function inReview(h: Harness, answers?: Record<string, unknown>): Promise<ApplicationView> {
  const draft = await partnerDraft(h, answers);
  assert.deepEqual(draft.blockers, []);
  const submitted = await h.service.submit(A, draft.id);
  assert.equal(submitted.state, 'submitted');
  return h.service.startReview(REVIEWER, draft.id);
}


const MEDIUM = (now: Date) => ({
  ...goodAnswers(now),
  'q.iso27001': 'excludes_api',
  'q.soc2': 'exceptions_no_plan',
  'q.patch_critical_days': '30',
  'q.access_review': 'yearly',
  'q.redirect_protection': ['state_check'],
  'q.sdlc_controls': ['code_review'],
});

const KNOCK_OUT = (now: Date) => ({ ...goodAnswers(now), 'q.mfa_staff': 'no' });

describe('partners: partner track, review and four eyes', function () {
  this.timeout(60_000);
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(() => h.close());

  it('blocks submission until the questionnaire and its required evidence are complete', async () => {
    const app = await h.service.createApplication(A);
    await h.service.saveProfile(A, app.id, acmeProfile({ track: 'partner', requestedRoles: ['AIS'] }));
    await h.service.uploadCertificate(A, app.id, 'qwac', partnerCert(h.pki, 'acme-payments', 'qwac'));
    const v1 = await h.service.uploadCertificate(A, app.id, 'qseal', partnerCert(h.pki, 'acme-payments', 'qseal'));
    assert.ok(v1.blockers.some((b) => /security questionnaire/.test(b)));
    assert.equal(v1.nextAction.text, 'Complete the security questionnaire');
    await h.service.saveAnswers(A, app.id, goodAnswers(h.clock.now));
    const v2 = await h.service.getForApplicant(A, app.id);
    assert.deepEqual(
      v2.questionnaire.incomplete.map((i) => i.questionId),
      ['q.iso27001', 'q.soc2', 'q.pentest_date'],
    );
    await assert.rejects(h.service.submit(A, app.id), expectError('partners.submission_blocked', 409));
  });

  it('stores score, tier and policy version on submission; low risk needs one approver', async () => {
    const review = await inReview(h);
    assert.equal(review.state, 'under_review');
    assert.equal(review.reviewer?.id, REVIEWER.id);
    assert.equal(review.riskTier, 'low');
    assert.equal(review.score?.policyVersion, 'risk-policy/2026.1');
    assert.equal(review.autoApproval, null, 'no automatic approval on the partner track');

    const seq = auditHead(h.db);
    const approved = await h.service.approve(APPROVER_A, review.id, { text: null });
    assert.equal(approved.state, 'approved');
    assert.equal(approved.decisions.at(-1)?.kind, 'approve');
    assert.equal(approved.decisions.at(-1)?.policyVersion, 'risk-policy/2026.1');
    assert.equal(approved.decisions.at(-1)?.riskTier, 'low');
    assert.equal(approved.partner?.status, 'active');
    assert.deepEqual(auditActions(h.db, seq), ['application.approved', 'partner.created']);
  });

  it('a reviewer cannot approve (403 partners.role_required), and nothing changes', async () => {
    const review = await inReview(h);
    const before = snapshot(h.db);
    for (const call of [
      () => h.service.approve(REVIEWER, review.id, { text: null }),
      () => h.service.approveWithConditions(REVIEWER, review.id, { allowedRoles: ['AIS'], remediation: [], text: null }),
      () => h.service.reject(REVIEWER, review.id, { reasonCode: 'OTHER', text: 'no' }),
    ]) {
      await assert.rejects(call(), expectError('partners.role_required', 403));
    }
    assert.deepEqual(snapshot(h.db), before);
  });

  it('an applicant cannot use staff methods (403 partners.staff_only)', async () => {
    const review = await inReview(h);
    const before = snapshot(h.db);
    const asStaff = { ...A, roles: ['approver'] } as ActorRef;
    await assert.rejects(h.service.approve(asStaff, review.id, { text: null }), expectError('partners.staff_only', 403));
    await assert.rejects(h.service.getForStaff(A, review.id), expectError('partners.staff_only', 403));
    await assert.rejects(h.service.queue(A, {}), expectError('partners.staff_only', 403));
    assert.deepEqual(snapshot(h.db), before);
  });

  it('medium risk: first approval waits for a second approver who is neither reviewer nor first approver', async () => {
    const review = await inReview(h, MEDIUM(h.clock.now));
    assert.equal(review.riskTier, 'medium');

    const first = await h.service.approve(APPROVER_A, review.id, { text: 'Fine with the exceptions.' });
    assert.equal(first.state, 'awaiting_second_approval');
    assert.equal(first.firstApprover?.id, APPROVER_A.id);
    assert.equal(first.partner, null);
    assert.equal(first.nextAction.text, 'Waiting for a second approver');

    // The first approver again: 403, nothing changed.
    const before = snapshot(h.db);
    await assert.rejects(h.service.secondApprove(APPROVER_A, review.id, { text: null }), expectError('partners.four_eyes', 403));
    assert.deepEqual(snapshot(h.db), before);

    // The reviewer, even holding the approver role: 403.
    const reviewerApprover = staff('rita', ['reviewer', 'approver']);
    await assert.rejects(h.service.secondApprove(reviewerApprover, review.id, { text: null }), expectError('partners.four_eyes', 403));
    assert.deepEqual(snapshot(h.db), before);

    // A reviewer-only second person: 403 role.
    await assert.rejects(
      h.service.secondApprove(staff('sam', ['reviewer']), review.id, { text: null }),
      expectError('partners.role_required', 403),
    );
    assert.deepEqual(snapshot(h.db), before);

    const seq = auditHead(h.db);
    const done = await h.service.secondApprove(APPROVER_B, review.id, { text: 'Agreed.' });
    assert.equal(done.state, 'approved');
    assert.deepEqual(
      done.decisions.map((d) => [d.kind, d.actor.id]),
      [
        ['approve', APPROVER_A.id],
        ['second_approval', APPROVER_B.id],
      ],
    );
    assert.equal(done.partner?.status, 'active');
    assert.deepEqual(auditActions(h.db, seq), ['application.approved', 'partner.created']);
    const approved = (await h.audit.list({ action: 'application.approved' }))[0]!;
    assert.equal(approved.actor.id, APPROVER_B.id);
    assert.equal(approved.data.firstApproverId, APPROVER_A.id);
  });

  it('knock-outs: approval needs a written risk acceptance (422), then four eyes', async () => {
    const review = await inReview(h, KNOCK_OUT(h.clock.now));
    assert.equal(review.riskTier, 'high');
    assert.deepEqual(review.score?.knockOuts.map((k) => k.questionId), ['q.mfa_staff']);
    const before = snapshot(h.db);
    await assert.rejects(h.service.approve(APPROVER_A, review.id, { text: null }), expectError('partners.knockout_needs_acceptance', 422));
    await assert.rejects(h.service.approve(APPROVER_A, review.id, { text: '   ' }), expectError('partners.knockout_needs_acceptance', 422));
    assert.deepEqual(snapshot(h.db), before);
    const first = await h.service.approve(APPROVER_A, review.id, { text: 'Accepted until 2027-03-31: MFA rollout contracted.' });
    assert.equal(first.state, 'awaiting_second_approval');
    assert.equal(first.timeline.at(-1)?.reasonCode, 'RISK_ACCEPTED');
    const done = await h.service.secondApprove(APPROVER_B, review.id, { text: null });
    assert.equal(done.state, 'approved');
  });

  it('approve with conditions: subset of roles and remediation, always four eyes, partner gets the subset', async () => {
    const app = await h.service.createApplication(A);
    await h.service.saveProfile(A, app.id, acmeProfile({ track: 'partner', requestedRoles: ['AIS', 'PIS'] }));
    await h.service.uploadCertificate(A, app.id, 'qwac', partnerCert(h.pki, 'acme-payments', 'qwac'));
    await h.service.uploadCertificate(A, app.id, 'qseal', partnerCert(h.pki, 'acme-payments', 'qseal'));
    await h.service.saveAnswers(A, app.id, {
      ...goodAnswers(h.clock.now),
      'q.monitoring': 'always',
      'q.continuity': 'tested_12m',
      'q.fraud_controls': ['payee_check', 'velocity_limits', 'anomaly_detection'],
    });
    for (const q of ['q.iso27001', 'q.soc2', 'q.pentest_date']) {
      await h.service.uploadEvidence(A, app.id, q, file(PDF, 'x.pdf', 'application/pdf'));
    }
    await h.service.submit(A, app.id);
    await h.service.startReview(REVIEWER, app.id);

    const before = snapshot(h.db);
    await assert.rejects(
      h.service.approveWithConditions(APPROVER_A, app.id, { allowedRoles: ['CBPII' as never], remediation: [], text: null }),
      expectError('input.invalid', 400),
    );
    await assert.rejects(
      h.service.approveWithConditions(APPROVER_A, app.id, {
        allowedRoles: ['AIS'],
        remediation: [{ text: 'x', dueDate: '2001-01-01' }],
        text: null,
      }),
      expectError('input.invalid', 400),
    );
    assert.deepEqual(snapshot(h.db), before);

    const due = new Date(h.clock.now.getTime() + 90 * 86_400_000).toISOString().slice(0, 10);
    const first = await h.service.approveWithConditions(APPROVER_A, app.id, {
      allowedRoles: ['AIS'],
      remediation: [{ text: 'Run a fraud-control audit.', dueDate: due }],
      text: 'PIS after the audit.',
    });
    assert.equal(first.state, 'awaiting_second_approval');
    assert.deepEqual(first.conditions?.allowedRoles, ['AIS']);
    const done = await h.service.secondApprove(APPROVER_B, app.id, { text: null });
    assert.equal(done.state, 'conditionally_approved');
    assert.deepEqual(done.partner?.allowedRoles, ['AIS']);
    assert.equal(done.decisions.at(-1)?.conditions?.remediation[0]?.dueDate, due);
  });

  it('approval refuses an application whose certificates do not pass (409 partners.checks_failed)', async () => {
    const review = await inReview(h);
    // Certificates that were fine at submission and are failing now (revalidated, e.g. revoked): simulated by
    // editing the stored report, the only way to reach this state without waiting for expiry.
    const row = h.db.prepare("SELECT id, report FROM application_certificates WHERE application_id = ? AND kind = 'qwac' AND is_current = 1").get(review.id) as { id: string; report: string };
    const report = JSON.parse(row.report) as { verdict: string };
    report.verdict = 'fail';
    h.db.prepare('UPDATE application_certificates SET report = ? WHERE id = ?').run(JSON.stringify(report), row.id);
    const before = snapshot(h.db);
    await assert.rejects(h.service.approve(APPROVER_A, review.id, { text: null }), expectError('partners.checks_failed', 409));
    assert.deepEqual(snapshot(h.db), before);
  });

  it('request changes → answer item by item → resubmit → approve; the timeline links items and holders', async () => {
    const review = await inReview(h);
    const evidenceId = review.questionnaire.evidence[0]!.id;

    const before = snapshot(h.db);
    await assert.rejects(h.service.requestChanges(REVIEWER, review.id, { items: [], text: null }), expectError('input.invalid', 400));
    await assert.rejects(
      h.service.requestChanges(REVIEWER, review.id, { items: [{ target: { type: 'question', id: 'q.nope' }, message: 'x' }], text: null }),
      expectError('input.invalid', 400),
    );
    await assert.rejects(
      h.service.requestChanges(REVIEWER, review.id, { items: [{ target: { type: 'evidence', id: 'nope' }, message: 'x' }], text: null }),
      expectError('input.invalid', 400),
    );
    assert.deepEqual(snapshot(h.db), before);

    const seq = auditHead(h.db);
    const cr = await h.service.requestChanges(REVIEWER, review.id, {
      items: [
        { target: { type: 'question', id: 'q.patch_critical_days' }, message: 'Give your SLA for high findings too.' },
        { target: { type: 'evidence', id: evidenceId }, message: 'This PDF is empty.' },
        { target: { type: 'profile', id: 'contacts.security' }, message: 'A 24/7 number, please.' },
      ],
      text: 'Three small things.',
    });
    assert.equal(cr.state, 'changes_requested');
    assert.deepEqual(auditActions(h.db, seq), ['application.changes_requested']);

    const mine = await h.service.getForApplicant(A, review.id);
    assert.equal(mine.nextAction.holder, 'applicant');
    assert.equal(mine.nextAction.text, 'Answer 3 change requests');
    const entry = mine.timeline.at(-1)!;
    assert.equal(entry.holder, 'applicant');
    assert.equal(entry.items.length, 3);
    assert.equal(entry.actor.label, 'Risk officer', 'staff identities are not shown to applicants');
    assert.equal(mine.reviewer, null);

    await assert.rejects(h.service.resubmit(A, review.id), expectError('partners.submission_blocked', 409));
    await assert.rejects(h.service.respondToChange(A, review.id, 'no-such-item', 'x'), expectError('not_found', 404));
    for (const item of mine.changeRequests) {
      await h.service.respondToChange(A, review.id, item.id, `Done: ${item.target.id}`);
    }
    const ready = await h.service.getForApplicant(A, review.id);
    assert.equal(ready.nextAction.text, 'Resubmit your application');
    const seq2 = auditHead(h.db);
    const back = await h.service.resubmit(A, review.id);
    assert.equal(back.state, 'under_review');
    assert.deepEqual(auditActions(h.db, seq2), ['application.resubmitted']);
    assert.ok(back.changeRequests.every((i) => i.status === 'answered'));
    const done = await h.service.approve(APPROVER_A, review.id, { text: null });
    assert.equal(done.state, 'approved');
    assert.deepEqual(
      done.timeline.map((t) => [t.to, t.holder]),
      [
        ['draft', 'applicant'],
        ['submitted', 'bank'],
        ['under_review', 'bank'],
        ['changes_requested', 'applicant'],
        ['under_review', 'bank'],
        ['approved', 'none'],
      ],
    );
  });

  it('reject needs a catalogue reason and a text; then the application is final', async () => {
    const review = await inReview(h);
    const before = snapshot(h.db);
    await assert.rejects(h.service.reject(APPROVER_A, review.id, { reasonCode: 'BAD_VIBES', text: 'x' }), expectError('input.invalid', 400));
    await assert.rejects(h.service.reject(APPROVER_A, review.id, { reasonCode: 'FRAUD_RISK', text: '' }), expectError('input.invalid', 400));
    assert.deepEqual(snapshot(h.db), before);
    const seq = auditHead(h.db);
    const rejected = await h.service.reject(APPROVER_A, review.id, { reasonCode: 'FRAUD_RISK', text: 'Ownership unclear.' });
    assert.equal(rejected.state, 'rejected');
    assert.equal(rejected.timeline.at(-1)?.reasonCode, 'FRAUD_RISK');
    assert.deepEqual(auditActions(h.db, seq), ['application.rejected']);
    await assert.rejects(h.service.approve(APPROVER_A, review.id, { text: null }), expectError('partners.illegal_transition', 409));
    await assert.rejects(h.service.withdraw(A, review.id, null), expectError('partners.illegal_transition', 409));
  });

  it('withdraw from draft and from review; nothing can follow', async () => {
    const d = await h.service.createApplication(A);
    const w = await h.service.withdraw(A, d.id, 'Changed our plans.');
    assert.equal(w.state, 'withdrawn');
    assert.equal(w.timeline.at(-1)?.text, 'Changed our plans.');
    await assert.rejects(h.service.saveProfile(A, d.id, acmeProfile()), expectError('partners.not_editable', 409));

    const review = await inReview(h);
    const seq = auditHead(h.db);
    assert.equal((await h.service.withdraw(A, review.id, null)).state, 'withdrawn');
    assert.deepEqual(auditActions(h.db, seq), ['application.withdrawn']);
    await assert.rejects(h.service.startReview(REVIEWER, review.id), expectError('partners.illegal_transition', 409));
  });

  it('editing is refused outside draft and changes requested (409 partners.not_editable)', async () => {
    const review = await inReview(h);
    const before = snapshot(h.db);
    await assert.rejects(h.service.saveProfile(A, review.id, acmeProfile()), expectError('partners.not_editable', 409));
    await assert.rejects(
      h.service.uploadCertificate(A, review.id, 'qwac', partnerCert(h.pki, 'acme-payments', 'qwac')),
      expectError('partners.not_editable', 409),
    );
    await assert.rejects(h.service.saveAnswers(A, review.id, { 'q.pentest': 'no' }), expectError('partners.not_editable', 409));
    await assert.rejects(h.service.uploadEvidence(A, review.id, 'q.soc2', file(PDF, 'a.pdf')), expectError('partners.not_editable', 409));
    await assert.rejects(
      h.service.removeEvidence(A, review.id, review.questionnaire.evidence[0]!.id),
      expectError('partners.not_editable', 409),
    );
    assert.deepEqual(snapshot(h.db), before);
  });

  it('a reviewer verifies evidence: the score is recomputed and stored', async () => {
    const review = await inReview(h);
    const before = review.score!.overall!;
    const ev = review.questionnaire.evidence[0]!;
    const seq = auditHead(h.db);
    const v = await h.service.verifyEvidence(REVIEWER, review.id, ev.id);
    assert.ok(v.questionnaire.evidence.find((e) => e.id === ev.id)?.verifiedAt);
    assert.ok(v.score!.overall! > before, `${v.score!.overall} > ${before}`);
    assert.deepEqual(auditActions(h.db, seq), ['application.evidence.verified']);
  });

  it('suspend and reinstate a partner with catalogue reasons; illegal steps are 409', async () => {
    const review = await inReview(h);
    const approved = await h.service.approve(APPROVER_A, review.id, { text: null });
    const partnerId = approved.partner!.id;
    const before = snapshot(h.db);
    await assert.rejects(h.service.suspendPartner(REVIEWER, partnerId, { reasonCode: 'FRAUD_GROUNDS', text: 'x' }), expectError('partners.role_required', 403));
    await assert.rejects(h.service.suspendPartner(APPROVER_A, partnerId, { reasonCode: 'NOPE', text: 'x' }), expectError('input.invalid', 400));
    await assert.rejects(h.service.reinstatePartner(APPROVER_A, partnerId, { text: 'x' }), expectError('partners.illegal_transition', 409));
    await assert.rejects(h.service.suspendPartner(APPROVER_A, 'nope', { reasonCode: 'OTHER', text: 'x' }), expectError('not_found', 404));
    assert.deepEqual(snapshot(h.db), before);

    const seq = auditHead(h.db);
    const s = await h.service.suspendPartner(APPROVER_A, partnerId, { reasonCode: 'FRAUD_GROUNDS', text: 'Evidence of APP fraud.' });
    assert.equal(s.status, 'suspended');
    assert.equal(s.statusReasonCode, 'FRAUD_GROUNDS');
    await assert.rejects(h.service.suspendPartner(APPROVER_A, partnerId, { reasonCode: 'OTHER', text: 'again' }), expectError('partners.illegal_transition', 409));
    const r = await h.service.reinstatePartner(APPROVER_B, partnerId, { text: 'Resolved with the NCA.' });
    assert.equal(r.status, 'active');
    assert.deepEqual(auditActions(h.db, seq), ['partner.suspended', 'partner.reinstated']);
    const events = await h.audit.list({ subjectType: 'partner', subjectId: partnerId });
    assert.deepEqual(events.map((e) => e.action), ['partner.created', 'partner.suspended', 'partner.reinstated']);
    const view = await h.service.getForStaff(APPROVER_A, review.id);
    assert.deepEqual(view.decisions.map((d) => d.kind), ['approve', 'suspend', 'reinstate']);
    assert.deepEqual((await h.service.listPartners(APPROVER_A)).map((p) => p.status), ['active']);
  });

  it('queue: filters by state, track, risk tier and age; drafts stay out', async () => {
    await h.service.createApplication(A); // a draft
    const review = await inReview(h);
    const q = await h.service.queue(REVIEWER, {});
    assert.deepEqual(q.map((i) => i.id), [review.id]);
    assert.equal(q[0]!.legalName, 'Acme Payments GmbH');
    assert.equal(q[0]!.ageDays, 0);
    assert.deepEqual(await h.service.queue(REVIEWER, { state: 'submitted' }), []);
    assert.equal((await h.service.queue(REVIEWER, { track: 'partner', riskTier: 'low' })).length, 1);
    assert.equal((await h.service.queue(REVIEWER, { track: 'regulated' })).length, 0);
    assert.equal((await h.service.queue(REVIEWER, { minAgeDays: 3 })).length, 0);
    h.clock.now = new Date(h.clock.now.getTime() + 4 * 86_400_000);
    const later = await h.service.queue(REVIEWER, { minAgeDays: 3 });
    assert.equal(later.length, 1);
    assert.equal(later[0]!.ageDays, 4);
  });
});
