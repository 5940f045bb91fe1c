/**
 * The two journeys of issue 3 in a real browser (Debian's headless Chromium via playwright-core) against the
 * whole portal started in-process (`startPortal`, demo seed, dev PKI with its OCSP responder):
 *
 *  1. Applicant (a new account, JavaScript disabled): sign-up with TOTP enrolment, the organisation profile
 *     with a mistake first, a failing then passing certificates, the questionnaire with PDF evidence, submit.
 *  2. Officers (seeded staff, JavaScript on): reviewer requests a change aimed at one question, the applicant
 *     answers and resubmits, approver 1 approves (second approval needed), approver 1's own second approval
 *     is refused (four eyes), approver 2 approves, and the applicant sees the approval.
 *
 * Every page is watched for console errors (CSP violations included) and uncaught page errors; key pages are
 * saved as screenshots (see harness.ts for where). The steps share state and run in order: after a failed
 * step the later ones are skipped rather than failing for the same reason.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { FINDINGS } from '../../src/eidas/findings.js';
import { renewedPartnerCertificate } from '../helpers/devpki.js';
import { nextTotpCode } from '../helpers/web.js';
import {
  CHROMIUM,
  errorCode,
  go,
  type JourneyPortal,
  type SeedAccount,
  shoot,
  startJourneyPortal,
  submit,
  text,
  textIfAny,
  type Watched,
  watchedPage,
} from './harness.js';

/** A tiny, real PDF (the evidence check looks for `%PDF-`). */
const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);

const APPLICANT_EMAIL = 'security@nordic-insights-journey.test';
const APPLICANT_PASSWORD = 'lantern orbit pebble quartz';
const CHANGED_QUESTION = 'q.patch_critical_days';

/** A date `months` months before today, as the date input wants it. */
function monthsAgo(months: number): string {
  const d = new Date();
  d.setUTCMonth(d.getUTCMonth() - months);
  return d.toISOString().slice(0, 10);
}

/**
 * Answers for the partner track with AIS (the questions that apply, follow-ups included): radio and
 * checkbox values by option value, text-like inputs by their text. No knock-out answers.
 */
const ANSWERS: Record<string, { radio: string } | { checks: string[] } | { fill: string }> = {
  'q.iso27001': { radio: 'covers_api' },
  'q.soc2': { radio: 'none' },
  'q.hosts_data': { radio: 'yes' },
  'q.encryption': { checks: ['at_rest_aes256', 'tls12'] },
  'q.data_location': { radio: 'eea_uk' },
  'q.retention_days': { fill: '30' },
  'q.pentest': { radio: 'yes' },
  'q.pentest_date': { fill: monthsAgo(4) },
  'q.patch_critical_days': { fill: '14' },
  'q.sdlc_controls': { checks: ['code_review', 'dependency_scanning'] },
  'q.redirect_protection': { checks: ['exact_match', 'pkce'] },
  'q.mfa_staff': { radio: 'yes' },
  'q.access_review': { radio: 'yearly' },
  'q.env_separation': { radio: 'separate_no_real_data' },
  'q.key_storage': { radio: 'cloud_kms' },
  'q.token_storage': { radio: 'encrypted' },
  'q.uses_tsp': { radio: 'no' },
  'q.log_retention_months': { fill: '12' },
  'q.ir_plan': { radio: 'untested' },
  'q.incident_notify_hours': { fill: '24' },
};

/** The question ids shown on the questionnaire page (`<div class="question" id="q-<id>">`). */
async function questionIds(page: Page): Promise<string[]> {
  const ids: string[] = [];
  for (const q of await page.locator('div.question').all()) {
    const id = await q.getAttribute('id');
    if (id?.startsWith('q-')) ids.push(id.slice(2));
  }
  return ids;
}

