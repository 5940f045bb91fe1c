/**
 * The risk officers' pages through real HTTPS: the queue and its filters (and query-parser abuse), the
 * application page with every check, the decision forms with their roles and four eyes, change requests
 * reaching the applicant item by item, and suspending / reinstating a partner.
 */
import assert from 'node:assert/strict';
import { unlinkSync } from 'node:fs';
import { errorCodeFrom, loginStaff, seedStaff, signUpAndEnrol, type Agent } from '../helpers/web.js';
import { renewedPartnerCertificate } from '../helpers/devpki.js';
import { acmeProfile, file, goodAnswers, partnerCert, PDF } from '../partners/helpers.js';
import {
  applicantActor,
  appState,
  assertCsrfInEveryForm,
  dbState,
  page,
  post,
  staffActor,
  startPages,
  type PagesApp,
} from './setup.js';

const ALICE = 'alice@fintech.test';
const XSS = '<script>alert(1)</script>';

const MEDIUM = (now: Date) => ({
  ...goodAnswers(now),
  'q.iso27001': 'excludes_api',
  'q.soc2': 'exceptions_no_plan',
  'q.patch_critical_days': '30',
  'q.access_review': 'yearly',
  'q.redirect_protection': ['state_check'],
  'q.sdlc_controls': ['code_review'],
});

