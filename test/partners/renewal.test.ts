/**
 * Certificate renewal: an approved partner replaces its approved QWAC or QSealC with the one its QTSP renewed.
 * Real parts (SQLite, the eIDAS engine with revocation hard-fail against the dev PKI's responder); renewed
 * certificates are issued here by the dev QTSP's CAs. Every refusal asserts its code, its status and that
 * nothing changed (database snapshot, audit head).
 */
import assert from 'node:assert/strict';
import type { ApplicationView } from '../../src/partners/types.js';
import { renewedPartnerCertificate } from '../helpers/devpki.js';
import { acmeProfile, applicant, auditActions, auditHead, expectError, file, harness, partnerCert, snapshot, type Harness } from './helpers.js';

const DAY = 86_400_000;
const A = applicant(1);

async function approvedAcme(h: Harness): Promise<ApplicationView> {
  const app = await h.service.createApplication(A);
  await h.service.saveProfile(A, app.id, acmeProfile());
  await h.service.uploadCertificate(A, app.id, 'qwac', partnerCert(h.pki, 'acme-payments', 'qwac'));
  await h.service.uploadCertificate(A, app.id, 'qseal', partnerCert(h.pki, 'acme-payments', 'qseal'));
  const view = await h.service.submit(A, app.id);
  assert.equal(view.state, 'approved', 'the regulated track approves Acme by policy');
  return view;
}


const pemFile = (pem: string) => file(pem, 'renewed.pem', 'application/x-pem-file');

