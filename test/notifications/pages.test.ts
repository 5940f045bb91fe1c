/**
 * The webhook page through real HTTPS (the web harness: SQLite, sessions, CSRF, accounts), with the real
 * partners service on the shared dev PKI: Acme Payments approved by policy for Alice, Nordic Insights for
 * Mallory, and a draft for Dora.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createLogger } from '../../src/logger.js';
import { createWebhookKeys } from '../../src/notifications/keys.js';
import { staffDeliveriesRouter, webhooksRouter } from '../../src/notifications/routes.js';
import { createNotificationsService, webhookUrlProblem, type NotificationsService } from '../../src/notifications/service.js';
import { createNotificationWorker } from '../../src/notifications/worker.js';
import { applicantRouter } from '../../src/partners/routes.js';
import { createPartnersService } from '../../src/partners/service.js';
import type { PartnersService } from '../../src/partners/types.js';
import { createRegisterService, DEV_REGISTER_FILE, type RegisterService } from '../../src/register/service.js';
import { type Agent, errorCodeFrom, loginStaff, seedStaff, signUpAndEnrol, startWebApp, type WebApp } from '../helpers/web.js';
import { acmeProfile, count, partnerCert, sharedPki } from '../partners/helpers.js';
import { applicantActor, assertCsrfInEveryForm, page, post } from '../pages/setup.js';

const ALICE = 'alice@acme-payments.test';
const MALLORY = 'mallory@nordic-insights.test';
const DORA = 'dora@draft.test';
const XSS = '<script>alert(1)</script>';

function state(web: WebApp) {
  return {
    endpoints: web.db.prepare('SELECT id, partner_id, url, active FROM webhook_endpoints ORDER BY created_at, id').all(),
    audit: count(web.db, 'audit_events'),
  };
}

describe('pages: webhooks and notifications', function () {
  this.timeout(120_000);
  let web: WebApp;
  let partners: PartnersService;
  let notifications: NotificationsService;
  let alice: Agent;
  let mallory: Agent;
  let dora: Agent;
  let aliceApp: string;
  let malloryApp: string;
  let doraApp: string;
  let base: string;

  async function approve(email: string, slug: string, profile: Record<string, unknown>): Promise<string> {
    const { pki } = await sharedPki();
    const a = applicantActor(web, email);
    const app = await partners.createApplication(a);
    await partners.saveProfile(a, app.id, profile);
    await partners.uploadCertificate(a, app.id, 'qwac', partnerCert(pki, slug, 'qwac'));
    await partners.uploadCertificate(a, app.id, 'qseal', partnerCert(pki, slug, 'qseal'));
    const done = await partners.submit(a, app.id);
    assert.equal(done.state, 'approved', `${slug}: ${JSON.stringify(done.autoApproval)}`);
    return app.id;
  }

  before(async () => {
    const { eidas } = await sharedPki();
    let register: RegisterService | null = null;
    web = await startWebApp({
      extraRouters: (ctx) => {
        register = createRegisterService({ db: ctx.db, tx: ctx.tx, audit: ctx.audit, now: ctx.now });
        partners = createPartnersService({ db: ctx.db, tx: ctx.tx, audit: ctx.audit, eidas, register, dataDir: ctx.dataDir, logger: ctx.logger, now: ctx.now });
        notifications = createNotificationsService({ db: ctx.db, tx: ctx.tx, audit: ctx.audit, env: 'test', emailEnabled: true, now: ctx.now });
        return [applicantRouter({ partners }), webhooksRouter({ notifications, partners }), staffDeliveriesRouter({ notifications, partners })];
      },
    });
    await (register as unknown as RegisterService).importSnapshot(readFileSync(DEV_REGISTER_FILE), {
      source: 'dev-eba-register.json',
      actor: { type: 'system', id: null, label: 'test' },
    });
    alice = web.agent();
    mallory = web.agent();
    dora = web.agent();
    await signUpAndEnrol(alice, ALICE);
    await signUpAndEnrol(mallory, MALLORY);
    await signUpAndEnrol(dora, DORA);
    aliceApp = await approve(ALICE, 'acme-payments', acmeProfile());
    malloryApp = await approve(MALLORY, 'nordic-insights', acmeProfile({ legalName: 'Nordic Insights AB', country: 'SE', ncaId: 'SE-FINA', authorisationNumber: '44059', requestedRoles: ['AIS'] }));
    doraApp = (await partners.createApplication(applicantActor(web, DORA))).id;
    base = `/applications/${aliceApp}`;
  });
  after(async () => {
    await web?.close();
  });

  it('renders the page: no-store, CSRF in every form, the JWKS link, no URL and no history yet', async () => {
    const r = await page(alice, `${base}/webhooks`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(assertCsrfInEveryForm(r.text).forms, 2); // register + the layout's log-out
    assert.match(r.text, /<h1>Webhooks and notifications <span class="muted">· Acme Payments GmbH<\/span><\/h1>/);
    assert.match(r.text, /id="no-endpoint">No webhook URL registered/);
    assert.match(r.text, /id="no-deliveries">Nothing sent yet/);
    assert.match(r.text, /href="\/notifications\/jwks\.json"/);
    assert.match(r.text, /<input id="field-url" name="url" type="url" maxlength="500" value=""/);
    assert.doesNotMatch(r.text, /<script|style="/);
  });

  const BAD: [string, string][] = [
    ['http://hooks.acme-payments.test/portal', 'The URL must start with https://.'],
    ['javascript:alert(1)', 'The URL must start with https://.'],
    [`https://hooks.acme-payments.test/${'a'.repeat(470)}`, 'The URL is longer than 500 characters.'],
    ['https://user:pass@hooks.acme-payments.test/portal', 'The URL must not contain a user name or password.'],
    ['https://hooks.acme-payments.test/portal#frag', 'The URL must not have a fragment (#…).'],
    ['https://hooks.acme-payments.test/a b', 'The URL must not contain spaces or control characters.'],
    ['https://169.254.169.254/latest', 'The URL points at a link-local, metadata or non-unicast address: use a public address.'],
    ['not a url', 'The URL must not contain spaces or control characters.'],
    ['hooks.acme-payments.test', 'The URL is not a valid address.'],
    ['', 'Enter the https URL of your webhook receiver.'],
  ];

  it('bad URLs are re-rendered (400) with the exact message next to the field and the input kept, escaped; nothing is stored', async () => {
    const { token } = assertCsrfInEveryForm((await page(alice, `${base}/webhooks`)).text);
    const before = state(web);
    for (const [url, message] of BAD) {
      const r = await post(alice, `${base}/webhooks`, token, { url });
      assert.equal(r.status, 400, url);
      assert.equal(errorCodeFrom(r.text), 'input.invalid');
      const shown = /<p class="error" id="field-url-error">([^<]*)<\/p>/.exec(r.text)?.[1];
      assert.equal(shown?.replace(/&#39;/g, "'"), message, url);
      assert.match(r.text, /aria-invalid="true"/);
    }
    const xss = await post(alice, `${base}/webhooks`, token, { url: `javascript:${XSS}` });
    assert.equal(xss.status, 400);
    assert.doesNotMatch(xss.text, /<script>alert/);
    assert.match(xss.text, /value="javascript:&lt;script&gt;alert\(1\)&lt;\/script&gt;"/);
    // A field sent twice is not a string: refused as empty.
    const twice = await post(alice, `${base}/webhooks`, token, { url: ['https://a.test/x', 'https://b.test/y'] });
    assert.equal(twice.status, 400);
    assert.deepEqual(state(web), before);
  });

  it('missing or wrong CSRF token: 403 csrf.invalid for register and remove, nothing changes', async () => {
    const e = await notifications.registerWebhook(applicantActor(web, ALICE), await partners.getForApplicant(applicantActor(web, ALICE), aliceApp), {
      url: 'https://hooks.acme-payments.test/csrf',
    });
    const before = state(web);
    for (const t of [null, 'wrong-token']) {
      const reg = await post(alice, `${base}/webhooks`, t, { url: 'https://hooks.acme-payments.test/other' });
      assert.equal(reg.status, 403);
      assert.equal(errorCodeFrom(reg.text), 'csrf.invalid');
      const rem = await post(alice, `${base}/webhooks/${e.id}/remove`, t);
      assert.equal(rem.status, 403);
      assert.equal(errorCodeFrom(rem.text), 'csrf.invalid');
    }
    assert.deepEqual(state(web), before);
  });

  it('registers (303, audited), replaces the URL (the old one removed), shows it, and removes it', async () => {
    const { token } = assertCsrfInEveryForm((await page(alice, `${base}/webhooks`)).text);
    const auditBefore = count(web.db, 'audit_events');
    const r = await post(alice, `${base}/webhooks`, token, { url: '  https://hooks.acme-payments.test/portal?src=bank  ' });
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, `${base}/webhooks`);
    const shown = await page(alice, `${base}/webhooks`);
    assert.match(shown.text, /Webhook URL registered: https:\/\/hooks\.acme-payments\.test\/portal\?src=bank\./);
    assert.match(shown.text, /<code id="endpoint-url">https:\/\/hooks\.acme-payments\.test\/portal\?src=bank<\/code>/);
    assert.match(shown.text, /Replace the webhook URL/);
    assert.equal(assertCsrfInEveryForm(shown.text).forms, 4); // + remove, + send a test event
    const partnerId = (await partners.getForApplicant(applicantActor(web, ALICE), aliceApp)).partner!.id;
    const events = web.db.prepare('SELECT action, subject_type, subject_id, data FROM audit_events WHERE seq > ? ORDER BY seq').all(auditBefore) as Record<string, string>[];
    assert.deepEqual(events.map((e) => [e.action, e.subject_type, e.subject_id]), [['notifications.webhook.registered', 'partner', partnerId]]);
    assert.equal(JSON.parse(events[0]!.data!).url, 'https://hooks.acme-payments.test/portal?src=bank');

    const replaced = await post(alice, `${base}/webhooks`, assertCsrfInEveryForm(shown.text).token, { url: 'https://hooks2.acme-payments.test/portal' });
    assert.equal(replaced.status, 303);
    const active = web.db.prepare('SELECT id, url FROM webhook_endpoints WHERE partner_id = ? AND active = 1').all(partnerId) as { id: string; url: string }[];
    assert.deepEqual(active.map((a) => a.url), ['https://hooks2.acme-payments.test/portal']);

    const now = await page(alice, `${base}/webhooks`);
    const rem = await post(alice, `${base}/webhooks/${active[0]!.id}/remove`, assertCsrfInEveryForm(now.text).token);
    assert.equal(rem.status, 303);
    const after = await page(alice, `${base}/webhooks`);
    assert.match(after.text, /Webhook URL removed: https:\/\/hooks2\.acme-payments\.test\/portal\./);
    assert.match(after.text, /id="no-endpoint"/);
    assert.equal(count(web.db, 'webhook_endpoints') >= 2, true);
    assert.equal((web.db.prepare('SELECT count(*) AS n FROM webhook_endpoints WHERE partner_id = ? AND active = 1').get(partnerId) as { n: number }).n, 0);
    // Removing it again: not found.
    const again = await post(alice, `${base}/webhooks/${active[0]!.id}/remove`, assertCsrfInEveryForm(after.text).token);
    assert.equal(again.status, 404);
    assert.equal(errorCodeFrom(again.text), 'not_found');
  });

  it("another partner's applicant gets 404 not_found on every webhook route of Alice's application, and cannot remove her endpoint through its own", async () => {
    const e = await notifications.registerWebhook(applicantActor(web, ALICE), await partners.getForApplicant(applicantActor(web, ALICE), aliceApp), {
      url: 'https://secret-hooks.acme-payments.test/portal',
    });
    const token = assertCsrfInEveryForm((await page(mallory, `/applications/${malloryApp}/webhooks`)).text).token;
    const before = state(web);
    for (const r of [
      await page(mallory, `${base}/webhooks`),
      await post(mallory, `${base}/webhooks`, token, { url: 'https://evil.test/hook' }),
      await post(mallory, `${base}/webhooks/${e.id}/remove`, token),
      await post(mallory, `/applications/${malloryApp}/webhooks/${e.id}/remove`, token),
    ]) {
      assert.equal(r.status, 404, r.text.slice(0, 200));
      assert.equal(errorCodeFrom(r.text), 'not_found');
      assert.doesNotMatch(r.text, /secret-hooks|Acme Payments/);
    }
    assert.deepEqual(state(web), before);
  });

  it('an application without a partner yet: the page says why, registering is refused with 409 and stores nothing', async () => {
    const r = await page(dora, `/applications/${doraApp}/webhooks`);
    assert.equal(r.status, 200);
    assert.match(r.text, /id="refusal">Webhooks can be registered once the application is approved/);
    assert.match(r.text, /<code class="reason-code">notifications\.partner_not_approved<\/code>/);
    assert.doesNotMatch(r.text, /name="url"/);
    const before = state(web);
    const p = await post(dora, `/applications/${doraApp}/webhooks`, assertCsrfInEveryForm(r.text).token, { url: 'https://hooks.draft.test/x' });
    assert.equal(p.status, 409);
    assert.equal(errorCodeFrom(p.text), 'notifications.partner_not_approved');
    assert.deepEqual(state(web), before);
  });

  it('shows the delivery history: status, attempts, last error, a safe excerpt of the answer, and times', async () => {
    const view = await partners.getForApplicant(applicantActor(web, ALICE), aliceApp);
    await notifications.registerWebhook(applicantActor(web, ALICE), view, { url: 'https://history.acme-payments.test/hook' });
    await notifications.enqueue({ event: 'certificate.expiring', partnerId: view.partner!.id, data: { thresholdDays: 30 } });
    const keys = await createWebhookKeys({ dataDir: web.dataDir });
    const worker = createNotificationWorker({
      db: web.db,
      tx: web.tx,
      keys,
      mailer: null,
      logger: createLogger({ level: 'silent' }),
      env: 'test',
      now: web.now,
      fetch: async () => ({ status: 500, body: Buffer.from(`upstream ${XSS} failed`) }),
    });
    assert.deepEqual(await worker.tick(), { claimed: 1, delivered: 0, failed: 1, dead: 0 });
    const r = await page(alice, `${base}/webhooks`);
    const row = /<tr class="delivery-row"[\s\S]*?<\/tr>/.exec(r.text)?.[0] ?? '';
    assert.match(row, /<code>certificate\.expiring<\/code>/);
    assert.match(row, /<td>Webhook<\/td>/);
    assert.match(row, /<code>https:\/\/history\.acme-payments\.test\/hook<\/code>/);
    assert.match(row, /<span class="badge badge-warning">Retrying<\/span>/);
    assert.match(row, /<td>1<\/td>/);
    assert.match(row, /<span class="delivery-error">HTTP 500<\/span>/);
    assert.match(row, /Answer: <code>upstream &lt;script&gt;alert\(1\)&lt;\/script&gt; failed<\/code>/);
    assert.match(row, /queued [^<]+<br>last try [^<]+<br>next try /);
    assert.doesNotMatch(r.text, /<script>alert/);
    // Mallory's page shows none of it.
    const m = await page(mallory, `/applications/${malloryApp}/webhooks`);
    assert.match(m.text, /id="no-deliveries"/);
  });

  it('send a test event: a signed webhook.test queued to the URL (303, audited), one a minute (429), none without a URL (409); CSRF and another applicant refused', async () => {
    const mBase = `/applications/${malloryApp}`;
    const mView = await partners.getForApplicant(applicantActor(web, MALLORY), malloryApp);
    const partnerId = mView.partner!.id;
    const deliveries = () =>
      web.db
        .prepare("SELECT d.target, n.event FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id WHERE n.partner_id = ? AND n.event = 'webhook.test'")
        .all(partnerId);

    // No URL yet: 409, nothing queued.
    let token = assertCsrfInEveryForm((await page(mallory, `${mBase}/webhooks`)).text).token;
    let before = state(web);
    const none = await post(mallory, `${mBase}/webhooks/test`, token);
    assert.equal(none.status, 409);
    assert.equal(errorCodeFrom(none.text), 'notifications.no_webhook');
    assert.deepEqual(state(web), before);

    await notifications.registerWebhook(applicantActor(web, MALLORY), mView, { url: 'https://hooks.nordic-insights.test/portal' });
    const shown = await page(mallory, `${mBase}/webhooks`);
    assert.match(shown.text, new RegExp(`<form method="post" action="${mBase}/webhooks/test" class="inline" id="send-test">`));
    token = assertCsrfInEveryForm(shown.text).token;

    // CSRF, and Alice on Mallory's application: refused, nothing changes.
    before = state(web);
    for (const t of [null, 'wrong-token']) {
      const r = await post(mallory, `${mBase}/webhooks/test`, t);
      assert.equal(r.status, 403);
      assert.equal(errorCodeFrom(r.text), 'csrf.invalid');
    }
    const alien = await post(alice, `${mBase}/webhooks/test`, assertCsrfInEveryForm((await page(alice, `${base}/webhooks`)).text).token);
    assert.equal(alien.status, 404);
    assert.equal(errorCodeFrom(alien.text), 'not_found');
    assert.deepEqual(state(web), before);

    const auditBefore = count(web.db, 'audit_events');
    const ok = await post(mallory, `${mBase}/webhooks/test`, token);
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.location, `${mBase}/webhooks`);
    assert.match((await page(mallory, `${mBase}/webhooks`)).text, /Test event queued for https:\/\/hooks\.nordic-insights\.test\/portal: its delivery appears in the history below\./);
    assert.deepEqual(deliveries(), [{ target: 'https://hooks.nordic-insights.test/portal', event: 'webhook.test' }]);
    const events = web.db.prepare('SELECT action, subject_id FROM audit_events WHERE seq > ? ORDER BY seq').all(auditBefore);
    assert.deepEqual(events, [{ action: 'notifications.webhook.test_sent', subject_id: partnerId }]);

    // A second click in the same minute: 429, nothing more queued or audited.
    before = state(web);
    const again = await post(mallory, `${mBase}/webhooks/test`, token);
    assert.equal(again.status, 429);
    assert.equal(errorCodeFrom(again.text), 'notifications.test_too_soon');
    assert.deepEqual(state(web), before);
    assert.equal(deliveries().length, 1);
  });

  it('staff are refused (403 auth.forbidden) and a visitor is sent to the applicant login', async () => {
    const creds = await seedStaff(web, 'rita@bank.test', ['reviewer']);
    const rita = web.agent();
    await loginStaff(rita, creds);
    const r = await page(rita, `${base}/webhooks`);
    assert.equal(r.status, 403);
    assert.equal(errorCodeFrom(r.text), 'auth.forbidden');
    const visitor = await page(web.agent(), `${base}/webhooks`);
    assert.equal(visitor.status, 302);
    assert.equal(visitor.headers.location, `/login?next=${encodeURIComponent(`${base}/webhooks`)}`);
  });

  it("officers see a partner's deliveries (no-store, the partner's rows only); an applicant is refused, an unknown partner is 404", async () => {
    const creds = await seedStaff(web, 'olga@bank.test', ['approver']);
    const olga = web.agent();
    await loginStaff(olga, creds);
    const mPartner = (await partners.getForApplicant(applicantActor(web, MALLORY), malloryApp)).partner!.id;
    const r = await page(olga, `/staff/partners/${mPartner}/notifications`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.match(r.text, /<h1>Notifications to Nordic Insights AB<\/h1>/);
    // Mallory's test event (the test before this one) is there; Alice's deliveries are not.
    assert.match(r.text, /<code>webhook\.test<\/code>[\s\S]*<code>https:\/\/hooks\.nordic-insights\.test\/portal<\/code>/);
    assert.doesNotMatch(r.text, /acme-payments\.test/);
    const rows = (r.text.match(/<tr class="delivery-row"/g) ?? []).length;
    assert.equal(rows, (web.db.prepare('SELECT count(*) AS n FROM notification_deliveries d JOIN notifications n ON n.id = d.notification_id WHERE n.partner_id = ?').get(mPartner) as { n: number }).n);

    const asApplicant = await page(mallory, `/staff/partners/${mPartner}/notifications`);
    assert.equal(asApplicant.status, 403);
    assert.equal(errorCodeFrom(asApplicant.text), 'auth.forbidden');
    const unknown = await page(olga, '/staff/partners/00000000-0000-4000-8000-000000000000/notifications');
    assert.equal(unknown.status, 404);
    assert.equal(errorCodeFrom(unknown.text), 'not_found');
  });

  it('URL rules by environment: loopback and private hosts only outside production', () => {
    const dev: [string, string | null][] = [
      ['https://127.0.0.1:8443/hook', null],
      ['https://localhost/hook', null],
      ['https://10.1.2.3/hook', null],
      ['https://[::1]/hook', null],
      ['https://169.254.169.254/', 'The URL points at a link-local, metadata or non-unicast address: use a public address.'],
    ];
    for (const [url, want] of dev) assert.equal(webhookUrlProblem(url, 'development'), want, url);
    const prod: [string, string | null][] = [
      ['https://hooks.acme-payments.example/portal', null],
      ['https://203.0.113.10/hook', null],
      ['https://127.0.0.1:8443/hook', 'The URL points at a private or loopback address: use a public address.'],
      ['https://10.1.2.3/hook', 'The URL points at a private or loopback address: use a public address.'],
      ['https://[::1]/hook', 'The URL points at a private or loopback address: use a public address.'],
      ['https://localhost/hook', 'The URL points at this machine (localhost): use a public address.'],
      ['https://api.localhost/hook', 'The URL points at this machine (localhost): use a public address.'],
      ['https://intranet/hook', 'The URL needs a fully qualified host name.'],
    ];
    for (const [url, want] of prod) assert.equal(webhookUrlProblem(url, 'production'), want, url);
  });
});
