/**
 * The partner's consent API (`consentApiRouter`) and the consent guard (`requireConsent`) over plain HTTP,
 * mounted in a small express app on the real consent and banking services (SQLite file). The real mutual-TLS
 * token guard is replaced by one clearly named test double (end-to-end tests over mutual TLS come with the
 * OAuth customer flow):
 *
 *   testRequireBoundToken  builds the bound-token context from `x-test-client`, `x-test-partner`,
 *                          `x-test-scopes`, `x-test-consent` and `x-test-customer`; scopes are enforced.
 *
 * Every refusal asserts the status, the `{ error, error_description }` body, Cache-Control: no-store and that
 * the consent tables and the audit log did not change.
 */
import assert from 'node:assert/strict';
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import supertest from 'supertest';
import { bankingRouter } from '../../src/banking/routes.js';
import { consentOf, createConsentGuard, endpointPattern } from '../../src/consent/guard.js';
import { CONSENT_BODY_LIMIT, consentApiRouter } from '../../src/consent/routes.js';
import type { ConsentView } from '../../src/consent/types.js';
import { errorHandler, notFound } from '../../src/http/middleware/errors.js';
import { requestContext } from '../../src/http/middleware/request-context.js';
import { createLogger } from '../../src/logger.js';
import type { BoundTokenContext } from '../../src/oauth/guard.js';
import type { PartnerView } from '../../src/partners/types.js';
import { accessBody, ACME, consentState, count, CREDITOR_IBAN, DAY, iso, NORDIC, NOW, paymentBody, consentHarness, type ConsentHarness } from './helpers.js';

function testRequireBoundToken(opts: { scopes?: readonly string[] } = {}): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const clientId = req.get('x-test-client');
    if (!clientId) {
      res.status(401).json({ error: 'invalid_token', error_description: 'test double: no x-test-client' });
      return;
    }
    const scopes = (req.get('x-test-scopes') ?? '').split(' ').filter(Boolean);
    if ((opts.scopes ?? []).some((s) => !scopes.includes(s))) {
      res.status(403).set('Cache-Control', 'no-store').json({ error: 'insufficient_scope', error_description: 'test double' });
      return;
    }
    const partnerId = req.get('x-test-partner') ?? 'partner-acme';
    const context: BoundTokenContext = {
      clientId,
      partnerId,
      partner: { id: partnerId, legalName: partnerId, status: 'active', allowedRoles: ['AIS', 'PIS'] } as unknown as PartnerView,
      orgId: 'PSDDE-BAFIN-152645',
      scopes,
      thumbprint: 'test-thumbprint',
      format: 'jwt',
      consentId: req.get('x-test-consent') ?? null,
      customerId: req.get('x-test-customer') ?? null,
    };
    res.locals.oauth = context;
    next();
  };
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

interface CallOpts {
  client?: { clientId: string; partnerId: string };
  scopes?: string;
  consent?: string;
  customer?: string;
  body?: unknown;
  raw?: string;
  type?: string;
  key?: string | string[];
}

function caller(app: express.Express) {
  return async (method: 'get' | 'post' | 'delete' | 'put', path: string, opts: CallOpts = {}): Promise<Reply> => {
    const client = opts.client ?? ACME;
    let r = supertest(app)[method](path).set('x-test-client', client.clientId).set('x-test-partner', client.partnerId);
    r = r.set('x-test-scopes', opts.scopes ?? (path.includes('payment') ? 'payments' : 'accounts'));
    if (opts.consent) r = r.set('x-test-consent', opts.consent);
    if (opts.customer) r = r.set('x-test-customer', opts.customer);
    // An array sends the header twice (Node's client allows it; the type only admits it for Cookie).
    if (opts.key !== undefined) r = r.set('x-idempotency-key', opts.key as string);
    if (opts.raw !== undefined) r = r.set('content-type', opts.type ?? 'application/json').send(opts.raw);
    else if (opts.body !== undefined) r = r.send(opts.body as object);
    const res = await r;
    return { status: res.status, body: res.body as Record<string, unknown>, headers: res.headers as Record<string, string> };
  };
}

function refusedReply(r: Reply, status: number, error: string): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.error, error);
  assert.equal(typeof r.body.error_description, 'string');
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.ok(!JSON.stringify(r.body).includes('    at '), 'no stack trace');
}

