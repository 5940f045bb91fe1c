/**
 * Regulated track: automatic approval by policy when certificates, consistency and the NCA register are all
 * green (dev PKI partner certificates + the dev register), and each reason it does not happen.
 */
import assert from 'node:assert/strict';
import { AppError } from '../../src/errors.js';
import { AUTO_APPROVAL_POLICY_VERSION } from '../../src/partners/checks.js';
import type { ApplicationView } from '../../src/partners/types.js';
import {
  acmeProfile,
  applicant,
  auditActions,
  auditHead,
  badCert,
  harness,
  partnerCert,
  snapshot,
  type Harness,
} from './helpers.js';

/** An EBA-shaped register with Acme as given (synthetic). */
function registerWithAcme(aut: string[], services: Record<string, string[]>[]): Buffer {
  const entity = {
    CA_OwnerID: 'DE_BAFIN',
    EntityCode: 'DE_BAFIN!152645',
    EntityType: 'PSD_PI',
    Properties: [
      { ENT_NAT_REF_COD: '152645' },
      { ENT_NAM: 'Acme Payments GmbH' },
      { ENT_COU_RES: 'DE' },
      { ENT_AUT: aut },
    ],
    Services: services,
  };
  return Buffer.from(JSON.stringify([[{ Disclaimer: 'synthetic test register' }], [entity]]));
}

async function draftWithCerts(h: Harness, profile = acmeProfile(), slug = 'acme-payments'): Promise<ApplicationView> {
  const a = applicant();
  const app = await h.service.createApplication(a);
  await h.service.saveProfile(a, app.id, profile);
  await h.service.uploadCertificate(a, app.id, 'qwac', partnerCert(h.pki, slug, 'qwac'));
  return h.service.uploadCertificate(a, app.id, 'qseal', partnerCert(h.pki, slug, 'qseal'));
}

