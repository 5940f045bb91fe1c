/**
 * The consent service over real SQLite: creation (UK OB request rules, idempotent replays, hostile bodies),
 * every status transition allowed and refused (exact code, nothing changed), expiry on an injected clock,
 * the listeners inside the transaction, the access history, receipts, the consent centre's views and the
 * GDPR export. The real banking service owns the accounts; partners and clients come from `testDirectory`.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { AppError } from '../../src/errors.js';
import type { ConsentStatusChange, ConsentView } from '../../src/consent/types.js';
import {
  accessBody,
  ACME,
  ACME_OTHER,
  auditActions,
  consentHarness,
  consentState,
  count,
  CREDITOR_IBAN,
  DAY,
  iso,
  NORDIC,
  NOW,
  paymentBody,
  type ConsentHarness,
} from './helpers.js';

/** Runs `fn`, expects an AppError with this code and status, and that the consent tables and audit did not change. */
async function refused(h: ConsentHarness, fn: () => Promise<unknown>, code: string, status: number): Promise<AppError> {
  const before = consentState(h.db);
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof AppError, `expected ${code}, got ${caught instanceof Error ? caught.stack : String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.status, status);
  assert.deepEqual(consentState(h.db), before, 'nothing may change');
  return caught;
}

describe('consent service', function () {
  this.timeout(20_000);
  let h: ConsentHarness;

  beforeEach(async () => {
    h = await consentHarness();
  });
  afterEach(() => h.close());

  async function authorisedAccess(accountIds = [h.casey[0]!.id], body = accessBody(), grantId: string | null = 'grant-1'): Promise<ConsentView> {
    const c = await h.consents.createAccountAccess(ACME, body);
    return h.consents.authorise(c.id, { customerId: 'cust-casey', accountIds, grantId, channel: 'authorisation' });
  }

  async function authorisedPayment(grantId: string | null = 'grant-p'): Promise<ConsentView> {
    const c = await h.consents.createDomesticPayment(ACME, paymentBody());
    return h.consents.authorise(c.id, { customerId: 'cust-casey', accountIds: [h.casey[0]!.id], grantId, channel: 'authorisation' });
  }

  describe('creating account-access consents', () => {
    it('stores an awaiting consent with a created event by the partner through the API, and audits it', async () => {
      const c = await h.consents.createAccountAccess(ACME, accessBody({ TransactionFromDateTime: '2026-01-01T00:00:00+01:00' }));
      assert.match(c.id, /^aac-[0-9a-f-]{36}$/);
      assert.equal(c.kind, 'account-access');
      assert.equal(c.status, 'awaiting_authorisation');
      assert.deepEqual(c.permissions, ['ReadAccountsDetail', 'ReadBalances', 'ReadTransactionsDetail', 'ReadTransactionsCredits', 'ReadTransactionsDebits']);
      assert.equal(c.expiresAt, iso(NOW.getTime() + 90 * DAY));
      assert.equal(c.transactionFrom, '2025-12-31T23:00:00.000Z');
      assert.equal(c.transactionTo, null);
      assert.equal(c.payment, null);
      assert.equal(c.customerId, null);
      assert.deepEqual(c.accountIds, []);
      assert.equal(c.createdAt, NOW.toISOString());
      assert.equal(c.statusUpdatedAt, NOW.toISOString());
      assert.deepEqual(await h.consents.get(c.id), c);
      const detailEvents = h.db.prepare('SELECT * FROM consent_events WHERE consent_id = ?').all(c.id) as Record<string, unknown>[];
      assert.equal(detailEvents.length, 1);
      assert.deepEqual(
        { from: detailEvents[0]!.from_status, to: detailEvents[0]!.to_status, channel: detailEvents[0]!.channel, type: detailEvents[0]!.actor_type, id: detailEvents[0]!.actor_id, label: detailEvents[0]!.actor_label },
        { from: null, to: 'awaiting_authorisation', channel: 'api', type: 'partner', id: ACME.clientId, label: 'Acme Payments GmbH' },
      );
      const [event] = await h.audit.list({ action: 'consent.created' });
      assert.equal(event?.subject?.id, c.id);
      assert.equal(event?.actor.type, 'partner');
    });

    it('accepts an expiry exactly 180 days ahead and none at all', async () => {
      const at180 = await h.consents.createAccountAccess(ACME, accessBody({ ExpirationDateTime: iso(NOW.getTime() + 180 * DAY) }));
      assert.equal(at180.expiresAt, iso(NOW.getTime() + 180 * DAY));
      const open = await h.consents.createAccountAccess(ACME, accessBody({ ExpirationDateTime: undefined, Permissions: ['ReadAccountsBasic'] }));
      assert.equal(open.expiresAt, null);
    });

    const hostile: [string, unknown, string, string?][] = [
      ['an unknown top-level member', accessBody({}, { Extra: 1 }), 'consent.invalid_request', '(body)'],
      ['an unknown Data member', accessBody({ Foo: 'bar' }), 'consent.invalid_request', 'Data'],
      ['a Risk with members', accessBody({}, { Risk: { PaymentContextCode: 'Other' } }), 'consent.invalid_request', 'Risk'],
      ['no Risk', { Data: { Permissions: ['ReadBalances'] } }, 'consent.invalid_request', 'Risk'],
      ['no permissions', accessBody({ Permissions: [] }), 'consent.invalid_request', 'Data.Permissions'],
      ['permissions as a string', accessBody({ Permissions: 'ReadBalances' }), 'consent.invalid_request', 'Data.Permissions'],
      ['a permission listed twice', accessBody({ Permissions: ['ReadBalances', 'ReadBalances'] }), 'consent.invalid_request', 'Data.Permissions.1'],
      ['an unknown permission', accessBody({ Permissions: ['ReadBalances', 'ReadBeneficiariesDetail'] }), 'consent.permission_unknown', 'Data.Permissions.1'],
      ['a huge permission string', accessBody({ Permissions: ['R'.repeat(100_000)] }), 'consent.invalid_request', 'Data.Permissions.0'],
      ['17 permissions', accessBody({ Permissions: Array(17).fill('ReadBalances') }), 'consent.invalid_request', 'Data.Permissions'],
      ['transactions without a direction', accessBody({ Permissions: ['ReadTransactionsBasic'] }), 'consent.permissions_incomplete', 'Data.Permissions'],
      ['a direction without transactions', accessBody({ Permissions: ['ReadBalances', 'ReadTransactionsDebits'] }), 'consent.permissions_incomplete', 'Data.Permissions'],
      ['an expiry in the past', accessBody({ ExpirationDateTime: iso(NOW.getTime() - 1000) }), 'consent.expiry_invalid', 'Data.ExpirationDateTime'],
      ['an expiry of now', accessBody({ ExpirationDateTime: NOW.toISOString() }), 'consent.expiry_invalid', 'Data.ExpirationDateTime'],
      ['an expiry 180 days and a second ahead', accessBody({ ExpirationDateTime: iso(NOW.getTime() + 180 * DAY + 1000) }), 'consent.expiry_invalid', 'Data.ExpirationDateTime'],
      ['an expiry without a zone', accessBody({ ExpirationDateTime: '2027-01-01T00:00:00' }), 'consent.expiry_invalid', 'Data.ExpirationDateTime'],
      ['an expiry on 30 February', accessBody({ ExpirationDateTime: '2027-02-30T00:00:00Z' }), 'consent.expiry_invalid', 'Data.ExpirationDateTime'],
      ['an expiry as a number', accessBody({ ExpirationDateTime: 1893456000 }), 'consent.invalid_request', 'Data.ExpirationDateTime'],
      ['a window from after to', accessBody({ TransactionFromDateTime: '2026-06-01T00:00:00Z', TransactionToDateTime: '2026-05-01T00:00:00Z' }), 'consent.transaction_window_invalid', 'Data.TransactionToDateTime'],
      ['a window that is no date', accessBody({ TransactionToDateTime: 'yesterday' }), 'consent.transaction_window_invalid', 'Data.TransactionToDateTime'],
      ['a window without transaction permissions', accessBody({ Permissions: ['ReadBalances'], TransactionFromDateTime: '2026-01-01T00:00:00Z' }), 'consent.transaction_window_invalid', 'Data.TransactionFromDateTime'],
      ['null', null, 'consent.invalid_request', '(body)'],
      ['an array', [accessBody()], 'consent.invalid_request', '(body)'],
      ['a string', 'Data', 'consent.invalid_request', '(body)'],
    ];
    for (const [name, body, code, path] of hostile) {
      it(`refuses ${name}: ${code}, nothing stored`, async () => {
        const err = await refused(h, () => h.consents.createAccountAccess(ACME, body), code, 400);
        const fields = (err as AppError & { fields: { path: string }[] }).fields;
        if (path) assert.ok(fields.some((f) => f.path === path), `field ${path} in ${JSON.stringify(fields)}`);
      });
    }

    it('bounds the field list of a body with thousands of problems', async () => {
      const body = { Data: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`x${i}`, i])), Risk: {} };
      const err = (await refused(h, () => h.consents.createAccountAccess(ACME, body), 'consent.invalid_request', 400)) as AppError & { fields: unknown[] };
      assert.ok(err.fields.length <= 20);
    });
  });

  describe('creating domestic payment consents', () => {
    it('stores the instruction exactly as sent', async () => {
      const c = await h.consents.createDomesticPayment(ACME, paymentBody());
      assert.match(c.id, /^pdc-/);
      assert.equal(c.kind, 'domestic-payment');
      assert.deepEqual(c.permissions, []);
      // A payment consent lives for the authorisation window (24 hours by default): authorised and used in it.
      assert.equal(c.expiresAt, iso(NOW.getTime() + DAY));
      assert.equal(c.authoriseBy, iso(NOW.getTime() + DAY));
      assert.deepEqual(c.payment, {
        instructionIdentification: 'ACME-INSTR-1',
        endToEndIdentification: 'ACME-E2E-1',
        amount: '12.50',
        currency: 'EUR',
        creditorAccount: { schemeName: 'IBAN', identification: CREDITOR_IBAN, name: 'Corner Shop Ltd' },
        reference: 'Invoice 42',
      });
      const noRef = await h.consents.createDomesticPayment(ACME, paymentBody({ RemittanceInformation: undefined, InstructedAmount: { Amount: '7', Currency: 'GBP' } }));
      assert.equal(noRef.payment?.reference, '');
      assert.equal(noRef.payment?.amount, '7');
    });

    const amount = (Amount: unknown, Currency: unknown = 'EUR') => paymentBody({ InstructedAmount: { Amount, Currency } });
    const creditor = (over: Record<string, unknown>) =>
      paymentBody({ CreditorAccount: { SchemeName: 'UK.OBIE.IBAN', Identification: CREDITOR_IBAN, Name: 'Corner Shop Ltd', ...over } });
    const hostile: [string, unknown, string][] = [
      ['a zero amount', amount('0'), 'consent.amount_invalid'],
      ['a zero amount with decimals', amount('0.00'), 'consent.amount_invalid'],
      ['a negative amount', amount('-1.00'), 'consent.amount_invalid'],
      ['three decimals', amount('1.234'), 'consent.amount_invalid'],
      ['an exponent', amount('1e3'), 'consent.amount_invalid'],
      ['a leading zero', amount('01.00'), 'consent.amount_invalid'],
      ['a padded amount', amount(' 1.00'), 'consent.amount_invalid'],
      ['a comma', amount('1,00'), 'consent.amount_invalid'],
      ['14 integer digits', amount('12345678901234'), 'consent.amount_invalid'],
      ['an amount as a number', amount(12.5), 'consent.invalid_request'],
      ['US dollars', amount('1.00', 'USD'), 'consent.currency_unsupported'],
      ['a lower-case currency', amount('1.00', 'eur'), 'consent.currency_unsupported'],
      ['an IBAN with wrong check digits', creditor({ Identification: 'DE88370400440532013000' }), 'consent.iban_invalid'],
      ['an IBAN with spaces', creditor({ Identification: 'DE89 3704 0044 0532 0130 00' }), 'consent.iban_invalid'],
      ['a lower-case IBAN', creditor({ Identification: CREDITOR_IBAN.toLowerCase() }), 'consent.iban_invalid'],
      ['an IBAN of the wrong length', creditor({ Identification: 'DE8937040044053201300' }), 'consent.iban_invalid'],
      ['another scheme', creditor({ SchemeName: 'UK.OBIE.SortCodeAccountNumber' }), 'consent.invalid_request'],
      ['a 71-character payee', creditor({ Name: 'N'.repeat(71) }), 'consent.invalid_request'],
      ['a megabyte payee', creditor({ Name: 'N'.repeat(1_000_000) }), 'consent.invalid_request'],
      ['a payee with a control character', creditor({ Name: 'Corner\u0000Shop' }), 'consent.invalid_request'],
      ['an empty payee', creditor({ Name: '' }), 'consent.invalid_request'],
      ['a 36-character reference', paymentBody({ RemittanceInformation: { Reference: 'R'.repeat(36) } }), 'consent.invalid_request'],
      ['an unknown Initiation member', paymentBody({ DebtorAccount: { SchemeName: 'UK.OBIE.IBAN', Identification: CREDITOR_IBAN } }), 'consent.invalid_request'],
      ['an unknown CreditorAccount member', creditor({ SecondaryIdentification: '1' }), 'consent.invalid_request'],
      ['no Initiation', { Data: {}, Risk: {} }, 'consent.invalid_request'],
      ['an account-access body', accessBody(), 'consent.invalid_request'],
    ];
    for (const [name, body, code] of hostile) {
      it(`refuses ${name}: ${code}, nothing stored`, async () => {
        await refused(h, () => h.consents.createDomesticPayment(ACME, body), code, 400);
      });
    }
  });

  describe('idempotent creation', () => {
    it('answers a replay with the same key and body with the first consent, writing nothing', async () => {
      const first = await h.consents.createDomesticPayment(ACME, paymentBody(), 'key-1');
      const before = consentState(h.db);
      h.clock.t += 60_000;
      const again = await h.consents.createDomesticPayment(ACME, paymentBody(), 'key-1');
      assert.deepEqual(again, first);
      assert.deepEqual(consentState(h.db), before);
    });

    it('treats member order as the same body', async () => {
      const first = await h.consents.createAccountAccess(ACME, accessBody(), 'k');
      const body = accessBody();
      const reordered = { Risk: {}, Data: Object.fromEntries(Object.entries(body.Data as object).reverse()) };
      assert.equal((await h.consents.createAccountAccess(ACME, reordered, 'k')).id, first.id);
    });

    it('refuses the same key with another body: consent.idempotency_conflict (422)', async () => {
      await h.consents.createDomesticPayment(ACME, paymentBody(), 'key-1');
      await refused(h, () => h.consents.createDomesticPayment(ACME, paymentBody({ InstructedAmount: { Amount: '99.00', Currency: 'EUR' } }), 'key-1'), 'consent.idempotency_conflict', 422);
      // The same key on the other kind's endpoint is another request too.
      await refused(h, () => h.consents.createAccountAccess(ACME, accessBody(), 'key-1'), 'consent.idempotency_conflict', 422);
    });

    it('keeps keys per client: another client with the same key gets its own consent', async () => {
      const a = await h.consents.createDomesticPayment(ACME, paymentBody(), 'key-1');
      const b = await h.consents.createDomesticPayment(NORDIC, paymentBody(), 'key-1');
      assert.notEqual(a.id, b.id);
      assert.equal(b.clientId, NORDIC.clientId);
    });

    for (const key of ['', 'k'.repeat(41), 'with space', 'naïve']) {
      it(`refuses the key ${JSON.stringify(key.slice(0, 12))}: consent.idempotency_key_invalid`, async () => {
        await refused(h, () => h.consents.createAccountAccess(ACME, accessBody(), key), 'consent.idempotency_key_invalid', 400);
      });
    }
  });

  describe('partner reads and deletes', () => {
    it("never reveals another partner's or another client's consent (consent.not_found)", async () => {
      const c = await h.consents.createAccountAccess(ACME, accessBody());
      assert.equal((await h.consents.getForClient(ACME, c.id)).id, c.id);
      for (const other of [NORDIC, ACME_OTHER, { clientId: ACME.clientId, partnerId: 'partner-nordic' }]) {
        await refused(h, () => h.consents.getForClient(other, c.id), 'consent.not_found', 404);
        await refused(h, () => h.consents.deleteForClient(other, c.id), 'consent.not_found', 404);
      }
      await refused(h, () => h.consents.getForClient(ACME, 'aac-unknown'), 'consent.not_found', 404);
      await refused(h, () => h.consents.getForClient(ACME, 'x'.repeat(10_000)), 'consent.not_found', 404);
      assert.equal((await h.consents.get(c.id))?.status, 'awaiting_authorisation');
    });

    it('DELETE of an awaiting consent: revoked by the partner through the API, no receipt (no customer yet)', async () => {
      const c = await h.consents.createAccountAccess(ACME, accessBody());
      h.clock.t += 1000;
      const revoked = await h.consents.deleteForClient(ACME, c.id);
      assert.equal(revoked.status, 'revoked');
      assert.equal(revoked.statusUpdatedAt, iso(NOW.getTime() + 1000));
      const events = h.db.prepare('SELECT from_status, to_status, channel, actor_type, reason FROM consent_events WHERE consent_id = ? ORDER BY seq').all(c.id);
      assert.deepEqual(events[1], { from_status: 'awaiting_authorisation', to_status: 'revoked', channel: 'api', actor_type: 'partner', reason: 'deleted by the partner' });
      assert.equal(count(h.db, 'consent_receipts'), 0);
      assert.deepEqual(auditActions(h.db).slice(-2), ['consent.created', 'consent.revoked']);
      assert.equal(await h.consents.usable(c.id, { clientId: ACME.clientId }), 'consent.revoked');
    });

    it('DELETE of an authorised consent: revoked, the customer gets a receipt, listeners run', async () => {
      const c = await authorisedAccess();
      const changes: ConsentStatusChange[] = [];
      h.consents.onStatusChange((ch) => void changes.push(ch));
      await h.consents.deleteForClient(ACME, c.id);
      assert.equal(changes.length, 1);
      assert.equal(changes[0]!.from, 'authorised');
      assert.equal(changes[0]!.to, 'revoked');
      assert.equal(changes[0]!.consent.grantId, 'grant-1');
      const receipts = (await h.consents.detailForCustomer(c.id, 'cust-casey')).receipts;
      assert.deepEqual(receipts.map((r) => r.kind), ['granted', 'revoked']);
      assert.match(receipts[1]!.text, /Acme Payments GmbH ended its access/);
    });

    it('refuses DELETE of an ended consent (consent.invalid_status) and of a payment consent (consent.delete_not_supported)', async () => {
      const c = await h.consents.createAccountAccess(ACME, accessBody());
      await h.consents.deleteForClient(ACME, c.id);
      await refused(h, () => h.consents.deleteForClient(ACME, c.id), 'consent.invalid_status', 409);
      const p = await h.consents.createDomesticPayment(ACME, paymentBody());
      await refused(h, () => h.consents.deleteForClient(ACME, p.id), 'consent.delete_not_supported', 405);
    });
  });

  describe('authorisation by the customer', () => {
    it('authorises with the chosen accounts and grant: event, granted receipt in plain words, audit', async () => {
      const c = await h.consents.createAccountAccess(ACME, accessBody());
      h.clock.t += 5000;
      const ids = h.casey.map((a) => a.id);
      const a = await h.consents.authorise(c.id, { customerId: 'cust-casey', accountIds: ids, grantId: 'grant-1', channel: 'authorisation' });
      assert.equal(a.status, 'authorised');
      assert.equal(a.customerId, 'cust-casey');
      assert.deepEqual(a.accountIds, ids);
      assert.equal(a.grantId, 'grant-1');
      assert.equal(a.authorisedAt, iso(NOW.getTime() + 5000));
      assert.deepEqual(await h.consents.findByGrantId('grant-1'), a);
      const detail = await h.consents.detailForCustomer(c.id, 'cust-casey');
      assert.deepEqual(detail.events.map((e) => [e.fromStatus, e.toStatus, e.channel, e.actor.type, e.actor.id]), [
        [null, 'awaiting_authorisation', 'api', 'partner', ACME.clientId],
        ['awaiting_authorisation', 'authorised', 'authorisation', 'customer', 'cust-casey'],
      ]);
      const [receipt] = detail.receipts;
      assert.equal(receipt?.kind, 'granted');
      assert.equal(receipt?.deliveredAt, null);
      assert.match(receipt!.text, /you allowed Acme Payments GmbH \(through its app Acme Budget\) to see/);
      assert.match(receipt!.text, /Your account balances/);
      assert.ok(receipt!.text.includes(`${h.casey[0]!.nickname} (${h.casey[0]!.iban.slice(0, 4)} •••• ${h.casey[0]!.iban.slice(-4)})`));
      assert.ok(!receipt!.text.includes(h.casey[0]!.iban), 'the full IBAN is not in the receipt');
      assert.deepEqual(auditActions(h.db).slice(-1), ['consent.authorised']);
    });

    it("refuses an account that is not the customer's: consent.account_not_owned (403), nothing changed", async () => {
      const c = await h.consents.createAccountAccess(ACME, accessBody());
      await refused(h, () => h.consents.authorise(c.id, { customerId: 'cust-casey', accountIds: [h.dana[0]!.id], grantId: 'g', channel: 'authorisation' }), 'consent.account_not_owned', 403);
      await refused(h, () => h.consents.authorise(c.id, { customerId: 'cust-casey', accountIds: [h.casey[0]!.id, h.dana[0]!.id], grantId: 'g', channel: 'authorisation' }), 'consent.account_not_owned', 403);
      await refused(h, () => h.consents.authorise(c.id, { customerId: 'cust-casey', accountIds: ['acc-does-not-exist'], grantId: 'g', channel: 'authorisation' }), 'consent.account_not_owned', 403);
      assert.equal((await h.consents.get(c.id))?.status, 'awaiting_authorisation');
    });

    it('refuses no accounts, repeated accounts and more than one account for a payment (consent.accounts_invalid)', async () => {
      const c = await h.consents.createAccountAccess(ACME, accessBody());
      const p = await h.consents.createDomesticPayment(ACME, paymentBody());
      const input = (accountIds: string[]) => ({ customerId: 'cust-casey', accountIds, grantId: 'g', channel: 'authorisation' as const });
      await refused(h, () => h.consents.authorise(c.id, input([])), 'consent.accounts_invalid', 400);
      await refused(h, () => h.consents.authorise(c.id, input([h.casey[0]!.id, h.casey[0]!.id])), 'consent.accounts_invalid', 400);
      await refused(h, () => h.consents.authorise(p.id, input(h.casey.map((a) => a.id))), 'consent.accounts_invalid', 400);
    });

    it('refuses a payment from an account in another currency (consent.accounts_invalid)', async () => {
      const p = await h.consents.createDomesticPayment(ACME, paymentBody({ InstructedAmount: { Amount: '5.00', Currency: 'GBP' } }));
      assert.equal(h.casey[0]!.currency, 'EUR');
      await refused(h, () => h.consents.authorise(p.id, { customerId: 'cust-casey', accountIds: [h.casey[0]!.id], grantId: 'g', channel: 'authorisation' }), 'consent.accounts_invalid', 400);
    });

    it('refuses a second authorisation, a rejected consent and an unknown one', async () => {
      const a = await authorisedAccess();
      const again = { customerId: 'cust-casey', accountIds: [h.casey[0]!.id], grantId: 'grant-2', channel: 'authorisation' as const };
      await refused(h, () => h.consents.authorise(a.id, again), 'consent.invalid_status', 409);
      const r = await h.consents.createAccountAccess(ACME, accessBody());
      await h.consents.reject(r.id, { customerId: 'cust-casey', reason: 'no thanks' });
      await refused(h, () => h.consents.authorise(r.id, again), 'consent.invalid_status', 409);
      await refused(h, () => h.consents.authorise('aac-unknown', again), 'consent.not_found', 404);
    });

    it('refuses a consent past its expiry, even before the sweep ran (consent.expired)', async () => {
      const c = await h.consents.createAccountAccess(ACME, accessBody({ ExpirationDateTime: iso(NOW.getTime() + 3600_000) }));
      h.clock.t += 3600_000;
      await refused(h, () => h.consents.authorise(c.id, { customerId: 'cust-casey', accountIds: [h.casey[0]!.id], grantId: 'g', channel: 'authorisation' }), 'consent.expired', 409);
    });

    it('refuses a consent still awaiting the customer after the authorisation window, even without an expiry and before the sweep', async () => {
      const c = await h.consents.createAccountAccess(ACME, accessBody({ ExpirationDateTime: undefined }));
      assert.equal(c.expiresAt, null);
      assert.equal(c.authoriseBy, iso(NOW.getTime() + DAY));
      h.clock.t = NOW.getTime() + DAY - 1;
      assert.equal((await h.consents.get(c.id))?.authoriseBy, iso(NOW.getTime() + DAY), 'still authorisable');
      h.clock.t = NOW.getTime() + DAY;
      await refused(h, () => h.consents.authorise(c.id, { customerId: 'cust-casey', accountIds: [h.casey[0]!.id], grantId: 'g', channel: 'authorisation' }), 'consent.expired', 409);
      assert.equal((await h.consents.get(c.id))?.status, 'awaiting_authorisation', 'refusing changes nothing');
    });

    it('refuses a grant already linked to another consent (consent.grant_conflict)', async () => {
      await authorisedAccess(undefined, undefined, 'grant-1');
      const c = await h.consents.createAccountAccess(ACME, accessBody());
      await refused(h, () => h.consents.authorise(c.id, { customerId: 'cust-casey', accountIds: [h.casey[0]!.id], grantId: 'grant-1', channel: 'authorisation' }), 'consent.grant_conflict', 409);
    });

    it('links the grant later with setGrant (once)', async () => {
      const a = await authorisedAccess(undefined, undefined, null);
      assert.equal(a.grantId, null);
      assert.equal((await h.consents.setGrant(a.id, 'grant-late')).grantId, 'grant-late');
      assert.equal((await h.consents.setGrant(a.id, 'grant-late')).grantId, 'grant-late');
      await refused(h, () => h.consents.setGrant(a.id, 'grant-other'), 'consent.grant_conflict', 409);
      const waiting = await h.consents.createAccountAccess(ACME, accessBody());
      await refused(h, () => h.consents.setGrant(waiting.id, 'grant-x'), 'consent.invalid_status', 409);
      assert.equal((await h.consents.findByGrantId('grant-late'))?.id, a.id);
    });

    it('rejection: rejected with the reason, a receipt, once only', async () => {
      const c = await h.consents.createDomesticPayment(ACME, paymentBody());
      const r = await h.consents.reject(c.id, { customerId: 'cust-casey', reason: 'the customer declined on the consent page' });
      assert.equal(r.status, 'rejected');
      assert.equal(r.customerId, 'cust-casey');
      const detail = await h.consents.detailForCustomer(c.id, 'cust-casey');
      assert.equal(detail.events[1]?.reason, 'the customer declined on the consent page');
      assert.equal(detail.receipts[0]?.kind, 'rejected');
      assert.match(detail.receipts[0]!.text, /you declined a payment of EUR 12\.50 to Corner Shop Ltd \(DE89 •••• 3000\)/);
      await refused(h, () => h.consents.reject(c.id, { customerId: 'cust-casey', reason: 'again' }), 'consent.invalid_status', 409);
    });
  });

  describe('payments consumed once', () => {
    it('markConsumed: authorised → consumed, then refused', async () => {
      const p = await authorisedPayment();
      await h.consents.markConsumed(p.id, 'pmt-1');
      const c = await h.consents.get(p.id);
      assert.equal(c?.status, 'consumed');
      assert.equal(await h.consents.usable(p.id, { clientId: ACME.clientId }), 'consent.consumed');
      const last = (await h.consents.detailForCustomer(p.id, 'cust-casey')).events.at(-1);
      assert.equal(last?.reason, 'payment pmt-1 executed');
      assert.equal(last?.actor.type, 'partner');
      await refused(h, () => h.consents.markConsumed(p.id, 'pmt-2'), 'consent.invalid_status', 409);
    });

    it('markConsumed refuses an account-access consent and an awaiting payment consent', async () => {
      const a = await authorisedAccess();
      await refused(h, () => h.consents.markConsumed(a.id, 'pmt-1'), 'consent.invalid_status', 409);
      const p = await h.consents.createDomesticPayment(ACME, paymentBody());
      await refused(h, () => h.consents.markConsumed(p.id, 'pmt-1'), 'consent.invalid_status', 409);
    });

    it("executes exactly once with the real banking service: its transaction consumes the consent", async () => {
      const p = await authorisedPayment();
      const requestHash = createHash('sha256').update('submission').digest('hex');
      const input = { consent: p, idempotencyKey: 'pay-1', requestHash, clientId: ACME.clientId, markConsumed: h.consents.markConsumed };
      const { payment } = await h.banking.executePayment(input);
      assert.equal((await h.consents.get(p.id))?.status, 'consumed');
      assert.equal(payment.consentId, p.id);
      // Another key for the same consent: banking refuses, the consent stays consumed, no second consumption event.
      const events = count(h.db, 'consent_events');
      await assert.rejects(h.banking.executePayment({ ...input, idempotencyKey: 'pay-2', consent: (await h.consents.get(p.id))! }), { code: 'payment.consent_consumed' });
      assert.equal(count(h.db, 'consent_events'), events);
    });

    it('a payment whose consent cannot be consumed moves no money (markConsumed refuses inside the payment)', async () => {
      const p = await authorisedPayment();
      await h.consents.revokeByCustomer(p.id, 'cust-casey');
      const balance = (await h.banking.balances(h.casey[0]!.id))[1]!.amount;
      const requestHash = createHash('sha256').update('submission').digest('hex');
      // The banking area is handed the (stale) authorised view; the consent area knows better.
      await assert.rejects(
        h.banking.executePayment({ consent: p, idempotencyKey: 'pay-1', requestHash, clientId: ACME.clientId, markConsumed: h.consents.markConsumed }),
        { code: 'consent.invalid_status' },
      );
      assert.equal((await h.banking.balances(h.casey[0]!.id))[1]!.amount, balance);
      assert.equal(count(h.db, 'bank_payments'), 0);
      assert.equal((await h.consents.get(p.id))?.status, 'revoked');
    });
  });

  describe('revocation by the customer', () => {
    it('revokes an authorised consent: event through the consent centre, receipt, listener, audit', async () => {
      const a = await authorisedAccess();
      const changes: ConsentStatusChange[] = [];
      h.consents.onStatusChange((ch) => void changes.push(ch));
      const r = await h.consents.revokeByCustomer(a.id, 'cust-casey', 'I stopped using the app');
      assert.equal(r.status, 'revoked');
      assert.deepEqual(changes.map((c) => [c.from, c.to, c.channel, c.actor.type, c.reason]), [['authorised', 'revoked', 'consent-centre', 'customer', 'I stopped using the app']]);
      const receipt = (await h.consents.detailForCustomer(a.id, 'cust-casey')).receipts.at(-1);
      assert.equal(receipt?.kind, 'revoked');
      assert.match(receipt!.text, /not recalled by the bank/);
      assert.equal(auditActions(h.db).at(-1), 'consent.revoked');
      assert.equal(await h.consents.usable(a.id, { clientId: ACME.clientId }), 'consent.revoked');
    });

    it("answers another customer's consent as not found, and a consent that is not authorised with invalid_status", async () => {
      const a = await authorisedAccess();
      await refused(h, () => h.consents.revokeByCustomer(a.id, 'cust-dana'), 'consent.not_found', 404);
      await refused(h, () => h.consents.revocationConsequences(a.id, 'cust-dana'), 'consent.not_found', 404);
      await refused(h, () => h.consents.detailForCustomer(a.id, 'cust-dana'), 'consent.not_found', 404);
      const waiting = await h.consents.createAccountAccess(ACME, accessBody());
      await refused(h, () => h.consents.revokeByCustomer(waiting.id, 'cust-casey'), 'consent.not_found', 404);
      await h.consents.revokeByCustomer(a.id, 'cust-casey');
      await refused(h, () => h.consents.revokeByCustomer(a.id, 'cust-casey'), 'consent.invalid_status', 409);
      const p = await authorisedPayment();
      await h.consents.markConsumed(p.id, 'pmt-1');
      await refused(h, () => h.consents.revokeByCustomer(p.id, 'cust-casey'), 'consent.invalid_status', 409);
    });

    it('says the consequences in plain words before anything changes', async () => {
      const a = await authorisedAccess();
      const before = consentState(h.db);
      const c = await h.consents.revocationConsequences(a.id, 'cust-casey');
      assert.equal(c.revocable, true);
      assert.match(c.lines.join(' '), /Acme Payments GmbH \(through its app Acme Budget\) will immediately stop being able to see/);
      assert.match(c.lines.join(' '), /already received is not recalled/);
      assert.deepEqual(consentState(h.db), before);

      const p = await authorisedPayment();
      const pc = await h.consents.revocationConsequences(p.id, 'cust-casey');
      assert.equal(pc.revocable, true);
      assert.match(pc.lines.join(' '), /will not be able to make a payment of EUR 12\.50 to Corner Shop Ltd/);
      assert.match(pc.lines.join(' '), /never let it see your account information/);
      await h.consents.markConsumed(p.id, 'pmt-1');
      const done = await h.consents.revocationConsequences(p.id, 'cust-casey');
      assert.equal(done.revocable, false);
      assert.match(done.lines[0]!, /already been made/);
    });
  });

  describe('expiry', () => {
    it('expires authorised and awaiting consents past expiry on the injected clock; receipts for authorised ones', async () => {
      const soon = await authorisedAccess(undefined, accessBody({ ExpirationDateTime: iso(NOW.getTime() + DAY) }));
      const waiting = await h.consents.createAccountAccess(ACME, accessBody({ ExpirationDateTime: iso(NOW.getTime() + DAY) }));
      const later = await authorisedAccess(undefined, accessBody({ ExpirationDateTime: iso(NOW.getTime() + 10 * DAY) }), 'grant-later');
      const forever = await authorisedAccess(undefined, accessBody({ ExpirationDateTime: undefined }), 'grant-forever');
      const payment = await authorisedPayment();
      const changes: ConsentStatusChange[] = [];
      h.consents.onStatusChange((ch) => void changes.push(ch));

      assert.equal(await h.consents.expireDue(new Date(NOW.getTime() + DAY - 1)), 0);
      h.clock.t = NOW.getTime() + DAY;
      // The unused payment consent reached the end of its 24-hour life too.
      assert.equal(await h.consents.expireDue(), 3);
      assert.equal((await h.consents.get(soon.id))?.status, 'expired');
      assert.equal((await h.consents.get(waiting.id))?.status, 'expired');
      assert.equal((await h.consents.get(payment.id))?.status, 'expired');
      for (const c of [later, forever]) assert.equal((await h.consents.get(c.id))?.status, 'authorised');
      assert.deepEqual(changes.map((c) => [c.consent.id, c.from, c.to, c.actor.type, c.channel]).sort(), [
        [soon.id, 'authorised', 'expired', 'system', 'system'],
        [waiting.id, 'awaiting_authorisation', 'expired', 'system', 'system'],
        [payment.id, 'authorised', 'expired', 'system', 'system'],
      ].sort());
      const receipts = (await h.consents.detailForCustomer(soon.id, 'cust-casey')).receipts;
      assert.deepEqual(receipts.map((r) => r.kind), ['granted', 'expired']);
      assert.equal(count(h.db, 'consent_receipts'), 6, 'granted ×4 (three accesses, one payment) + two expired; none for the awaiting one');
      assert.equal(await h.consents.expireDue(), 0, 'a second sweep finds nothing');
    });

    it('expires a consent that waited for the customer longer than the window (no expiry of its own), without a receipt', async () => {
      const waiting = await h.consents.createAccountAccess(ACME, accessBody({ ExpirationDateTime: undefined }));
      const fresh = await (async () => {
        h.clock.t = NOW.getTime() + DAY / 2;
        return h.consents.createAccountAccess(ACME, accessBody({ ExpirationDateTime: undefined }));
      })();
      const receipts = count(h.db, 'consent_receipts');
      h.clock.t = NOW.getTime() + DAY;
      assert.equal(await h.consents.expireDue(), 1);
      assert.equal((await h.consents.get(waiting.id))?.status, 'expired');
      assert.equal((await h.consents.get(fresh.id))?.status, 'awaiting_authorisation', 'created later: its window is still open');
      const events = h.db.prepare('SELECT to_status, reason FROM consent_events WHERE consent_id = ? ORDER BY seq').all(waiting.id);
      assert.deepEqual(events.at(-1), { to_status: 'expired', reason: 'was not authorised in time' });
      assert.equal(count(h.db, 'consent_receipts'), receipts, 'the customer never granted it: no receipt');
      h.clock.t = NOW.getTime() + DAY + DAY / 2;
      assert.equal(await h.consents.expireDue(), 1);
      assert.equal((await h.consents.get(fresh.id))?.status, 'expired');
    });

    it('a custom authorisation window (authorisationWindowMs) moves both deadlines', async () => {
      const short = h.withWindow(3_600_000);
      const access = await short.createAccountAccess(ACME, accessBody({ ExpirationDateTime: undefined }));
      const payment = await short.createDomesticPayment(ACME, paymentBody());
      assert.equal(access.authoriseBy, iso(NOW.getTime() + 3_600_000));
      assert.equal(payment.expiresAt, iso(NOW.getTime() + 3_600_000));
      h.clock.t = NOW.getTime() + 3_600_000;
      assert.equal(await short.expireDue(), 2);
    });

    it('usable treats a consent past expiry as expired before the sweep ran', async () => {
      const a = await authorisedAccess(undefined, accessBody({ ExpirationDateTime: iso(NOW.getTime() + DAY) }));
      assert.equal(((await h.consents.usable(a.id, { clientId: ACME.clientId })) as ConsentView).id, a.id);
      h.clock.t = NOW.getTime() + DAY;
      assert.equal(await h.consents.usable(a.id, { clientId: ACME.clientId }), 'consent.expired');
      assert.equal((await h.consents.get(a.id))?.status, 'authorised', 'usable changes nothing');
    });
  });

  describe('usable', () => {
    it('names why a consent cannot be used', async () => {
      const waiting = await h.consents.createAccountAccess(ACME, accessBody());
      const rejected = await h.consents.createAccountAccess(ACME, accessBody());
      await h.consents.reject(rejected.id, { customerId: 'cust-casey', reason: 'no' });
      const ok = await authorisedAccess();
      const u = (id: string, clientId = ACME.clientId) => h.consents.usable(id, { clientId });
      assert.equal(await u('aac-nope'), 'consent.not_found');
      assert.equal(await u(''), 'consent.not_found');
      assert.equal(await u(ok.id, NORDIC.clientId), 'consent.other_client');
      assert.equal(await u(ok.id, ACME_OTHER.clientId), 'consent.other_client');
      assert.equal(await u(waiting.id), 'consent.not_authorised');
      assert.equal(await u(rejected.id), 'consent.not_authorised');
      assert.equal(((await u(ok.id)) as ConsentView).status, 'authorised');
    });
  });

  describe('status listeners', () => {
    it('run inside the transaction: a listener that fails rolls the change back', async () => {
      const a = await authorisedAccess();
      let inside = false;
      const off = h.consents.onStatusChange(() => {
        inside = h.tx.active();
        throw new Error('token store unavailable');
      });
      const before = consentState(h.db);
      await assert.rejects(h.consents.revokeByCustomer(a.id, 'cust-casey'), /token store unavailable/);
      assert.equal(inside, true);
      assert.deepEqual(consentState(h.db), before);
      off();
      assert.equal((await h.consents.revokeByCustomer(a.id, 'cust-casey')).status, 'revoked');
    });
  });

  describe('access history', () => {
    it('records calls; last_used_at follows successful ones only', async () => {
      const a = await authorisedAccess();
      h.clock.t += 1000;
      await h.consents.recordAccess(a.id, { clientId: ACME.clientId, endpoint: 'GET /api/v1/accounts', accountId: null, status: 200 });
      h.clock.t += 1000;
      await h.consents.recordAccess(a.id, { clientId: ACME.clientId, endpoint: 'GET /api/v1/accounts/{AccountId}/balances', accountId: h.casey[0]!.id, status: 403 });
      assert.equal((await h.consents.get(a.id))?.lastUsedAt, iso(NOW.getTime() + 1000));
      const accesses = (await h.consents.detailForCustomer(a.id, 'cust-casey')).accesses;
      assert.deepEqual(accesses.map((x) => [x.endpoint, x.accountId, x.status]), [
        ['GET /api/v1/accounts/{AccountId}/balances', h.casey[0]!.id, 403],
        ['GET /api/v1/accounts', null, 200],
      ]);
    });

    it("refuses another client's access record (consent.not_found) and nonsense input", async () => {
      const a = await authorisedAccess();
      await refused(h, () => h.consents.recordAccess(a.id, { clientId: NORDIC.clientId, endpoint: 'GET /x', accountId: null, status: 200 }), 'consent.not_found', 404);
      await assert.rejects(h.consents.recordAccess(a.id, { clientId: ACME.clientId, endpoint: 'x'.repeat(201), accountId: null, status: 200 }), TypeError);
      await assert.rejects(h.consents.recordAccess(a.id, { clientId: ACME.clientId, endpoint: 'GET /x', accountId: null, status: 42 }), TypeError);
    });
  });

  describe('the consent centre views', () => {
    it('lists active and past consents per partner with its vetted name and status and the app name', async () => {
      const a1 = await authorisedAccess();
      const a2 = await authorisedAccess([h.casey[1]!.id], accessBody({ Permissions: ['ReadBalances'] }), 'grant-2');
      await h.consents.revokeByCustomer(a2.id, 'cust-casey');
      const n = await h.consents.createAccountAccess(NORDIC, accessBody());
      await h.consents.authorise(n.id, { customerId: 'cust-casey', accountIds: [h.casey[0]!.id], grantId: 'grant-n', channel: 'authorisation' });
      h.directory.partners.get('partner-nordic')!.status = 'suspended';
      // Dana's consent with Acme must not show up for Casey.
      const d = await h.consents.createAccountAccess(ACME, accessBody());
      await h.consents.authorise(d.id, { customerId: 'cust-dana', accountIds: [h.dana[0]!.id], grantId: 'grant-d', channel: 'authorisation' });

      const groups = await h.consents.listForCustomer('cust-casey');
      assert.deepEqual(groups.map((g) => [g.partner.name, g.partner.status, g.active.map((s) => s.consent.id), g.past.map((s) => s.consent.id)]), [
        ['Acme Payments GmbH', 'active', [a1.id], [a2.id]],
        ['Nordic Insights AB', 'suspended', [n.id], []],
      ]);
      assert.equal(groups[0]!.active[0]!.clientName, 'Acme Budget');
      assert.equal(groups[1]!.active[0]!.clientName, null);
      assert.deepEqual(await h.consents.listForCustomer('cust-nobody'), []);
    });

    it('exports everything about the customer as JSON-safe data and audits the export', async () => {
      const a = await authorisedAccess();
      await h.consents.recordAccess(a.id, { clientId: ACME.clientId, endpoint: 'GET /api/v1/accounts', accountId: null, status: 200 });
      await h.consents.revokeByCustomer(a.id, 'cust-casey');
      const other = await h.consents.createAccountAccess(ACME, accessBody());
      await h.consents.authorise(other.id, { customerId: 'cust-dana', accountIds: [h.dana[0]!.id], grantId: 'grant-d', channel: 'authorisation' });
      const out = await h.consents.exportForCustomer('cust-casey');
      assert.equal(out.customerId, 'cust-casey');
      assert.deepEqual(out.consents.map((c) => c.consent.id), [a.id]);
      const [c] = out.consents;
      assert.equal(c!.events.length, 3);
      assert.equal(c!.accesses.length, 1);
      assert.deepEqual(c!.receipts.map((r) => r.kind), ['granted', 'revoked']);
      assert.equal(c!.partner.name, 'Acme Payments GmbH');
      assert.deepEqual(JSON.parse(JSON.stringify(out)), out);
      assert.equal(auditActions(h.db).at(-1), 'consent.history.exported');
    });
  });

  describe('receipts outbox', () => {
    it('lists undelivered receipts oldest first and marks them delivered once', async () => {
      const a = await authorisedAccess();
      await h.consents.revokeByCustomer(a.id, 'cust-casey');
      const pending = await h.consents.undeliveredReceipts();
      assert.deepEqual(pending.map((r) => r.kind), ['granted', 'revoked']);
      assert.equal(await h.consents.markReceiptDelivered(pending[0]!.id), true);
      assert.equal(await h.consents.markReceiptDelivered(pending[0]!.id), false);
      assert.deepEqual((await h.consents.undeliveredReceipts()).map((r) => r.id), [pending[1]!.id]);
    });
  });

  it('keeps the audit chain intact through all of it', async () => {
    const a = await authorisedAccess();
    await h.consents.revokeByCustomer(a.id, 'cust-casey');
    assert.equal((await h.audit.verify()).ok, true);
  });
});
