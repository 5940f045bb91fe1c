/**
 * The consent centre driven through its real pages over HTTPS: the web harness (SQLite, sessions, CSRF,
 * the accounts area with the customer sign-in), the real consent and banking services, and the centre's
 * router. Customers sign in through the customer forms (password, then TOTP). Partners and clients are read
 * through `testDirectory` (see helpers.ts).
 */
import assert from 'node:assert/strict';
import { customerRouter } from '../../src/accounts/routes.js';
import { createBankingService, type BankingService } from '../../src/banking/service.js';
import type { BankAccountView } from '../../src/banking/types.js';
import { consentCentreRouter } from '../../src/consent/centre.js';
import { createConsentService, type ConsentService } from '../../src/consent/service.js';
import { PERMISSION_TEXT, type ConsentStatusChange, type ConsentView } from '../../src/consent/types.js';
import { type Agent, type Credentials, csrfFrom, errorCodeFrom, nextTotpCode, postForm, signUpAndEnrol, startWebApp, TEST_PASSWORD, type WebApp } from '../helpers/web.js';
import { assertCsrfInEveryForm } from '../pages/setup.js';
import { accessBody, ACME, consentState, NORDIC, paymentBody, testDirectory } from './helpers.js';

const page = (agent: Agent, path: string) => agent.get(path).set('Accept', 'text/html');

interface Customer extends Credentials {
  userId: string;
  accounts: BankAccountView[];
}

