/**
 * The banking API handlers over plain HTTP: `bankingRouter` mounted in a small express app on the real
 * banking service (SQLite file). The OAuth customer flow is not built yet, so the two other areas' parts are
 * replaced by clearly named test doubles, kept minimal:
 *
 *   testRequireBoundToken  reads the token context from `x-test-client`, `x-test-scopes` and `x-test-consent`
 *                          headers (the real guard checks a bound token over mutual TLS); scopes are enforced.
 *   testRequireConsent     hands the consent named by the token to `consentOf`, or answers 403 when there is
 *                          none usable. It does NOT check `anyOf` (it records it): here the handlers' own
 *                          permission checks are what is tested.
 *   testMarkConsumed       sets the consent's status to consumed.
 *
 * Every refusal asserts the status, the `{ error, error_description }` body, Cache-Control: no-store, and, for
 * payments, that no money, row or audit event moved.
 */
import assert from 'node:assert/strict';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import supertest from 'supertest';
import { bankingRouter, PAYMENT_BODY_LIMIT } from '../../src/banking/routes.js';
import { initiationOf } from '../../src/banking/shape.js';
import type { BankAccountView } from '../../src/banking/types.js';
import type { AccountPermission, ConsentKind, ConsentView } from '../../src/consent/types.js';
import { errorHandler, notFound } from '../../src/http/middleware/errors.js';
import { requestContext } from '../../src/http/middleware/request-context.js';
import { createLogger } from '../../src/logger.js';
import type { BoundTokenContext } from '../../src/oauth/guard.js';
import type { PartnerView } from '../../src/partners/types.js';
import { accessConsent, balanceMinor, bankingHarness, count, instruction, moneyState, paymentConsent, type BankingHarness } from './helpers.js';

const PARTNER = { id: 'partner-acme', legalName: 'Acme Payments', status: 'active', allowedRoles: ['AIS', 'PIS'] } as unknown as PartnerView;

// --- test doubles of the OAuth and consent areas ---------------------------------------------------------

function testRequireBoundToken(opts: { scopes?: readonly string[] } = {}): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const clientId = req.get('x-test-client');
    if (!clientId) {
      res.status(401).json({ error: 'invalid_token', error_description: 'test double: no x-test-client' });
      return;
    }
    const scopes = (req.get('x-test-scopes') ?? '').split(' ').filter(Boolean);
    if ((opts.scopes ?? []).some((s) => !scopes.includes(s))) {
      res.status(403).json({ error: 'insufficient_scope', error_description: 'test double' });
      return;
    }
    const consentId = req.get('x-test-consent') ?? null;
    const context: BoundTokenContext = {
      clientId,
      partnerId: 'partner-acme',
      partner: PARTNER,
      orgId: 'PSDDE-BAFIN-152645',
      scopes,
      thumbprint: 'test-thumbprint',
      format: 'jwt',
      consentId,
      customerId: null,
    };
    res.locals.oauth = context;
    next();
  };
}

function testConsentArea(consents: Map<string, ConsentView>) {
  const asked: { path: string; kind: ConsentKind; anyOf?: AccountPermission[] }[] = [];
  return {
    asked,
    requireConsent(opts: { kind: ConsentKind; anyOf?: AccountPermission[] }): RequestHandler {
      return (req, res, next) => {
        asked.push({ path: req.route?.path as string, ...opts });
        const token = res.locals.oauth as BoundTokenContext;
        const consent = token.consentId ? consents.get(token.consentId) : undefined;
        if (!consent || consent.kind !== opts.kind || consent.clientId !== token.clientId) {
          res.status(403).set('Cache-Control', 'no-store').json({ error: 'consent.required', error_description: 'test double' });
          return;
        }
        if (consent.status !== 'authorised') {
          res.status(403).set('Cache-Control', 'no-store').json({ error: `consent.${consent.status === 'consumed' ? 'consumed' : 'not_authorised'}`, error_description: 'test double' });
          return;
        }
        res.locals.testConsent = consent;
        next();
      };
    },
    consentOf: (res: Response) => res.locals.testConsent as ConsentView,
  };
}

// ---------------------------------------------------------------------------------------------------------

interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