describe('consent API routes (test double for the token guard)', function () {
  this.timeout(20_000);
  let h: ConsentHarness;
  let call: ReturnType<typeof caller>;

  beforeEach(async () => {
    h = await consentHarness();
    const app = express();
    app.use(requestContext(createLogger({ level: 'silent' })));
    app.use(consentApiRouter({ requireBoundToken: testRequireBoundToken, consents: h.consents }));
    app.use(notFound);
    app.use(errorHandler);
    call = caller(app);
  });
  afterEach(() => h.close());

  async function unchanged(fn: () => Promise<Reply>, status: number, error: string): Promise<Reply> {
    const before = consentState(h.db);
    const r = await fn();
    refusedReply(r, status, error);
    assert.deepEqual(consentState(h.db), before, 'nothing may change');
    return r;
  }

  describe('account-access-consents', () => {
    it('POST creates one: 201, UK OB shape, Location, no-store; GET reads it back', async () => {
      const r = await call('post', '/api/v1/account-access-consents', { body: accessBody({ TransactionToDateTime: '2026-12-01T00:00:00Z' }) });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.headers['cache-control'], 'no-store');
      const id = (r.body.Data as { ConsentId: string }).ConsentId;
      assert.equal(r.headers.location, `/api/v1/account-access-consents/${id}`);
      assert.deepEqual(r.body, {
        Data: {
          ConsentId: id,
          Status: 'AwaitingAuthorisation',
          StatusUpdateDateTime: NOW.toISOString(),
          CreationDateTime: NOW.toISOString(),
          Permissions: ['ReadAccountsDetail', 'ReadBalances', 'ReadTransactionsDetail', 'ReadTransactionsCredits', 'ReadTransactionsDebits'],
          ExpirationDateTime: iso(NOW.getTime() + 90 * DAY),
          TransactionToDateTime: '2026-12-01T00:00:00.000Z',
        },
        Risk: {},
        Links: { Self: `/api/v1/account-access-consents/${id}` },
        Meta: {},
      });
      const g = await call('get', `/api/v1/account-access-consents/${id}`);
      assert.equal(g.status, 200);
      assert.deepEqual(g.body, r.body);
      assert.equal(g.headers['cache-control'], 'no-store');
    });

    it('DELETE revokes it: 204, then GET says Revoked', async () => {
      const c = await h.consents.createAccountAccess(ACME, accessBody());
      h.clock.t += 1000;
      const d = await call('delete', `/api/v1/account-access-consents/${c.id}`);
      assert.equal(d.status, 204);
      assert.equal(d.headers['cache-control'], 'no-store');
      const g = await call('get', `/api/v1/account-access-consents/${c.id}`);
      assert.equal((g.body.Data as { Status: string }).Status, 'Revoked');
      assert.equal((g.body.Data as { StatusUpdateDateTime: string }).StatusUpdateDateTime, iso(NOW.getTime() + 1000));
      await unchanged(() => call('delete', `/api/v1/account-access-consents/${c.id}`), 409, 'consent.invalid_status');
    });

    it("answers another partner's and another client's consent as not found (GET and DELETE)", async () => {
      const c = await h.consents.createAccountAccess(ACME, accessBody());
      await unchanged(() => call('get', `/api/v1/account-access-consents/${c.id}`, { client: NORDIC }), 404, 'consent.not_found');
      await unchanged(() => call('delete', `/api/v1/account-access-consents/${c.id}`, { client: NORDIC }), 404, 'consent.not_found');
      await unchanged(() => call('get', `/api/v1/account-access-consents/${c.id}`, { client: { clientId: 'client-acme-other', partnerId: 'partner-acme' } }), 404, 'consent.not_found');
      await unchanged(() => call('get', '/api/v1/account-access-consents/aac-unknown'), 404, 'consent.not_found');
      // A payment consent is not found on the account-access path (and the reverse).
      const p = await h.consents.createDomesticPayment(ACME, paymentBody());
      await unchanged(() => call('get', `/api/v1/account-access-consents/${p.id}`), 404, 'consent.not_found');
      await unchanged(() => call('delete', `/api/v1/account-access-consents/${p.id}`), 404, 'consent.not_found');
      await unchanged(() => call('get', `/api/v1/domestic-payment-consents/${c.id}`), 404, 'consent.not_found');
      await unchanged(() => call('delete', `/api/v1/domestic-payment-consents/${c.id}`), 404, 'consent.not_found');
    });

    it('refuses a bad body with the rule code and the fields', async () => {
      const r = await unchanged(() => call('post', '/api/v1/account-access-consents', { body: accessBody({ Permissions: ['ReadBalances', 'ReadEverything'] }) }), 400, 'consent.permission_unknown');
      assert.deepEqual(r.body.errors, [{ path: 'Data.Permissions.1', message: '"ReadEverything" is not a permission this bank offers.' }]);
      const s = await unchanged(() => call('post', '/api/v1/account-access-consents', { body: accessBody({}, { Extra: true }) }), 400, 'consent.invalid_request');
      assert.ok(Array.isArray(s.body.errors));
      await unchanged(() => call('post', '/api/v1/account-access-consents', { body: accessBody({ ExpirationDateTime: '2020-01-01T00:00:00Z' }) }), 400, 'consent.expiry_invalid');
    });

    it('refuses other media types, malformed JSON and bodies over 16 KiB', async () => {
      await unchanged(() => call('post', '/api/v1/account-access-consents', { raw: 'Data=1', type: 'application/x-www-form-urlencoded' }), 415, 'input.unsupported_media_type');
      await unchanged(() => call('post', '/api/v1/account-access-consents', { raw: '{"Data":' }), 400, 'input.malformed');
      await unchanged(() => call('post', '/api/v1/account-access-consents', { raw: '"just a string"' }), 400, 'input.malformed');
      const big = JSON.stringify(accessBody({ Permissions: ['x'.repeat(CONSENT_BODY_LIMIT)] }));
      await unchanged(() => call('post', '/api/v1/account-access-consents', { raw: big }), 413, 'input.too_large');
    });

    it("refuses a customer's token (one carrying a consent) on every consent endpoint", async () => {
      const c = await h.consents.createAccountAccess(ACME, accessBody());
      const opts = { consent: c.id, customer: 'cust-casey' };
      await unchanged(() => call('post', '/api/v1/account-access-consents', { ...opts, body: accessBody() }), 403, 'consent.customer_token_not_allowed');
      await unchanged(() => call('get', `/api/v1/account-access-consents/${c.id}`, opts), 403, 'consent.customer_token_not_allowed');
      await unchanged(() => call('delete', `/api/v1/account-access-consents/${c.id}`, opts), 403, 'consent.customer_token_not_allowed');
    });

    it('needs the accounts scope', async () => {
      await unchanged(() => call('post', '/api/v1/account-access-consents', { scopes: 'payments', body: accessBody() }), 403, 'insufficient_scope');
    });

    it('replays a POST with the same x-idempotency-key and body; refuses another body (422) and a bad key (400)', async () => {
      const first = await call('post', '/api/v1/account-access-consents', { body: accessBody(), key: 'idem-1' });
      assert.equal(first.status, 201);
      const before = consentState(h.db);
      const again = await call('post', '/api/v1/account-access-consents', { body: accessBody(), key: 'idem-1' });
      assert.equal(again.status, 201);
      assert.deepEqual(again.body, first.body);
      assert.deepEqual(consentState(h.db), before);
      await unchanged(() => call('post', '/api/v1/account-access-consents', { body: accessBody({ Permissions: ['ReadBalances'] }), key: 'idem-1' }), 422, 'consent.idempotency_conflict');
      await unchanged(() => call('post', '/api/v1/account-access-consents', { body: accessBody(), key: 'k'.repeat(41) }), 400, 'consent.idempotency_key_invalid');
      await unchanged(() => call('post', '/api/v1/account-access-consents', { body: accessBody(), key: ['a', 'b'] }), 400, 'consent.idempotency_key_invalid');
    });
  });

  describe('domestic-payment-consents', () => {
    it('POST creates one with the Initiation echoed exactly; GET reads it back', async () => {
      const body = paymentBody();
      const r = await call('post', '/api/v1/domestic-payment-consents', { body, key: 'pay-consent-1' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const data = r.body.Data as Record<string, unknown>;
      assert.match(String(data.ConsentId), /^pdc-/);
      assert.equal(data.Status, 'AwaitingAuthorisation');
      assert.deepEqual(data.Initiation, (body.Data as { Initiation: unknown }).Initiation);
      assert.equal('Permissions' in data, false);
      // UK OB CutOffDateTime: authorised and used within the authorisation window (24 hours) of its creation.
      assert.equal(Date.parse(String(data.CutOffDateTime)) - Date.parse(String(data.CreationDateTime)), 24 * 3_600_000);
      assert.deepEqual(r.body.Links, { Self: `/api/v1/domestic-payment-consents/${String(data.ConsentId)}` });
      const g = await call('get', `/api/v1/domestic-payment-consents/${String(data.ConsentId)}`);
      assert.deepEqual(g.body, r.body);
    });

    it('refuses bad amounts, currencies and IBANs with their codes', async () => {
      await unchanged(() => call('post', '/api/v1/domestic-payment-consents', { body: paymentBody({ InstructedAmount: { Amount: '-5.00', Currency: 'EUR' } }) }), 400, 'consent.amount_invalid');
      await unchanged(() => call('post', '/api/v1/domestic-payment-consents', { body: paymentBody({ InstructedAmount: { Amount: '5.001', Currency: 'EUR' } }) }), 400, 'consent.amount_invalid');
      await unchanged(() => call('post', '/api/v1/domestic-payment-consents', { body: paymentBody({ InstructedAmount: { Amount: '5.00', Currency: 'CHF' } }) }), 400, 'consent.currency_unsupported');
      await unchanged(
        () => call('post', '/api/v1/domestic-payment-consents', { body: paymentBody({ CreditorAccount: { SchemeName: 'UK.OBIE.IBAN', Identification: CREDITOR_IBAN.replace('89', '98'), Name: 'X' } }) }),
        400,
        'consent.iban_invalid',
      );
    });

    it('DELETE of an own payment consent is 405 with Allow: GET; of an unknown one 404', async () => {
      const p = await h.consents.createDomesticPayment(ACME, paymentBody());
      const r = await unchanged(() => call('delete', `/api/v1/domestic-payment-consents/${p.id}`), 405, 'consent.delete_not_supported');
      assert.equal(r.headers.allow, 'GET');
      await unchanged(() => call('delete', `/api/v1/domestic-payment-consents/${p.id}`, { client: NORDIC }), 404, 'consent.not_found');
      assert.equal((await h.consents.get(p.id))?.status, 'awaiting_authorisation');
    });

    it('needs the payments scope', async () => {
      await unchanged(() => call('post', '/api/v1/domestic-payment-consents', { scopes: 'accounts', body: paymentBody() }), 403, 'insufficient_scope');
    });
  });
});

describe('consent guard (requireConsent)', function () {
  this.timeout(20_000);
  let h: ConsentHarness;
  let call: ReturnType<typeof caller>;

  beforeEach(async () => {
    h = await consentHarness();
    const { requireConsent } = createConsentGuard({ consents: h.consents });
    const token = testRequireBoundToken({ scopes: ['accounts'] });
    const api = Router();
    const ok = (_req: Request, res: Response) => {
      res.json({ consent: consentOf(res).id });
    };
    api.get('/accounts', token, requireConsent({ kind: 'account-access', anyOf: ['ReadAccountsBasic', 'ReadAccountsDetail'] }), ok);
    api.get('/accounts/:accountId/balances', token, requireConsent({ kind: 'account-access', anyOf: ['ReadBalances'] }), ok);
    api.get('/accounts/:accountId/missing', token, requireConsent({ kind: 'account-access' }), (_req, res) => {
      res.status(404).json({ error: 'banking.account_not_found' });
    });
    api.get('/payments-only', testRequireBoundToken(), requireConsent({ kind: 'domestic-payment' }), ok);
    const app = express();
    app.use(requestContext(createLogger({ level: 'silent' })));
    app.use('/api/v1', api);
    app.use(notFound);
    app.use(errorHandler);
    call = caller(app);
  });
  afterEach(() => h.close());

  async function authorised(permissions = ['ReadAccountsBasic', 'ReadBalances'], expires?: string): Promise<ConsentView> {
    const c = await h.consents.createAccountAccess(ACME, accessBody({ Permissions: permissions, ExpirationDateTime: expires }));
    return h.consents.authorise(c.id, { customerId: 'cust-casey', accountIds: [h.casey[0]!.id], grantId: `g-${c.id}`, channel: 'authorisation' });
  }

  /** The access history is written after the response: wait for it. */
  async function accesses(n: number): Promise<Record<string, unknown>[]> {
    for (let i = 0; i < 100 && count(h.db, 'consent_accesses') < n; i++) await new Promise((r) => setTimeout(r, 10));
    return h.db.prepare('SELECT consent_id, client_id, endpoint, account_id, status FROM consent_accesses ORDER BY seq').all() as Record<string, unknown>[];
  }

  async function guardRefuses(path: string, opts: CallOpts, error: string): Promise<void> {
    const before = consentState(h.db);
    const r = await call('get', path, opts);
    refusedReply(r, 403, error);
    await new Promise((res) => setTimeout(res, 30));
    assert.deepEqual(consentState(h.db), before, 'a refused call is not recorded and changes nothing');
  }

  it('passes an authorised consent to the handler and records the call with the route pattern', async () => {
    const c = await authorised();
    h.clock.t += 1000;
    const acc = h.casey[0]!.id;
    const r = await call('get', `/api/v1/accounts/${acc}/balances`, { consent: c.id, customer: 'cust-casey' });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { consent: c.id });
    assert.deepEqual(await accesses(1), [
      { consent_id: c.id, client_id: ACME.clientId, endpoint: 'GET /api/v1/accounts/{AccountId}/balances', account_id: acc, status: 200 },
    ]);
    assert.equal((await h.consents.get(c.id))?.lastUsedAt, iso(NOW.getTime() + 1000));
  });

  it('records a call the handler refused with its status, without touching last-used', async () => {
    const c = await authorised();
    const r = await call('get', `/api/v1/accounts/${h.casey[0]!.id}/missing`, { consent: c.id, customer: 'cust-casey' });
    assert.equal(r.status, 404);
    const [a] = await accesses(1);
    assert.equal(a?.status, 404);
    assert.equal(a?.endpoint, 'GET /api/v1/accounts/{AccountId}/missing');
    assert.equal((await h.consents.get(c.id))?.lastUsedAt, null);
  });

  it('consent.required: a client_credentials token', async () => {
    await guardRefuses('/api/v1/accounts', {}, 'consent.required');
  });

  it('the refusals of usable: not found, other client, not authorised, revoked, expired (before the sweep), consumed', async () => {
    await guardRefuses('/api/v1/accounts', { consent: 'aac-unknown', customer: 'cust-casey' }, 'consent.not_found');
    const c = await authorised();
    await guardRefuses('/api/v1/accounts', { consent: c.id, customer: 'cust-casey', client: NORDIC }, 'consent.other_client');
    const waiting = await h.consents.createAccountAccess(ACME, accessBody());
    await guardRefuses('/api/v1/accounts', { consent: waiting.id, customer: 'cust-casey' }, 'consent.not_authorised');
    const short = await authorised(undefined, iso(NOW.getTime() + DAY));
    h.clock.t = NOW.getTime() + DAY;
    await guardRefuses('/api/v1/accounts', { consent: short.id, customer: 'cust-casey' }, 'consent.expired');
    await h.consents.revokeByCustomer(c.id, 'cust-casey');
    await guardRefuses('/api/v1/accounts', { consent: c.id, customer: 'cust-casey' }, 'consent.revoked');
    const p = await h.consents.createDomesticPayment(ACME, paymentBody());
    await h.consents.authorise(p.id, { customerId: 'cust-casey', accountIds: [h.casey[0]!.id], grantId: 'g-p', channel: 'authorisation' });
    await h.consents.markConsumed(p.id, 'pmt-1');
    await guardRefuses('/api/v1/payments-only', { consent: p.id, customer: 'cust-casey' }, 'consent.consumed');
  });

  it("consent.not_authorised: a token of another customer than the consent's", async () => {
    const c = await authorised();
    await guardRefuses('/api/v1/accounts', { consent: c.id, customer: 'cust-dana' }, 'consent.not_authorised');
  });

  it('consent.kind_mismatch, consent.permission_missing, consent.account_not_granted', async () => {
    const c = await authorised(['ReadAccountsBasic']);
    await guardRefuses('/api/v1/payments-only', { consent: c.id, customer: 'cust-casey' }, 'consent.kind_mismatch');
    await guardRefuses(`/api/v1/accounts/${h.casey[0]!.id}/balances`, { consent: c.id, customer: 'cust-casey' }, 'consent.permission_missing');
    const b = await authorised(['ReadBalances']);
    await guardRefuses(`/api/v1/accounts/${h.casey[1]!.id}/balances`, { consent: b.id, customer: 'cust-casey' }, 'consent.account_not_granted');
    await guardRefuses(`/api/v1/accounts/${h.dana[0]!.id}/balances`, { consent: b.id, customer: 'cust-casey' }, 'consent.account_not_granted');
  });

  it('endpointPattern writes UK OB style placeholders and bounds the length', () => {
    assert.equal(endpointPattern('get', '/api/v1', '/accounts/:accountId/transactions'), 'GET /api/v1/accounts/{AccountId}/transactions');
    assert.equal(endpointPattern('POST', '', '/api/v1/domestic-payments'), 'POST /api/v1/domestic-payments');
    assert.equal(endpointPattern('GET', '', undefined), 'GET (unknown route)');
    assert.equal(endpointPattern('GET', '', `/${'x'.repeat(500)}`).length, 200);
  });
});