/** Fills every shown question that has an answer in ANSWERS. Returns the ids it could not answer. */
async function fillShownQuestions(page: Page): Promise<string[]> {
  const unknown: string[] = [];
  for (const id of await questionIds(page)) {
    const a = ANSWERS[id];
    if (!a) {
      unknown.push(id);
      continue;
    }
    if ('radio' in a) await page.locator(`id=${id}-${a.radio}`).check();
    else if ('checks' in a) for (const v of a.checks) await page.locator(`id=${id}-${v}`).check();
    else await page.locator(`id=input-${id}`).fill(a.fill);
  }
  return unknown;
}

async function staffLogin(ctx: BrowserContext, baseUrl: string, who: SeedAccount): Promise<Watched> {
  const w = await watchedPage(ctx);
  const { page } = w;
  await go(page, `${baseUrl}/staff/login`);
  await page.getByLabel('E-mail').fill(who.email);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  await submit(page, page.getByRole('button', { name: 'Continue' }));
  assert.equal(new URL(page.url()).pathname, '/staff/login/totp');
  await page.getByLabel('6-digit code').fill(await nextTotpCode(who.secret));
  const res = await submit(page, page.getByRole('button', { name: 'Sign in' }));
  assert.equal(res.status(), 200);
  assert.equal(new URL(page.url()).pathname, '/staff/applications', `${who.email} lands on the review queue`);
  return w;
}

/** The state badge next to the application's name (applicant overview and staff page). */
function stateBadge(page: Page) {
  return page.locator('h1 .badge').first();
}