describe('banking API routes (test doubles for the token guard and the consent area)', function () {
  this.timeout(20_000);
  let h: BankingHarness;
  let consents: Map<string, ConsentView>;
  let area: ReturnType<typeof testConsentArea>;
  let app: express.Express;
  let casey: BankAccountView[];
  let dana: BankAccountView[];
  let failConsume = false;

  beforeEach(async () => {
    h = bankingHarness();
    casey = await h.banking.seedDemoAccounts('cust-casey', 'Casey Customer');
    dana = await h.banking.seedDemoAccounts('cust-dana', 'Dana Demo');
    consents = new Map();
    area = testConsentArea(consents);
    failConsume = false;
    const testMarkConsumed = async (consentId: string, paymentId: string) => {
      await h.markConsumed(consentId, paymentId);
      if (failConsume) throw new Error('consent store unavailable: secret detail');
      const c = consents.get(consentId)!;
      consents.set(consentId, { ...c, status: 'consumed' });
    };
    app = express();
    app.use(requestContext(createLogger({ level: 'silent' })));
    app.use(
      bankingRouter({
        requireBoundToken: testRequireBoundToken,
        partners: { getPartner: async () => PARTNER },
        banking: h.banking,
        requireConsent: area.requireConsent,
        consentOf: area.consentOf,
        markConsumed: testMarkConsumed,
      }),
    );
    app.use(notFound);
    app.use(errorHandler);
  });
  afterEach(() => h.close());

  function grant(consent: ConsentView): ConsentView {
    consents.set(consent.id, consent);
    return consent;
  }

  async function call(
    method: 'get' | 'post',
    path: string,
    opts: { consent?: ConsentView | string; scopes?: string; client?: string; body?: unknown; raw?: string; type?: string; key?: string } = {},
  ): Promise<Reply> {
    let r = supertest(app)[method](path).set('x-test-client', opts.client ?? 'client-acme');
    r = r.set('x-test-scopes', opts.scopes ?? (path.includes('payments') ? 'payments' : 'accounts'));
    if (opts.consent) r = r.set('x-test-consent', typeof opts.consent === 'string' ? opts.consent : opts.consent.id);
    if (opts.key !== undefined) r = r.set('x-idempotency-key', opts.key);
    if (opts.raw !== undefined) r = r.set('content-type', opts.type ?? 'application/json').send(opts.raw);
    else if (opts.body !== undefined) r = r.send(opts.body as object);
    const res = await r;
    return { status: res.status, body: res.body as Record<string, unknown>, headers: res.headers as Record<string, string> };
  }

  function refused(r: Reply, status: number, error: string): void {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.error, error);
    assert.equal(typeof r.body.error_description, 'string');
    assert.equal(r.headers['cache-control'], 'no-store');
  }

  const ALL_TX: AccountPermission[] = ['ReadTransactionsDetail', 'ReadTransactionsCredits', 'ReadTransactionsDebits'];

  describe('accounts', () => {
    it('GET /api/v1/accounts lists only the chosen account, Basic fields only, no-store', async () => {
      const c = grant(accessConsent('cust-casey', [casey[1]!.id], ['ReadAccountsBasic']));
      const r = await call('get', '/api/v1/accounts', { consent: c });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.headers['cache-control'], 'no-store');
      assert.deepEqual(r.body, {
        Data: { Account: [{ AccountId: casey[1]!.id, Currency: 'EUR', AccountType: 'Personal', AccountSubType: 'Savings', Nickname: 'Rainy day savings' }] },
        Links: { Self: '/api/v1/accounts' },
        Meta: { TotalPages: 1 },
      });
      assert.deepEqual(area.asked.at(-1), { path: '/api/v1/accounts', kind: 'account-access', anyOf: ['ReadAccountsBasic', 'ReadAccountsDetail'] });
    });

    it('ReadAccountsDetail adds the IBAN and holder name; another customer’s account slipped into the consent is never listed', async () => {
      const c = grant(accessConsent('cust-casey', [casey[0]!.id, dana[0]!.id], ['ReadAccountsDetail']));
      const r = await call('get', '/api/v1/accounts', { consent: c });
      const accounts = (r.body.Data as { Account: Record<string, unknown>[] }).Account;
      assert.deepEqual(accounts.map((a) => a.AccountId), [casey[0]!.id]);
      assert.deepEqual(accounts[0]!.Account, [{ SchemeName: 'UK.OBIE.IBAN', Identification: casey[0]!.iban, Name: 'Casey Customer' }]);
    });

    it('GET /api/v1/accounts/:accountId: the chosen one answers; the customer’s other account, another customer’s or an unknown id is 403 consent.account_not_granted', async () => {
      const c = grant(accessConsent('cust-casey', [casey[0]!.id, dana[0]!.id], ['ReadAccountsBasic']));
      const ok = await call('get', `/api/v1/accounts/${casey[0]!.id}`, { consent: c });
      assert.equal(ok.status, 200);
      assert.deepEqual((ok.body.Data as { Account: { AccountId: string }[] }).Account.map((a) => a.AccountId), [casey[0]!.id]);
      assert.deepEqual(ok.body.Links, { Self: `/api/v1/accounts/${casey[0]!.id}` });
      for (const id of [casey[1]!.id, dana[0]!.id, dana[1]!.id, 'acc-unknown']) {
        refused(await call('get', `/api/v1/accounts/${id}`, { consent: c }), 403, 'consent.account_not_granted');
        refused(await call('get', `/api/v1/accounts/${id}/balances`, { consent: c }), 403, 'consent.account_not_granted');
        refused(await call('get', `/api/v1/accounts/${id}/transactions`, { consent: c }), 403, 'consent.account_not_granted');
      }
    });

    it('a consent without an account permission: 403 consent.permission_missing', async () => {
      const c = grant(accessConsent('cust-casey', [casey[0]!.id], ['ReadBalances', ...ALL_TX]));
      refused(await call('get', '/api/v1/accounts', { consent: c }), 403, 'consent.permission_missing');
      refused(await call('get', `/api/v1/accounts/${casey[0]!.id}`, { consent: c }), 403, 'consent.permission_missing');
    });

    it('a token with the payments scope only: 403 insufficient_scope (the accounts APIs ask for accounts)', async () => {
      const c = grant(accessConsent('cust-casey', [casey[0]!.id], ['ReadAccountsBasic']));
      const r = await call('get', '/api/v1/accounts', { consent: c, scopes: 'payments' });
      assert.equal(r.status, 403);
      assert.equal(r.body.error, 'insufficient_scope');
    });

    it('a payment consent on the accounts API is refused by requireConsent (asked for account-access)', async () => {
      const c = grant(paymentConsent('cust-casey', casey[0]!.id));
      refused(await call('get', '/api/v1/accounts', { consent: c }), 403, 'consent.required');
    });
  });

  describe('balances', () => {
    it('with ReadBalances: InterimAvailable and InterimBooked of the chosen account', async () => {
      const c = grant(accessConsent('cust-casey', [casey[0]!.id], ['ReadBalances']));
      const r = await call('get', `/api/v1/accounts/${casey[0]!.id}/balances`, { consent: c });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const balances = (r.body.Data as { Balance: { Type: string; Amount: { Amount: string } }[] }).Balance;
      assert.deepEqual(balances.map((b) => b.Type), ['InterimAvailable', 'InterimBooked']);
      const booked = balanceMinor(h.db, casey[0]!.id);
      assert.equal(balances[1]!.Amount.Amount, `${Math.floor(booked / 100)}.${String(booked % 100).padStart(2, '0')}`);
      assert.deepEqual(area.asked.at(-1)?.anyOf, ['ReadBalances']);
    });

    it('without ReadBalances: 403 consent.permission_missing', async () => {
      const c = grant(accessConsent('cust-casey', [casey[0]!.id], ['ReadAccountsDetail', ...ALL_TX]));
      refused(await call('get', `/api/v1/accounts/${casey[0]!.id}/balances`, { consent: c }), 403, 'consent.permission_missing');
    });
  });

  describe('transactions', () => {
    const path = () => `/api/v1/accounts/${casey[0]!.id}/transactions`;
    type Tx = Record<string, unknown> & { TransactionId: string; CreditDebitIndicator: string; BookingDateTime: string };
    const list = (r: Reply) => (r.body.Data as { Transaction: Tx[] }).Transaction;

    it('Basic + Credits: only credits, without references or counterparties', async () => {
      const c = grant(accessConsent('cust-casey', [casey[0]!.id], ['ReadTransactionsBasic', 'ReadTransactionsCredits']));
      const r = await call('get', path(), { consent: c });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const shown = list(r);
      const credits = count(h.db, `bank_transactions WHERE account_id = '${casey[0]!.id}' AND credit_debit = 'Credit'`);
      assert.equal(shown.length, credits);
      assert.ok(shown.every((t) => t.CreditDebitIndicator === 'Credit'));
      assert.ok(shown.every((t) => !('TransactionReference' in t) && !('DebtorAccount' in t) && !('TransactionInformation' in t)));
      assert.deepEqual(area.asked.at(-1)?.anyOf, ['ReadTransactionsBasic', 'ReadTransactionsDetail']);
    });

    it('Detail + Credits + Debits: every transaction with its reference; the date filter is inclusive and echoed in Links.Self', async () => {
      const c = grant(accessConsent('cust-casey', [casey[0]!.id], ALL_TX));
      const all = list(await call('get', path(), { consent: c }));
      assert.equal(all.length, count(h.db, `bank_transactions WHERE account_id = '${casey[0]!.id}'`));
      assert.ok(all.every((t) => typeof t.TransactionReference === 'string'));
      const pick = all[3]!;
      const q = `?fromBookingDateTime=${encodeURIComponent(pick.BookingDateTime)}&toBookingDateTime=${encodeURIComponent(pick.BookingDateTime)}`;
      const r = await call('get', `${path()}${q}`, { consent: c });
      assert.deepEqual(list(r).map((t) => t.TransactionId), [pick.TransactionId]);
      assert.equal((r.body.Links as { Self: string }).Self, `${path()}${q}`);
    });

    it('the consent’s transaction window bounds every query: nothing before TransactionFromDateTime or after TransactionToDateTime, even when asked', async () => {
      const all = list(await call('get', path(), { consent: grant(accessConsent('cust-casey', [casey[0]!.id], ALL_TX)) }));
      const times = all.map((t) => t.BookingDateTime).sort();
      const windowFrom = times[5]!;
      const windowTo = times[times.length - 6]!;
      const inside = times.filter((t) => t >= windowFrom && t <= windowTo).length;
      const c = grant({ ...accessConsent('cust-casey', [casey[0]!.id], ALL_TX), transactionFrom: windowFrom, transactionTo: windowTo });
      const shown = list(await call('get', path(), { consent: c }));
      assert.equal(shown.length, inside);
      assert.ok(shown.every((t) => t.BookingDateTime >= windowFrom && t.BookingDateTime <= windowTo));
      // Asking for everything since long before the window still starts at the window.
      const wide = list(await call('get', `${path()}?fromBookingDateTime=2000-01-01T00:00:00Z&toBookingDateTime=2100-01-01T00:00:00Z`, { consent: c }));
      assert.equal(wide.length, inside);
      // A query entirely outside the window: an empty list, not an error.
      const outside = list(await call('get', `${path()}?toBookingDateTime=2000-01-01T00:00:00Z`, { consent: c }));
      assert.deepEqual(outside, []);
    });

    for (const [name, query, field] of [
      ['a malformed from', '?fromBookingDateTime=last-week', 'fromBookingDateTime'],
      ['an impossible to', '?toBookingDateTime=2026-02-30T00:00:00Z', 'toBookingDateTime'],
      ['to before from', '?fromBookingDateTime=2026-11-20T00:00:00Z&toBookingDateTime=2026-11-19T00:00:00Z', 'toBookingDateTime'],
      ['a repeated parameter', '?fromBookingDateTime=2026-11-01&fromBookingDateTime=2026-11-02', 'fromBookingDateTime'],
    ] as const) {
      it(`${name}: 400 input.invalid naming ${field}`, async () => {
        const c = grant(accessConsent('cust-casey', [casey[0]!.id], ALL_TX));
        const r = await call('get', `${path()}${query}`, { consent: c });
        refused(r, 400, 'input.invalid');
        assert.ok((r.body.errors as { path: string }[]).some((e) => e.path === field), JSON.stringify(r.body));
      });
    }

    it('Basic or Detail without Credits or Debits, or Credits and Debits without Basic or Detail: 403 consent.permission_missing', async () => {
      for (const perms of [['ReadTransactionsDetail'], ['ReadTransactionsCredits', 'ReadTransactionsDebits']] as AccountPermission[][]) {
        const c = grant(accessConsent('cust-casey', [casey[0]!.id], perms));
        refused(await call('get', path(), { consent: c }), 403, 'consent.permission_missing');
      }
    });
  });

  describe('domestic payments', () => {
    let consent: ConsentView;
    const submission = (c: ConsentView, over: Record<string, unknown> = {}) => ({
      Data: { ConsentId: c.id, Initiation: { ...initiationOf(c.payment!), ...over } },
      Risk: {},
    });
    beforeEach(() => {
      consent = grant(paymentConsent('cust-casey', casey[0]!.id));
    });

    it('POST executes the consent: 201 with the payment, money moved once, consent consumed; a replay answers the same body and moves nothing', async () => {
      const before = balanceMinor(h.db, casey[0]!.id);
      const first = await call('post', '/api/v1/domestic-payments', { consent, key: 'pay-1', body: submission(consent) });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.equal(first.headers['cache-control'], 'no-store');
      const data = first.body.Data as Record<string, unknown>;
      assert.equal(data.ConsentId, consent.id);
      assert.equal(data.Status, 'AcceptedSettlementCompleted');
      assert.deepEqual(data.Initiation, initiationOf(consent.payment!));
      assert.equal(balanceMinor(h.db, casey[0]!.id), before - 1250);
      assert.equal(consents.get(consent.id)!.status, 'consumed');
      const state = moneyState(h.db);
      // The same request with its members in another order is the same request (canonical hash).
      const reordered = { Risk: {}, Data: { Initiation: submission(consent).Data.Initiation, ConsentId: consent.id } };
      const again = await call('post', '/api/v1/domestic-payments', { consent, key: 'pay-1', body: reordered });
      assert.equal(again.status, 201, JSON.stringify(again.body));
      assert.deepEqual(again.body, first.body);
      assert.deepEqual(moneyState(h.db), state);
      const got = await call('get', `/api/v1/domestic-payments/${String(data.DomesticPaymentId)}`);
      assert.equal(got.status, 200);
      assert.deepEqual(got.body, first.body);
    });

    it('the same key with another body: 422 payment.idempotency_conflict; a new key on the consumed consent is refused; nothing moves', async () => {
      await call('post', '/api/v1/domestic-payments', { consent, key: 'pay-1', body: submission(consent) });
      const state = moneyState(h.db);
      refused(
        await call('post', '/api/v1/domestic-payments', { consent, key: 'pay-1', body: { ...submission(consent), Risk: { PaymentContextCode: 'EcommerceGoods' } } }),
        422,
        'payment.idempotency_conflict',
      );
      refused(await call('post', '/api/v1/domestic-payments', { consent, key: 'pay-2', body: submission(consent) }), 403, 'consent.consumed');
      // Were the consent area to still call it authorised, the banking area refuses the second payment itself.
      consents.set(consent.id, { ...consents.get(consent.id)!, status: 'authorised' });
      refused(await call('post', '/api/v1/domestic-payments', { consent, key: 'pay-3', body: submission(consent) }), 409, 'payment.consent_consumed');
      assert.deepEqual(moneyState(h.db), state);
    });

    for (const [name, change] of [
      ['another amount', { InstructedAmount: { Amount: '12.51', Currency: 'EUR' } }],
      ['the same amount written differently (12.5)', { InstructedAmount: { Amount: '12.5', Currency: 'EUR' } }],
      ['another creditor name', { CreditorAccount: { SchemeName: 'UK.OBIE.IBAN', Identification: 'DE89370400440532013000', Name: 'Mallory' } }],
      ['another creditor IBAN', { CreditorAccount: { SchemeName: 'UK.OBIE.IBAN', Identification: 'NL91ABNA0417164300', Name: 'Corner Shop Ltd' } }],
      ['a member the consent lacks', { LocalInstrument: 'UK.OBIE.FPS' }],
      ['no reference', { RemittanceInformation: undefined }],
    ] as const) {
      it(`an Initiation with ${name}: 400 payment.initiation_mismatch, nothing moves`, async () => {
        const state = moneyState(h.db);
        const body = submission(consent, change as Record<string, unknown>);
        refused(await call('post', '/api/v1/domestic-payments', { consent, key: 'pay-x', body }), 400, 'payment.initiation_mismatch');
        assert.deepEqual(moneyState(h.db), state);
        assert.equal(consents.get(consent.id)!.status, 'authorised');
      });
    }

    it('a ConsentId other than the token’s consent: 400 payment.consent_mismatch, nothing moves', async () => {
      const state = moneyState(h.db);
      const body = { ...submission(consent), Data: { ...submission(consent).Data, ConsentId: 'consent-other' } };
      refused(await call('post', '/api/v1/domestic-payments', { consent, key: 'pay-x', body }), 400, 'payment.consent_mismatch');
      assert.deepEqual(moneyState(h.db), state);
    });

    it('bad requests are refused before anything moves: key, media type, size, JSON, shape, scope', async () => {
      const state = moneyState(h.db);
      const ok = JSON.stringify(submission(consent));
      refused(await call('post', '/api/v1/domestic-payments', { consent, raw: ok }), 400, 'payment.idempotency_key_invalid');
      refused(await call('post', '/api/v1/domestic-payments', { consent, raw: ok, key: 'k'.repeat(41) }), 400, 'payment.idempotency_key_invalid');
      refused(await call('post', '/api/v1/domestic-payments', { consent, raw: ok, key: 'has space' }), 400, 'payment.idempotency_key_invalid');
      refused(await call('post', '/api/v1/domestic-payments', { consent, raw: ok, key: 'k1', type: 'text/plain' }), 415, 'input.unsupported_media_type');
      const big = JSON.stringify({ ...submission(consent), Risk: { Padding: 'x'.repeat(PAYMENT_BODY_LIMIT) } });
      refused(await call('post', '/api/v1/domestic-payments', { consent, raw: big, key: 'k1' }), 413, 'input.too_large');
      refused(await call('post', '/api/v1/domestic-payments', { consent, raw: '{"Data": ', key: 'k1' }), 400, 'input.malformed');
      refused(await call('post', '/api/v1/domestic-payments', { consent, body: { ...submission(consent), Extra: 1 }, key: 'k1' }), 400, 'input.invalid');
      refused(await call('post', '/api/v1/domestic-payments', { consent, body: { Data: { ConsentId: consent.id } }, key: 'k1' }), 400, 'input.invalid');
      const scoped = await call('post', '/api/v1/domestic-payments', { consent, body: submission(consent), key: 'k1', scopes: 'accounts' });
      assert.equal(scoped.status, 403);
      assert.equal(scoped.body.error, 'insufficient_scope');
      assert.deepEqual(moneyState(h.db), state);
      assert.equal(consents.get(consent.id)!.status, 'authorised');
    });

    it('more than the available funds: 422 payment.insufficient_funds, nothing moves', async () => {
      const big = grant(paymentConsent('cust-casey', casey[0]!.id, { payment: instruction({ amount: '999999.00' }) }));
      const state = moneyState(h.db);
      refused(await call('post', '/api/v1/domestic-payments', { consent: big, key: 'big', body: submission(big) }), 422, 'payment.insufficient_funds');
      assert.deepEqual(moneyState(h.db), state);
    });

    it('a failure inside the payment transaction: 500 internal without detail, everything rolled back, and the same key can then pay', async () => {
      const state = moneyState(h.db);
      failConsume = true;
      const r = await call('post', '/api/v1/domestic-payments', { consent, key: 'pay-1', body: submission(consent) });
      refused(r, 500, 'internal');
      assert.ok(!JSON.stringify(r.body).includes('secret detail'));
      assert.deepEqual(moneyState(h.db), state);
      failConsume = false;
      assert.equal((await call('post', '/api/v1/domestic-payments', { consent, key: 'pay-1', body: submission(consent) })).status, 201);
    });

    it('GET /api/v1/domestic-payments/:paymentId: another client’s payment or an unknown id is 404 payment.not_found', async () => {
      const first = await call('post', '/api/v1/domestic-payments', { consent, key: 'pay-1', body: submission(consent) });
      const id = String((first.body.Data as Record<string, unknown>).DomesticPaymentId);
      refused(await call('get', `/api/v1/domestic-payments/${id}`, { client: 'client-other' }), 404, 'payment.not_found');
      refused(await call('get', '/api/v1/domestic-payments/pmt-unknown'), 404, 'payment.not_found');
      const scoped = await call('get', `/api/v1/domestic-payments/${id}`, { scopes: 'accounts' });
      assert.equal(scoped.body.error, 'insufficient_scope');
    });
  });

  describe('the connection API and the router without the banking deps', () => {
    it('GET /api/v1/connection still answers as before', async () => {
      const r = await call('get', '/api/v1/connection', { scopes: 'accounts' });
      assert.equal(r.status, 200);
      assert.equal(r.body.client_id, 'client-acme');
      assert.deepEqual(r.body.partner, { name: 'Acme Payments', status: 'active', allowed_roles: ['AIS', 'PIS'] });
    });

    it('without banking deps only /api/v1/connection is mounted', async () => {
      const bare = express();
      bare.use(bankingRouter({ requireBoundToken: testRequireBoundToken, partners: { getPartner: async () => PARTNER } }));
      bare.use(notFound);
      const r = await supertest(bare).get('/api/v1/accounts').set('x-test-client', 'client-acme').set('x-test-scopes', 'accounts');
      assert.equal(r.status, 404);
      assert.equal((await supertest(bare).get('/api/v1/connection').set('x-test-client', 'client-acme')).status, 200);
    });
  });
});