describe('consent centre pages (customers, over HTTPS)', function () {
  this.timeout(60_000);
  let web: WebApp;
  let consents: ConsentService;
  let banking: BankingService;
  let directory: ReturnType<typeof testDirectory>;
  let casey: Customer;
  let dana: Customer;
  let changes: ConsentStatusChange[];

  before(async () => {
    web = await startWebApp({
      extraRouters: (ctx) => {
        banking = createBankingService({ db: ctx.db, tx: ctx.tx, audit: ctx.audit, now: ctx.now });
        directory = testDirectory();
        consents = createConsentService({
          db: ctx.db,
          tx: ctx.tx,
          audit: ctx.audit,
          accounts: banking,
          partners: directory.partnersPort,
          clients: directory.clientsPort,
          now: ctx.now,
        });
        return [customerRouter({ accounts: ctx.accounts, now: () => ctx.now().getTime() }), consentCentreRouter({ consents, banking })];
      },
    });
    changes = [];
    consents.onStatusChange((c) => void changes.push(c));
    casey = await customer('casey@bank.test', 'Casey Customer');
    dana = await customer('dana@bank.test', 'Dana Demo');
  });
  after(() => web.close());

  async function customer(email: string, name: string): Promise<Customer> {
    const { user, totpSecretBase32 } = await web.accounts.seedCustomer({ email, displayName: name, password: TEST_PASSWORD });
    const accounts = await banking.seedDemoAccounts(user.id, name);
    return { email, password: TEST_PASSWORD, secret: totpSecretBase32, userId: user.id, accounts };
  }

  async function signIn(c: Customer): Promise<Agent> {
    const agent = web.agent();
    const first = await postForm(agent, '/customer/login', { email: c.email, password: c.password }, '/customer/login');
    assert.equal(first.status, 303, errorCodeFrom(first.text) ?? '');
    const form = await page(agent, '/customer/login/totp');
    const done = await agent.post('/customer/login/totp').type('form').send({ _csrf: csrfFrom(form.text), code: await nextTotpCode(c.secret, web.clock) });
    assert.equal(done.status, 303, errorCodeFrom(done.text) ?? '');
    return agent;
  }

  /** A request whose expiry follows the web app's clock (real time), not the fixed NOW of the service tests. */
  const body = (data: Record<string, unknown> = {}) => accessBody({ ExpirationDateTime: new Date(web.now().getTime() + 30 * 86_400_000).toISOString(), ...data });

  async function grant(c: Customer, accountIds: string[], request = body(), client = ACME): Promise<ConsentView> {
    const created = await consents.createAccountAccess(client, request);
    return consents.authorise(created.id, { customerId: c.userId, accountIds, grantId: `grant-${created.id}`, channel: 'authorisation' });
  }

  const masked = (iban: string) => `${iban.slice(0, 4)} •••• ${iban.slice(-4)}`;

  it('sends a visitor who is not signed in to the customer sign-in, and refuses an applicant', async () => {
    const r = await page(web.agent(), '/customer/consents');
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, '/customer/login?next=%2Fcustomer%2Fconsents');
    const applicant = web.agent();
    await signUpAndEnrol(applicant, 'someone@fintech.test');
    const refused = await page(applicant, '/customer/consents');
    assert.equal(refused.status, 403);
    assert.equal(errorCodeFrom(refused.text), 'auth.forbidden');
  });

  it("lists active and past consents per partner in plain words, with accounts masked, and never another customer's", async () => {
    const active = await grant(casey, [casey.accounts[0]!.id]);
    const past = await grant(casey, [casey.accounts[1]!.id], body({ Permissions: ['ReadBalances'] }));
    await consents.revokeByCustomer(past.id, casey.userId);
    const nordic = await grant(casey, [casey.accounts[0]!.id], body({ Permissions: ['ReadAccountsBasic'] }), NORDIC);
    await consents.recordAccess(nordic.id, { clientId: NORDIC.clientId, endpoint: 'GET /api/v1/accounts', accountId: null, status: 200 });
    const danas = await grant(dana, [dana.accounts[0]!.id]);

    const agent = await signIn(casey);
    const r = await page(agent, '/customer/consents');
    assert.equal(r.status, 200);
    assert.equal(r.headers['cache-control'], 'no-store');
    const html = r.text;
    assertCsrfInEveryForm(html);
    assert.match(html, /<h2>Acme Payments GmbH<\/h2>/);
    assert.match(html, /<h2>Nordic Insights AB<\/h2>/);
    assert.match(html, /Vetted and approved by the bank/);
    assert.match(html, /Through Acme Budget/);
    for (const p of active.permissions) assert.ok(html.includes(PERMISSION_TEXT[p]), PERMISSION_TEXT[p]);
    assert.ok(html.includes(`${casey.accounts[0]!.nickname} (${masked(casey.accounts[0]!.iban)})`));
    assert.ok(!html.includes(casey.accounts[0]!.iban), 'no full IBAN on the page');
    assert.match(html, /Past consents \(1\)/);
    assert.ok(html.includes(`data-consent="${past.id}"`));
    assert.ok(html.includes(`href="/customer/consents/${active.id}/revoke"`));
    assert.ok(!html.includes(`href="/customer/consents/${past.id}/revoke"`), 'a withdrawn consent offers no withdrawal');
    assert.ok(!html.includes(danas.id), "Dana's consent is not on Casey's page");
    // Last used: never for Acme's, a date for Nordic's.
    const nordicCard = html.slice(html.indexOf(`data-consent="${nordic.id}"`));
    assert.match(nordicCard.slice(0, nordicCard.indexOf('</article>')), /Last used<\/dt><dd class="last-used">\d{1,2} \w+ \d{4}, \d{2}:\d{2} UTC</);
    const acmeCard = html.slice(html.indexOf(`data-consent="${active.id}"`));
    assert.match(acmeCard.slice(0, acmeCard.indexOf('</article>')), /Last used<\/dt><dd class="last-used">Never</);
    assert.ok(!html.includes('<script'), 'no scripts');
    assert.ok(!/ style=/.test(html), 'no inline style');
  });

  it('shows one consent with its history, the partner’s calls and the receipts', async () => {
    const c = await grant(casey, [casey.accounts[0]!.id]);
    await consents.recordAccess(c.id, { clientId: ACME.clientId, endpoint: 'GET /api/v1/accounts/{AccountId}/balances', accountId: casey.accounts[0]!.id, status: 200 });
    await consents.recordAccess(c.id, { clientId: ACME.clientId, endpoint: 'GET /api/v1/accounts/{AccountId}/transactions', accountId: casey.accounts[0]!.id, status: 403 });
    const agent = await signIn(casey);
    const r = await page(agent, `/customer/consents/${c.id}`);
    assert.equal(r.status, 200);
    assert.match(r.text, /Acme Payments GmbH asked for it through its connection to the bank\./);
    assert.match(r.text, /You approved it on the bank&#39;s authorisation page\./);
    assert.match(r.text, /Read the balances of an account/);
    assert.match(r.text, /Read the transactions of an account<\/td><td>[^<]+<\/td>\s*<td class="bad">Refused/);
    assert.match(r.text, /data-receipt="granted">On .* you allowed Acme Payments GmbH \(through its app Acme Budget\) to see/);
  });

  it('withdrawal: the consequences first, CSRF refused, then withdrawn with a notice and a receipt', async () => {
    const c = await grant(casey, [casey.accounts[0]!.id]);
    const agent = await signIn(casey);
    const form = await page(agent, `/customer/consents/${c.id}/revoke`);
    assert.equal(form.status, 200);
    assert.match(form.text, /What happens if you withdraw it/);
    assert.match(form.text, /will immediately stop being able to see/);
    assert.match(form.text, /already received is not recalled by the bank/);
    const { token, forms } = assertCsrfInEveryForm(form.text);
    assert.equal(forms, 2, 'the withdrawal form and the sign-out form');

    const before = consentState(web.db);
    for (const bad of [{}, { _csrf: 'x'.repeat(43) }]) {
      const r = await agent.post(`/customer/consents/${c.id}/revoke`).type('form').set('Accept', 'text/html').send(bad);
      assert.equal(r.status, 403);
      assert.equal(errorCodeFrom(r.text), 'csrf.invalid');
    }
    const foreign = await agent.post(`/customer/consents/${c.id}/revoke`).type('form').set('Origin', 'https://evil.example').send({ _csrf: token });
    assert.equal(foreign.status, 403);
    assert.deepEqual(consentState(web.db), before, 'nothing changed');
    assert.equal((await consents.get(c.id))?.status, 'authorised');

    const seen = changes.length;
    const done = await agent.post(`/customer/consents/${c.id}/revoke`).type('form').set('Accept', 'text/html').send({ _csrf: token });
    assert.equal(done.status, 303);
    assert.equal(done.headers.location, `/customer/consents/${c.id}`);
    assert.equal((await consents.get(c.id))?.status, 'revoked');
    assert.deepEqual(changes.slice(seen).map((x) => [x.consent.id, x.to, x.channel]), [[c.id, 'revoked', 'consent-centre']]);
    const after = await page(agent, done.headers.location!);
    assert.match(after.text, /class="flash flash-ok" role="status">Your consent is withdrawn/);
    assert.match(after.text, /You withdrew it in your consent centre\./);
    assert.match(after.text, /data-receipt="revoked">/);
    assert.ok(!after.text.includes(`/customer/consents/${c.id}/revoke`), 'no withdrawal offered any more');

    // A second post (another tab): the page says it cannot, with the code; nothing changes.
    const again = await agent.post(`/customer/consents/${c.id}/revoke`).type('form').set('Accept', 'text/html').send({ _csrf: token });
    assert.equal(again.status, 409);
    assert.equal(errorCodeFrom(again.text), 'consent.invalid_status');
    assert.match(again.text, /This consent cannot be withdrawn/);
  });

  it("answers another customer's consent as not found, on every page and on the withdrawal post", async () => {
    const c = await grant(casey, [casey.accounts[0]!.id]);
    const agent = await signIn(dana);
    const paths: [string, string][] = [
      [`/customer/consents/${c.id}`, 'consent.not_found'],
      [`/customer/consents/${c.id}/revoke`, 'consent.not_found'],
      [`/customer/consents/${'x'.repeat(200)}`, 'not_found'],
    ];
    for (const [path, code] of paths) {
      const r = await page(agent, path);
      assert.equal(r.status, 404, path);
      assert.equal(errorCodeFrom(r.text), code);
      assert.ok(!r.text.includes('Acme Payments GmbH'), 'nothing of the consent is shown');
    }
    const list = await page(agent, '/customer/consents');
    const before = consentState(web.db);
    const r = await agent.post(`/customer/consents/${c.id}/revoke`).type('form').set('Accept', 'text/html').send({ _csrf: csrfFrom(list.text) });
    assert.equal(r.status, 404);
    assert.equal(errorCodeFrom(r.text), 'consent.not_found');
    assert.deepEqual(consentState(web.db), before);
    assert.equal((await consents.get(c.id))?.status, 'authorised');
  });

  it('a payment already made cannot be withdrawn: the page says why and offers no form', async () => {
    const p = await consents.createDomesticPayment(ACME, paymentBody());
    await consents.authorise(p.id, { customerId: casey.userId, accountIds: [casey.accounts[0]!.id], grantId: `grant-${p.id}`, channel: 'authorisation' });
    await consents.markConsumed(p.id, 'pmt-demo');
    const agent = await signIn(casey);
    const r = await page(agent, `/customer/consents/${p.id}/revoke`);
    assert.equal(r.status, 200);
    assert.match(r.text, /This consent cannot be withdrawn/);
    assert.match(r.text, /already been made/);
    assert.equal(assertCsrfInEveryForm(r.text).forms, 1, 'only the sign-out form');
    const detail = await page(agent, `/customer/consents/${p.id}`);
    assert.match(detail.text, /A payment of <strong class="amount">EUR 12.50<\/strong> to <strong class="payee">Corner Shop Ltd<\/strong>/);
    assert.match(detail.text, /Acme Payments GmbH made the payment through its connection to the bank\./);
  });

  it('downloads the consent history as a JSON attachment with only the customer’s own consents', async () => {
    const mine = await grant(casey, [casey.accounts[0]!.id]);
    await grant(dana, [dana.accounts[0]!.id]);
    const agent = await signIn(casey);
    const r = await agent.get('/customer/consents/export.json').buffer(true).parse((res, cb) => {
      let data = '';
      res.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
      res.on('end', () => cb(null, data));
    });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    assert.match(String(r.headers['content-disposition']), /^attachment; filename="consents-\d{4}-\d{2}-\d{2}\.json"$/);
    assert.equal(r.headers['cache-control'], 'no-store');
    const data = JSON.parse(r.body as string) as { customerId: string; consents: { consent: ConsentView }[] };
    assert.equal(data.customerId, casey.userId);
    assert.ok(data.consents.some((c) => c.consent.id === mine.id));
    assert.ok(data.consents.every((c) => c.consent.customerId === casey.userId));
    const anonymous = await web.agent().get('/customer/consents/export.json');
    assert.equal(anonymous.status, 302);
  });
});
