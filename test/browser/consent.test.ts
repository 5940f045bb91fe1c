/**
 * The customer's consent journey (issue 5) in a real browser (Debian's headless Chromium via playwright-core):
 * the partner's server is openid-client over mutual TLS in this process (test/oauth/customer-harness.ts), the
 * bank's pages are driven in Chromium, and the partner's redirect URI (no server behind it) is intercepted with
 * `page.route` so the test sees exactly what the partner would receive.
 *
 *  1. Account access: the bank page names the partner (vetted legal name and status), the permissions in plain
 *     words and the expiry; the customer signs in (password, TOTP), shares one of two accounts; the partner's
 *     code exchange and accounts call see exactly that account.
 *  2. The consent centre: the consent with its plain words, account, dates and access history; withdrawal shows
 *     the consequences first; afterwards it is listed as withdrawn with a receipt, and the partner's access and
 *     refresh tokens are refused.
 *  3. The GDPR download through the browser: the consent, its events and the accesses.
 *  4. A payment (dynamic linking): amount and payee shown, the sign-in code refused for the approval, a fresh
 *     one accepted; submitted twice with one idempotency key, the money moves once.
 *  5. A denial: the partner gets access_denied.
 *  6. No console error, CSP violation or uncaught error on any page; screenshots of the key pages.
 *
 * The steps share state and run in order: after a failed step the later ones are skipped.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import * as client from 'openid-client';
import { DEMO_SOFTWARE } from '../../src/demo/seed.js';
import { dateText, maskIban } from '../../src/consent/text.js';
import { PERMISSION_TEXT, type AccountPermission, type CustomerConsentExport } from '../../src/consent/types.js';
import { nextTotpCode } from '../helpers/web.js';
import { startOAuthPortal, type OAuthHarness } from '../oauth/harness.js';
import { accountAccessBody, paymentBody, registerPartnerClient, seedCustomer, type Customer, type PartnerClient } from '../oauth/customer-harness.js';
import { answerOrigin, CHROMIUM, errorCode, go, launchChromium, shoot, submit, text, textIfAny, type Watched, watchedPage } from './harness.js';

const REQUESTED: AccountPermission[] = ['ReadAccountsBasic', 'ReadAccountsDetail', 'ReadBalances', 'ReadTransactionsBasic', 'ReadTransactionsDebits'];

describe('browser journey: the customer’s consent, consent centre, export, payment and denial (Chromium)', function () {
  this.timeout(180_000);
  let h: OAuthHarness;
  let browser: Browser;
  let acme: PartnerClient;
  let partnerName = '';
  let casey: Customer;
  let casey2: Watched;
  let consentId = '';
  let tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;
  const contexts: BrowserContext[] = [];
  const watched: Watched[] = [];
  const shots: string[] = [];
  let broken = false;

  const pub = (p: string) => `${h.publicUrl}${p}`;
  const consentRow = (id: string) =>
    h.portal.db.prepare('SELECT status, account_ids, grant_id FROM consents WHERE id = ?').get(id) as { status: string; account_ids: string; grant_id: string | null } | undefined;
  const balanceOf = (accountId: string) => (h.portal.db.prepare('SELECT balance_minor AS b FROM bank_accounts WHERE id = ?').get(accountId) as { b: number }).b;

  /** A fresh browser (own cookie jar) with a watched page and the partner's redirect URI intercepted. */
  async function customerBrowser(): Promise<{ w: Watched; redirects: URL[] }> {
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads: true });
    contexts.push(ctx);
    const w = await watchedPage(ctx);
    watched.push(w);
    return { w, redirects: await answerOrigin(w.page, DEMO_SOFTWARE.redirectUri) };
  }

  async function createConsent(kind: 'account-access' | 'domestic-payment', body: unknown): Promise<string> {
    const created = await acme.createConsent(kind, body);
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const data = created.json.Data as Record<string, unknown>;
    assert.equal(data.Status, 'AwaitingAuthorisation');
    return String(data.ConsentId);
  }

  /** Password, then a TOTP code, on the bank's authorisation pages; returns the code used. */
  async function signInAtBank(page: Page, who: Customer): Promise<string> {
    assert.match(await text(page.locator('h1')), /^Sign in to your bank$/);
    await page.getByLabel('E-mail').fill(who.email);
    await page.getByLabel('Password', { exact: true }).fill(who.password);
    const first = await submit(page, page.getByRole('button', { name: 'Continue' }));
    assert.equal(first.status(), 200, await textIfAny(page.locator('.error-summary')));
    assert.match(await text(page.locator('form')), /Step 2 of 2/);
    const code = await nextTotpCode(who.totpSecret);
    await page.getByLabel('Code', { exact: true }).fill(code);
    const second = await submit(page, page.getByRole('button', { name: 'Verify' }));
    assert.equal(second.status(), 200, await textIfAny(page.locator('.error-summary')));
    return code;
  }

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      this.skip();
      return;
    }
    h = await startOAuthPortal();
    browser = await launchChromium();
    acme = await registerPartnerClient(h);
    const registered = await h.portal.oauth.service.getClient(acme.clientId);
    const partner = registered ? await h.portal.partners.getPartner(registered.partnerId) : null;
    assert.ok(partner, 'the registered client belongs to a partner');
    assert.equal(partner.status, 'active');
    partnerName = partner.legalName;
    casey = await seedCustomer(h, 'Casey Customer');
    assert.equal(casey.accountIds.length, 2, 'the customer has two accounts to choose from');
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await h?.stop();
  });

  beforeEach(function () {
    if (broken) this.skip();
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') broken = true;
  });

  it('1. account access: the bank page names the vetted partner, the permissions and the expiry; the customer shares one account; the partner sees only that one', async () => {
    const body = accountAccessBody(REQUESTED, 30);
    const expiry = body.Data.ExpirationDateTime;
    consentId = await createConsent('account-access', body);
    const { url, verifier, state } = await acme.authorizationUrl(consentId, 'openid accounts');

    const { w, redirects } = await customerBrowser();
    casey2 = w;
    const { page } = w;
    await go(page, url.href);
    assert.match(new URL(page.url()).pathname, /^\/oauth\/interaction\/[A-Za-z0-9_-]+$/);
    const partner = page.locator('#partner-heading').locator('xpath=..');
    assert.equal(await text(page.locator('#partner-heading')), `${partnerName} is asking`);
    await signInAtBank(page, casey);

    // The consent page.
    assert.equal(await text(page.locator('h1')), `Authorise ${partnerName}`);
    const about = await text(partner);
    assert.ok(about.includes(`is an app of ${partnerName}, vetted and approved by the bank.`), about);
    assert.equal(await text(partner.locator('.ok')), 'vetted and approved by the bank');
    const perms = partner.locator('ul.permissions li');
    assert.deepEqual(await perms.evaluateAll((els) => els.map((e) => e.getAttribute('data-permission'))), REQUESTED);
    for (const [i, p] of REQUESTED.entries()) assert.equal(await text(perms.nth(i)), PERMISSION_TEXT[p]);
    const until = partner.locator('time');
    assert.equal(Date.parse(String(await until.getAttribute('datetime'))), Date.parse(expiry), 'the expiry the partner asked for');
    assert.equal(await text(until), dateText(expiry));

    const accounts = await h.portal.banking.accountsOf(casey.id);
    const boxes = page.locator('input[type="checkbox"][name="account"]');
    assert.equal(await boxes.count(), 2, 'both of the customer’s accounts are offered');
    for (const a of accounts) {
      const label = page.locator(`label[for="account-${a.id}"]`);
      assert.ok((await text(label)).includes(`${a.nickname} (${a.currency})`));
      assert.equal(await text(label.locator('.mono')), maskIban(a.iban), 'the IBAN is masked');
    }
    shots.push(await shoot(page, 'consent-01-account-access'));

    const chosen = casey.accountIds[0]!;
    await page.locator(`#account-${chosen}`).check();
    await submit(page, page.getByRole('button', { name: 'Share' }));
    assert.equal(redirects.length, 1, 'the browser was sent to the partner once');
    const back = redirects[0]!;
    assert.equal(`${back.origin}${back.pathname}`, DEMO_SOFTWARE.redirectUri);
    assert.ok(back.searchParams.get('code'), 'a code');
    assert.equal(back.searchParams.get('state'), state);
    assert.equal(back.searchParams.get('iss'), h.portal.oauth.issuer());
    assert.equal(back.searchParams.get('error'), null);
    assert.equal(await text(page.locator('p')), 'Back at the partner.');

    tokens = await acme.exchange(back, verifier, state);
    assert.equal(consentRow(consentId)?.status, 'authorised');
    assert.deepEqual(JSON.parse(consentRow(consentId)!.account_ids), [chosen]);
    const r = await acme.api(tokens.access_token, 'GET', '/api/v1/accounts');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const listed = (r.json.Data as { Account: { AccountId: string }[] }).Account;
    assert.deepEqual(listed.map((a) => a.AccountId), [chosen], 'exactly the shared account');
  });

  it('2. the consent centre: the consent in plain words with its account, dates and access history; withdrawal shows the consequences first; the partner’s tokens stop working', async () => {
    const { page } = casey2;
    await go(page, pub('/customer/consents'));
    assert.equal(new URL(page.url()).pathname, '/customer/login', 'the consent centre asks the customer to sign in');
    await page.getByLabel('E-mail').fill(casey.email);
    await page.getByLabel('Password', { exact: true }).fill(casey.password);
    await submit(page, page.getByRole('button', { name: 'Continue' }));
    assert.equal(new URL(page.url()).pathname, '/customer/login/totp');
    // A new code: the one used at the authorisation is spent.
    await page.getByLabel('6-digit code').fill(await nextTotpCode(casey.totpSecret));
    const res = await submit(page, page.getByRole('button', { name: 'Sign in' }));
    assert.equal(res.status(), 200, await textIfAny(page.locator('.error-summary')));
    assert.equal(new URL(page.url()).pathname, '/customer/consents', 'back where the customer was going');
    assert.equal(await text(page.locator('h1')), 'Your consents');

    const view = await h.portal.consents.get(consentId);
    assert.ok(view?.authorisedAt && view.lastUsedAt && view.expiresAt, 'granted, used and with an end date');
    const accounts = await h.portal.banking.accountsOf(casey.id);
    const shared = accounts.find((a) => a.id === casey.accountIds[0])!;

    const group = page.getByRole('region', { name: partnerName });
    assert.equal(await group.count(), 1, 'the partner is listed once');
    assert.equal(await text(group.locator('.partner .badge')), 'Vetted and approved by the bank');
    const card = group.locator(`article.consent[data-consent="${consentId}"]`);
    assert.equal(await card.count(), 1);
    assert.equal(await text(card.locator('h3 .badge')), 'Active');
    const perms = card.locator('ul.permissions li');
    assert.deepEqual(await perms.allTextContents().then((t) => t.map((s) => s.trim())), REQUESTED.map((p) => PERMISSION_TEXT[p]));
    assert.equal(await text(card.locator('dd.accounts')), `${shared.nickname} (${maskIban(shared.iban)})`);
    assert.ok(!(await text(card)).includes(shared.iban), 'the full IBAN is not shown');
    assert.equal(await text(card.locator('dt:text-is("Granted") + dd')), dateText(view.authorisedAt));
    assert.equal(await text(card.locator('dt:text-is("Ends") + dd')), dateText(view.expiresAt));
    assert.equal(await text(card.locator('dd.last-used')), dateText(view.lastUsedAt));
    shots.push(await shoot(page, 'consent-03-centre-list'));

    // The detail: what happened and what the partner did with it.
    await submit(page, card.getByRole('link', { name: 'History' }));
    assert.equal(new URL(page.url()).pathname, `/customer/consents/${consentId}`);
    const events = await page.locator('ol.events li').allTextContents();
    assert.ok(events.some((e) => e.includes('You approved it on the bank\'s authorisation page.')), events.join(' | '));
    const calls = page.locator('table.accesses tbody tr');
    assert.equal(await calls.count(), 1, 'one call so far');
    assert.equal(await text(calls.first().locator('td').nth(1)), 'Listed your accounts');
    assert.equal(await text(calls.first().locator('td').nth(3)), 'Answered');
    assert.equal(await page.locator('ul.receipts li[data-receipt="granted"]').count(), 1, 'the grant receipt');

    // Withdrawing: the consequences first, nothing changes until confirmed.
    await submit(page, page.getByRole('link', { name: 'Withdraw this consent…' }));
    assert.equal(new URL(page.url()).pathname, `/customer/consents/${consentId}/revoke`);
    assert.equal(await text(page.locator('h1')), `Withdraw your consent for ${partnerName}`);
    assert.equal(await text(page.locator('#consequences-heading')), 'What happens if you withdraw it');
    const expected = await h.portal.consents.revocationConsequences(consentId, casey.id);
    assert.equal(expected.revocable, true);
    assert.deepEqual(await page.locator('.consequences li').evaluateAll((els) => els.map((e) => (e.textContent ?? '').replace(/\s+/g, ' ').trim())), expected.lines);
    const firstLine = await text(page.locator('.consequences li').first());
    assert.ok(firstLine.includes('will immediately stop being able to see'), firstLine);
    assert.ok(firstLine.includes(PERMISSION_TEXT.ReadBalances), firstLine);
    assert.equal(consentRow(consentId)?.status, 'authorised', 'seeing the consequences changes nothing');
    const stillWorks = await acme.api(tokens.access_token, 'GET', '/api/v1/accounts');
    assert.equal(stillWorks.status, 200, 'the partner’s access still works before the confirmation');
    shots.push(await shoot(page, 'consent-04-revoke-confirmation'));

    const done = await submit(page, page.getByRole('button', { name: 'Withdraw the consent' }));
    assert.equal(done.status(), 200);
    assert.equal(new URL(page.url()).pathname, `/customer/consents/${consentId}`);
    assert.match(await text(page.locator('.flash-ok')), /^Your consent is withdrawn\./);
    assert.equal(await text(page.locator('article.consent h3 .badge')), 'Withdrawn');
    const receipt = page.locator('ul.receipts li[data-receipt="revoked"]');
    assert.equal(await receipt.count(), 1, 'a withdrawal receipt');
    assert.match(await text(receipt), new RegExp(`you stopped the access of ${partnerName}`));
    assert.equal(consentRow(consentId)?.status, 'revoked');

    // The list: no longer active, among the past consents as withdrawn.
    await submit(page, page.getByRole('link', { name: '← Your consents' }));
    const group2 = page.getByRole('region', { name: partnerName });
    const past = group2.locator('details.past');
    assert.match(await text(past.locator('summary')), /^Past consents \(1\)$/);
    const pastCard = past.locator(`article.consent[data-consent="${consentId}"]`);
    assert.equal(await pastCard.count(), 1);
    assert.equal(await text(pastCard.locator('h3 .badge')), 'Withdrawn');
    assert.equal(await pastCard.getByRole('link', { name: /Withdraw/ }).count(), 0, 'no second withdrawal offered');
    assert.equal(await group2.locator('article.consent').count(), 1, 'not listed as active any more');

    // The partner: its next call and its refresh are refused.
    const after = await acme.api(tokens.access_token, 'GET', '/api/v1/accounts');
    assert.equal(after.status, 401, JSON.stringify(after.json));
    assert.equal(after.json.error, 'invalid_token');
    await assert.rejects(client.refreshTokenGrant(acme.config, tokens.refresh_token!), (err: unknown) => {
      assert.ok(err instanceof client.ResponseBodyError, String(err));
      assert.equal(err.error, 'invalid_grant');
      return true;
    });
  });

  it('3. the GDPR download through the browser: the consent, its events and the partner’s accesses', async () => {
    const { page } = casey2;
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download your consent history (JSON)' }).click()]);
    assert.match(download.suggestedFilename(), /^consents-\d{4}-\d{2}-\d{2}\.json$/);
    const raw = readFileSync(await download.path(), 'utf8');
    const data = JSON.parse(raw) as CustomerConsentExport;
    assert.equal(data.customerId, casey.id);
    assert.ok(!Number.isNaN(Date.parse(data.exportedAt)));
    assert.equal(data.consents.length, 1);
    const entry = data.consents[0]!;
    assert.equal(entry.consent.id, consentId);
    assert.equal(entry.consent.status, 'revoked');
    assert.deepEqual(entry.consent.permissions, REQUESTED);
    assert.deepEqual(entry.consent.accountIds, [casey.accountIds[0]]);
    assert.equal(entry.partner.name, partnerName);
    assert.deepEqual(
      entry.events.map((e) => [e.fromStatus, e.toStatus, e.channel]),
      [
        [null, 'awaiting_authorisation', 'api'],
        ['awaiting_authorisation', 'authorised', 'authorisation'],
        ['authorised', 'revoked', 'consent-centre'],
      ],
    );
    const calls = entry.accesses.filter((a) => a.endpoint === 'GET /api/v1/accounts' && a.status === 200);
    assert.equal(calls.length, 2, 'the accounts call after the grant and the one before the withdrawal');
    assert.ok(entry.accesses.every((a) => a.clientId === acme.clientId));
    assert.deepEqual(entry.receipts.map((r) => r.kind).sort(), ['granted', 'revoked']);
    assert.ok(!raw.includes(tokens.access_token) && !raw.includes(tokens.refresh_token!), 'no token in the export');
    assert.ok(!raw.includes(casey.totpSecret), 'no secret in the export');
  });

  it('4. a payment with dynamic linking: amount and payee shown, the sign-in code refused, a fresh one approves; submitted twice with one key, the money moves once', async () => {
    const payer = await seedCustomer(h, 'Pat Payer');
    const body = paymentBody('12.50', 'Corner Shop Ltd');
    const id = await createConsent('domestic-payment', body);
    const { url, verifier, state } = await acme.authorizationUrl(id, 'openid payments');
    const { w, redirects } = await customerBrowser();
    const { page } = w;
    await go(page, url.href);
    const loginCode = await signInAtBank(page, payer);

    assert.equal(await text(page.locator('h1')), `Authorise ${partnerName}`);
    assert.equal(await text(page.locator('dl.payment dd.amount')), 'EUR 12.50');
    assert.equal(await text(page.locator('dl.payment dd.payee')), 'Corner Shop Ltd');
    assert.equal(await text(page.locator('dt:text-is("Payee account") + dd')), 'DE89370400440532013000');
    assert.equal(await text(page.locator('dt:text-is("Reference") + dd')), 'Invoice 42');
    assert.equal(await page.locator('ul.permissions').count(), 0, 'a payment asks for no account information');
    const radios = page.locator('input[type="radio"][name="account"]');
    assert.equal(await radios.count(), 2);
    const codeField = page.getByLabel(/enter a new code from your authenticator app/);
    assert.equal(
      await text(page.locator('label[for="field-code"]')),
      'To approve paying EUR 12.50 to Corner Shop Ltd, enter a new code from your authenticator app',
      'the code is asked for this amount and payee',
    );
    shots.push(await shoot(page, 'consent-02-payment'));

    const from = payer.accountIds[0]!;
    const before = balanceOf(from);
    // The code the customer signed in with does not approve the payment.
    await page.locator(`#account-${from}`).check();
    await codeField.fill(loginCode);
    w.expectStatus(401);
    const refused = await submit(page, page.getByRole('button', { name: 'Approve payment' }));
    assert.equal(refused.status(), 401);
    assert.equal(await errorCode(page), 'accounts.totp_invalid');
    assert.match(await text(page.locator('.error-summary')), /Use a new code, not the one you signed in with\./);
    assert.equal(redirects.length, 0, 'the partner got nothing');
    assert.equal(consentRow(id)?.status, 'awaiting_authorisation');
    assert.equal(h.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'consent.payment.authenticated' AND subject_id = ?", id), 0);

    // A fresh code does.
    await page.locator(`#account-${from}`).check();
    await page.getByLabel(/enter a new code from your authenticator app/).fill(await nextTotpCode(payer.totpSecret));
    await submit(page, page.getByRole('button', { name: 'Approve payment' }));
    assert.equal(redirects.length, 1);
    const back = redirects[0]!;
    assert.equal(back.searchParams.get('state'), state);
    assert.equal(back.searchParams.get('iss'), h.portal.oauth.issuer());
    const t = await acme.exchange(back, verifier, state);
    assert.equal(consentRow(id)?.status, 'authorised');
    assert.equal(h.count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'consent.payment.authenticated' AND subject_id = ?", id), 1, 'the linked authentication is audited once');
    assert.equal(balanceOf(from), before, 'approving moves no money');

    const submitBody = { Data: { ConsentId: id, Initiation: body.Data.Initiation }, Risk: {} };
    const first = await acme.api(t.access_token, 'POST', '/api/v1/domestic-payments', submitBody, { 'x-idempotency-key': 'browser-pay-1' });
    assert.equal(first.status, 201, JSON.stringify(first.json));
    assert.equal(balanceOf(from), before - 1250);
    const again = await acme.api(t.access_token, 'POST', '/api/v1/domestic-payments', submitBody, { 'x-idempotency-key': 'browser-pay-1' });
    assert.equal(again.status, 201);
    assert.deepEqual(again.json, first.json, 'the same answer');
    assert.equal(balanceOf(from), before - 1250, 'the money moved once');
    assert.equal(h.count('SELECT COUNT(*) AS n FROM bank_payments WHERE consent_id = ?', id), 1);
    assert.equal(consentRow(id)?.status, 'consumed');
  });

  it('5. the customer denies: the partner gets access_denied and the consent is rejected', async () => {
    const who = await seedCustomer(h, 'Dana Denier');
    const id = await createConsent('account-access', accountAccessBody(['ReadAccountsBasic']));
    const { url, state } = await acme.authorizationUrl(id, 'openid accounts');
    const { w, redirects } = await customerBrowser();
    const { page } = w;
    await go(page, url.href);
    await signInAtBank(page, who);
    assert.equal(await text(page.locator('h1')), `Authorise ${partnerName}`);
    const grants = h.count("SELECT COUNT(*) AS n FROM oauth_models WHERE model = 'Grant'");
    await submit(page, page.getByRole('button', { name: 'Deny' }));
    assert.equal(redirects.length, 1);
    const back = redirects[0]!;
    assert.equal(`${back.origin}${back.pathname}`, DEMO_SOFTWARE.redirectUri);
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('state'), state);
    assert.equal(back.searchParams.get('code'), null, 'no code');
    assert.equal(consentRow(id)?.status, 'rejected');
    assert.equal(consentRow(id)?.grant_id, null);
    assert.equal(h.count("SELECT COUNT(*) AS n FROM oauth_models WHERE model = 'Grant'"), grants, 'no grant saved');
  });

  it('6. no page logged a console error, a CSP violation or an uncaught error; the screenshots exist', () => {
    assert.equal(watched.length, 3);
    for (const w of watched) assert.deepEqual(w.problems, []);
    assert.equal(shots.length, 4);
    for (const f of shots) assert.ok(existsSync(f) && statSync(f).size > 0, `${f} is a non-empty file`);
  });
});