describe('partners: certificate renewal', function () {
  this.timeout(60_000);
  let h: Harness;
  let app: ApplicationView;

  beforeEach(async () => {
    h = await harness();
    app = await approvedAcme(h);
  });
  afterEach(() => h?.close());

  it('a renewed QWAC becomes the approved one: partner, application view, monitor list and audit follow', async () => {
    const before = (await h.service.getPartner(app.partner!.id))!;
    const renewed = await renewedPartnerCertificate(h.pki, 'acme-payments', 'qwac');
    const seq = auditHead(h.db);
    const r = await h.service.renewCertificate(A, app.id, 'qwac', pemFile(renewed.pem));

    assert.equal(r.kind, 'qwac');
    assert.equal(r.renewed.serialNumber.toLowerCase(), renewed.cert.serialNumber.toLowerCase());
    assert.equal(r.previous.serialNumber, app.certificates.qwac!.report.serialNumber);
    const after = (await h.service.getPartner(app.partner!.id))!;
    const renewedSha = app.certificates.qwac!.report.sha256 === after.qwacSha256 ? null : after.qwacSha256;
    assert.ok(renewedSha, 'the partner now points at another QWAC');
    assert.notEqual(after.qwacSha256, before.qwacSha256);
    assert.equal(after.status, 'active');
    assert.deepEqual(after.allowedRoles, before.allowedRoles);

    const view = await h.service.getForApplicant(A, app.id);
    assert.equal(view.certificates.qwac?.sha256, after.qwacSha256);
    assert.equal(view.certificates.qseal?.sha256, app.certificates.qseal?.sha256, 'the QSealC is untouched');
    const monitored = (await h.service.monitoredPartners()).find((m) => m.partner.id === after.id)!;
    assert.deepEqual(
      monitored.certificates.map((c) => [c.kind, c.sha256]),
      [
        ['qwac', after.qwacSha256],
        ['qseal', app.certificates.qseal?.sha256],
      ],
    );

    assert.deepEqual(auditActions(h.db, seq), ['partner.certificate.renewed']);
    const event = (await h.audit.list({ action: 'partner.certificate.renewed' }))[0]!;
    assert.equal(event.actor.id, A.id);
    assert.deepEqual(event.subject, { type: 'partner', id: after.id });
    assert.equal((event.data.previous as { sha256: string }).sha256, before.qwacSha256);
    assert.equal((event.data.renewed as { sha256: string }).sha256, after.qwacSha256);
    assert.equal(event.data.sameIssuingCa, true);
  });

  it('a renewed QSealC replaces the approved QSealC only', async () => {
    const before = (await h.service.getPartner(app.partner!.id))!;
    const renewed = await renewedPartnerCertificate(h.pki, 'acme-payments', 'qseal');
    await h.service.renewCertificate(A, app.id, 'qseal', pemFile(renewed.pem));
    const view = await h.service.getForApplicant(A, app.id);
    assert.notEqual(view.certificates.qseal?.sha256, app.certificates.qseal?.sha256);
    assert.equal((await h.service.getPartner(app.partner!.id))!.qwacSha256, before.qwacSha256);
    const monitored = (await h.service.monitoredPartners()).find((m) => m.partner.id === before.id)!;
    assert.equal(monitored.certificates.find((c) => c.kind === 'qseal')?.sha256, view.certificates.qseal?.sha256);
  });

  it('a suspended partner may renew (the status stays as the officers left it)', async () => {
    const renewed = await renewedPartnerCertificate(h.pki, 'acme-payments', 'qwac');
    await h.service.suspendPartnerAutomatically(app.partner!.id, { reasonCode: 'CERTIFICATE_EXPIRED', text: 'The approved QWAC expired.', source: 'test' });
    await h.service.renewCertificate(A, app.id, 'qwac', pemFile(renewed.pem));
    assert.equal((await h.service.getPartner(app.partner!.id))!.status, 'suspended');
  });

  describe('refused with nothing changed', () => {
    const refusals: [string, string, number, (h: Harness, app: ApplicationView) => Promise<unknown>][] = [
      ['a QSealC uploaded as the QWAC', 'renewal.wrong_type', 422, async (h, app) => {
        const seal = await renewedPartnerCertificate(h.pki, 'acme-payments', 'qseal');
        return h.service.renewCertificate(A, app.id, 'qwac', pemFile(seal.pem));
      }],
      ['an expired certificate', 'renewal.certificate_invalid', 422, async (h, app) => {
        const old = await renewedPartnerCertificate(h.pki, 'acme-payments', 'qwac', { notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY) });
        return h.service.renewCertificate(A, app.id, 'qwac', pemFile(old.pem));
      }],
      ['an Acme QWAC from a CA outside the trust profile (the rogue CA)', 'renewal.certificate_invalid', 422, async (h, app) => {
        const rogue = await renewedPartnerCertificate(h.pki, 'acme-payments', 'qwac', { issuer: 'rogue-ca' });
        return h.service.renewCertificate(A, app.id, 'qwac', pemFile(rogue.pem));
      }],
      ['the approved certificate itself', 'renewal.same_certificate', 422, (h, app) =>
        h.service.renewCertificate(A, app.id, 'qwac', partnerCert(h.pki, 'acme-payments', 'qwac')),
      ],
      ["another organisation's certificate (another authorisation number at the same NCA)", 'renewal.other_organisation', 422, async (h, app) => {
        const acme = h.pki.partners.find((p) => p.slug === 'acme-payments')!;
        const subject = acme.qwac.cert.subject.replace('PSDDE-BAFIN-152645', 'PSDDE-BAFIN-999999');
        assert.notEqual(subject, acme.qwac.cert.subject);
        const cert = await renewedPartnerCertificate(h.pki, 'acme-payments', 'qwac', { subject });
        return h.service.renewCertificate(A, app.id, 'qwac', pemFile(cert.pem));
      }],
      ['a certificate without the PSP_PI role the partner is allowed', 'renewal.roles_missing', 422, async (h, app) => {
        const cert = await renewedPartnerCertificate(h.pki, 'acme-payments', 'qwac', { roles: ['PSP_AI'] });
        return h.service.renewCertificate(A, app.id, 'qwac', pemFile(cert.pem));
      }],
      ['a certificate that expires before the approved one', 'renewal.not_later', 422, async (h, app) => {
        const cert = await renewedPartnerCertificate(h.pki, 'acme-payments', 'qwac', { notAfter: new Date(Date.now() + 100 * DAY) });
        return h.service.renewCertificate(A, app.id, 'qwac', pemFile(cert.pem));
      }],
      ['a file that is not a certificate', 'partners.certificate_unreadable', 422, (h, app) =>
        h.service.renewCertificate(A, app.id, 'qwac', file('not a certificate', 'x.pem')),
      ],
      ["another applicant's application", 'not_found', 404, async (h, app) => {
        const cert = await renewedPartnerCertificate(h.pki, 'acme-payments', 'qwac');
        return h.service.renewCertificate(applicant(2), app.id, 'qwac', pemFile(cert.pem));
      }],
      ['an unknown slot', 'not_found', 404, (h, app) => h.service.renewCertificate(A, app.id, 'tls' as 'qwac', partnerCert(h.pki, 'acme-payments', 'qwac'))],
    ];
    for (const [name, code, status, act] of refusals) {
      it(`${name}: ${code} ${status}`, async () => {
        const before = snapshot(h.db);
        const seq = auditHead(h.db);
        await assert.rejects(act(h, app), expectError(code, status));
        assert.deepEqual(snapshot(h.db), before);
        assert.equal(auditHead(h.db), seq);
      });
    }

    it('an application that is not approved: renewal.not_approved 409', async () => {
      const draft = await h.service.createApplication(A);
      await h.service.saveProfile(A, draft.id, acmeProfile());
      await h.service.uploadCertificate(A, draft.id, 'qwac', partnerCert(h.pki, 'acme-payments', 'qwac'));
      const cert = await renewedPartnerCertificate(h.pki, 'acme-payments', 'qwac');
      const before = snapshot(h.db);
      const seq = auditHead(h.db);
      await assert.rejects(h.service.renewCertificate(A, draft.id, 'qwac', pemFile(cert.pem)), expectError('renewal.not_approved', 409));
      assert.deepEqual(snapshot(h.db), before);
      assert.equal(auditHead(h.db), seq);
    });
  });
});