describe('partners: regulated track and automatic approval', function () {
  this.timeout(60_000);
  let h: Harness;
  afterEach(() => h?.close());

  it('approves automatically when every check is green, in the same transaction as the submission', async () => {
    h = await harness();
    const a = applicant();
    const draft = await draftWithCerts(h);
    assert.equal(draft.certificates.qwac?.report.verdict, 'pass', JSON.stringify(draft.certificates.qwac?.report.findings));
    assert.equal(draft.certificates.qseal?.report.verdict, 'pass', JSON.stringify(draft.certificates.qseal?.report.findings));
    assert.deepEqual(draft.consistency, []);
    assert.equal(draft.register?.status, 'match');
    assert.deepEqual(draft.blockers, []);
    assert.equal(draft.nextAction.text, 'Submit your application');

    const seq = auditHead(h.db);
    const view = await h.service.submit(a, draft.id);
    assert.equal(view.state, 'approved');
    assert.equal(view.nextAction.holder, 'none');
    assert.deepEqual(
      view.timeline.map((t) => [t.from, t.to, t.actor.type]),
      [
        [null, 'draft', 'applicant'],
        ['draft', 'submitted', 'applicant'],
        ['submitted', 'approved', 'system'],
      ],
    );
    assert.equal(view.timeline[2]!.actor.label, `policy ${AUTO_APPROVAL_POLICY_VERSION}`);
    assert.equal(view.decisions.length, 1);
    const d = view.decisions[0]!;
    assert.equal(d.kind, 'auto_approve');
    assert.equal(d.policyVersion, 'regulated-auto/2026.1');
    assert.deepEqual(d.actor, { type: 'system', id: null, label: 'policy regulated-auto/2026.1' });
    assert.equal(view.autoApproval?.passed, true);
    assert.ok(view.score, 'the questionnaire is scored (informational) on the regulated track');
    assert.equal(view.partner?.status, 'active');
    assert.deepEqual(view.partner?.allowedRoles, ['AIS', 'PIS']);
    assert.equal(view.partner?.organizationIdentifier, 'PSDDE-BAFIN-152645');
    assert.equal(view.partner?.qwacSha256, view.certificates.qwac?.sha256);
    assert.deepEqual(auditActions(h.db, seq), [
      'application.submitted',
      'application.auto_approved',
      'partner.created',
    ]);
    const events = await h.audit.list({ subjectId: draft.id });
    const auto = events.find((e) => e.action === 'application.auto_approved')!;
    assert.deepEqual(auto.actor, { type: 'system', id: null, label: 'policy regulated-auto/2026.1' });
    assert.equal((await h.audit.verify()).ok, true);
  });

  it('the questionnaire never blocks the regulated track', async () => {
    h = await harness();
    const draft = await draftWithCerts(h);
    assert.ok(draft.questionnaire.incomplete.length > 0);
    assert.deepEqual(draft.blockers, []);
  });

  it('does not approve when the register shows the authorisation withdrawn: stays submitted with the reason', async () => {
    h = await harness({ registerFile: registerWithAcme(['2019-03-01', '2025-06-30'], [{ DE: ['PS_070', 'PS_080'] }]) });
    const draft = await draftWithCerts(h);
    assert.equal(draft.register?.status, 'withdrawn');
    assert.deepEqual(draft.blockers, [], 'the register is evidence, not a submission gate');
    const seq = auditHead(h.db);
    const view = await h.service.submit(applicant(), draft.id);
    assert.equal(view.state, 'submitted');
    assert.equal(view.partner, null);
    assert.deepEqual(view.decisions, []);
    assert.equal(view.autoApproval?.passed, false);
    assert.deepEqual(
      view.autoApproval?.checks.filter((c) => !c.ok).map((c) => c.name),
      ['register_authorised'],
    );
    const submitted = view.timeline.at(-1)!;
    assert.equal(submitted.reasonCode, 'AUTO_APPROVAL_NOT_MET');
    assert.match(submitted.text!, /withdrawn/);
    assert.equal(view.nextAction.text, 'Waiting for a risk officer (usually within 2 working days)');
    assert.deepEqual(auditActions(h.db, seq), ['application.submitted']);
    const ev = (await h.audit.list({ action: 'application.submitted' }))[0]!;
    assert.deepEqual(ev.data.autoApproval, { passed: false, failed: ['register_authorised'] });
  });

  it('does not approve when the register lacks a requested service (PIS not listed)', async () => {
    h = await harness({ registerFile: registerWithAcme(['2019-03-01'], [{ DE: ['PS_080'] }]) });
    const draft = await draftWithCerts(h);
    const view = await h.service.submit(applicant(), draft.id);
    assert.equal(view.state, 'submitted');
    assert.deepEqual(
      view.autoApproval?.checks.filter((c) => !c.ok).map((c) => c.name),
      ['services_cover_roles'],
    );
    assert.match(view.timeline.at(-1)!.text!, /PIS/);
  });

  it('does not approve when the declared legal name differs from the register (a human confirms)', async () => {
    h = await harness();
    const draft = await draftWithCerts(h, acmeProfile({ legalName: 'Acme Holding Ltd' }));
    assert.ok(draft.register?.findings.some((f) => f.code === 'register.name_mismatch'));
    const view = await h.service.submit(applicant(), draft.id);
    assert.equal(view.state, 'submitted');
    assert.deepEqual(
      view.autoApproval?.checks.filter((c) => !c.ok).map((c) => c.name),
      ['register_authorised'],
    );
  });

  it('does not approve when no register snapshot is loaded', async () => {
    h = await harness({ registerFile: null });
    const draft = await draftWithCerts(h);
    assert.equal(draft.register?.status, 'unavailable');
    const view = await h.service.submit(applicant(), draft.id);
    assert.equal(view.state, 'submitted');
    assert.deepEqual(
      view.autoApproval?.checks.filter((c) => !c.ok).map((c) => c.name),
      ['register_authorised', 'services_cover_roles'],
    );
  });

  it('a role the certificate does not carry is a consistency error that blocks submission', async () => {
    h = await harness();
    // Nordic Insights holds PSP_AI only.
    const profile = acmeProfile({
      legalName: 'Nordic Insights AB',
      country: 'SE',
      ncaId: 'SE-FINA',
      authorisationNumber: '44059',
      requestedRoles: ['AIS', 'PIS'],
    });
    const draft = await draftWithCerts(h, profile, 'nordic-insights');
    assert.deepEqual(
      draft.consistency.map((f) => [f.code, f.target]),
      [
        ['consistency.roles', 'qwac'],
        ['consistency.roles', 'qseal'],
      ],
    );
    const before = snapshot(h.db);
    await assert.rejects(h.service.submit(applicant(), draft.id), (e: unknown) => {
      assert.ok(e instanceof AppError);
      assert.equal(e.code, 'partners.submission_blocked');
      assert.equal(e.status, 409);
      assert.match(e.message, /PSP_PI \(PIS\)/);
      return true;
    });
    assert.deepEqual(snapshot(h.db), before);
  });

  it('an NCA or number that differs from the certificate blocks submission', async () => {
    h = await harness();
    const draft = await draftWithCerts(h, acmeProfile({ authorisationNumber: '999999' }));
    assert.deepEqual(
      [...new Set(draft.consistency.map((f) => f.code))],
      ['consistency.authorisation_number'],
    );
    assert.equal(draft.register?.status, 'not_found');
    const before = snapshot(h.db);
    await assert.rejects(h.service.submit(applicant(), draft.id), { code: 'partners.submission_blocked', status: 409 });
    assert.deepEqual(snapshot(h.db), before);

    const other = await draftWithCerts(h, acmeProfile({ country: 'AT', ncaId: 'AT-FMA' }));
    assert.ok(other.consistency.some((f) => f.code === 'consistency.nca' && f.target === 'qwac'));
  });

  it('a failing certificate is stored with its report, explains the fix, and blocks submission', async () => {
    h = await harness();
    const a = applicant();
    const app = await h.service.createApplication(a);
    await h.service.saveProfile(a, app.id, acmeProfile());
    const view = await h.service.uploadCertificate(a, app.id, 'qwac', badCert(h.pki, 'expired'));
    await h.service.uploadCertificate(a, app.id, 'qseal', partnerCert(h.pki, 'acme-payments', 'qseal'));
    const qwac = view.certificates.qwac!;
    assert.equal(qwac.report.verdict, 'fail');
    assert.ok(qwac.report.findings.some((f) => f.code === 'expired' && f.severity === 'error'));
    const after = await h.service.getForApplicant(a, app.id);
    assert.ok(after.blockers.some((b) => /QWAC does not pass validation/.test(b)), after.blockers.join('|'));
    await assert.rejects(h.service.submit(a, app.id), { code: 'partners.submission_blocked' });

    // Uploading a passing certificate replaces it; the applicant can then submit.
    await h.service.uploadCertificate(a, app.id, 'qwac', partnerCert(h.pki, 'acme-payments', 'qwac'));
    const fixed = await h.service.submit(a, app.id);
    assert.equal(fixed.state, 'approved');
    assert.equal((h.db.prepare('SELECT count(*) AS n FROM application_certificates WHERE application_id = ?').get(app.id) as { n: number }).n, 3);
  });

  it('a QSealC in the QWAC slot is a consistency error', async () => {
    h = await harness();
    const a = applicant();
    const app = await h.service.createApplication(a);
    await h.service.saveProfile(a, app.id, acmeProfile());
    const view = await h.service.uploadCertificate(a, app.id, 'qwac', partnerCert(h.pki, 'acme-payments', 'qseal'));
    assert.ok(view.consistency.some((f) => f.code === 'consistency.type' && f.target === 'qwac'));
  });

  it('a revoked certificate fails (OCSP through the dev responder)', async () => {
    h = await harness();
    const a = applicant();
    const app = await h.service.createApplication(a);
    await h.service.saveProfile(a, app.id, acmeProfile());
    const view = await h.service.uploadCertificate(a, app.id, 'qwac', badCert(h.pki, 'revoked'));
    assert.equal(view.certificates.qwac?.report.verdict, 'fail');
    assert.ok(view.certificates.qwac?.report.findings.some((f) => f.code === 'revoked'));
  });
});
