/**
 * The applicant's pages through real HTTPS: every page and form, input errors that keep the input,
 * uploads (size, type, hostile names, PKCS#12 passwords), CSRF on urlencoded and multipart forms, and
 * another applicant's application answering 404 with nothing changed.
 */
import assert from 'node:assert/strict';
import { errorCodeFrom, signUpAndEnrol, type Agent } from '../helpers/web.js';
import { acmeProfile, badCert, partnerCert, pkcs12, PDF } from '../partners/helpers.js';
import { renewedPartnerCertificate } from '../helpers/devpki.js';
import {
  applicantActor,
  appState,
  assertCsrfInEveryForm,
  asUpload,
  dbState,
  page,
  post,
  startPages,
  upload,
  type PagesApp,
} from './setup.js';

const ALICE = 'alice@fintech.test';
const MALLORY = 'mallory@fintech.test';
const XSS = '<script>alert(1)</script>';

/** The Acme profile as the profile form posts it (flat field names). */
function profileForm(over: Record<string, string | string[]> = {}): Record<string, string | string[]> {
  const p = acmeProfile() as { contacts: Record<string, { name: string; email: string; phone: string }> };
  const form: Record<string, string | string[]> = {
    legalName: 'Acme Payments GmbH',
    country: 'DE',
    registrationNumber: 'HRB 123456',
    lei: '',
    ncaId: 'DE-BAFIN',
    authorisationNumber: '152645',
    track: 'regulated',
    requestedRoles: ['AIS', 'PIS'],
    redirectUris: 'https://app.acme-payments.test/callback',
  };
  for (const k of ['business', 'technical', 'security']) {
    form[`contacts.${k}.name`] = p.contacts[k]!.name;
    form[`contacts.${k}.email`] = p.contacts[k]!.email;
    form[`contacts.${k}.phone`] = p.contacts[k]!.phone;
  }
  return { ...form, ...over };
}

