/**
 * Per-partner API activity on a whole running portal: a registered client, a customer's consent and bound tokens
 * (the customer flow of test/oauth/customer-harness.ts), API calls that pass and that are refused, attributed
 * to the partner by its token or, when refused before one was accepted, by its certificate; the consent revoked
 * and the next call refused; the staff page with its flags. Then the anomaly rules over stored history with an
 * injected clock, and the page's refusals.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import supertest from 'supertest';
import { createActivityService, minuteOf, type ActivityReport } from '../../src/ops/activity.js';
import type { ActivityCount } from '../../src/ops/repository.js';
import { createSqliteActivityRepository } from '../../src/store/sqlite/activity.js';
import { signUpAndEnrol, type Agent } from '../helpers/web.js';
import { accountAccessBody, approve, registerPartnerClient, seedCustomer, type Customer, type PartnerClient } from '../oauth/customer-harness.js';
import { startOpsPortal, type OpsHarness } from './harness.js';

const READ = ['ReadAccountsBasic', 'ReadAccountsDetail', 'ReadBalances'];

describe('ops: per-partner API activity', function () {
  this.timeout(120_000);
  let h: OpsHarness;
  let acme: PartnerClient;
  let casey: Customer;
  let partnerId: string;
  let staff: Agent;

  const rows = () => h.count('SELECT COUNT(*) AS n FROM api_activity');
  const calls = (where = '1 = 1', ...p: unknown[]) => h.count(`SELECT COALESCE(SUM(calls), 0) AS n FROM api_activity WHERE ${where}`, ...p);

  before(async () => {
    h = await startOpsPortal();
    acme = await registerPartnerClient(h);
    casey = await seedCustomer(h);
    const partner = await h.portal.partners.partnerForOrganization('PSDDE-BAFIN-152645');
    assert.ok(partner, 'the demo seed approved Acme Payments');
    partnerId = partner.id;
    staff = await h.staff(['reviewer']);
    // No timer: the test flushes when it means to (counting goes on; stop() only flushes and ends the timer).
    await h.ops.recorder.stop();
  });
  after(async () => {
    await h?.stop();
  });

  describe('recording real calls', () => {
    let consentId: string;
    let token: string;

    it('counts calls in memory and writes them in one batch: by partner, client, route pattern, status and reason', async () => {
      const created = await acme.createConsent('account-access', accountAccessBody(READ));
      assert.equal(created.status, 201, JSON.stringify(created.json));
      consentId = String((created.json.Data as Record<string, unknown>).ConsentId);
      const { url, verifier, state } = await acme.authorizationUrl(consentId, 'openid accounts');
      const tokens = await acme.exchange(await approve(h, url, casey, [casey.accountIds[0]!]), verifier, state);
      token = tokens.access_token;
      for (let i = 0; i < 3; i++) assert.equal((await acme.api(token, 'GET', '/api/v1/accounts')).status, 200);
      assert.equal((await acme.api(token, 'GET', `/api/v1/accounts/${casey.accountIds[0]}/balances`)).status, 200);
      assert.equal((await acme.api(token, 'GET', `/api/v1/accounts/${casey.accountIds[1]}/balances`)).status, 403);
      // Refused before a token was accepted: counted for the organisation the QWAC names, with client "-".
      assert.equal((await h.request(h.client('acme-payments'), 'GET', `${h.mtlsUrl}/api/v1/accounts`)).status, 401);
      // Neither a token nor a partner's certificate (Nordic Insights is no partner; no certificate at all): not counted.
      assert.equal((await h.request(h.client('nordic-insights'), 'GET', `${h.mtlsUrl}/api/v1/accounts`)).status, 401);
      assert.equal((await h.request(h.client(null), 'GET', `${h.mtlsUrl}/api/v1/accounts`)).status, 401);
      // Not a bank API: the token endpoint and the certificate check are not partner activity.
      assert.equal((await h.request(h.client('acme-payments'), 'GET', `${h.mtlsUrl}/mtls/certificate`)).status, 200);

      // The partner lookup for the refused call is asynchronous; wait until it is counted.
      for (let i = 0; i < 50 && h.ops.recorder.pending() < 5; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(rows(), 0, 'nothing written before the flush');
      assert.equal(h.ops.recorder.pending(), 5);
      await h.ops.recorder.flush();
      assert.equal(h.ops.recorder.pending(), 0);

      const table = h.portal.db
        .prepare('SELECT partner_id, client_id, method, route, status, reason, calls FROM api_activity ORDER BY route, status, client_id')
        .all();
      assert.deepEqual(table, [
        { partner_id: partnerId, client_id: acme.clientId, method: 'POST', route: '/api/v1/account-access-consents', status: 201, reason: '', calls: 1 },
        { partner_id: partnerId, client_id: acme.clientId, method: 'GET', route: '/api/v1/accounts', status: 200, reason: '', calls: 3 },
        { partner_id: partnerId, client_id: '-', method: 'GET', route: '/api/v1/accounts', status: 401, reason: 'invalid_token', calls: 1 },
        { partner_id: partnerId, client_id: acme.clientId, method: 'GET', route: '/api/v1/accounts/:accountId/balances', status: 200, reason: '', calls: 1 },
        { partner_id: partnerId, client_id: acme.clientId, method: 'GET', route: '/api/v1/accounts/:accountId/balances', status: 403, reason: 'consent.account_not_granted', calls: 1 },
      ]);
      assert.doesNotMatch(JSON.stringify(table), new RegExp(casey.accountIds[0]!), 'route patterns, never account ids');
    });

    it('a call after the customer revoked the consent is refused (401) and counted as a revoked-consent call', async () => {
      await h.portal.consents.revokeByCustomer(consentId, casey.id, 'test');
      const r = await acme.api(token, 'GET', '/api/v1/accounts');
      assert.equal(r.status, 401);
      // A refusal before a token was accepted finds its partner asynchronously (by the certificate): wait for it.
      for (let i = 0; i < 50 && h.ops.recorder.pending() < 1; i++) await new Promise((res) => setTimeout(res, 20));
      await h.ops.recorder.flush();
      assert.equal(calls('reason = ?', 'token.grant_revoked'), 1);
    });

    it('shows staff the partner’s activity: calls per day, error rates, last seen, routes, clients, the revoked-consent flag', async () => {
      const page = await staff.get(`/staff/partners/${partnerId}/activity`).set('Accept', 'text/html');
      assert.equal(page.status, 200);
      assert.equal(page.headers['cache-control'], 'no-store');
      const today = new Date().toISOString().slice(0, 10);
      assert.match(page.text, new RegExp(`<tr class="day-row" data-day="${today}"><td>${today}</td><td>8</td><td>3</td><td>0</td><td>3</td><td>38 %</td>`));
      assert.match(page.text, /id="today-calls">8 call\(s\)/);
      assert.match(page.text, /id="last-hour">8 call\(s\), 3 refused with 401\/403/);
      assert.match(page.text, /data-flag="revoked_consent"/);
      assert.doesNotMatch(page.text, /data-flag="auth_burst"/, 'fewer than 10 calls in the hour');
      assert.doesNotMatch(page.text, /data-flag="spike"/);
      assert.match(page.text, /<code>GET \/api\/v1\/accounts<\/code><\/td><td>5<\/td><td>2<\/td><td>0<\/td><td>40 %<\/td>/);
      // The call after the revocation was refused before its token was accepted: the certificate names the partner.
      assert.match(page.text, new RegExp(`<code>${acme.clientId}</code></td><td>6</td>`));
      assert.match(page.text, /refused before a token was accepted<\/code><\/td><td>2<\/td>/);
      assert.doesNotMatch(page.text, /id="last-seen">never/);

      const json = await staff.get(`/staff/partners/${partnerId}/activity`).set('Accept', 'application/json');
      assert.equal(json.status, 200);
      const report = json.body as ActivityReport;
      assert.equal(report.today, 8);
      assert.equal(report.revokedConsentRecent, 1);
      assert.deepEqual(report.flags.map((f) => f.kind), ['revoked_consent']);
      assert.equal(report.days.length, 30);
    });

    it('refuses applicants (403 auth.forbidden), sends the signed-out to sign in, 404 for an unknown partner; writes nothing', async () => {
      const before = { rows: rows(), calls: calls() };
      const applicant = supertest.agent(h.publicUrl, { ca: h.ca });
      await signUpAndEnrol(applicant, `applicant-${randomUUID().slice(0, 8)}@example.test`);
      const r = await applicant.get(`/staff/partners/${partnerId}/activity`).set('Accept', 'application/json');
      assert.equal(r.status, 403);
      assert.equal(r.body.code, 'auth.forbidden');
      assert.doesNotMatch(r.text, /api\/v1/);
      const anonymous = await supertest(h.publicUrl).get(`/staff/partners/${partnerId}/activity`).ca(h.ca);
      assert.equal(anonymous.status, 302);
      assert.match(String(anonymous.headers.location), /^\/staff\/login\?next=/);
      for (const id of [randomUUID(), 'not-an-id!', 'x'.repeat(300)]) {
        const nf = await staff.get(`/staff/partners/${encodeURIComponent(id)}/activity`).set('Accept', 'application/json');
        assert.equal(nf.status, 404, id);
        assert.equal(nf.body.code, 'not_found');
      }
      const post = await staff.post(`/staff/partners/${partnerId}/activity`).type('form').send({});
      assert.ok(post.status === 403 || post.status === 404, String(post.status));
      assert.deepEqual({ rows: rows(), calls: calls() }, before);
    });
  });

  describe('anomaly flags over stored history (injected clock)', () => {
    // Far from the real calls above, so that only the rows written here fall in the windows.
    let clock = new Date('2031-05-10T12:30:00.000Z');
    const repo = () => createSqliteActivityRepository(h.portal.db);
    const service = () => createActivityService({ repo: repo(), partners: h.portal.partners, now: () => clock });
    const at = (iso: string, status: number, n: number, reason = ''): ActivityCount => ({
      minute: minuteOf(new Date(iso)),
      partnerId,
      clientId: 'client-x',
      method: 'GET',
      route: '/api/v1/accounts',
      status,
      reason,
      calls: n,
      lastAt: new Date(iso).toISOString(),
    });
    const add = (...batch: ActivityCount[]) => h.portal.tx.run(() => repo().add(batch));
    const flags = async () => (await service().report(partnerId)).flags.map((f) => f.kind);

    it('a quiet history raises nothing', async () => {
      // 10 calls on each of the 7 days before: a mean of 10.
      for (let d = 1; d <= 7; d++) await add(at(new Date(Date.parse('2031-05-10T09:00:00Z') - d * 86_400_000).toISOString(), 200, 10));
      await add(at('2031-05-10T08:00:00Z', 200, 30));
      const report = await service().report(partnerId);
      assert.equal(report.today, 30);
      assert.equal(report.baselineMean, 10);
      assert.deepEqual(report.flags, []);
    });

    it('spike: today above 3 × the mean and above 50; the next day it is history', async () => {
      await add(at('2031-05-10T09:00:00Z', 200, 21));
      assert.deepEqual(await flags(), ['spike'], '51 calls > 30 and > 50');
      clock = new Date('2031-05-11T12:30:00.000Z');
      const report = await service().report(partnerId);
      assert.equal(report.today, 0);
      assert.deepEqual(report.flags, []);
    });

    it('burst of 401/403: more than 20 in the last hour; an hour later it is gone', async () => {
      clock = new Date('2031-05-11T12:30:00.000Z');
      const burst = async () => (await flags()).includes('auth_burst');
      await add(at('2031-05-11T11:40:00Z', 200, 1000));
      await add(at('2031-05-11T11:31:00Z', 401, 20, 'invalid_token'));
      assert.equal(await burst(), false, '20 is not more than 20 (and 2 % of the calls)');
      await add(at('2031-05-11T12:29:00Z', 403, 1, 'insufficient_scope'));
      assert.equal(await burst(), true);
      clock = new Date('2031-05-11T13:30:00.000Z');
      assert.equal(await burst(), false, 'the refusals are more than an hour old');
    });

    it('burst by share: more than 30 % of at least 10 calls in the hour', async () => {
      clock = new Date('2031-05-12T10:00:00.000Z');
      await add(at('2031-05-12T09:50:00Z', 200, 6), at('2031-05-12T09:55:00Z', 401, 4, 'invalid_token'));
      assert.deepEqual(await flags(), ['auth_burst'], '4 of 10');
      await add(at('2031-05-12T09:56:00Z', 200, 4));
      assert.deepEqual(await flags(), [], '4 of 14 is under 30 %');
    });

    it('revoked consent: a refused call within 24 hours flags; after 24 hours it does not', async () => {
      clock = new Date('2031-05-13T10:00:00.000Z');
      await add(at('2031-05-12T10:30:00Z', 403, 1, 'consent.revoked'));
      assert.deepEqual(await flags(), ['revoked_consent']);
      clock = new Date('2031-05-13T10:31:00.000Z');
      assert.deepEqual(await flags(), []);
    });
  });
});