describe('pages: the risk officers', function () {
  this.timeout(120_000);
  let app: PagesApp;
  let alice: Agent;
  let rita: Agent; // reviewer
  let anna: Agent; // approver
  let bert: Agent; // approver
  let adam: Agent; // admin only

  before(async () => {
    app = await startPages();
    alice = app.web.agent();
    await signUpAndEnrol(alice, ALICE);
    const staff = [
      ['rita@bank.test', ['reviewer']],
      ['anna@bank.test', ['approver']],
      ['bert@bank.test', ['approver']],
      ['adam@bank.test', ['admin']],
    ] as const;
    const agents: Agent[] = [];
    for (const [email, roles] of staff) {
      const creds = await seedStaff(app.web, email, [...roles]);
      const agent = app.web.agent();
      await loginStaff(agent, creds);
      agents.push(agent);
    }
    [rita, anna, bert, adam] = agents as [Agent, Agent, Agent, Agent];
  });
  after(() => app?.web.close());

  /** A complete partner-track application of Alice's, submitted (set up through the service: not under test here). */
  async function submitted(opts: { legalName?: string; answers?: Record<string, unknown> } = {}): Promise<string> {
    const A = applicantActor(app.web, ALICE);
    const { id } = await app.partners.createApplication(A);
    await app.partners.saveProfile(A, id, acmeProfile({ track: 'partner', requestedRoles: ['AIS'], ...(opts.legalName ? { legalName: opts.legalName } : {}) }));
    await app.partners.uploadCertificate(A, id, 'qwac', partnerCert(app.pki, 'acme-payments', 'qwac'));
    await app.partners.uploadCertificate(A, id, 'qseal', partnerCert(app.pki, 'acme-payments', 'qseal'));
    const { errors } = await app.partners.saveAnswers(A, id, opts.answers ?? goodAnswers(new Date()));
    assert.deepEqual(errors, {});
    for (const q of ['q.iso27001', 'q.soc2', 'q.pentest_date']) {
      await app.partners.uploadEvidence(A, id, q, file(PDF, `${q}.pdf`, 'application/pdf'));
    }
    const v = await app.partners.submit(A, id);
    assert.equal(v.state, 'submitted');
    return id;
  }

  async function tokenOf(agent: Agent, path: string): Promise<{ token: string; html: string }> {
    const r = await page(agent, path);
    assert.equal(r.status, 200, `${path}: ${errorCodeFrom(r.text)}`);
    return { token: assertCsrfInEveryForm(r.text).token, html: r.text };
  }

  async function startReview(id: string): Promise<void> {
    const { token } = await tokenOf(rita, `/staff/applications/${id}`);
    const r = await post(rita, `/staff/applications/${id}/review`, token);
    assert.equal(r.status, 303);
    assert.equal(appState(app.web, id), 'under_review');
  }

  it('an applicant on staff pages is refused (403 auth.forbidden), nothing changes', async () => {
    const id = await submitted();
    const { token } = await tokenOf(alice, '/applications');
    const before = dbState(app.web);
    for (const r of [
      await page(alice, '/staff/applications'),
      await page(alice, `/staff/applications/${id}`),
      await page(alice, '/staff/partners'),
      await page(alice, `/staff/applications/${id}/evidence/x`),
      await post(alice, `/staff/applications/${id}/review`, token),
      await post(alice, `/staff/applications/${id}/approve`, token, { text: 'me' }),
    ]) {
      assert.equal(r.status, 403);
      assert.equal(errorCodeFrom(r.text), 'auth.forbidden');
    }
    assert.deepEqual(dbState(app.web), before);
    // Staff are refused the applicant pages the same way.
    const own = await page(rita, '/applications');
    assert.equal(own.status, 403);
    assert.equal(errorCodeFrom(own.text), 'auth.forbidden');
  });

  it('queue: filters validated at the edge; parser abuse and unknown values are 400 input.invalid', async () => {
    const id = await submitted();
    const all = await page(rita, '/staff/applications');
    assert.equal(all.status, 200);
    assertCsrfInEveryForm(all.text); // the filter form is a GET (no token in URLs); POST forms carry it
    assert.match(all.text, new RegExp(`href="/staff/applications/${id}"`));
    assert.match(all.text, /<span class="badge badge-submitted">Submitted<\/span>/);
    assert.match(all.text, /<td class="num">0<\/td>/);
    assert.match(all.text, /The bank \(us\)/);
    assert.match(all.text, /<select id="filter-state" name="state">/);

    const filtered = await page(rita, '/staff/applications?state=submitted&track=partner&riskTier=&minAgeDays=0');
    assert.equal(filtered.status, 200);
    assert.match(filtered.text, new RegExp(id));
    assert.match(filtered.text, /<option value="submitted" selected>/);
    const none = await page(rita, '/staff/applications?state=rejected');
    assert.doesNotMatch(none.text, new RegExp(id));
    const old = await page(rita, '/staff/applications?minAgeDays=30');
    assert.doesNotMatch(old.text, new RegExp(id));

    for (const q of [
      'state[$ne]=x',
      'state=draft&state=approved',
      'state=bogus',
      'track=premium',
      'riskTier=none',
      'minAgeDays=abc',
      'minAgeDays=-1',
      'minAgeDays=1e3',
      'sort=legal_name',
      '__proto__[x]=1',
    ]) {
      const r = await page(rita, `/staff/applications?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(errorCodeFrom(r.text), 'input.invalid', q);
      assert.doesNotMatch(r.text, new RegExp(id), q);
    }
    const bad = await page(rita, '/staff/applications?state=bogus');
    assert.match(bad.text, /id="filter-state"[^>]*aria-invalid="true" aria-describedby="filter-state-error"/);
  });

  it('the application page shows the profile, certificate reports, register snapshot, score per domain, evidence with hashes, timeline and decisions', async () => {
    const id = await submitted();
    await startReview(id);
    const { html } = await tokenOf(rita, `/staff/applications/${id}`);
    assert.match(html, /<span class="badge badge-under_review">Under review<\/span>/);
    assert.match(html, /id="profile"[\s\S]*Acme Payments GmbH[\s\S]*HRB 123456/);
    assert.match(html, /id="cert-qwac"[\s\S]*Accepted: no problem blocks this certificate/);
    assert.match(html, /id="cert-qseal"[\s\S]*PSDDE-BAFIN-152645/);
    assert.match(html, /Register snapshot imported \d{4}-\d\d-\d\d \d\d:\d\d UTC from dev-eba-register.json/);
    assert.match(html, /<caption>Governance — [\d.]+ \/ 100<\/caption>/);
    assert.match(html, /<tr id="q-q.iso27001"[\s\S]*?<td class="num">5 \/ 5 × 0.85 \(evidence factor\)<\/td>/);
    assert.match(html, /Overall score <strong>[\d.]+ \/ 100<\/strong>/);
    assert.match(html, /policy <code>risk-policy\/\d{4}\.\d+<\/code>/);
    const ev = app.web.db.prepare("SELECT id, sha256 FROM evidence WHERE application_id = ? AND question_id = 'q.iso27001'").get(id) as { id: string; sha256: string };
    assert.match(html, new RegExp(`<tr id="evidence-${ev.id}">[\\s\\S]*?<code class="hash">${ev.sha256}</code>`));
    assert.match(html, new RegExp(`href="/staff/applications/${id}/evidence/${ev.id}" download`));
    assert.match(html, /<ol class="timeline">[\s\S]*badge-under_review[\s\S]*rita@bank.test[\s\S]*badge-submitted/);
    assert.match(html, /Reviewer<\/dt><dd>rita@bank.test/);
    // A reviewer sees review actions but no approve / reject forms.
    assert.match(html, /action="\/staff\/applications\/[0-9a-f-]+\/request-changes"/);
    assert.doesNotMatch(html, /\/approve"|\/reject"|\/second-approval"/);

    const dl = await rita.get(`/staff/applications/${id}/evidence/${ev.id}`);
    assert.equal(dl.status, 200);
    assert.equal(dl.headers['content-type'], 'application/pdf');
    assert.equal(dl.headers['x-content-type-options'], 'nosniff');
    assert.match(String(dl.headers['content-disposition']), /^attachment; filename="?q\.iso27001\.pdf"?$/);
    // A file gone from disk is a clean 404 page, not a broken download.
    const { path: stored } = await app.partners.evidenceFile(staffActor(app.web, 'rita@bank.test', ['reviewer']), id, ev.id);
    unlinkSync(stored);
    const gone = await page(rita, `/staff/applications/${id}/evidence/${ev.id}`);
    assert.equal(gone.status, 404);
    assert.match(String(gone.headers['content-type']), /^text\/html/);
    assert.equal(gone.headers['content-disposition'], undefined);
    const missing = await page(rita, `/staff/applications/${id}/evidence/00000000-0000-4000-8000-000000000000`);
    assert.equal(missing.status, 404);
    assert.equal(errorCodeFrom(missing.text), 'not_found');
  });

  it('a certificate the partner renewed after approval is marked on the application page, with a link to its audit event', async () => {
    const A = applicantActor(app.web, ALICE);
    const { id } = await app.partners.createApplication(A);
    await app.partners.saveProfile(A, id, acmeProfile());
    await app.partners.uploadCertificate(A, id, 'qwac', partnerCert(app.pki, 'acme-payments', 'qwac'));
    await app.partners.uploadCertificate(A, id, 'qseal', partnerCert(app.pki, 'acme-payments', 'qseal'));
    const approved = await app.partners.submit(A, id);
    assert.equal(approved.state, 'approved', 'the regulated track approves by policy');
    const before = (await tokenOf(rita, `/staff/applications/${id}`)).html;
    assert.doesNotMatch(before, /id="cert-(qwac|qseal)-renewed"/);

    const renewed = await renewedPartnerCertificate(app.pki, 'acme-payments', 'qwac');
    await app.partners.renewCertificate(A, id, 'qwac', file(renewed.pem, 'qwac.pem'));
    const { html } = await tokenOf(rita, `/staff/applications/${id}`);
    const partnerId = approved.partner!.id;
    assert.match(
      html,
      new RegExp(
        `<p class="notice" id="cert-qwac-renewed">Renewed by the partner on \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC, after approval: this certificate replaced the one approved with the application\\s*` +
          `\\(<a href="/staff/audit\\?partner=${partnerId}&amp;action=partner.certificate.renewed">audit log</a>\\)`,
      ),
    );
    assert.doesNotMatch(html, /id="cert-qseal-renewed"/);
    // The event the link filters for (the audit search itself is tested in test/evidence).
    const events = app.web.db.prepare("SELECT subject_type, subject_id FROM audit_events WHERE action = 'partner.certificate.renewed'").all();
    assert.deepEqual(events, [{ subject_type: 'partner', subject_id: partnerId }]);
  });

  it('a reviewer POSTing approve is 403 partners.role_required and the state is unchanged; an admin alone cannot decide either', async () => {
    const id = await submitted();
    await startReview(id);
    const before = dbState(app.web);
    const { token } = await tokenOf(rita, `/staff/applications/${id}`);
    for (const [path, fields] of [
      ['approve', { text: 'looks fine' }],
      ['approve-with-conditions', { allowedRoles: 'AIS', text: '' }],
      ['reject', { reasonCode: 'OTHER', text: 'no' }],
    ] as const) {
      const r = await post(rita, `/staff/applications/${id}/${path}`, token, fields);
      assert.equal(r.status, 403, path);
      assert.equal(errorCodeFrom(r.text), 'partners.role_required', path);
    }
    const admin = await tokenOf(adam, `/staff/applications/${id}`);
    assert.doesNotMatch(admin.html, /id="decide"/);
    const r = await post(adam, `/staff/applications/${id}/approve`, admin.token, { text: 'x' });
    assert.equal(r.status, 403);
    assert.equal(errorCodeFrom(r.text), 'partners.role_required');
    assert.deepEqual(dbState(app.web), before);
    assert.equal(appState(app.web, id), 'under_review');
    // Missing and wrong tokens on a decision form: 403 csrf.invalid before any role check.
    for (const t of [null, 'nope']) {
      const c = await post(anna, `/staff/applications/${id}/approve`, t, { text: 'x' });
      assert.equal(c.status, 403);
      assert.equal(errorCodeFrom(c.text), 'csrf.invalid');
    }
    assert.deepEqual(dbState(app.web), before);
  });

  it('request changes: one item at least (400 keeps the input), empty rows ignored; the applicant answers item by item and resubmits', async () => {
    const id = await submitted();
    await startReview(id);
    const { token, html } = await tokenOf(rita, `/staff/applications/${id}`);
    assert.match(html, /<option value="question:q.mfa_staff">/);
    assert.match(html, /<option value="certificate:qwac">/);
    assert.match(html, /<option value="profile:redirectUris">/);
    assert.match(html, /<option value="profile:contacts.security">Security contact<\/option>/);
    assert.match(html, /<option value="evidence:[0-9a-f-]+">/);
    assert.match(html, /name="target_10"/);

    const before = dbState(app.web);
    const none = await post(rita, `/staff/applications/${id}/request-changes`, token, { text: 'Please see below' });
    assert.equal(none.status, 400);
    assert.equal(errorCodeFrom(none.text), 'input.invalid');
    assert.match(none.text, /id="items-error">Add at least one item/);
    assert.match(none.text, /id="changes-text"[^>]*>Please see below<\/textarea>/);

    const half = await post(rita, `/staff/applications/${id}/request-changes`, token, {
      target_1: 'question:q.mfa_staff',
      message_1: '',
      target_2: 'bogus:thing',
      message_2: 'x',
      message_3: 'Orphan message <b>kept</b>',
    });
    assert.equal(half.status, 400);
    assert.match(half.text, /id="change-message-1-error"/);
    assert.match(half.text, /id="change-target-2-error"/);
    assert.match(half.text, /id="change-target-3-error"/);
    assert.match(half.text, /<option value="question:q.mfa_staff" selected>/);
    assert.match(half.text, /Orphan message &lt;b&gt;kept&lt;\/b&gt;<\/textarea>/);
    assert.deepEqual(dbState(app.web), before);

    const ok = await post(rita, `/staff/applications/${id}/request-changes`, token, {
      target_1: 'question:q.pentest_date',
      message_1: 'Your penetration test report is missing the scope page.',
      target_4: 'certificate:qseal',
      message_4: 'Please use a QSealC with a longer validity.',
      target_10: 'profile:contacts.security',
      message_10: 'Give a security contact reachable at night.',
      text: 'Three small things.',
    });
    assert.equal(ok.status, 303);
    assert.equal(appState(app.web, id), 'changes_requested');
    const items = app.web.db.prepare('SELECT id, target_type, target_id FROM change_items WHERE application_id = ? ORDER BY seq').all(id) as { id: string; target_type: string; target_id: string }[];
    assert.equal(items.length, 3);

    // The applicant sees each item linked to the exact place, answers them, and resubmits.
    const overview = await page(alice, `/applications/${id}`);
    assert.match(overview.text, /<span class="badge badge-changes_requested">Changes requested<\/span>/);
    assert.match(overview.text, new RegExp(`href="/applications/${id}/questionnaire#q-q.pentest_date">Question q.pentest_date: `));
    assert.match(overview.text, new RegExp(`href="/applications/${id}/certificates#cert-qseal">Certificate: QSealC`));
    assert.match(overview.text, new RegExp(`href="/applications/${id}/profile#field-contacts-security">Profile: Security contact</a>`));
    assert.match(overview.text, /Three small things\./);
    assert.match((await page(alice, `/applications/${id}/profile`)).text, /<fieldset id="field-contacts-security">/);
    assert.match(overview.text, /now with: You/);
    assert.doesNotMatch(overview.text, /rita@bank\.test/); // officers' names stay internal
    const aliceToken = assertCsrfInEveryForm(overview.text).token;

    const early = await post(alice, `/applications/${id}/resubmit`, aliceToken);
    assert.equal(early.status, 409);
    assert.equal(errorCodeFrom(early.text), 'partners.submission_blocked');

    const empty = await post(alice, `/applications/${id}/changes/${items[0]!.id}`, aliceToken, { response: '   ' });
    assert.equal(empty.status, 400);
    assert.match(empty.text, new RegExp(`id="response-${items[0]!.id}-error"`));
    for (const it of items) {
      const r = await post(alice, `/applications/${id}/changes/${it.id}`, aliceToken, { response: `Done for ${it.target_id}.` });
      assert.equal(r.status, 303);
      assert.equal(r.headers.location, `/applications/${id}#change-${it.id}`);
    }
    const resubmit = await post(alice, `/applications/${id}/resubmit`, aliceToken);
    assert.equal(resubmit.status, 303);
    assert.equal(appState(app.web, id), 'under_review');
    const staffView = await page(rita, `/staff/applications/${id}`);
    assert.match(staffView.text, /Answer \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\): Done for q.pentest_date\./);
  });

  it('four eyes: approve with conditions waits for a second approver; the same approver is refused (403 partners.four_eyes); another approves', async () => {
    const id = await submitted({ answers: MEDIUM(new Date()) });
    await startReview(id);
    let { token, html } = await tokenOf(anna, `/staff/applications/${id}`);
    assert.match(html, /id="form-approve-with-conditions"/);
    assert.match(html, /id="conditions-role-PIS"[^>]*disabled/);

    const before = dbState(app.web);
    const bad = await post(anna, `/staff/applications/${id}/approve-with-conditions`, token, {
      remediation_text_1: 'Fix SOC 2 exceptions',
      remediation_due_1: '31/12/2027',
      remediation_due_2: '2027-01-01',
      text: 'Conditional',
    });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /id="conditions-roles-error"/);
    assert.match(bad.text, /id="remediation-due-1-error"/);
    assert.match(bad.text, /id="remediation-text-2-error"/);
    assert.match(bad.text, /value="Fix SOC 2 exceptions"/);
    assert.deepEqual(dbState(app.web), before);

    const first = await post(anna, `/staff/applications/${id}/approve-with-conditions`, token, {
      allowedRoles: 'AIS',
      remediation_text_1: 'Fix SOC 2 exceptions',
      remediation_due_1: '2027-12-31',
      text: 'Conditional on remediation',
    });
    assert.equal(first.status, 303, errorCodeFrom(first.text) ?? '');
    assert.equal(appState(app.web, id), 'awaiting_second_approval');

    ({ token, html } = await tokenOf(anna, `/staff/applications/${id}`));
    assert.doesNotMatch(html, /\/second-approval"/);
    const mid = dbState(app.web);
    const same = await post(anna, `/staff/applications/${id}/second-approval`, token, {});
    assert.equal(same.status, 403);
    assert.equal(errorCodeFrom(same.text), 'partners.four_eyes');
    assert.deepEqual(dbState(app.web), mid);

    ({ token, html } = await tokenOf(bert, `/staff/applications/${id}`));
    assert.match(html, /id="form-second-approval"/);
    assert.match(html, /First approver<\/dt><dd>anna@bank.test/);
    const second = await post(bert, `/staff/applications/${id}/second-approval`, token, { text: 'Agreed' });
    assert.equal(second.status, 303);
    assert.equal(appState(app.web, id), 'conditionally_approved');

    const done = await page(bert, `/staff/applications/${id}`);
    assert.match(done.text, /<td>Approved with conditions<br><span class="muted">roles AIS; Fix SOC 2 exceptions \(due 2027-12-31\)<\/span><\/td>/);
    assert.match(done.text, /<td>Second approval[\s\S]*?<td>bert@bank\.test<\/td>[\s\S]*?<code>risk-policy\/\d{4}\.\d+<\/code>/);
    assert.doesNotMatch(done.text, /id="decide"/);
    const mine = await page(alice, `/applications/${id}`);
    assert.match(mine.text, /Approved with conditions/);
    assert.match(mine.text, /Fix SOC 2 exceptions — due 2027-12-31/);
    const answers = await page(alice, `/applications/${id}/questionnaire`);
    assert.match(answers.text, /<p class="score">Scored \d \/ 5/); // the applicant sees why each answer scored as it did
  });

  it('reject with a reason code (400 without one); the applicant reads the reason text', async () => {
    const id = await submitted();
    await startReview(id);
    const { token } = await tokenOf(anna, `/staff/applications/${id}`);
    const before = dbState(app.web);
    const bad = await post(anna, `/staff/applications/${id}/reject`, token, { reasonCode: 'MADE_UP', text: '' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /id="reject-reason-error"/);
    assert.match(bad.text, /id="reject-text-error"/);
    assert.deepEqual(dbState(app.web), before);
    const ok = await post(anna, `/staff/applications/${id}/reject`, token, { reasonCode: 'SECURITY_INSUFFICIENT', text: 'MFA for staff is not in place.' });
    assert.equal(ok.status, 303);
    assert.equal(appState(app.web, id), 'rejected');
    const mine = await page(alice, `/applications/${id}`);
    assert.match(mine.text, /<code class="reason-code">SECURITY_INSUFFICIENT<\/code>: The security controls described do not meet/);
    assert.match(mine.text, /MFA for staff is not in place\./);
    const again = await post(anna, `/staff/applications/${id}/reject`, token, { reasonCode: 'OTHER', text: 'again' });
    assert.equal(again.status, 409);
    assert.equal(errorCodeFrom(again.text), 'partners.illegal_transition');
  });

  it('partners: approvers suspend with a reason and reinstate; reviewers see no forms and are refused', async () => {
    const id = await submitted();
    await startReview(id);
    const { token } = await tokenOf(anna, `/staff/applications/${id}`);
    const approved = await post(anna, `/staff/applications/${id}/approve`, token, {});
    assert.equal(approved.status, 303);
    assert.equal(appState(app.web, id), 'approved');
    const partnerId = (app.web.db.prepare('SELECT id FROM partners WHERE application_id = ?').get(id) as { id: string }).id;

    const list = await tokenOf(anna, '/staff/partners');
    assert.match(list.html, new RegExp(`id="partner-${partnerId}"[\\s\\S]*?badge badge-partner-active`));
    assert.match(list.html, new RegExp(`action="/staff/partners/${partnerId}/suspend"`));
    const reviewerList = await tokenOf(rita, '/staff/partners');
    assert.doesNotMatch(reviewerList.html, /\/suspend"/);

    const before = dbState(app.web);
    const refused = await post(rita, `/staff/partners/${partnerId}/suspend`, reviewerList.token, { reasonCode: 'FRAUD_GROUNDS', text: 'x' });
    assert.equal(refused.status, 403);
    assert.equal(errorCodeFrom(refused.text), 'partners.role_required');
    const bad = await post(anna, `/staff/partners/${partnerId}/suspend`, list.token, { reasonCode: '', text: 'Evidence of fraud' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, new RegExp(`id="suspend-${partnerId}-reason-error"`));
    assert.match(bad.text, />Evidence of fraud<\/textarea>/);
    assert.deepEqual(dbState(app.web), before);

    const suspended = await post(anna, `/staff/partners/${partnerId}/suspend`, list.token, { reasonCode: 'FRAUD_GROUNDS', text: 'Evidence of fraud' });
    assert.equal(suspended.status, 303);
    assert.equal(suspended.headers.location, `/staff/partners#partner-${partnerId}`);
    const after = await tokenOf(anna, '/staff/partners');
    assert.match(after.html, /badge badge-partner-suspended/);
    assert.match(after.html, new RegExp(`action="/staff/partners/${partnerId}/reinstate"`));
    const reinstated = await post(anna, `/staff/partners/${partnerId}/reinstate`, after.token, { text: 'Cleared by investigation' });
    assert.equal(reinstated.status, 303);
    assert.deepEqual(app.web.db.prepare('SELECT status FROM partners WHERE id = ?').get(partnerId), { status: 'active' });
    const unknown = await post(anna, '/staff/partners/00000000-0000-4000-8000-000000000000/reinstate', after.token, { text: 'x' });
    assert.equal(unknown.status, 404);
  });

  it('escapes a hostile legal name on the queue, the application page and the partners list', async () => {
    const id = await submitted({ legalName: XSS });
    for (const path of ['/staff/applications', `/staff/applications/${id}`]) {
      const r = await page(rita, path);
      assert.equal(r.status, 200, path);
      assert.ok(!r.text.includes(XSS), path);
      assert.ok(r.text.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), path);
    }
    await startReview(id);
    const { token } = await tokenOf(anna, `/staff/applications/${id}`);
    assert.equal((await post(anna, `/staff/applications/${id}/approve`, token, {})).status, 303);
    const partners = await page(anna, '/staff/partners');
    assert.ok(!partners.text.includes(XSS));
    assert.ok(partners.text.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  });
});