describe('pages: the applicant', function () {
  this.timeout(120_000);
  let app: PagesApp;
  let alice: Agent;
  let mallory: Agent;

  before(async () => {
    app = await startPages();
    alice = app.web.agent();
    mallory = app.web.agent();
    await signUpAndEnrol(alice, ALICE);
    await signUpAndEnrol(mallory, MALLORY);
  });
  after(() => app?.web.close());

  /** A new draft through the page; returns its id. */
  async function newApplication(agent: Agent): Promise<string> {
    const list = await page(agent, '/applications');
    assert.equal(list.status, 200);
    const r = await post(agent, '/applications', assertCsrfInEveryForm(list.text).token);
    assert.equal(r.status, 303);
    const m = /^\/applications\/([0-9a-f-]{36})\/profile$/.exec(r.headers.location ?? '');
    assert.ok(m, r.headers.location);
    return m[1]!;
  }

  async function tokenOf(agent: Agent, path: string): Promise<string> {
    const r = await page(agent, path);
    assert.equal(r.status, 200, `${path}: ${errorCodeFrom(r.text)}`);
    return assertCsrfInEveryForm(r.text).token;
  }

  it('lists applications, starts one (303 to the profile with a flash) and renders every page with CSRF in each form', async () => {
    const empty = await page(alice, '/applications');
    assert.equal(empty.status, 200);
    assert.match(empty.text, /Start an application/);
    assert.equal(empty.headers['cache-control'], 'no-store');
    const id = await newApplication(alice);

    const profile = await page(alice, `/applications/${id}/profile`);
    assert.equal(profile.status, 200);
    assert.match(profile.text, /Application started/); // the flash
    assert.equal(assertCsrfInEveryForm(profile.text).forms, 2); // the profile form and the layout's log-out form
    assert.match(profile.text, /<select id="field-ncaId" name="ncaId"/);
    assert.match(profile.text, /<option value="DE-BAFIN">/);
    assert.match(profile.text, /type="checkbox" id="role-PIS" name="requestedRoles" value="PIS"/);

    for (const [path, forms] of [
      [`/applications`, 1],
      [`/applications/${id}`, 1], // log-out (submit appears once nothing blocks it)
      [`/applications/${id}/certificates`, 2],
      [`/applications/${id}/questionnaire`, 1], // answers (inputs join it by form=); no evidence slots before a profile
      [`/applications/${id}/withdraw`, 1],
    ] as const) {
      const r = await page(alice, path);
      assert.equal(r.status, 200, path);
      assert.equal(assertCsrfInEveryForm(r.text).forms >= forms, true, path);
      assert.match(r.text, /<\/html>/, path);
    }
  });

  it('profile: bad input is re-rendered (400) with errors next to the fields and the input kept; nothing saved; good input saves', async () => {
    const id = await newApplication(alice);
    const token = await tokenOf(alice, `/applications/${id}/profile`);
    const before = dbState(app.web);
    const bad = await post(alice, `/applications/${id}/profile`, token, profileForm({
      legalName: '',
      'contacts.business.email': 'not-an-email',
      redirectUris: 'http://insecure.test/cb\nhttps://fine.test/cb',
      registrationNumber: 'HRB <b>kept</b>',
    }));
    assert.equal(bad.status, 400);
    assert.equal(errorCodeFrom(bad.text), 'input.invalid');
    assert.match(bad.text, /id="field-legalName"[^>]*aria-describedby="field-legalName-error"[^>]*aria-invalid="true"/);
    assert.match(bad.text, /<p class="error" id="field-legalName-error">/);
    assert.match(bad.text, /id="field-contacts-business-email-error"/);
    assert.match(bad.text, /id="field-redirectUris-error">[^<]*https:\/\//);
    assert.match(bad.text, /value="not-an-email"/);
    assert.match(bad.text, /value="HRB &lt;b&gt;kept&lt;\/b&gt;"/);
    assert.match(bad.text, /http:\/\/insecure.test\/cb\nhttps:\/\/fine.test\/cb<\/textarea>/);
    assert.match(bad.text, /id="role-PIS" name="requestedRoles" value="PIS" checked/);
    assert.deepEqual(dbState(app.web), before);

    // A field sent twice is not a string: refused at the edge, nothing saved.
    const dup = await post(alice, `/applications/${id}/profile`, token, { ...profileForm(), legalName: ['A', 'B'] });
    assert.equal(dup.status, 400);
    assert.deepEqual(dbState(app.web), before);

    const good = await post(alice, `/applications/${id}/profile`, token, profileForm());
    assert.equal(good.status, 303);
    assert.equal(good.headers.location, `/applications/${id}`);
    const row = app.web.db.prepare('SELECT legal_name, track FROM applications WHERE id = ?').get(id);
    assert.deepEqual(row, { legal_name: 'Acme Payments GmbH', track: 'regulated' });
    const again = await page(alice, `/applications/${id}/profile`);
    assert.match(again.text, /value="Acme Payments GmbH"/);
    assert.match(again.text, /<option value="DE-BAFIN" selected>/);
  });

  it('certificates: reports in plain words with how to fix, register findings, then submit auto-approves the regulated track', async () => {
    const id = await newApplication(alice);
    await post(alice, `/applications/${id}/profile`, await tokenOf(alice, `/applications/${id}/profile`), profileForm());
    let token = await tokenOf(alice, `/applications/${id}/certificates`);

    // A failing certificate is stored with its report: each finding with severity, what and how to fix.
    const failing = await upload(alice, `/applications/${id}/certificates/qwac`, token, asUpload(badCert(app.pki, 'expired')));
    assert.equal(failing.status, 303);
    assert.equal(failing.headers.location, `/applications/${id}/certificates#cert-qwac`);
    let certs = await page(alice, `/applications/${id}/certificates`);
    assert.match(certs.text, /Not accepted/);
    assert.match(certs.text, /badge badge-severity-error">Must fix/);
    assert.match(certs.text, /<strong>How to fix:<\/strong>/);
    assert.match(certs.text, /<code>expired<\/code>/);
    assert.match(certs.text, /Valid<\/dt><dd>\d{4}-\d\d-\d\d \d\d:\d\d UTC to \d{4}-\d\d-\d\d \d\d:\d\d UTC/);

    token = assertCsrfInEveryForm(certs.text).token;
    for (const kind of ['qwac', 'qseal'] as const) {
      const r = await upload(alice, `/applications/${id}/certificates/${kind}`, token, asUpload(partnerCert(app.pki, 'acme-payments', kind)));
      assert.equal(r.status, 303, errorCodeFrom(r.text) ?? '');
    }
    certs = await page(alice, `/applications/${id}/certificates`);
    assert.equal((certs.text.match(/Accepted: no problem blocks this certificate/g) ?? []).length, 2);
    assert.match(certs.text, /PSDDE-BAFIN-152645/);
    assert.match(certs.text, /PSP_AI, PSP_PI|PSP_PI, PSP_AI/);
    assert.match(certs.text, /id="cert-qwac"/);
    assert.match(certs.text, /The certificates agree with the application/);

    const overview = await page(alice, `/applications/${id}`);
    assert.match(overview.text, /badge badge-register-match/);
    assert.match(overview.text, /Register snapshot imported \d{4}-\d\d-\d\d \d\d:\d\d UTC from dev-eba-register.json/);
    assert.match(overview.text, /account information \(AIS\) \(PS_080\)/);

    const submit = await post(alice, `/applications/${id}/submit`, assertCsrfInEveryForm(overview.text).token);
    assert.equal(submit.status, 303);
    assert.equal(appState(app.web, id), 'approved');
    const done = await page(alice, `/applications/${id}`);
    assert.match(done.text, /<span class="badge badge-approved">Approved<\/span>/);
    assert.match(done.text, /Submitted and approved/);
    assert.match(done.text, /Every check passed: approved automatically · \d{4}-\d\d-\d\d \d\d:\d\d UTC · policy <code>regulated-auto\/\d{4}\.\d+<\/code>/);
    assert.doesNotMatch(done.text, /<li class="fail">/);
    assert.match(done.text, /<ol class="timeline">[\s\S]*The portal \(automatic\)/);
    assert.match(done.text, /now with: Nobody \(closed\)/);
    assert.doesNotMatch(done.text, /action="[^"]*\/withdraw"/);
  });

  it('certificates: an approved partner renews its QWAC on the page; CSRF, another applicant and a refused renewal change nothing', async () => {
    const id = await newApplication(alice);
    await post(alice, `/applications/${id}/profile`, await tokenOf(alice, `/applications/${id}/profile`), profileForm());
    let token = await tokenOf(alice, `/applications/${id}/certificates`);
    for (const kind of ['qwac', 'qseal'] as const) {
      const r = await upload(alice, `/applications/${id}/certificates/${kind}`, token, asUpload(partnerCert(app.pki, 'acme-payments', kind)));
      assert.equal(r.status, 303, errorCodeFrom(r.text) ?? '');
    }
    const submit = await post(alice, `/applications/${id}/submit`, await tokenOf(alice, `/applications/${id}`));
    assert.equal(submit.status, 303);
    assert.equal(appState(app.web, id), 'approved');

    let certs = await page(alice, `/applications/${id}/certificates`);
    assert.equal((certs.text.match(/<h3 id="renew-(qwac|qseal)-title">Renew this certificate<\/h3>/g) ?? []).length, 2);
    assert.match(certs.text, new RegExp(`action="/applications/${id}/certificates/qwac/renew"`));
    token = assertCsrfInEveryForm(certs.text).token;
    const renewed = await renewedPartnerCertificate(app.pki, 'acme-payments', 'qwac');
    const renewedFile = { bytes: Buffer.from(renewed.pem), name: 'renewed-qwac.pem', type: 'application/x-pem-file' };
    const before = dbState(app.web);

    for (const t of [null, 'wrong-token']) {
      const r = await upload(alice, `/applications/${id}/certificates/qwac/renew`, t, renewedFile);
      assert.equal(r.status, 403);
      assert.equal(errorCodeFrom(r.text), 'csrf.invalid');
    }
    const notHers = await upload(mallory, `/applications/${id}/certificates/qwac/renew`, await tokenOf(mallory, '/applications'), renewedFile);
    assert.equal(notHers.status, 404);
    const narrower = await renewedPartnerCertificate(app.pki, 'acme-payments', 'qwac', { roles: ['PSP_AI'] });
    const refused = await upload(alice, `/applications/${id}/certificates/qwac/renew`, token, { ...renewedFile, bytes: Buffer.from(narrower.pem) });
    assert.equal(refused.status, 422);
    assert.equal(errorCodeFrom(refused.text), 'renewal.roles_missing');
    assert.match(refused.text, /lacks the PSD2 role PSP_PI \(PIS\) you are allowed/);
    assert.match(refused.text, /ask the bank to narrow your services first/);
    assert.deepEqual(dbState(app.web), before);

    const ok = await upload(alice, `/applications/${id}/certificates/qwac/renew`, token, renewedFile);
    assert.equal(ok.status, 303, errorCodeFrom(ok.text) ?? '');
    assert.equal(ok.headers.location, `/applications/${id}/certificates#cert-qwac`);
    certs = await page(alice, `/applications/${id}/certificates`);
    assert.match(certs.text, /Renewed QWAC accepted \(serial [0-9a-f]+, valid until \d{4}-\d\d-\d\d\): it is now your approved QWAC\./i);
    assert.match(certs.text, new RegExp(renewed.cert.serialNumber, 'i'));
    assert.equal(appState(app.web, id), 'approved');
  });

  it('certificates: a PKCS#12 with a wrong password is 422 with the message on the page; oversized is 413; nothing stored', async () => {
    const id = await newApplication(alice);
    const token = await tokenOf(alice, `/applications/${id}/certificates`);
    const before = dbState(app.web);
    const { p12 } = await pkcs12('right password');

    const wrong = await upload(alice, `/applications/${id}/certificates/qseal`, token, { bytes: p12, name: 'seal.p12', type: 'application/x-pkcs12' }, { password: 'wrong password' });
    assert.equal(wrong.status, 422);
    assert.equal(errorCodeFrom(wrong.text), 'partners.certificate_password');
    assert.match(wrong.text, /could not be opened with that password/);
    assert.match(wrong.text, /id="upload-qseal-error"/);
    assert.match(wrong.text, /id="file-qseal"[^>]*aria-describedby="upload-qseal-error"/);
    assert.doesNotMatch(wrong.text, /wrong password/); // the password is never echoed

    const missing = await upload(alice, `/applications/${id}/certificates/qseal`, token, { bytes: p12, name: 'seal.p12' });
    assert.equal(missing.status, 422);
    assert.equal(errorCodeFrom(missing.text), 'partners.certificate_password');

    const junk = await upload(alice, `/applications/${id}/certificates/qwac`, token, { bytes: Buffer.from('hello, not a certificate'), name: 'x.pem' });
    assert.equal(junk.status, 422);
    assert.equal(errorCodeFrom(junk.text), 'partners.certificate_unreadable');
    assert.match(junk.text, /How to fix/);

    const big = await upload(alice, `/applications/${id}/certificates/qwac`, token, { bytes: Buffer.alloc(64 * 1024 + 1, 0x41), name: 'big.pem' });
    assert.equal(big.status, 413);
    assert.equal(errorCodeFrom(big.text), 'partners.upload_too_large');

    const noFile = await post(alice, `/applications/${id}/certificates/qwac`, token, {});
    assert.equal(noFile.status, 400);
    assert.equal(errorCodeFrom(noFile.text), 'input.invalid');

    const badKind = await upload(alice, `/applications/${id}/certificates/other`, token, asUpload(partnerCert(app.pki, 'acme-payments', 'qwac')));
    assert.equal(badKind.status, 404);
    assert.deepEqual(dbState(app.web), before);
  });

  it('CSRF: a missing or wrong token on a urlencoded form and on a multipart upload is 403 csrf.invalid, nothing changed', async () => {
    const id = await newApplication(alice);
    const token = await tokenOf(alice, `/applications/${id}/profile`);
    const before = dbState(app.web);
    for (const t of [null, 'wrong-token', `${token.slice(0, -2)}xx`]) {
      const create = await post(alice, '/applications', t);
      assert.equal(create.status, 403);
      assert.equal(errorCodeFrom(create.text), 'csrf.invalid');
      const profile = await post(alice, `/applications/${id}/profile`, t, profileForm());
      assert.equal(profile.status, 403);
      assert.equal(errorCodeFrom(profile.text), 'csrf.invalid');
      const cert = await upload(alice, `/applications/${id}/certificates/qwac`, t, asUpload(partnerCert(app.pki, 'acme-payments', 'qwac')));
      assert.equal(cert.status, 403);
      assert.equal(errorCodeFrom(cert.text), 'csrf.invalid');
      const ev = await upload(alice, `/applications/${id}/evidence/q.iso27001`, t, { bytes: PDF, name: 'iso.pdf', type: 'application/pdf' });
      assert.equal(ev.status, 403);
      assert.equal(errorCodeFrom(ev.text), 'csrf.invalid');
    }
    // Mallory's own valid token is not Alice's.
    const malloryToken = await tokenOf(mallory, '/applications');
    const cross = await upload(alice, `/applications/${id}/certificates/qwac`, malloryToken, asUpload(partnerCert(app.pki, 'acme-payments', 'qwac')));
    assert.equal(cross.status, 403);
    assert.equal(errorCodeFrom(cross.text), 'csrf.invalid');
    assert.deepEqual(dbState(app.web), before);
  });

  it('questionnaire: one input per type, help, per-question errors with the input kept, valid answers saved as a draft', async () => {
    const id = await newApplication(alice);
    await post(alice, `/applications/${id}/profile`, await tokenOf(alice, `/applications/${id}/profile`), profileForm({ track: 'partner', requestedRoles: ['AIS'] }));
    const q = await page(alice, `/applications/${id}/questionnaire`);
    assert.equal(q.status, 200);
    const { token } = assertCsrfInEveryForm(q.text);
    assert.match(q.text, /<form id="answers" method="post"/);
    assert.match(q.text, /<h2 id="domain-governance-title">Governance<\/h2>/);
    assert.match(q.text, /type="radio" id="q.hosts_data-yes" name="q.hosts_data" value="yes" form="answers"/); // yes/no
    assert.match(q.text, /type="radio" id="q.iso27001-[a-z_]+" name="q.iso27001"/); // choice
    assert.match(q.text, /type="checkbox" id="q.sdlc_controls-code_review" name="q.sdlc_controls"/); // multi
    assert.match(q.text, /<input type="hidden" name="q.sdlc_controls" value="" form="answers">/);
    assert.match(q.text, /id="input-q.retention_days" name="q.retention_days"[^>]*>\s*<span class="unit">/); // number with unit
    assert.match(q.text, /type="url" id="input-q.vdp_url"/);
    assert.match(q.text, /id="q.iso27001-help"/);
    assert.match(q.text, /action="\/applications\/[0-9a-f-]+\/evidence\/q.iso27001" enctype="multipart\/form-data"/);
    assert.doesNotMatch(q.text, /name="q.encryption"/); // gated behind q.hosts_data = yes

    const before = dbState(app.web);
    const r = await post(alice, `/applications/${id}/questionnaire`, token, {
      'q.mfa_staff': 'yes',
      'q.retention_days': 'thirty',
      'q.vdp_url': 'javascript:alert(1)',
      'q.hosts_data': 'yes',
      'q.sdlc_controls': ['', 'code_review'],
    });
    assert.equal(r.status, 400);
    assert.equal(errorCodeFrom(r.text), 'input.invalid');
    assert.match(r.text, /<p class="error" id="q.retention_days-error">Enter/);
    assert.match(r.text, /id="input-q.retention_days" name="q.retention_days" value="thirty"[^>]*aria-describedby="q.retention_days-help q.retention_days-error" aria-invalid="true"/);
    assert.match(r.text, /value="javascript:alert\(1\)"/);
    assert.match(r.text, /name="q.encryption"/); // the gate opened with this save
    const saved = app.web.db.prepare('SELECT question_id, value FROM application_answers WHERE application_id = ? ORDER BY question_id').all(id);
    assert.deepEqual(saved, [
      { question_id: 'q.hosts_data', value: 'true' },
      { question_id: 'q.mfa_staff', value: 'true' },
      { question_id: 'q.sdlc_controls', value: '["code_review"]' },
    ]);
    assert.notDeepEqual(dbState(app.web), before);

    const ok = await post(alice, `/applications/${id}/questionnaire`, token, { 'q.retention_days': '30', 'q.sdlc_controls': '' });
    assert.equal(ok.status, 303);
    const after = await page(alice, `/applications/${id}/questionnaire`);
    assert.match(after.text, /Your answers are saved as a draft/);
    assert.match(after.text, /id="input-q.retention_days" name="q.retention_days" value="30"/);
    assert.doesNotMatch(after.text, /id="q.sdlc_controls-code_review"[^>]*checked/); // unticked by the hidden empty field
  });

  it('evidence: wrong type is 415, too large 413, a hostile name is shown escaped and downloaded safely; remove works', async () => {
    const id = await newApplication(alice);
    await post(alice, `/applications/${id}/profile`, await tokenOf(alice, `/applications/${id}/profile`), profileForm({ track: 'partner', requestedRoles: ['AIS'] }));
    const token = await tokenOf(alice, `/applications/${id}/questionnaire`);
    const before = dbState(app.web);

    const exe = await upload(alice, `/applications/${id}/evidence/q.iso27001`, token, { bytes: Buffer.from([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0]), name: 'report.pdf', type: 'application/pdf' });
    assert.equal(exe.status, 415);
    assert.equal(errorCodeFrom(exe.text), 'partners.upload_type');
    assert.match(exe.text, /id="file-q.iso27001"[^>]*aria-invalid="true" aria-describedby="file-q.iso27001-error"/);

    const big = await upload(alice, `/applications/${id}/evidence/q.iso27001`, token, { bytes: Buffer.concat([PDF, Buffer.alloc(10 * 1024 * 1024)]), name: 'big.pdf', type: 'application/pdf' });
    assert.equal(big.status, 413);
    assert.equal(errorCodeFrom(big.text), 'partners.upload_too_large');

    const unknownQuestion = await upload(alice, `/applications/${id}/evidence/q.nope`, token, { bytes: PDF, name: 'x.pdf', type: 'application/pdf' });
    assert.ok([400, 404].includes(unknownQuestion.status), String(unknownQuestion.status));
    assert.deepEqual(dbState(app.web), before);

    // Directories, quotes, angle brackets and line breaks never survive into the stored display name.
    const hostile = `Tom & Jerry's "><img src=x onerror=alert(1)>\r\nX-Evil: 1.pdf`;
    const ok = await upload(alice, `/applications/${id}/evidence/q.iso27001`, token, { bytes: PDF, name: hostile, type: 'text/html' });
    assert.equal(ok.status, 303, errorCodeFrom(ok.text) ?? '');
    assert.equal(ok.headers.location, `/applications/${id}/questionnaire#q-q.iso27001`);
    const row = app.web.db.prepare('SELECT id, file_name, media_type FROM evidence WHERE application_id = ?').get(id) as { id: string; file_name: string; media_type: string };
    assert.equal(row.media_type, 'application/pdf');

    const q = await page(alice, `/applications/${id}/questionnaire`);
    assert.doesNotMatch(q.text, /<img src=x/);
    assert.match(q.text, /download>Tom &amp; Jerry&#39;s ___img src=x onerror=alert\(1\)_X-Evil_ 1\.pdf<\/a>/);
    assert.match(q.text, new RegExp(`id="evidence-${row.id}"`));

    const dl = await alice.get(`/applications/${id}/evidence/${row.id}`).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    assert.equal(dl.status, 200);
    assert.deepEqual(dl.body, PDF);
    assert.equal(dl.headers['content-type'], 'application/pdf');
    assert.equal(dl.headers['x-content-type-options'], 'nosniff');
    assert.equal(dl.headers['x-evil'], undefined);
    const cd = String(dl.headers['content-disposition']);
    assert.match(cd, /^attachment; filename="[^"\r\n]*"(; filename\*=UTF-8''[A-Za-z0-9%._~!$&'()*+,;=:@-]+)?$/);
    assert.doesNotMatch(cd, /[<>\r\n]|\.\.\//);

    const del = await post(alice, `/applications/${id}/evidence/${row.id}/delete`, token);
    assert.equal(del.status, 303);
    assert.equal((app.web.db.prepare('SELECT count(*) AS n FROM evidence WHERE application_id = ?').get(id) as { n: number }).n, 0);
    const gone = await alice.get(`/applications/${id}/evidence/${row.id}`).set('Accept', 'text/html');
    assert.equal(gone.status, 404);
  });

  it("another applicant's application is 404 not_found everywhere, and nothing changes", async () => {
    const id = await newApplication(alice);
    await post(alice, `/applications/${id}/profile`, await tokenOf(alice, `/applications/${id}/profile`), profileForm({ track: 'partner', requestedRoles: ['AIS'] }));
    const aliceToken = await tokenOf(alice, `/applications/${id}/questionnaire`);
    const ev = await upload(alice, `/applications/${id}/evidence/q.iso27001`, aliceToken, { bytes: PDF, name: 'iso.pdf', type: 'application/pdf' });
    assert.equal(ev.status, 303);
    const evidenceId = (app.web.db.prepare('SELECT id FROM evidence WHERE application_id = ?').get(id) as { id: string }).id;

    const token = await tokenOf(mallory, '/applications');
    const before = dbState(app.web);
    const checks: [string, Promise<{ status: number; text: string }>][] = [
      ['overview', page(mallory, `/applications/${id}`)],
      ['profile', page(mallory, `/applications/${id}/profile`)],
      ['certificates', page(mallory, `/applications/${id}/certificates`)],
      ['questionnaire', page(mallory, `/applications/${id}/questionnaire`)],
      ['withdraw page', page(mallory, `/applications/${id}/withdraw`)],
      ['evidence download', page(mallory, `/applications/${id}/evidence/${evidenceId}`)],
      ['profile post', post(mallory, `/applications/${id}/profile`, token, profileForm({ legalName: 'Mallory' }))],
      ['answers', post(mallory, `/applications/${id}/questionnaire`, token, { 'q.mfa_staff': 'no' })],
      ['certificate upload', upload(mallory, `/applications/${id}/certificates/qwac`, token, asUpload(partnerCert(app.pki, 'acme-payments', 'qwac')))],
      ['oversized upload', upload(mallory, `/applications/${id}/certificates/qwac`, token, { bytes: Buffer.from('x'), name: 'x.pem' }, { password: 'x' })],
      ['evidence upload', upload(mallory, `/applications/${id}/evidence/q.iso27001`, token, { bytes: PDF, name: 'x.pdf', type: 'application/pdf' })],
      ['evidence delete', post(mallory, `/applications/${id}/evidence/${evidenceId}/delete`, token)],
      ['submit', post(mallory, `/applications/${id}/submit`, token)],
      ['resubmit', post(mallory, `/applications/${id}/resubmit`, token)],
      ['change answer', post(mallory, `/applications/${id}/changes/00000000-0000-4000-8000-000000000000`, token, { response: 'x' })],
      ['withdraw', post(mallory, `/applications/${id}/withdraw`, token, { reason: 'gotcha' })],
      ['unknown id', page(mallory, '/applications/00000000-0000-4000-8000-000000000000')],
      ['malformed id', page(mallory, '/applications/..%2f..%2fetc')],
    ];
    for (const [what, p] of checks) {
      const r = await p;
      assert.equal(r.status, 404, what);
      assert.equal(errorCodeFrom(r.text), 'not_found', what);
      assert.doesNotMatch(r.text, /Acme Payments|iso\.pdf/, what);
    }
    assert.deepEqual(dbState(app.web), before);
    assert.equal(appState(app.web, id), 'draft');
    // Mallory's list does not show it.
    const list = await page(mallory, '/applications');
    assert.doesNotMatch(list.text, new RegExp(id));
  });

  it('withdraw: a confirm page first, then POST withdraws; the forms disappear', async () => {
    const id = await newApplication(alice);
    const confirm = await page(alice, `/applications/${id}/withdraw`);
    assert.match(confirm.text, /Withdrawing ends this application for good/);
    const tooLong = await post(alice, `/applications/${id}/withdraw`, assertCsrfInEveryForm(confirm.text).token, { reason: 'x'.repeat(2001) });
    assert.equal(tooLong.status, 400);
    assert.match(tooLong.text, /id="reason-error"/);
    assert.equal(appState(app.web, id), 'draft');
    const r = await post(alice, `/applications/${id}/withdraw`, assertCsrfInEveryForm(confirm.text).token, { reason: 'Changed plans' });
    assert.equal(r.status, 303);
    assert.equal(appState(app.web, id), 'withdrawn');
    const overview = await page(alice, `/applications/${id}`);
    assert.match(overview.text, /badge badge-withdrawn/);
    assert.match(overview.text, /Changed plans/);
    assert.doesNotMatch(overview.text, /\/withdraw"/);
    const again = await post(alice, `/applications/${id}/withdraw`, assertCsrfInEveryForm(overview.text).token, {});
    assert.equal(again.status, 409);
    assert.equal(errorCodeFrom(again.text), 'partners.illegal_transition');
  });

  it('escapes a hostile legal name on every applicant page', async () => {
    const id = await newApplication(alice);
    const r = await post(alice, `/applications/${id}/profile`, await tokenOf(alice, `/applications/${id}/profile`), profileForm({ legalName: XSS, track: 'partner', ncaId: '', authorisationNumber: '' }));
    assert.equal(r.status, 303, errorCodeFrom(r.text) ?? '');
    for (const path of ['/applications', `/applications/${id}`, `/applications/${id}/profile`, `/applications/${id}/certificates`, `/applications/${id}/questionnaire`, `/applications/${id}/withdraw`]) {
      const p = await page(alice, path);
      assert.equal(p.status, 200, path);
      assert.ok(!p.text.includes(XSS), path);
      assert.ok(p.text.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), path);
    }
  });

  it('sends the applicant to submit only when nothing blocks it: blockers are listed, and a blocked submit re-renders 409', async () => {
    const id = await newApplication(alice);
    await post(alice, `/applications/${id}/profile`, await tokenOf(alice, `/applications/${id}/profile`), profileForm({ track: 'partner', requestedRoles: ['AIS'] }));
    const overview = await page(alice, `/applications/${id}`);
    assert.match(overview.text, /id="blockers"/);
    const before = dbState(app.web);
    const r = await post(alice, `/applications/${id}/submit`, assertCsrfInEveryForm(overview.text).token);
    assert.equal(r.status, 409);
    assert.equal(errorCodeFrom(r.text), 'partners.submission_blocked');
    assert.deepEqual(dbState(app.web), before);
    // The applicant service view agrees with what the page listed.
    const view = await app.partners.getForApplicant(applicantActor(app.web, ALICE), id);
    assert.ok(view.blockers.length > 0);
    for (const b of view.blockers) assert.ok(r.text.includes(b.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&#34;').replace(/'/g, '&#39;')), b);
  });
});
