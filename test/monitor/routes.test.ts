/**
 * The officers' monitor page over real HTTPS with sessions and CSRF: who may see it, what it shows, and the
 * four-eyes reinstatement through its forms (bad input re-renders with 400 and changes nothing).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMonitor } from '../../src/monitor/service.js';
import { monitorRouter } from '../../src/monitor/routes.js';
import type { MonitorService } from '../../src/monitor/types.js';
import { createPartnersService } from '../../src/partners/service.js';
import { staffApplicationsRouter } from '../../src/partners/staff-routes.js';
import type { PartnersService, PartnerView } from '../../src/partners/types.js';
import { createRegisterService, DEV_REGISTER_FILE, type RegisterService } from '../../src/register/service.js';
import { type Agent, errorCodeFrom, loginStaff, seedStaff, signUpAndEnrol, startWebApp, type WebApp } from '../helpers/web.js';
import { acmeProfile, applicant, partnerCert, sharedPki } from '../partners/helpers.js';
import { assertCsrfInEveryForm, page, post } from '../pages/setup.js';
import { ACME_CODE, type EbaEntity, setProperty } from './helpers.js';

describe('monitor: the officers’ page', function () {
  this.timeout(60_000);
  let web: WebApp;
  let partners: PartnersService;
  let register: RegisterService;
  let monitor: MonitorService;
  let dir: string;
  let acme: PartnerView;

  const count = (sql: string, ...p: unknown[]) => (web.db.prepare(sql).get(...p) as { n: number }).n;
  const state = () => ({
    proposals: web.db.prepare('SELECT id, state FROM monitor_reinstatements ORDER BY id').all(),
    tasks: web.db.prepare('SELECT id, state FROM monitor_tasks ORDER BY id').all(),
    partners: web.db.prepare('SELECT id, status FROM partners ORDER BY id').all(),
    audit: count('SELECT count(*) AS n FROM audit_events'),
  });

  async function staffAgent(email: string, roles: ('reviewer' | 'approver' | 'admin')[]): Promise<Agent> {
    const creds = await seedStaff(web, email, roles);
    const agent = web.agent();
    await loginStaff(agent, creds);
    return agent;
  }

  beforeEach(async () => {
    const { pki, eidas } = await sharedPki();
    dir = mkdtempSync(path.join(tmpdir(), 'monitor-page-'));
    const source = path.join(dir, 'register.json');
    copyFileSync(DEV_REGISTER_FILE, source);
    web = await startWebApp({
      extraRouters: (ctx) => {
        register = createRegisterService({ db: ctx.db, tx: ctx.tx, audit: ctx.audit, now: ctx.now });
        partners = createPartnersService({ db: ctx.db, tx: ctx.tx, audit: ctx.audit, eidas, register, dataDir: ctx.dataDir, logger: ctx.logger, now: ctx.now });
        monitor = createMonitor({
          db: ctx.db,
          tx: ctx.tx,
          audit: ctx.audit,
          eidas,
          partners,
          register,
          notify: async () => ({ queued: false }),
          source,
          logger: ctx.logger,
          now: ctx.now,
        });
        return [staffApplicationsRouter({ partners }), monitorRouter({ monitor, partners })];
      },
    });
    await register.importSnapshot(readFileSync(DEV_REGISTER_FILE), { source: 'dev', actor: { type: 'system', id: null, label: 'test' } });
    const who = applicant();
    const app = await partners.createApplication(who);
    await partners.saveProfile(who, app.id, acmeProfile());
    await partners.uploadCertificate(who, app.id, 'qwac', partnerCert(pki, 'acme-payments', 'qwac'));
    await partners.uploadCertificate(who, app.id, 'qseal', partnerCert(pki, 'acme-payments', 'qseal'));
    acme = (await partners.submit(who, app.id)).partner!;
    // The register withdraws Acme and renames it: the monitor suspends it and opens a review task.
    const doc = JSON.parse(readFileSync(DEV_REGISTER_FILE, 'utf8')) as [unknown[], EbaEntity[]];
    const entity = doc[1].find((e) => e.EntityCode === ACME_CODE)!;
    setProperty(entity, 'ENT_AUT', ['2019-03-01', '2026-11-30']);
    setProperty(entity, 'ENT_NAM', 'Acme <script>alert(1)</script> GmbH');
    writeFileSync(source, JSON.stringify(doc));
    const r = await monitor.runOnce();
    assert.equal(r.status, 'ok', r.error ?? '');
    assert.equal((await partners.getPartner(acme.id))?.status, 'suspended');
  });

  afterEach(async () => {
    await web?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is for staff only: signed out → the staff sign-in, an applicant → 403', async () => {
    const anon = await page(web.agent(), '/staff/monitor');
    assert.equal(anon.status, 302);
    assert.equal(anon.headers.location, '/staff/login?next=%2Fstaff%2Fmonitor');
    const applicantAgent = web.agent();
    await signUpAndEnrol(applicantAgent, 'founder@fintech.test');
    const r = await page(applicantAgent, '/staff/monitor');
    assert.equal(r.status, 403);
    assert.equal(errorCodeFrom(r.text), 'auth.forbidden');
  });

  it('shows a reviewer the passes, the actions with their evidence, the tasks and the partner to reinstate', async () => {
    const rita = await staffAgent('rita@bank.test', ['reviewer']);
    const r = await page(rita, '/staff/monitor');
    assert.equal(r.status, 200);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.match(r.text, /<tr class="action-row action-suspend">[\s\S]*?Suspended<br><code>REGISTER_WITHDRAWN<\/code>[\s\S]*?Acme Payments GmbH/);
    assert.match(r.text, /<tr class="run-row run-ok">/);
    assert.match(r.text, /id="no-alerts"/);
    assert.match(r.text, new RegExp(`id="suspended-${acme.id}"`));
    assert.match(r.text, /Name changed in the register: Acme Payments GmbH/);
    assert.match(r.text, new RegExp(`action="/staff/monitor/partners/${acme.id}/propose"`));
    // The page escapes what the register said (a register is outside data).
    assert.doesNotMatch(r.text, /<script>alert/);
    assert.match(r.text, /now names DE-BAFIN 152645 &#34;Acme &lt;script&gt;alert\(1\)&lt;\/script&gt; GmbH&#34;/);
    const { forms } = assertCsrfInEveryForm(r.text);
    assert.ok(forms >= 2, 'propose and resolve');
  });

  it('four eyes through the forms: the proposer cannot approve, a second approver can', async () => {
    const anna = await staffAgent('anna@bank.test', ['approver']);
    const bert = await staffAgent('bert@bank.test', ['approver']);
    let r = await page(anna, '/staff/monitor');
    const { token } = assertCsrfInEveryForm(r.text);

    // Bad input: 400, the form again with the error, nothing changed.
    let before = state();
    r = await post(anna, `/staff/monitor/partners/${acme.id}/propose`, token, { text: '   ' });
    assert.equal(r.status, 400);
    assert.equal(errorCodeFrom(r.text), 'input.invalid');
    assert.match(r.text, /aria-invalid="true"/);
    assert.deepEqual(state(), before);
    // No CSRF token: refused, nothing changed.
    r = await post(anna, `/staff/monitor/partners/${acme.id}/propose`, null, { text: 'x' });
    assert.equal(r.status, 403);
    assert.equal(errorCodeFrom(r.text), 'csrf.invalid');
    assert.deepEqual(state(), before);

    r = await post(anna, `/staff/monitor/partners/${acme.id}/propose`, token, { text: 'The NCA letter says the withdrawal was an error.' });
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, `/staff/monitor#suspended-${acme.id}`);
    const proposalId = (web.db.prepare("SELECT id FROM monitor_reinstatements WHERE state = 'proposed'").get() as { id: string }).id;
    r = await page(anna, '/staff/monitor');
    assert.match(r.text, /You proposed this reinstatement: a different approver must decide it\./);
    assert.doesNotMatch(r.text, new RegExp(`/proposals/${proposalId}/approve`));

    before = state();
    r = await post(anna, `/staff/monitor/proposals/${proposalId}/approve`, token, { text: 'Myself.' });
    assert.equal(r.status, 403);
    assert.equal(errorCodeFrom(r.text), 'monitor.four_eyes');
    assert.deepEqual(state(), before);
    r = await post(anna, '/staff/monitor/proposals/..%2Fetc/approve', token, { text: 'x' });
    assert.equal(r.status, 404);

    const bertPage = await page(bert, '/staff/monitor');
    assert.match(bertPage.text, new RegExp(`action="/staff/monitor/proposals/${proposalId}/approve"`));
    r = await post(bert, `/staff/monitor/proposals/${proposalId}/approve`, assertCsrfInEveryForm(bertPage.text).token, { text: 'Letter checked.' });
    assert.equal(r.status, 303);
    assert.equal((await partners.getPartner(acme.id))?.status, 'active');
    r = await page(bert, '/staff/monitor');
    assert.match(r.text, /Reinstatement approved: the partner is active again\./);
    assert.match(r.text, /id="no-suspended"/);
  });

  it('a reviewer proposes but cannot approve; one approver alone cannot reinstate from the partners page', async () => {
    const rita = await staffAgent('rita@bank.test', ['reviewer']);
    const anna = await staffAgent('anna@bank.test', ['approver']);
    const token = assertCsrfInEveryForm((await page(rita, '/staff/monitor')).text).token;
    assert.equal((await post(rita, `/staff/monitor/partners/${acme.id}/propose`, token, { text: 'Looks fine.' })).status, 303);
    const proposalId = (web.db.prepare('SELECT id FROM monitor_reinstatements').get() as { id: string }).id;
    const r = await post(rita, `/staff/monitor/proposals/${proposalId}/approve`, token, { text: 'x' });
    assert.equal(r.status, 403);
    assert.equal(errorCodeFrom(r.text), 'monitor.role_required');

    const partnersPage = await page(anna, '/staff/partners');
    const alone = await post(anna, `/staff/partners/${acme.id}/reinstate`, assertCsrfInEveryForm(partnersPage.text).token, { text: 'Alone.' });
    assert.equal(alone.status, 409);
    assert.equal(errorCodeFrom(alone.text), 'partners.second_officer_required');
    assert.equal((await partners.getPartner(acme.id))?.status, 'suspended');
  });

  it('marks a review task as reviewed; an empty note is refused', async () => {
    const rita = await staffAgent('rita@bank.test', ['reviewer']);
    const token = assertCsrfInEveryForm((await page(rita, '/staff/monitor')).text).token;
    const taskId = (web.db.prepare('SELECT id FROM monitor_tasks').get() as { id: string }).id;
    const before = state();
    let r = await post(rita, `/staff/monitor/tasks/${taskId}/resolve`, token, {});
    assert.equal(r.status, 400);
    assert.equal(errorCodeFrom(r.text), 'input.invalid');
    assert.deepEqual(state(), before);
    r = await post(rita, `/staff/monitor/tasks/${taskId}/resolve`, token, { text: 'Merger confirmed by the NCA.' });
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, `/staff/monitor#task-${taskId}`);
    r = await page(rita, '/staff/monitor');
    assert.match(r.text, /Reviewed by rita@bank\.test on .+: Merger confirmed by the NCA\./);
  });
});