describe('consent guard with the banking API (real consent, banking and guard; test double for the token guard)', function () {
  this.timeout(20_000);
  let h: ConsentHarness;
  let call: ReturnType<typeof caller>;

  beforeEach(async () => {
    h = await consentHarness();
    const guard = createConsentGuard({ consents: h.consents });
    const app = express();
    app.use(requestContext(createLogger({ level: 'silent' })));
    app.use(
      bankingRouter({
        requireBoundToken: testRequireBoundToken,
        partners: { getPartner: async () => null },
        banking: h.banking,
        requireConsent: guard.requireConsent,
        consentOf,
        markConsumed: h.consents.markConsumed,
      }),
    );
    app.use(notFound);
    app.use(errorHandler);
    call = caller(app);
  });
  afterEach(() => h.close());

  it('reads only the chosen accounts, records the calls; revoking stops the next call', async () => {
    const c = await h.consents.createAccountAccess(ACME, accessBody({ Permissions: ['ReadAccountsBasic'] }));
    await h.consents.authorise(c.id, { customerId: 'cust-casey', accountIds: [h.casey[1]!.id], grantId: 'g1', channel: 'authorisation' });
    const opts = { consent: c.id, customer: 'cust-casey' };
    const r = await call('get', '/api/v1/accounts', opts);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual((r.body.Data as { Account: { AccountId: string }[] }).Account.map((a) => a.AccountId), [h.casey[1]!.id]);
    await h.consents.revokeByCustomer(c.id, 'cust-casey');
    refusedReply(await call('get', '/api/v1/accounts', opts), 403, 'consent.revoked');
    for (let i = 0; i < 100 && count(h.db, 'consent_accesses') < 1; i++) await new Promise((res) => setTimeout(res, 10));
    assert.deepEqual(
      h.db.prepare('SELECT endpoint, status FROM consent_accesses').all(),
      [{ endpoint: 'GET /api/v1/accounts', status: 200 }],
    );
  });

  it('executes a payment once: the consent is consumed in the payment, a second key is refused', async () => {
    const body = paymentBody();
    const p = await h.consents.createDomesticPayment(ACME, body);
    await h.consents.authorise(p.id, { customerId: 'cust-casey', accountIds: [h.casey[0]!.id], grantId: 'gp', channel: 'authorisation' });
    const submission = { Data: { ConsentId: p.id, Initiation: (body.Data as { Initiation: unknown }).Initiation }, Risk: {} };
    const opts = { consent: p.id, customer: 'cust-casey', scopes: 'payments' };
    const r = await call('post', '/api/v1/domestic-payments', { ...opts, body: submission, key: 'pay-1' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal((await h.consents.get(p.id))?.status, 'consumed');
    const again = await call('post', '/api/v1/domestic-payments', { ...opts, body: submission, key: 'pay-1' });
    assert.equal(again.status, 201, 'a replay answers the stored payment');
    refusedReply(await call('post', '/api/v1/domestic-payments', { ...opts, body: submission, key: 'pay-2' }), 403, 'consent.consumed');
    assert.equal(count(h.db, 'bank_payments'), 1);
  });
});
