/**
 * The applicant's side: isolation between applicants, profile validation and mass assignment, uploads
 * (certificates, PKCS#12, evidence with hostile names and disguised types), and the audit actions each
 * change writes.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { type AppError, InputError } from '../../src/errors.js';
import { CertificateUnreadableError } from '../../src/partners/errors.js';
import { isValidLei, redirectUriProblem } from '../../src/partners/profile.js';
import { sanitiseFileName, sha256Hex } from '../../src/partners/uploads.js';
import {
  acmeProfile,
  applicant,
  auditActions,
  auditHead,
  file,
  goodAnswers,
  harness,
  partnerCert,
  PDF,
  pkcs12,
  PNG,
  REVIEWER,
  snapshot,
  type Harness,
  expectError,
} from './helpers.js';

const A = applicant(1);
const B = applicant(2);


function fieldsOf(e: unknown): Record<string, string> {
  assert.ok(e instanceof InputError, String(e));
  return Object.fromEntries(e.fields.map((f) => [f.path, f.message]));
}

describe('partners: applicant side', function () {
  this.timeout(60_000);
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(() => h.close());

  describe('isolation', () => {
    it("another applicant's application id is 404 for every method, exactly like an unknown id, and nothing changes", async () => {
      const app = await h.service.createApplication(A);
      await h.service.saveProfile(A, app.id, acmeProfile({ track: 'partner', requestedRoles: ['AIS'] }));
      await h.service.saveAnswers(A, app.id, goodAnswers(h.clock.now));
      const withEvidence = await h.service.uploadEvidence(A, app.id, 'q.soc2', file(PDF, 'soc2.pdf', 'application/pdf'));
      const evidenceId = withEvidence.questionnaire.evidence[0]!.id;
      const before = snapshot(h.db);
      const calls: [string, (id: string) => Promise<unknown>][] = [
        ['getForApplicant', (id) => h.service.getForApplicant(B, id)],
        ['saveProfile', (id) => h.service.saveProfile(B, id, acmeProfile())],
        ['uploadCertificate', (id) => h.service.uploadCertificate(B, id, 'qwac', partnerCert(h.pki, 'acme-payments', 'qwac'))],
        ['saveAnswers', (id) => h.service.saveAnswers(B, id, { 'q.pentest': 'no' })],
        ['uploadEvidence', (id) => h.service.uploadEvidence(B, id, 'q.soc2', file(PDF, 'x.pdf'))],
        ['removeEvidence', (id) => h.service.removeEvidence(B, id, evidenceId)],
        ['submit', (id) => h.service.submit(B, id)],
        ['respondToChange', (id) => h.service.respondToChange(B, id, 'x', 'y')],
        ['resubmit', (id) => h.service.resubmit(B, id)],
        ['withdraw', (id) => h.service.withdraw(B, id, null)],
        ['evidenceFile', (id) => h.service.evidenceFile(B, id, evidenceId)],
      ];
      for (const [name, call] of calls) {
        let theirs: AppError | undefined;
        let unknown: AppError | undefined;
        await call(app.id).catch((e: AppError) => (theirs = e));
        await call('00000000-0000-4000-8000-000000000000').catch((e: AppError) => (unknown = e));
        assert.ok(theirs && unknown, name);
        assert.equal(theirs.code, 'not_found', `${name}: ${theirs.message}`);
        assert.equal(theirs.status, 404, name);
        assert.deepEqual([theirs.code, theirs.status, theirs.message], [unknown.code, unknown.status, unknown.message], name);
      }
      assert.deepEqual(snapshot(h.db), before);
      assert.deepEqual(await h.service.listForApplicant(B.id), []);
      assert.equal((await h.service.listForApplicant(A.id)).length, 1);
      // Staff see it; the owner can download the evidence.
      assert.equal((await h.service.getForStaff(REVIEWER, app.id)).id, app.id);
      const f = await h.service.evidenceFile(A, app.id, evidenceId);
      assert.deepEqual(readFileSync(f.path), PDF);
    });
  });

  describe('profile', () => {
    it('saves a valid profile and writes application.profile.saved', async () => {
      const app = await h.service.createApplication(A);
      const seq = auditHead(h.db);
      const v = await h.service.saveProfile(A, app.id, acmeProfile({ lei: '5299 00T8BM49AURSDO55' }));
      assert.equal(v.profile?.lei, '529900T8BM49AURSDO55');
      assert.equal(v.track, 'regulated');
      assert.deepEqual(auditActions(h.db, seq), ['application.profile.saved']);
    });

    it('accepts flat dotted/bracket keys and one-per-line redirect URIs (a plain HTML form)', async () => {
      const app = await h.service.createApplication(A);
      const form: Record<string, unknown> = {
        legalName: 'Acme Payments GmbH',
        country: 'de',
        registrationNumber: 'HRB 1',
        ncaId: 'de-bafin',
        authorisationNumber: '152645',
        track: 'regulated',
        requestedRoles: 'AIS',
        redirectUris: 'https://a.test/cb\r\nhttps://b.test/cb\n',
        'contacts.business.name': 'B',
        'contacts.business.email': 'b@x.test',
        'contacts[technical][name]': 'T',
        'contacts[technical][email]': 't@x.test',
        'contacts.security.name': 'S',
        'contacts.security.email': 's@x.test',
        'contacts.security.phone': '',
      };
      const v = await h.service.saveProfile(A, app.id, form);
      assert.deepEqual(v.profile?.redirectUris, ['https://a.test/cb', 'https://b.test/cb']);
      assert.deepEqual(v.profile?.requestedRoles, ['AIS']);
      assert.equal(v.profile?.ncaId, 'DE-BAFIN');
      assert.equal(v.profile?.contacts.security.phone, null);
    });

    it('refuses bad input with a message per field and saves nothing', async () => {
      const app = await h.service.createApplication(A);
      const before = snapshot(h.db);
      const bad = acmeProfile({
        legalName: '',
        country: 'XX',
        lei: '529900T8BM49AURSDO56',
        ncaId: 'FR-ACPR',
        requestedRoles: ['AIS', 'ADMIN'],
        redirectUris: [
          'http://app.test/cb',
          'https://app.test/cb#frag',
          'https://user:pw@app.test/cb',
          'https://*.app.test/cb',
          'not a url',
        ],
        contacts: { business: { name: 'x', email: 'nope' }, technical: {}, security: { name: 's', email: 's@x.test' } },
      });
      const err = await h.service.saveProfile(A, app.id, bad).catch((e: unknown) => e);
      assert.ok(err instanceof InputError);
      assert.equal(err.status, 400);
      const f = fieldsOf(err);
      for (const p of [
        'legalName',
        'country',
        'lei',
        'requestedRoles.1',
        'redirectUris.0',
        'redirectUris.1',
        'redirectUris.2',
        'redirectUris.3',
        'redirectUris.4',
        'contacts.business.email',
        'contacts.technical.name',
        'contacts.technical.email',
      ]) {
        assert.ok(f[p], `${p} in ${JSON.stringify(f)}`);
      }
      assert.deepEqual(snapshot(h.db), before);
    });

    it('the NCA must exist and belong to the country; the regulated track needs NCA and number', async () => {
      const app = await h.service.createApplication(A);
      const f1 = fieldsOf(await h.service.saveProfile(A, app.id, acmeProfile({ ncaId: 'FR-ACPR' })).catch((e: unknown) => e));
      assert.match(f1.ncaId!, /authority of FR, not of DE/);
      const f2 = fieldsOf(await h.service.saveProfile(A, app.id, acmeProfile({ ncaId: 'DE-NOPE' })).catch((e: unknown) => e));
      assert.match(f2.ncaId!, /not a known NCA/);
      const f3 = fieldsOf(await h.service.saveProfile(A, app.id, acmeProfile({ ncaId: '', authorisationNumber: '' })).catch((e: unknown) => e));
      assert.ok(f3.ncaId && f3.authorisationNumber);
      // Greece: EL in EU usage, GR in ISO: both fit GR-BOG.
      const v = await h.service.saveProfile(A, app.id, acmeProfile({ country: 'EL', ncaId: 'GR-BOG' }));
      assert.equal(v.profile?.country, 'EL');
      // The partner track may leave them out.
      const p = await h.service.saveProfile(A, app.id, acmeProfile({ track: 'partner', ncaId: '', authorisationNumber: '' }));
      assert.equal(p.profile?.ncaId, null);
      assert.equal(p.register, null);
    });

    it('mass assignment: state, score and other unknown fields in the form are ignored', async () => {
      const app = await h.service.createApplication(A);
      const v = await h.service.saveProfile(A, app.id, {
        ...acmeProfile(),
        state: 'approved',
        riskTier: 'low',
        score: { overall: 100 },
        applicantId: B.id,
        reviewer: { id: 'x' },
        id: 'other',
        contacts: { ...(acmeProfile().contacts as object), admin: { name: 'x', email: 'x@x.test' } },
        __proto__: { state: 'approved' },
      });
      assert.equal(v.state, 'draft');
      assert.equal(v.riskTier, null);
      assert.equal(v.score, null);
      assert.equal(v.applicantId, A.id);
      assert.equal(v.id, app.id);
      assert.deepEqual(Object.keys(v.profile!).sort(), [
        'authorisationNumber',
        'contacts',
        'country',
        'legalName',
        'lei',
        'ncaId',
        'redirectUris',
        'registrationNumber',
        'requestedRoles',
        'track',
      ]);
      assert.deepEqual(Object.keys(v.profile!.contacts).sort(), ['business', 'security', 'technical']);
      const row = h.db.prepare('SELECT state, risk_tier, applicant_id FROM applications WHERE id = ?').get(app.id);
      assert.deepEqual(row, { state: 'draft', risk_tier: null, applicant_id: A.id });
    });

    it('LEI check digits and redirect URI rules', () => {
      assert.equal(isValidLei('529900T8BM49AURSDO55'), true);
      assert.equal(isValidLei('529900T8BM49AURSDO56'), false);
      assert.equal(isValidLei('5299'), false);
      assert.equal(redirectUriProblem('https://app.test/cb?x=1'), null);
      assert.match(redirectUriProblem('https://app.test/cb#')!, /fragment/);
      assert.match(redirectUriProblem('https://a@app.test/')!, /user name/);
      assert.match(redirectUriProblem('HTTP://app.test/')!, /https/);
    });

    it('at most 10 redirect URIs', async () => {
      const app = await h.service.createApplication(A);
      const uris = Array.from({ length: 11 }, (_, i) => `https://app.test/cb${i}`);
      const f = fieldsOf(await h.service.saveProfile(A, app.id, acmeProfile({ redirectUris: uris })).catch((e: unknown) => e));
      assert.match(f.redirectUris!, /At most 10/);
    });
  });

  describe('certificate uploads', () => {
    it('stores the DER and the report, never the upload; writes application.certificate.uploaded', async () => {
      const app = await h.service.createApplication(A);
      await h.service.saveProfile(A, app.id, acmeProfile());
      const seq = auditHead(h.db);
      const upload = partnerCert(h.pki, 'acme-payments', 'qwac');
      const v = await h.service.uploadCertificate(A, app.id, 'qwac', upload);
      const expected = Buffer.from(h.pki.partners[0]!.qwac.cert.rawData);
      const row = h.db.prepare('SELECT der, chain, sha256 FROM application_certificates WHERE application_id = ?').get(app.id) as {
        der: Buffer;
        chain: string;
        sha256: string;
      };
      assert.deepEqual(row.der, expected);
      assert.equal(row.sha256, sha256Hex(expected));
      assert.equal(v.certificates.qwac?.sha256, row.sha256);
      assert.equal((JSON.parse(row.chain) as string[]).length, 1);
      assert.deepEqual(auditActions(h.db, seq), ['application.certificate.uploaded']);
      const ev = (await h.audit.list({ action: 'application.certificate.uploaded' }))[0]!;
      assert.equal(ev.data.sha256, row.sha256);
      assert.equal(ev.ip, A.ip);
    });

    it('over 64 KB is 413 partners.upload_too_large; nothing stored', async () => {
      const app = await h.service.createApplication(A);
      const before = snapshot(h.db);
      await assert.rejects(
        h.service.uploadCertificate(A, app.id, 'qwac', file(Buffer.alloc(64 * 1024 + 1, 0x41), 'big.pem')),
        expectError('partners.upload_too_large', 413),
      );
      assert.deepEqual(snapshot(h.db), before);
    });

    it('an unreadable file is 422 partners.certificate_unreadable with the engine report; nothing stored', async () => {
      const app = await h.service.createApplication(A);
      const before = snapshot(h.db);
      const err = await h.service.uploadCertificate(A, app.id, 'qwac', file(PDF, 'cert.pem')).catch((e: unknown) => e);
      assert.ok(err instanceof CertificateUnreadableError);
      assert.equal(err.code, 'partners.certificate_unreadable');
      assert.equal(err.status, 422);
      assert.equal(err.report.verdict, 'fail');
      assert.equal(err.report.findings[0]?.code, 'malformed');
      assert.deepEqual(snapshot(h.db), before);
    });

    it('a PKCS#12 with a wrong or missing password is 422 partners.certificate_password; nothing stored', async () => {
      const { p12, certDer, keyDer } = await pkcs12('s3cret-export');
      const app = await h.service.createApplication(A);
      const before = snapshot(h.db);
      for (const password of ['wrong', undefined]) {
        const upload = { ...file(p12, 'bundle.p12', 'application/x-pkcs12'), ...(password ? { password } : {}) };
        await assert.rejects(h.service.uploadCertificate(A, app.id, 'qwac', upload), expectError('partners.certificate_password', 422));
      }
      assert.deepEqual(snapshot(h.db), before);

      // With the right password: only the certificate is kept (it fails the QWAC profile, and shows why).
      const v = await h.service.uploadCertificate(A, app.id, 'qwac', { ...file(p12, 'bundle.p12'), password: 's3cret-export' });
      assert.equal(v.certificates.qwac?.report.verdict, 'fail');
      const row = h.db.prepare('SELECT der, chain, report FROM application_certificates').get() as { der: Buffer; chain: string; report: string };
      assert.deepEqual(row.der, certDer);
      assert.deepEqual(JSON.parse(row.chain), []);
      const everything = JSON.stringify(h.db.prepare('SELECT * FROM application_certificates').all()) + JSON.stringify(await h.audit.list());
      assert.ok(!everything.includes('s3cret-export'), 'the password is stored nowhere');
      const dump = Buffer.concat(
        (h.db.prepare('SELECT der FROM application_certificates').all() as { der: Buffer }[]).map((r) => r.der),
      );
      assert.equal(dump.indexOf(keyDer.subarray(-64)), -1, 'no key material stored');
      assert.equal(dump.indexOf(p12.subarray(0, 64)), -1, 'the PKCS#12 file itself is not stored');
    });
  });

  describe('answers and evidence', () => {
    async function partnerApp() {
      const app = await h.service.createApplication(A);
      await h.service.saveProfile(A, app.id, acmeProfile({ track: 'partner', requestedRoles: ['AIS'] }));
      await h.service.saveAnswers(A, app.id, goodAnswers(h.clock.now));
      return app;
    }

    it('saves draft answers, keeps valid ones and reports the bad ones; audit only when something changed', async () => {
      const app = await partnerApp();
      const seq = auditHead(h.db);
      const r = await h.service.saveAnswers(A, app.id, { 'q.patch_critical_days': '3', 'q.retention_days': 'forever', state: 'approved' });
      assert.equal(r.view.questionnaire.answers['q.patch_critical_days'], 3);
      assert.equal(r.view.questionnaire.answers['q.retention_days'], 30);
      assert.ok(r.errors['q.retention_days']);
      assert.equal(r.view.state, 'draft');
      assert.deepEqual(auditActions(h.db, seq), ['application.answers.saved']);
      const ev = (await h.audit.list({ action: 'application.answers.saved' })).at(-1)!;
      assert.deepEqual(ev.data.questionIds, ['q.patch_critical_days']);
      await h.service.saveAnswers(A, app.id, { 'q.patch_critical_days': '3' });
      assert.deepEqual(auditActions(h.db, seq), ['application.answers.saved'], 'no change, no event');
    });

    it('stores evidence under a random name with mode 0600 and the recorded SHA-256; hostile names are display text only', async () => {
      const app = await partnerApp();
      const seq = auditHead(h.db);
      const names = ['../../etc/passwd', 'a\u0000b.pdf', '..\\..\\win.ini', '\u202egpj.exe.pdf', `${'x'.repeat(300)}.pdf`];
      for (const name of names) {
        await h.service.uploadEvidence(A, app.id, 'q.iso27001', file(PDF, name, 'application/pdf'));
      }
      const v = await h.service.getForApplicant(A, app.id);
      const shown = v.questionnaire.evidence.map((e) => e.fileName);
      assert.deepEqual(shown, ['passwd', 'ab.pdf', 'win.ini', 'gpj.exe.pdf', `${'x'.repeat(96)}.pdf`]);
      const dir = path.join(h.dataDir, 'evidence', app.id);
      const files = readdirSync(dir);
      assert.equal(files.length, names.length);
      for (const e of v.questionnaire.evidence) {
        const row = h.db.prepare('SELECT stored_name FROM evidence WHERE id = ?').get(e.id) as { stored_name: string };
        assert.match(row.stored_name, /^[0-9a-f-]{36}$/);
        const p = path.join(dir, row.stored_name);
        assert.deepEqual(readFileSync(p), PDF);
        assert.equal(sha256Hex(readFileSync(p)), e.sha256);
        assert.equal(statSync(p).mode & 0o777, 0o600);
        const dl = await h.service.evidenceFile(A, app.id, e.id);
        assert.equal(dl.path, p);
        assert.equal(dl.mediaType, 'application/pdf');
      }
      assert.ok(!existsSync(path.join(h.dataDir, 'etc')));
      assert.deepEqual(auditActions(h.db, seq), names.map(() => 'application.evidence.uploaded'));
    });

    it('oversized evidence is 413; wrong or disguised types are 415; nothing stored', async () => {
      const app = await partnerApp();
      const before = snapshot(h.db);
      const big = Buffer.concat([PDF, Buffer.alloc(10 * 1024 * 1024)]);
      await assert.rejects(h.service.uploadEvidence(A, app.id, 'q.soc2', file(big, 'big.pdf', 'application/pdf')), expectError('partners.upload_too_large', 413));
      // q.key_storage takes at most 5 MB.
      await assert.rejects(
        h.service.uploadEvidence(A, app.id, 'q.key_storage', file(Buffer.concat([PDF, Buffer.alloc(5 * 1024 * 1024)]), 'k.pdf')),
        expectError('partners.upload_too_large', 413),
      );
      const html = Buffer.from('<!DOCTYPE html><html><script>alert(1)</script></html>');
      for (const [bytes, name, type] of [
        [html, 'report.pdf', 'application/pdf'],
        [PNG, 'scan.png', 'image/png'], // q.soc2 accepts PDF only
        [Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]), 'tool.pdf', 'application/pdf'],
        [Buffer.from('plain words'), 'notes.pdf', 'application/pdf'],
      ] as const) {
        await assert.rejects(h.service.uploadEvidence(A, app.id, 'q.soc2', file(bytes, name, type)), expectError('partners.upload_type', 415));
      }
      // text/plain where accepted must really be text: no NUL, valid UTF-8, no markup.
      for (const bytes of [Buffer.from('a\u0000b'), Buffer.from([0xc3, 0x28]), html]) {
        await assert.rejects(h.service.uploadEvidence(A, app.id, 'q.key_storage', file(bytes, 'k.txt', 'text/plain')), expectError('partners.upload_type', 415));
      }
      await assert.rejects(h.service.uploadEvidence(A, app.id, 'q.pentest', file(PDF, 'x.pdf')), expectError('input.invalid', 400));
      assert.deepEqual(snapshot(h.db), before);
      assert.ok(!existsSync(path.join(h.dataDir, 'evidence', app.id)) || readdirSync(path.join(h.dataDir, 'evidence', app.id)).length === 0);
      // A real text file is fine there.
      const v = await h.service.uploadEvidence(A, app.id, 'q.key_storage', file(Buffer.from('Keys live in an HSM. Schlüssel.'), 'k.txt'));
      assert.equal(v.questionnaire.evidence[0]?.mediaType, 'text/plain');
    });

    it('leaves no file behind when the transaction fails', async () => {
      const app = await partnerApp();
      h.db.exec("CREATE TRIGGER fail_evidence BEFORE INSERT ON evidence BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
      const before = snapshot(h.db);
      await assert.rejects(h.service.uploadEvidence(A, app.id, 'q.soc2', file(PDF, 'a.pdf')), /injected failure/);
      assert.deepEqual(snapshot(h.db), before);
      assert.deepEqual(readdirSync(path.join(h.dataDir, 'evidence', app.id)), []);
    });

    it('removing evidence deletes the row and the file, and writes application.evidence.removed', async () => {
      const app = await partnerApp();
      const v = await h.service.uploadEvidence(A, app.id, 'q.soc2', file(PDF, 'a.pdf'));
      const e = v.questionnaire.evidence[0]!;
      const stored = path.join(h.dataDir, 'evidence', app.id, readdirSync(path.join(h.dataDir, 'evidence', app.id))[0]!);
      const seq = auditHead(h.db);
      const after = await h.service.removeEvidence(A, app.id, e.id);
      assert.deepEqual(after.questionnaire.evidence, []);
      assert.ok(!existsSync(stored));
      assert.deepEqual(auditActions(h.db, seq), ['application.evidence.removed']);
      await assert.rejects(h.service.removeEvidence(A, app.id, e.id), expectError('not_found', 404));
    });
  });

  it('the whole journey writes exactly the expected audit actions, and the chain verifies', async () => {
    const seq = auditHead(h.db);
    const app = await h.service.createApplication(A);
    await h.service.saveProfile(A, app.id, acmeProfile());
    await h.service.uploadCertificate(A, app.id, 'qwac', partnerCert(h.pki, 'acme-payments', 'qwac'));
    await h.service.uploadCertificate(A, app.id, 'qseal', partnerCert(h.pki, 'acme-payments', 'qseal'));
    await h.service.saveAnswers(A, app.id, { 'q.mfa_staff': 'yes' });
    await h.service.submit(A, app.id);
    assert.deepEqual(auditActions(h.db, seq), [
      'application.created',
      'application.profile.saved',
      'application.certificate.uploaded',
      'application.certificate.uploaded',
      'application.answers.saved',
      'application.submitted',
      'application.auto_approved',
      'partner.created',
    ]);
    const events = await h.audit.list();
    for (const e of events.filter((x) => x.action.startsWith('application.'))) {
      assert.deepEqual(e.subject, { type: 'application', id: app.id });
    }
    assert.equal((await h.audit.verify()).ok, true);
  });

  it('sanitiseFileName keeps names displayable and short', () => {
    assert.equal(sanitiseFileName('C:\\Users\\me\\report.pdf'), 'report.pdf');
    assert.equal(sanitiseFileName('\u0000\u0001'), 'file');
    assert.equal(sanitiseFileName('...hidden'), 'hidden');
    assert.equal(sanitiseFileName('a<b>"c".pdf'), 'a_b__c_.pdf');
  });
});