describe('browser journeys: applicant and risk officers (Chromium)', function () {
  this.timeout(180_000);
  let env: JourneyPortal;
  let applicantCtx: BrowserContext;
  let applicant: Watched;
  let appPath = '';
  let applicationId = '';
  const watched: Watched[] = [];
  const shots: string[] = [];
  let broken = false;

  const account = (email: string): SeedAccount => {
    const a = env.accounts.get(email);
    assert.ok(a, `the demo seed created ${email}`);
    return a;
  };
  const url = (p: string) => `${env.baseUrl}${p}`;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      this.skip();
      return;
    }
    env = await startJourneyPortal();
    // The applicant's whole journey runs without JavaScript: every page must work as plain HTML forms.
    applicantCtx = await env.browser.newContext({ ignoreHTTPSErrors: true, javaScriptEnabled: false });
    applicant = await watchedPage(applicantCtx);
    watched.push(applicant);
  });

  after(async () => {
    await env?.close();
  });

  beforeEach(function () {
    if (broken) this.skip();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') broken = true;
  });

  it('applicant signs up and enrols TOTP from the QR page', async () => {
    const { page } = applicant;
    await go(page, url('/signup'));
    await page.getByLabel('Your name').fill('Nora Nilsson');
    await page.getByLabel('E-mail').fill(APPLICANT_EMAIL);
    await page.getByLabel('Password', { exact: true }).fill(APPLICANT_PASSWORD);
    await page.getByLabel('Password again').fill(APPLICANT_PASSWORD);
    await submit(page, page.getByRole('button', { name: 'Create account' }));
    assert.equal(new URL(page.url()).pathname, '/signup/totp', `sign-up refused: ${await text(page.locator('main'))}`);

    const qr = page.locator('img[src^="data:image/"]');
    assert.equal(await qr.count(), 1, 'one QR image with a data: URL');
    assert.ok(await qr.isVisible(), 'the QR image is visible');
    const box = await qr.boundingBox();
    assert.ok(box && box.width >= 100 && box.height >= 100, 'the QR image is rendered at a scannable size');
    const secret = await text(page.locator('#totp-secret'));
    assert.match(secret, /^[A-Z2-7]{16,}$/, 'the base32 secret is shown as text');
    shots.push(await shoot(page, '01-enrolment'));

    await page.getByLabel('The 6-digit code your app shows now').fill(await nextTotpCode(secret));
    const res = await submit(page, page.getByRole('button', { name: 'Confirm and continue' }));
    assert.equal(res.status(), 200, await text(page.locator('main')));
    assert.equal(new URL(page.url()).pathname, '/applications');
    assert.equal(await text(page.locator('.who')), APPLICANT_EMAIL);
  });

  it('applicant starts an application and fills the profile (a mistake first, input kept)', async () => {
    const { page } = applicant;
    await submit(page, page.getByRole('button', { name: 'Start an application' }));
    const m = /^\/applications\/([^/]+)\/profile$/.exec(new URL(page.url()).pathname);
    assert.ok(m?.[1], `the new application opens on its profile (${page.url()})`);
    applicationId = m[1];
    appPath = `/applications/${applicationId}`;

    await page.getByLabel(/^Legal name/).fill('Nordic Insights AB');
    await page.getByLabel(/^Country of registration/).selectOption('SE');
    await page.getByLabel(/^Company registration number/).fill('556000-0000');
    await page.getByLabel(/^Partner track/).check();
    await page.getByLabel('National competent authority (NCA)').selectOption('SE-FINA');
    await page.getByLabel('Authorisation number at the NCA').fill('44059');
    await page.getByLabel(/^AIS/).check();
    // The mistake: a plain-http redirect URI.
    await page.getByLabel('Redirect URIs').fill('http://app.nordic-insights.test/oauth/callback');
    const contacts = [
      ['Business contact', 'Bo Business', 'business@nordic-insights.test'],
      ['Technical contact', 'Tove Technical', 'tech@nordic-insights.test'],
      ['Security contact', 'Sixten Security', 'security@nordic-insights.test'],
    ] as const;
    for (const [group, name, email] of contacts) {
      const g = page.getByRole('group', { name: group });
      await g.getByLabel(/^Name/).fill(name);
      await g.getByLabel(/^E-mail/).fill(email);
    }
    applicant.expectStatus(400);
    const bad = await submit(page, page.getByRole('button', { name: 'Save the profile' }));
    assert.equal(bad.status(), 400);

    // The error sits next to the field, is tied to it, and names the problem.
    const uris = page.getByLabel('Redirect URIs');
    const err = page.locator('#field-redirectUris-error');
    assert.ok(await err.isVisible(), 'the redirect URI error is shown');
    assert.match(await text(err), /https:\/\//);
    assert.equal(await uris.getAttribute('aria-invalid'), 'true');
    assert.ok((await uris.getAttribute('aria-describedby'))?.split(' ').includes('field-redirectUris-error'));
    assert.equal(await page.locator('.field.has-error').count(), 1, 'only the redirect URIs are marked');
    assert.equal(await page.locator('.error-summary code.error-code').textContent(), 'input.invalid');
    // Everything typed is kept.
    assert.equal(await uris.inputValue(), 'http://app.nordic-insights.test/oauth/callback');
    assert.equal(await page.getByLabel(/^Legal name/).inputValue(), 'Nordic Insights AB');
    assert.equal(await page.getByLabel(/^Country of registration/).inputValue(), 'SE');
    assert.equal(await page.getByLabel(/^Company registration number/).inputValue(), '556000-0000');
    assert.ok(await page.getByLabel(/^Partner track/).isChecked());
    assert.equal(await page.getByLabel('National competent authority (NCA)').inputValue(), 'SE-FINA');
    assert.equal(await page.getByLabel('Authorisation number at the NCA').inputValue(), '44059');
    assert.ok(await page.getByLabel(/^AIS/).isChecked());
    for (const [group, name, email] of contacts) {
      const g = page.getByRole('group', { name: group });
      assert.equal(await g.getByLabel(/^Name/).inputValue(), name);
      assert.equal(await g.getByLabel(/^E-mail/).inputValue(), email);
    }

    await uris.fill('https://app.nordic-insights.test/oauth/callback');
    const ok = await submit(page, page.getByRole('button', { name: 'Save the profile' }));
    assert.equal(ok.status(), 200);
    assert.equal(new URL(page.url()).pathname, appPath);
    assert.match(await text(page.locator('.flash-ok')), /profile saved/i);
    assert.match(await text(page.locator('h1')), /^Nordic Insights AB/);
  });

  it('applicant uploads a failing QWAC and reads the finding with its fix, then passing certificates', async () => {
    const { page } = applicant;
    // Choose the bad certificate from the dev PKI's own description of it.
    const manifest = JSON.parse(readFileSync(path.join(env.certsDir, 'pki.json'), 'utf8')) as {
      bad: { name: string; cert: string; validateAs: string; expect: string[] }[];
    };
    const expired = manifest.bad.find((b) => b.name === 'expired');
    assert.ok(expired && expired.validateAs === 'qwac' && expired.expect.includes('expired'));

    await go(page, url(`${appPath}/certificates`));
    const qwac = page.locator('#cert-qwac');
    await qwac.getByLabel('Certificate file').setInputFiles(path.join(env.certsDir, expired.cert));
    await submit(page, qwac.getByRole('button', { name: 'Upload and check' }));
    const report = page.locator('#cert-qwac');
    assert.match(await text(report.locator('.verdict')), /^Not accepted/);
    const finding = report.locator('li.finding').filter({ has: page.locator('code', { hasText: /^expired$/ }) });
    assert.equal(await finding.count(), 1, 'the "expired" finding is listed');
    assert.ok(await finding.isVisible());
    assert.match(await text(finding), /Must fix|error/i);
    assert.match(await text(finding), /Must fix .*expired on \d{4}-\d{2}-\d{2}/, 'the finding says in plain words what is wrong');
    assert.equal(await text(finding.locator('.hint')), `How to fix: ${FINDINGS.expired.fix}`);
    shots.push(await shoot(page, '02-certificate-report-failing'));

    const dir = path.join(env.certsDir, 'partners', 'nordic-insights');
    for (const [kind, file] of [['qwac', 'qwac.pem'], ['qseal', 'qseal.pem']] as const) {
      const section = page.locator(`#cert-${kind}`);
      await section.locator('input[type=file]').setInputFiles(path.join(dir, file));
      await submit(page, section.getByRole('button', { name: 'Upload and check' }));
      const verdict = page.locator(`#cert-${kind} .verdict`);
      assert.match(await text(verdict), /^Accepted/, `${kind}: ${await text(page.locator(`#cert-${kind}`))}`);
      assert.equal(await page.locator(`#cert-${kind} li.finding-error`).count(), 0, `${kind} has no errors`);
    }
    assert.match(await text(page.locator('#consistency')), /agree with the application/);
    // The dev responder answered: the status comes from OCSP, not a soft-failed lookup.
    assert.match(await text(page.locator('#cert-qwac')), /Revocation\s*Not revoked \(checked by OCSP/);
    shots.push(await shoot(page, '03-certificate-report-passing'));
  });

  it('applicant answers the questionnaire with PDF evidence and submits; the timeline shows the bank holds it', async () => {
    const { page } = applicant;
    await go(page, url(`${appPath}/questionnaire`));
    // Follow-up questions appear once the answers they depend on are saved: fill and save until stable.
    let seen = new Set<string>();
    for (let round = 0; round < 4; round++) {
      const unknown = await fillShownQuestions(page);
      const res = await submit(page, page.getByRole('button', { name: 'Save draft' }));
      assert.equal(res.status(), 200, `saving the answers: ${await textIfAny(page.locator('.error-summary'))}`);
      const now = new Set(await questionIds(page));
      // q.vdp_url is optional; every other question shown needs an answer planned above.
      assert.deepEqual(unknown.filter((id) => id !== 'q.vdp_url'), [], 'every shown question has a planned answer');
      if ([...now].every((id) => seen.has(id))) break;
      seen = now;
    }
    // What is still needed is evidence: upload a PDF for each question the page lists.
    const needed: string[] = [];
    for (const a of await page.locator('#incomplete a').all()) needed.push(await text(a));
    assert.ok(needed.length > 0, 'the page lists the evidence still needed');
    for (const qid of needed) {
      const q = page.locator(`id=q-${qid}`);
      assert.match(await text(q.locator('.evidence')), /\(required\)/, `${qid} asks for evidence`);
      await q.locator('input[type=file]').setInputFiles({ name: `${qid.slice(2)}-summary.pdf`, mimeType: 'application/pdf', buffer: PDF });
      const res = await submit(page, q.getByRole('button', { name: 'Upload' }));
      assert.equal(res.status(), 200);
      assert.match(await text(page.locator(`id=q-${qid}`).locator('ul.files')), new RegExp(`${qid.slice(2)}-summary\\.pdf`));
    }
    assert.equal(await page.locator('#incomplete').count(), 0, `nothing is missing: ${await textIfAny(page.locator('#incomplete'))}`);
    // Everything but the one optional question (q.vdp_url) is answered.
    const counts = /(\d+) of (\d+) questions answered/.exec(await text(page.locator('p.muted').filter({ hasText: 'questions answered' })));
    assert.ok(counts, 'the page counts the answers');
    assert.equal(Number(counts[1]), Number(counts[2]) - 1);
    shots.push(await shoot(page, '04-questionnaire'));

    await go(page, url(appPath));
    assert.equal(await page.locator('#blockers').count(), 0, `no blockers: ${await textIfAny(page.locator('#blockers'))}`);
    const res = await submit(page, page.getByRole('button', { name: 'Submit the application' }));
    assert.equal(res.status(), 200);
    assert.equal(new URL(page.url()).pathname, appPath);
    assert.equal(await text(stateBadge(page)), 'Submitted');
    const latest = page.locator('#timeline ol.timeline > li').first();
    assert.match(await text(latest), /^Submitted/);
    assert.match(await text(latest), /now with: The bank/);
    assert.match(await text(page.locator('.next-action')), /With: The bank/);
    shots.push(await shoot(page, '05-timeline-submitted'));
  });

  let reviewer: Watched;
  it('reviewer logs in, filters the queue by "submitted", starts the review and requests a change on one question', async () => {
    const ctx = await env.browser.newContext({ ignoreHTTPSErrors: true });
    reviewer = await staffLogin(ctx, env.baseUrl, account('reviewer@bank.test'));
    watched.push(reviewer);
    const { page } = reviewer;
    await page.getByLabel('State').selectOption('submitted');
    await submit(page, page.getByRole('button', { name: 'Filter' }));
    assert.equal(new URL(page.url()).searchParams.get('state'), 'submitted');
    const rows = page.locator('table.data tbody tr');
    assert.ok((await rows.count()) >= 2, 'the seeded pending application and ours are both submitted');
    for (const r of await rows.all()) assert.match(await text(r.locator('.badge').first()), /^Submitted$/);
    const ours = rows.filter({ hasText: APPLICANT_EMAIL });
    assert.equal(await ours.count(), 1);
    await submit(page, ours.getByRole('link', { name: 'Nordic Insights AB' }));
    assert.equal(new URL(page.url()).pathname, `/staff/applications/${applicationId}`);

    await submit(page, page.getByRole('button', { name: 'Start the review' }));
    assert.equal(await text(stateBadge(page)), 'Under review');
    // A reviewer (without the approver role) is offered no approval.
    assert.equal(await page.getByRole('button', { name: 'Approve', exact: true }).count(), 0);
    assert.match(await text(page.locator('#score')), /Overall score/);

    await page.getByLabel('Item 1: about').selectOption(`question:${CHANGED_QUESTION}`);
    await page.getByLabel('Item 1: what to change').fill('Critical patches within 14 days is too slow for account data: tell us your plan for 7 days.');
    shots.push(await shoot(page, '06-staff-review'));
    await submit(page, page.getByRole('button', { name: 'Send the change request' }));
    assert.equal(await text(stateBadge(page)), 'Changes requested');
    assert.match(await text(page.locator('#changes')), new RegExp(CHANGED_QUESTION.replace('.', '\\.')));
  });

  it('applicant sees the change request linked to the question, answers it and resubmits', async () => {
    const { page } = applicant;
    await go(page, url(appPath));
    assert.equal(await text(stateBadge(page)), 'Changes requested');
    assert.match(await text(page.locator('.next-action')), /With: You/);
    const change = page.locator('#changes li[id^="change-"]');
    assert.equal(await change.count(), 1);
    assert.match(await text(change), /7 days/);
    const link = change.getByRole('link', { name: new RegExp(`^Question ${CHANGED_QUESTION.replace('.', '\\.')}`) });
    assert.equal(await link.getAttribute('href'), `${appPath}/questionnaire#q-${CHANGED_QUESTION}`);
    // The timeline entry carries the same item.
    assert.match(await text(page.locator('#timeline ol.timeline > li').first()), new RegExp(`Changes requested.*Question ${CHANGED_QUESTION.replace('.', '\\.')}`));

    await submit(page, link);
    assert.equal(new URL(page.url()).hash, `#q-${CHANGED_QUESTION}`);
    await page.locator(`id=input-${CHANGED_QUESTION}`).fill('7');
    await submit(page, page.getByRole('button', { name: 'Save draft' }));
    assert.equal(await page.locator(`id=input-${CHANGED_QUESTION}`).inputValue(), '7');

    await go(page, url(appPath));
    await page.getByLabel('Your answer').fill('We now patch critical vulnerabilities within 7 days; the questionnaire answer is updated.');
    await submit(page, page.getByRole('button', { name: 'Save the answer' }));
    assert.match(await text(page.locator('#changes')), /Answered/);
    await submit(page, page.getByRole('button', { name: 'Resubmit the application' }));
    assert.equal(await text(stateBadge(page)), 'Under review');
    assert.match(await text(page.locator('#timeline ol.timeline > li').first()), /^Under review.*now with: The bank/);
  });

  let approver1: Watched;
  it('approver 1 approves; medium or high risk waits for a second approval', async () => {
    const ctx = await env.browser.newContext({ ignoreHTTPSErrors: true });
    approver1 = await staffLogin(ctx, env.baseUrl, account('approver1@bank.test'));
    watched.push(approver1);
    const { page } = approver1;
    await go(page, url(`/staff/applications/${applicationId}`));
    const tier = await text(page.locator('h1 .badge').nth(1));
    assert.match(tier, /^(Medium|High) risk$/, 'the answers score medium or high risk, so four eyes apply');
    assert.match(await text(page.locator('#changes')), /Answered/);
    await submit(page, page.getByRole('button', { name: 'Approve', exact: true }));
    assert.equal(await text(stateBadge(page)), 'Awaiting second approval');
    assert.match(await text(page.locator('.flash-ok')), /second approver/);
    // The page offers approver 1 no second approval.
    assert.equal(await page.getByRole('button', { name: 'Give the second approval' }).count(), 0);
  });

  it('approver 1 giving the second approval too is refused (four eyes)', async () => {
    const { page } = approver1;
    // The form is hidden from approver 1, so send what a stale or forged page would: a real form POST
    // from this signed-in browser, with the session's CSRF token.
    approver1.expectStatus(403);
    const [res] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.evaluate(
        ({ action }) => {
          interface El { name: string; value: string; type: string; appendChild(e: El): void; submit(): void; setAttribute(k: string, v: string): void }
          const doc = (globalThis as unknown as { document: { createElement(t: string): El; querySelector(s: string): El | null; body: El } }).document;
          const token = doc.querySelector('input[name="_csrf"]')?.value ?? '';
          const form = doc.createElement('form');
          form.setAttribute('method', 'post');
          form.setAttribute('action', action);
          const input = doc.createElement('input');
          input.type = 'hidden';
          input.name = '_csrf';
          input.value = token;
          form.appendChild(input);
          doc.body.appendChild(form);
          form.submit();
        },
        { action: `/staff/applications/${applicationId}/second-approval` },
      ),
    ]);
    assert.ok(res);
    assert.equal(res.status(), 403);
    assert.equal(await errorCode(page), 'partners.four_eyes');
    shots.push(await shoot(page, '07-four-eyes-refused'));
    await go(page, url(`/staff/applications/${applicationId}`));
    assert.equal(await text(stateBadge(page)), 'Awaiting second approval', 'nothing changed');
  });

  it('approver 2 gives the second approval; the applicant sees "approved" with the timeline', async () => {
    const ctx = await env.browser.newContext({ ignoreHTTPSErrors: true });
    const approver2 = await staffLogin(ctx, env.baseUrl, account('approver2@bank.test'));
    watched.push(approver2);
    const { page } = approver2;
    await go(page, url(`/staff/applications/${applicationId}`));
    await page.getByLabel('Note (optional)').first().fill('Evidence and score checked.');
    await submit(page, page.getByRole('button', { name: 'Give the second approval' }));
    assert.equal(await text(stateBadge(page)), 'Approved');
    const decisions = await text(page.locator('#decisions'));
    assert.match(decisions, /Second approval/);
    assert.match(decisions, /approver2@bank\.test|Sam Second/);
    shots.push(await shoot(page, '08-staff-approved'));

    const a = applicant.page;
    await go(a, url(appPath));
    assert.equal(await text(stateBadge(a)), 'Approved');
    const entries = a.locator('#timeline ol.timeline > li');
    const states: string[] = [];
    for (const li of await entries.all()) states.push(await text(li.locator('span.badge').first()));
    assert.deepEqual(states, ['Approved', 'Awaiting second approval', 'Under review', 'Changes requested', 'Under review', 'Submitted', 'Draft']);
    assert.match(await text(entries.first()), /now with: Nobody \(closed\)/);
    assert.match(await text(a.locator('h2#partner-title + p')), /Active/);
    shots.push(await shoot(a, '09-applicant-approved'));
  });

  it('the approved applicant renews its QWAC on the certificates page: a refused file first, then the renewed certificate', async () => {
    const { page } = applicant;
    await go(page, url(`${appPath}/certificates`));
    const qwac = page.locator('#cert-qwac');
    assert.match(await text(qwac.locator('h3')), /^Renew this certificate$/);
    // The approved certificate itself is refused, with the code and the fix next to the form.
    await qwac.getByLabel('Renewed certificate file').setInputFiles(path.join(env.certsDir, 'partners', 'nordic-insights', 'qwac.pem'));
    applicant.expectStatus(422);
    const refused = await submit(page, qwac.getByRole('button', { name: 'Renew the QWAC' }));
    assert.equal(refused.status(), 422);
    assert.equal(await errorCode(page), 'renewal.same_certificate');
    assert.match(await text(page.locator('#upload-qwac-error')), /already approved[\s\S]*Upload the new certificate your QTSP issued/);

    const renewed = await renewedPartnerCertificate(env.pki, 'nordic-insights', 'qwac');
    const file = path.join(env.certsDir, 'renewed-nordic-qwac.pem');
    writeFileSync(file, renewed.pem);
    await page.locator('#cert-qwac').getByLabel('Renewed certificate file').setInputFiles(file);
    await submit(page, page.locator('#cert-qwac').getByRole('button', { name: 'Renew the QWAC' }));
    assert.equal(new URL(page.url()).pathname, `${appPath}/certificates`);
    assert.match(await text(page.locator('.flash-ok')), /^Renewed QWAC accepted \(serial [0-9a-f]+, valid until \d{4}-\d\d-\d\d\): it is now your approved QWAC\.$/i);
    const sha256 = createHash('sha256').update(new Uint8Array(renewed.cert.rawData)).digest('hex');
    assert.match(await text(page.locator('#cert-qwac')), new RegExp(`SHA-256${sha256}`), 'the report shown is the renewed certificate');
    shots.push(await shoot(page, '10-certificate-renewed'));
  });

  it('no page logged a console error, a CSP violation or an uncaught error; the screenshots exist', () => {
    for (const w of watched) assert.deepEqual(w.problems, []);
    assert.ok(shots.length >= 8);
    for (const f of shots) assert.ok(existsSync(f) && statSync(f).size > 0, `${f} is a non-empty file`);
  });
});
