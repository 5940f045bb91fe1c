/**
 * The seven-step flow end to end, without a browser (the browser test fills in the same forms): the partner's
 * server (openid-client over mutual TLS) creates a consent, pushes the authorization request, the customer signs
 * in with password and TOTP and approves on the bank's pages, the partner exchanges the code for bound tokens and
 * calls the account and payment APIs. Then every way it must fail, each asserting the status, the error and that
 * no data or money moved.
 */
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { DEMO_SOFTWARE } from '../../src/demo/seed.js';
import { startOAuthPortal, type OAuthHarness } from './harness.js';
import {
  accountAccessBody,
  approve,
  decide,
  openAuthorization,
  paymentBody,
  post,
  registerPartnerClient,
  seedCustomer,
  signIn,
  type Customer,
  type PartnerClient,
} from './customer-harness.js';
import { nextTotpCode } from '../helpers/web.js';

const ALL_READ = ['ReadAccountsBasic', 'ReadAccountsDetail', 'ReadBalances', 'ReadTransactionsBasic', 'ReadTransactionsDetail', 'ReadTransactionsCredits', 'ReadTransactionsDebits'];

describe('customer authorisation: consent, two factors, bound tokens, the banking APIs', function () {
  this.timeout(120_000);
  let h: OAuthHarness;
  let acme: PartnerClient;
  let casey: Customer;

  const consentRow = (id: string) =>
    h.portal.db.prepare('SELECT status, account_ids, grant_id FROM consents WHERE id = ?').get(id) as
      | { status: string; account_ids: string; grant_id: string | null }
      | undefined;
  const balanceOf = (accountId: string) =>
    (h.portal.db.prepare('SELECT balance_minor AS b FROM bank_accounts WHERE id = ?').get(accountId) as { b: number }).b;
  const count = (sql: string, ...p: unknown[]) => h.count(sql, ...p);

  /** A consent approved by the customer and the tokens for it. */
  async function authorised(kind: 'account-access' | 'domestic-payment', body: unknown, who: Customer, accounts: string[]) {
    const created = await acme.createConsent(kind, body);
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const consentId = String((created.json.Data as Record<string, unknown>).ConsentId);
    const scope = kind === 'account-access' ? 'openid accounts' : 'openid payments';
    const { url, verifier, state } = await acme.authorizationUrl(consentId, scope);
    const redirect = await approve(h, url, who, accounts);
    const tokens = await acme.exchange(redirect, verifier, state);
    return { consentId, tokens, redirect, verifier, state };
  }

  before(async () => {
    h = await startOAuthPortal();
    acme = await registerPartnerClient(h);
    casey = await seedCustomer(h, 'Casey Customer');
  });
  after(async () => h?.stop());

  describe('account access, the happy path', () => {
    let consentId: string;
    let tokens: Awaited<ReturnType<typeof authorised>>['tokens'];

    it('the consent is created AwaitingAuthorisation; the customer approves one account; the code gives bound tokens naming the consent', async () => {
      ({ consentId, tokens } = await authorised('account-access', accountAccessBody(ALL_READ), casey, [casey.accountIds[0]!]));
      assert.equal(consentRow(consentId)?.status, 'authorised');
      assert.deepEqual(JSON.parse(consentRow(consentId)!.account_ids), [casey.accountIds[0]]);
      const at = decodeJwt(tokens.access_token);
      assert.equal(at.consent_id, consentId);
      assert.equal(at.sub, casey.id);
      assert.equal(at.aud, h.portal.oauth.apiAudience());
      assert.ok((at.cnf as Record<string, string>)['x5t#S256'], 'bound to the certificate');
      assert.equal(typeof tokens.refresh_token, 'string', 'account access gets a refresh token');
      const idt = tokens.claims()!;
      assert.equal(idt.openbanking_intent_id, consentId);
      assert.equal(idt.acr, 'urn:openbanking:psd2:sca');
    });

    it('GET /api/v1/accounts lists only the account the customer chose', async () => {
      const r = await acme.api(tokens.access_token, 'GET', '/api/v1/accounts');
      assert.equal(r.status, 200, JSON.stringify(r.json));
      const accounts = (r.json.Data as { Account: { AccountId: string }[] }).Account;
      assert.deepEqual(accounts.map((a) => a.AccountId), [casey.accountIds[0]]);
    });

    it('the other account of the same customer: 403 consent.account_not_granted', async () => {
      const r = await acme.api(tokens.access_token, 'GET', `/api/v1/accounts/${casey.accountIds[1]}/balances`);
      assert.equal(r.status, 403);
      assert.equal(r.json.error, 'consent.account_not_granted');
    });

    it('balances and transactions of the chosen account answer 200', async () => {
      const b = await acme.api(tokens.access_token, 'GET', `/api/v1/accounts/${casey.accountIds[0]}/balances`);
      assert.equal(b.status, 200, JSON.stringify(b.json));
      const t = await acme.api(tokens.access_token, 'GET', `/api/v1/accounts/${casey.accountIds[0]}/transactions`);
      assert.equal(t.status, 200, JSON.stringify(t.json));
      assert.ok((t.json.Data as { Transaction: unknown[] }).Transaction.length > 0);
    });

    it('the refresh token gives a new access token for the same consent', async () => {
      const next = await client.refreshTokenGrant(acme.config, tokens.refresh_token!);
      assert.equal(decodeJwt(next.access_token).consent_id, consentId);
      const r = await acme.api(next.access_token, 'GET', '/api/v1/accounts');
      assert.equal(r.status, 200);
    });

    it('every call was recorded for the customer’s access history', async () => {
      assert.ok(count('SELECT COUNT(*) AS n FROM consent_accesses WHERE consent_id = ?', consentId) >= 3);
    });

    it('the customer token over Nordic Insights’ QWAC: 401 invalid_token (token.bound), nothing recorded as an access', async () => {
      const before = count('SELECT COUNT(*) AS n FROM consent_accesses WHERE consent_id = ?', consentId);
      const nordic = h.client('nordic-insights');
      const r = await h.request(nordic, 'GET', `${h.mtlsUrl}/api/v1/accounts`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      assert.equal(r.status, 401);
      assert.equal(r.json.error, 'invalid_token');
      assert.equal(count('SELECT COUNT(*) AS n FROM consent_accesses WHERE consent_id = ?', consentId), before);
    });

    it('a client_credentials token cannot read accounts: 403 consent.required', async () => {
      const r = await acme.api(await acme.ccToken('accounts'), 'GET', '/api/v1/accounts');
      assert.equal(r.status, 403);
      assert.equal(r.json.error, 'consent.required');
    });

    it('the customer revokes: its grant goes with it, the next API call is 401 invalid_token and the refresh token is refused', async () => {
      await h.portal.consents.revokeByCustomer(consentId, casey.id, 'test');
      assert.equal(consentRow(consentId)?.status, 'revoked');
      const r = await acme.api(tokens.access_token, 'GET', '/api/v1/accounts');
      assert.equal(r.status, 401);
      assert.equal(r.json.error, 'invalid_token');
      assert.match(String(r.json.error_description), /revoked/);
      await assert.rejects(client.refreshTokenGrant(acme.config, tokens.refresh_token!), (err: unknown) => {
        assert.ok(err instanceof client.ResponseBodyError, String(err));
        assert.equal(err.error, 'invalid_grant');
        return true;
      });
    });
  });

  describe('an expired consent', () => {
    it('works until its expiry; then the API answers 403 consent.expired (before any sweep), the refresh token is refused, and the sweep records it', async () => {
      const who = await seedCustomer(h);
      const expiry = Date.now() + 6_000;
      const body = { Data: { Permissions: ['ReadAccountsBasic'], ExpirationDateTime: new Date(expiry).toISOString() }, Risk: {} };
      const { consentId, tokens } = await authorised('account-access', body, who, [who.accountIds[0]!]);
      assert.equal((await acme.api(tokens.access_token, 'GET', '/api/v1/accounts')).status, 200);
      await new Promise((r) => setTimeout(r, Math.max(0, expiry - Date.now()) + 200));
      const r = await acme.api(tokens.access_token, 'GET', '/api/v1/accounts');
      assert.equal(r.status, 403);
      assert.equal(r.json.error, 'consent.expired');
      await assert.rejects(client.refreshTokenGrant(acme.config, tokens.refresh_token!), (err: unknown) => {
        assert.ok(err instanceof client.ResponseBodyError, String(err));
        assert.equal(err.error, 'invalid_grant');
        return true;
      });
      assert.equal(await h.portal.consents.expireDue(), 1);
      assert.equal(consentRow(consentId)?.status, 'expired');
      // The sweep took the grant with it: the token now fails at the guard.
      assert.equal((await acme.api(tokens.access_token, 'GET', '/api/v1/accounts')).status, 401);
    });
  });

  describe('the authorization request and the code', () => {
    // A customer per test: a TOTP step, once used, is refused again (replay guard), and waiting for the next costs 30 s.
    let who: Customer;
    beforeEach(async () => {
      who = await seedCustomer(h);
    });

    it('code replay: invalid_grant, and no second token', async () => {
      const { redirect, verifier, state, consentId } = await authorised('account-access', accountAccessBody(['ReadAccountsBasic']), who, [who.accountIds[0]!]);
      await assert.rejects(acme.exchange(redirect, verifier, state), (err: unknown) => {
        assert.ok(err instanceof client.ResponseBodyError, String(err));
        assert.equal(err.error, 'invalid_grant');
        return true;
      });
      assert.equal(consentRow(consentId)?.status, 'authorised');
    });

    it('a wrong PKCE verifier: invalid_grant', async () => {
      const created = await acme.createConsent('account-access', accountAccessBody(['ReadAccountsBasic']));
      const id = String((created.json.Data as Record<string, unknown>).ConsentId);
      const { url, state } = await acme.authorizationUrl(id, 'openid accounts');
      const redirect = await approve(h, url, who, [who.accountIds[0]!]);
      await assert.rejects(acme.exchange(redirect, client.randomPKCECodeVerifier(), state), (err: unknown) => {
        assert.ok(err instanceof client.ResponseBodyError, String(err));
        assert.equal(err.error, 'invalid_grant');
        return true;
      });
    });

    it('a missing PKCE verifier: invalid_grant, no token', async () => {
      const created = await acme.createConsent('account-access', accountAccessBody(['ReadAccountsBasic']));
      const id = String((created.json.Data as Record<string, unknown>).ConsentId);
      const { url } = await acme.authorizationUrl(id, 'openid accounts');
      const redirect = await approve(h, url, who, [who.accountIds[0]!]);
      const r = await h.request(h.client('acme-payments'), 'POST', `${h.mtlsUrl}/oauth/token`, {
        form: { grant_type: 'authorization_code', code: redirect.searchParams.get('code')!, redirect_uri: DEMO_SOFTWARE.redirectUri, client_id: acme.clientId },
      });
      assert.equal(r.status, 400);
      assert.equal(r.json.error, 'invalid_grant');
      assert.equal(r.json.access_token, undefined);
    });

    it('a redirect URI that is not registered: PAR refused (invalid_request naming redirect_uri), nothing pushed', async () => {
      const created = await acme.createConsent('account-access', accountAccessBody(['ReadAccountsBasic']));
      const id = String((created.json.Data as Record<string, unknown>).ConsentId);
      const before = count("SELECT COUNT(*) AS n FROM oauth_models WHERE model = 'PushedAuthorizationRequest'");
      await assert.rejects(acme.authorizationUrl(id, 'openid accounts', { redirect_uri: 'https://evil.example/cb' }), (err: unknown) => {
        assert.ok(err instanceof client.ResponseBodyError, String(err));
        assert.equal(err.error, 'invalid_request');
        assert.match(String(err.error_description), /redirect_uri/);
        return true;
      });
      assert.equal(count("SELECT COUNT(*) AS n FROM oauth_models WHERE model = 'PushedAuthorizationRequest'"), before);
    });

    it('a consent created by another partner: PAR refused (invalid_request)', async () => {
      const nordic = h.client('nordic-insights');
      const reg = await h.request(nordic, 'POST', `${h.mtlsUrl}/oauth/register`, {
        json: { token_endpoint_auth_method: 'tls_client_auth', grant_types: ['client_credentials'], scope: 'accounts' },
      });
      assert.equal(reg.status, 201, reg.text);
      const tok = await h.request(nordic, 'POST', `${h.mtlsUrl}/oauth/token`, {
        form: { grant_type: 'client_credentials', scope: 'accounts', client_id: String(reg.json.client_id) },
      });
      const created = await h.request(nordic, 'POST', `${h.mtlsUrl}/api/v1/account-access-consents`, {
        json: accountAccessBody(['ReadAccountsBasic']),
        headers: { authorization: `Bearer ${String(tok.json.access_token)}` },
      });
      assert.equal(created.status, 201, created.text);
      const theirs = String((created.json.Data as Record<string, unknown>).ConsentId);
      await assert.rejects(acme.authorizationUrl(theirs, 'openid accounts'), (err: unknown) => {
        assert.ok(err instanceof client.ResponseBodyError, String(err));
        assert.equal(err.error, 'invalid_request');
        return true;
      });
      // Nor can Acme read it: 404, as if it did not exist.
      const read = await acme.api(await acme.ccToken('accounts'), 'GET', `/api/v1/account-access-consents/${theirs}`);
      assert.equal(read.status, 404);
      assert.equal(consentRow(theirs)?.status, 'awaiting_authorisation');
    });

    it('a consent that waited longer than the authorisation window: PAR refused (invalid_request), the consent unchanged', async () => {
      const created = await acme.createConsent('account-access', accountAccessBody(['ReadAccountsBasic']));
      const id = String((created.json.Data as Record<string, unknown>).ConsentId);
      // Created 25 hours ago, as far as the store knows (the window is 24 hours by default).
      h.portal.db.prepare('UPDATE consents SET created_at = ? WHERE id = ?').run(new Date(Date.now() - 25 * 3_600_000).toISOString(), id);
      await assert.rejects(acme.authorizationUrl(id, 'openid accounts'), (err: unknown) => {
        assert.ok(err instanceof client.ResponseBodyError, String(err));
        assert.equal(err.error, 'invalid_request');
        assert.match(String(err.error_description), /was not authorised in time/);
        return true;
      });
      assert.equal(consentRow(id)?.status, 'awaiting_authorisation');
    });

    it('no consent in the request: the customer is sent back with invalid_request', async () => {
      const verifier = client.randomPKCECodeVerifier();
      const url = await client.buildAuthorizationUrlWithPAR(acme.config, {
        redirect_uri: DEMO_SOFTWARE.redirectUri,
        scope: 'openid accounts',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      const j = await openAuthorization(h, url).catch((e: Error) => e);
      // The interaction ends at once: the first GET of the interaction page redirects to the partner with the error.
      assert.ok(!(j instanceof Error), String(j));
      assert.equal(j.html, '');
    });
  });

  describe('the customer’s pages', () => {
    let who: Customer;
    beforeEach(async () => {
      who = await seedCustomer(h);
    });

    it('the customer approves an account that is not theirs: 403 consent.account_not_owned, consent still awaiting, no grant', async () => {
      const other = await seedCustomer(h, 'Olive Other');
      const created = await acme.createConsent('account-access', accountAccessBody(['ReadAccountsBasic']));
      const id = String((created.json.Data as Record<string, unknown>).ConsentId);
      const { url } = await acme.authorizationUrl(id, 'openid accounts');
      const j = await openAuthorization(h, url);
      await signIn(j, who);
      const grants = count("SELECT COUNT(*) AS n FROM oauth_models WHERE model = 'Grant'");
      const d = await decide(j, { decision: 'approve', account: [other.accountIds[0]!] });
      assert.equal(d.status, 403);
      assert.match(d.html, /consent\.account_not_owned/);
      assert.equal(consentRow(id)?.status, 'awaiting_authorisation');
      assert.equal(count("SELECT COUNT(*) AS n FROM oauth_models WHERE model = 'Grant'"), grants);
    });

    it('the decision without the CSRF token: 403 csrf.invalid, consent unchanged', async () => {
      const created = await acme.createConsent('account-access', accountAccessBody(['ReadAccountsBasic']));
      const id = String((created.json.Data as Record<string, unknown>).ConsentId);
      const { url } = await acme.authorizationUrl(id, 'openid accounts');
      const j = await openAuthorization(h, url);
      await signIn(j, who);
      const r = await j.agent.post(`${j.page}/decision`).type('form').set('Accept', 'text/html').send({ decision: 'approve', account: who.accountIds[0] });
      assert.equal(r.status, 403);
      assert.match(r.text, /csrf\.invalid/);
      assert.equal(consentRow(id)?.status, 'awaiting_authorisation');
    });

    it('a wrong password, then a wrong TOTP code: 401 with the accounts codes, never the consent page', async () => {
      const created = await acme.createConsent('account-access', accountAccessBody(['ReadAccountsBasic']));
      const id = String((created.json.Data as Record<string, unknown>).ConsentId);
      const { url } = await acme.authorizationUrl(id, 'openid accounts');
      const j = await openAuthorization(h, url);
      const bad = await post(j, 'login', { email: who.email, password: 'not-the-password' });
      assert.equal(bad.status, 401);
      assert.match(bad.text, /accounts\.login_failed/);
      j.html = bad.text;
      const ok = await post(j, 'login', { email: who.email, password: who.password });
      assert.equal(ok.status, 303);
      j.html = (await j.agent.get(j.page)).text;
      const wrong = await post(j, 'totp', { code: '000000' });
      assert.equal(wrong.status, 401);
      assert.match(wrong.text, /accounts\.totp_invalid/);
      // Skipping the second factor does not reach the decision.
      j.html = wrong.text;
      const skip = await post(j, 'decision', { decision: 'approve', account: who.accountIds[0]! });
      assert.equal(skip.status, 401);
      assert.match(skip.text, /authorise\.not_authenticated/);
      assert.equal(consentRow(id)?.status, 'awaiting_authorisation');
    });

    it('the customer denies: the partner gets access_denied and the consent is rejected', async () => {
      const created = await acme.createConsent('account-access', accountAccessBody(['ReadAccountsBasic']));
      const id = String((created.json.Data as Record<string, unknown>).ConsentId);
      const { url } = await acme.authorizationUrl(id, 'openid accounts');
      const j = await openAuthorization(h, url);
      await signIn(j, who);
      const d = await decide(j, { decision: 'deny' });
      assert.equal(d.redirect?.searchParams.get('error'), 'access_denied');
      assert.equal(consentRow(id)?.status, 'rejected');
    });
  });

  describe('payments', () => {
    let payer: Customer;
    beforeEach(async () => {
      payer = await seedCustomer(h, 'Pat Payer');
    });

    it('the customer approves the payment with a fresh code; submitted twice with one idempotency key, the money moves once; a new key is refused', async () => {
      const body = paymentBody('12.50');
      const { consentId, tokens } = await authorised('domestic-payment', body, payer, [payer.accountIds[0]!]);
      assert.equal(tokens.refresh_token, undefined, 'a payment consent gets no refresh token');
      const before = balanceOf(payer.accountIds[0]!);
      const submit = { Data: { ConsentId: consentId, Initiation: body.Data.Initiation }, Risk: {} };
      const first = await acme.api(tokens.access_token, 'POST', '/api/v1/domestic-payments', submit, { 'x-idempotency-key': 'pay-1' });
      assert.equal(first.status, 201, JSON.stringify(first.json));
      assert.equal(balanceOf(payer.accountIds[0]!), before - 1250);
      const again = await acme.api(tokens.access_token, 'POST', '/api/v1/domestic-payments', submit, { 'x-idempotency-key': 'pay-1' });
      assert.equal(again.status, 201);
      assert.deepEqual(again.json, first.json);
      assert.equal(balanceOf(payer.accountIds[0]!), before - 1250);
      const other = await acme.api(tokens.access_token, 'POST', '/api/v1/domestic-payments', submit, { 'x-idempotency-key': 'pay-2' });
      assert.ok(other.status === 403 || other.status === 409, String(other.status));
      assert.equal(balanceOf(payer.accountIds[0]!), before - 1250);
      assert.equal(count('SELECT COUNT(*) AS n FROM bank_payments WHERE consent_id = ?', consentId), 1);
      assert.equal(consentRow(consentId)?.status, 'consumed');
    });

    it('the approval without the page’s payment digest (the amount or payee changed): 409 authorise.payment_changed, nothing authorised', async () => {
      const created = await acme.createConsent('domestic-payment', paymentBody('5.00'));
      const id = String((created.json.Data as Record<string, unknown>).ConsentId);
      const { url } = await acme.authorizationUrl(id, 'openid payments');
      const j = await openAuthorization(h, url);
      await signIn(j, payer);
      assert.match(j.html, /EUR 5\.00/);
      assert.match(j.html, /Corner Shop Ltd/);
      const d = await decide(j, { decision: 'approve', account: [payer.accountIds[0]!], link: 'tampered', code: await nextTotpCode(payer.totpSecret) });
      assert.equal(d.status, 409);
      assert.match(d.html, /authorise\.payment_changed/);
      assert.equal(consentRow(id)?.status, 'awaiting_authorisation');
    });
  });
});
