/**
 * The banking service on a real SQLite file: demo accounts (deterministic, valid IBANs, balances that follow
 * from the transactions), ownership, balances, transaction filters, and the exactly-once payment: replay,
 * idempotency conflict, a second payment on a paid consent, insufficient funds, invalid consents, and a
 * failing markConsumed — each refusal asserting its code, its status and that no money, row or audit moved.
 */
import assert from 'node:assert/strict';
import type { BankAccountView } from '../../src/banking/types.js';
import { AppError } from '../../src/errors.js';
import { isValidIban } from '../../src/banking/iban.js';
import {
  balanceMinor,
  bankingHarness,
  count,
  hashOf,
  instruction,
  moneyState,
  NOW,
  paymentConsent,
  type BankingHarness,
} from './helpers.js';

const DAY = 86_400_000;

async function rejects(p: Promise<unknown>, code: string, status: number): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, code, `${err.code}: ${err.message}`);
    assert.equal(err.status, status);
    return;
  }
  assert.fail(`expected ${code}`);
}

interface TxRow {
  id: string;
  account_id: string;
  booked_at: string;
  amount_minor: number;
  credit_debit: string;
  status: string;
  balance_after_minor: number;
}

describe('banking service', function () {
  this.timeout(20_000);
  let h: BankingHarness;
  let casey: BankAccountView[];
  beforeEach(async () => {
    h = bankingHarness();
    casey = await h.banking.seedDemoAccounts('cust-casey', 'Casey Customer', { seed: 'casey@example.test' });
  });
  afterEach(() => h.close());

  describe('demo accounts', () => {
    it('a current and a savings account in EUR with valid IBANs, the holder name, and about 20-30 transactions over the last 90 days', async () => {
      assert.deepEqual(casey.map((a) => [a.subType, a.currency, a.holderName, a.customerId]), [
        ['CurrentAccount', 'EUR', 'Casey Customer', 'cust-casey'],
        ['Savings', 'EUR', 'Casey Customer', 'cust-casey'],
      ]);
      for (const a of casey) assert.ok(isValidIban(a.iban), a.iban);
      assert.notEqual(casey[0]!.iban, casey[1]!.iban);
      const rows = h.db.prepare('SELECT * FROM bank_transactions').all() as TxRow[];
      assert.ok(rows.length >= 20 && rows.length <= 32, String(rows.length));
      for (const r of rows) {
        const t = Date.parse(r.booked_at);
        assert.ok(t <= NOW.getTime() && t > NOW.getTime() - 90 * DAY, r.booked_at);
        assert.equal(r.booked_at, new Date(t).toISOString());
      }
      assert.ok(rows.some((r) => r.credit_debit === 'Credit') && rows.some((r) => r.credit_debit === 'Debit'));
      assert.equal(rows.filter((r) => r.status === 'Pending').length, 1);
    });

    it('every balance_after follows from the one before, and the account balance is the last booked one', async () => {
      for (const a of casey) {
        const rows = h.db.prepare('SELECT * FROM bank_transactions WHERE account_id = ? ORDER BY booked_at, id').all(a.id) as TxRow[];
        let running: number | null = null;
        for (const r of rows) {
          const delta = r.status === 'Pending' ? 0 : r.credit_debit === 'Credit' ? r.amount_minor : -r.amount_minor;
          if (running !== null) assert.equal(r.balance_after_minor, running + delta, r.id);
          running = r.balance_after_minor;
          assert.ok(r.balance_after_minor >= 0);
        }
        assert.equal(balanceMinor(h.db, a.id), running);
      }
    });

    it('deterministic: the same seed and clock give the same rows in another database; another seed gives other numbers', async () => {
      const other = bankingHarness();
      try {
        await other.banking.seedDemoAccounts('cust-casey', 'Casey Customer', { seed: 'casey@example.test' });
        const dump = (db: BankingHarness['db']) => ({
          accounts: db.prepare('SELECT * FROM bank_accounts ORDER BY id').all(),
          transactions: db.prepare('SELECT * FROM bank_transactions ORDER BY id').all(),
        });
        assert.deepEqual(dump(other.db), dump(h.db));
        const third = await other.banking.seedDemoAccounts('cust-dana', 'Dana Demo', { seed: 'dana@example.test' });
        assert.notEqual(third[0]!.iban, casey[0]!.iban);
        assert.notEqual(third[0]!.id, casey[0]!.id);
      } finally {
        other.close();
      }
    });

    it('seeding a customer again returns the existing accounts and writes nothing', async () => {
      const before = moneyState(h.db);
      const again = await h.banking.seedDemoAccounts('cust-casey', 'Someone Else', { seed: 'other' });
      assert.deepEqual(again, casey);
      assert.deepEqual(moneyState(h.db), before);
    });

    it('records banking.accounts.seeded in the audit log', async () => {
      const events = await h.audit.list({ action: 'banking.accounts.seeded' });
      assert.equal(events.length, 1);
      assert.deepEqual(events[0]!.subject, { type: 'customer', id: 'cust-casey' });
      assert.deepEqual(events[0]!.data.accountIds, casey.map((a) => a.id));
    });

    it('refuses an empty holder name with input.invalid and writes nothing', async () => {
      const before = moneyState(h.db);
      await rejects(h.banking.seedDemoAccounts('cust-x', '   '), 'input.invalid', 400);
      await rejects(h.banking.seedDemoAccounts('', 'Name'), 'input.invalid', 400);
      assert.deepEqual(moneyState(h.db), before);
    });
  });

  describe('ownership and reads', () => {
    let dana: BankAccountView[];
    beforeEach(async () => {
      dana = await h.banking.seedDemoAccounts('cust-dana', 'Dana Demo');
    });

    it('accountsOf lists only the customer’s own accounts, oldest first', async () => {
      assert.deepEqual((await h.banking.accountsOf('cust-casey')).map((a) => a.id), casey.map((a) => a.id));
      assert.deepEqual((await h.banking.accountsOf('cust-nobody')), []);
      assert.deepEqual(await h.banking.getAccount(dana[1]!.id), dana[1]);
      assert.equal(await h.banking.getAccount('acc-unknown'), null);
    });

    it('ownsAccounts is true only when every id is the customer’s (and there is at least one)', async () => {
      const [c0, c1] = [casey[0]!.id, casey[1]!.id];
      assert.equal(await h.banking.ownsAccounts('cust-casey', [c0, c1]), true);
      assert.equal(await h.banking.ownsAccounts('cust-casey', [c1]), true);
      assert.equal(await h.banking.ownsAccounts('cust-casey', [c0, dana[0]!.id]), false);
      assert.equal(await h.banking.ownsAccounts('cust-dana', [c0]), false);
      assert.equal(await h.banking.ownsAccounts('cust-casey', ['acc-unknown']), false);
      assert.equal(await h.banking.ownsAccounts('cust-casey', []), false);
    });

    it('balances: InterimBooked is the booked balance, InterimAvailable less the pending debits, now', async () => {
      const current = casey[0]!;
      const pending = (h.db.prepare("SELECT amount_minor AS n FROM bank_transactions WHERE account_id = ? AND status = 'Pending'").get(current.id) as { n: number }).n;
      const booked = balanceMinor(h.db, current.id);
      const b = await h.banking.balances(current.id);
      const fmt = (m: number) => `${Math.floor(m / 100)}.${String(m % 100).padStart(2, '0')}`;
      assert.deepEqual(b, [
        { accountId: current.id, type: 'InterimAvailable', amount: fmt(booked - pending), currency: 'EUR', creditDebitIndicator: 'Credit', at: NOW.toISOString() },
        { accountId: current.id, type: 'InterimBooked', amount: fmt(booked), currency: 'EUR', creditDebitIndicator: 'Credit', at: NOW.toISOString() },
      ]);
      await rejects(h.banking.balances('acc-unknown'), 'banking.account_not_found', 404);
    });

    it('transactions: newest first; Credit/Debit filters split them exactly', async () => {
      const id = casey[0]!.id;
      const all = await h.banking.transactions(id);
      assert.equal(all.length, count(h.db, `bank_transactions WHERE account_id = '${id}'`));
      const times = all.map((t) => t.bookedAt);
      assert.deepEqual(times, [...times].sort().reverse());
      const credits = await h.banking.transactions(id, { creditDebit: 'Credit' });
      const debits = await h.banking.transactions(id, { creditDebit: 'Debit' });
      assert.ok(credits.length > 0 && debits.length > 0);
      assert.ok(credits.every((t) => t.creditDebitIndicator === 'Credit'));
      assert.ok(debits.every((t) => t.creditDebitIndicator === 'Debit'));
      assert.equal(credits.length + debits.length, all.length);
      assert.ok(all.every((t) => t.currency === 'EUR' && /^\d+\.\d{2}$/.test(t.amount) && /^-?\d+\.\d{2}$/.test(t.balanceAfter)));
    });

    it('transactions: from/to bounds are inclusive; a date alone for `to` includes that whole day; offsets are honoured', async () => {
      const id = casey[0]!.id;
      const all = await h.banking.transactions(id);
      const mid = all[Math.floor(all.length / 2)]!;
      assert.deepEqual((await h.banking.transactions(id, { from: mid.bookedAt, to: mid.bookedAt })).map((t) => t.id), [mid.id]);
      const cut = NOW.getTime() - 30 * DAY;
      const recent = await h.banking.transactions(id, { from: new Date(cut).toISOString() });
      assert.deepEqual(recent.map((t) => t.id), all.filter((t) => Date.parse(t.bookedAt) >= cut).map((t) => t.id));
      const day = mid.bookedAt.slice(0, 10);
      const thatDay = await h.banking.transactions(id, { from: day, to: day });
      assert.ok(thatDay.some((t) => t.id === mid.id));
      assert.ok(thatDay.every((t) => t.bookedAt.startsWith(day)));
      // 12:00+02:00 is 10:00Z: the same instant written two ways selects the same transactions.
      const a = await h.banking.transactions(id, { to: '2026-11-20T12:00:00+02:00' });
      const b = await h.banking.transactions(id, { to: '2026-11-20T10:00:00Z' });
      assert.deepEqual(a, b);
    });

    it('transactions: a malformed or impossible date is input.invalid; an unknown account is banking.account_not_found', async () => {
      const id = casey[0]!.id;
      for (const bad of ['yesterday', '2026-02-30', '2026-13-01', '2026-11-20T25:00:00Z', '2026-11-20 10:00', '1700000000']) {
        await rejects(h.banking.transactions(id, { from: bad }), 'input.invalid', 400);
      }
      await rejects(h.banking.transactions('acc-unknown'), 'banking.account_not_found', 404);
    });
  });

  describe('executePayment', () => {
    let debtor: BankAccountView;
    beforeEach(() => {
      debtor = casey[0]!;
    });

    function pay(consent = paymentConsent('cust-casey', debtor.id), key = 'key-1', hash = hashOf('body-1'), clientId = 'client-acme') {
      return h.banking.executePayment({ consent, idempotencyKey: key, requestHash: hash, clientId, markConsumed: h.markConsumed });
    }

    it('debits the account once, books the transaction, stores the payment, marks the consent consumed in the same transaction, audits', async () => {
      const consent = paymentConsent('cust-casey', debtor.id);
      const before = balanceMinor(h.db, debtor.id);
      const txBefore = count(h.db, 'bank_transactions');
      const { payment, replayed } = await pay(consent);
      assert.equal(replayed, false);
      assert.equal(balanceMinor(h.db, debtor.id), before - 1250);
      assert.equal(count(h.db, 'bank_transactions'), txBefore + 1);
      assert.deepEqual({ ...payment, id: 'x' }, {
        id: 'x',
        consentId: consent.id,
        instructionIdentification: 'instr-001',
        endToEndIdentification: 'e2e-001',
        debtorAccountId: debtor.id,
        amount: '12.50',
        currency: 'EUR',
        creditorName: 'Corner Shop Ltd',
        creditorIban: 'DE89370400440532013000',
        reference: 'Invoice 42',
        status: 'AcceptedSettlementCompleted',
        createdAt: NOW.toISOString(),
      });
      const [latest] = await h.banking.transactions(debtor.id);
      assert.deepEqual(
        { ...latest, id: 'x' },
        {
          id: 'x',
          accountId: debtor.id,
          bookedAt: NOW.toISOString(),
          amount: '12.50',
          currency: 'EUR',
          creditDebitIndicator: 'Debit',
          status: 'Booked',
          reference: 'Invoice 42',
          counterpartyName: 'Corner Shop Ltd',
          counterpartyIban: 'DE89370400440532013000',
          balanceAfter: `${Math.floor((before - 1250) / 100)}.${String((before - 1250) % 100).padStart(2, '0')}`,
        },
      );
      assert.deepEqual(h.consumedCalls, [{ consentId: consent.id, paymentId: payment.id, inTransaction: true }]);
      const events = await h.audit.list({ action: 'banking.payment.executed' });
      assert.equal(events.length, 1);
      assert.deepEqual(events[0]!.subject, { type: 'payment', id: payment.id });
      assert.equal(events[0]!.data.amount, '12.50');
      assert.equal(events[0]!.actor.id, 'client-acme');
      assert.equal((await h.audit.verify()).ok, true);
    });

    it('a replay (same client, key and request hash) returns the same payment and moves no money, even once the consent reads consumed', async () => {
      const consent = paymentConsent('cust-casey', debtor.id);
      const first = await pay(consent);
      const state = moneyState(h.db);
      const again = await pay({ ...consent, status: 'consumed' });
      assert.equal(again.replayed, true);
      assert.deepEqual(again.payment, first.payment);
      assert.deepEqual(moneyState(h.db), state);
      assert.equal(h.consumedCalls.length, 1);
      assert.deepEqual(await h.banking.replayPayment({ clientId: 'client-acme', idempotencyKey: 'key-1', requestHash: hashOf('body-1') }), first.payment);
      assert.equal(await h.banking.replayPayment({ clientId: 'client-acme', idempotencyKey: 'key-new', requestHash: hashOf('body-1') }), null);
      // Keys belong to a client: the same key from another client is not a replay of this payment.
      assert.equal(await h.banking.replayPayment({ clientId: 'client-other', idempotencyKey: 'key-1', requestHash: hashOf('body-1') }), null);
    });

    it('the same key with another request: 422 payment.idempotency_conflict, nothing moves', async () => {
      const consent = paymentConsent('cust-casey', debtor.id);
      await pay(consent);
      const state = moneyState(h.db);
      await rejects(pay(consent, 'key-1', hashOf('body-2')), 'payment.idempotency_conflict', 422);
      await rejects(h.banking.replayPayment({ clientId: 'client-acme', idempotencyKey: 'key-1', requestHash: hashOf('body-2') }), 'payment.idempotency_conflict', 422);
      // Same key and hash but presented with another consent is not a replay of this one either.
      await rejects(pay(paymentConsent('cust-casey', debtor.id)), 'payment.idempotency_conflict', 422);
      assert.deepEqual(moneyState(h.db), state);
    });

    it('a second payment on a paid consent (new key): 409 payment.consent_consumed, whether the consent still reads authorised or consumed', async () => {
      const consent = paymentConsent('cust-casey', debtor.id);
      await pay(consent);
      const state = moneyState(h.db);
      await rejects(pay(consent, 'key-2', hashOf('body-1b')), 'payment.consent_consumed', 409);
      await rejects(pay({ ...consent, status: 'consumed' }, 'key-3', hashOf('body-1c')), 'payment.consent_consumed', 409);
      assert.deepEqual(moneyState(h.db), state);
      assert.equal(h.consumedCalls.length, 1);
    });

    it('insufficient available funds (pending debits count): 422 payment.insufficient_funds, nothing moves', async () => {
      const booked = balanceMinor(h.db, debtor.id);
      const pending = (h.db.prepare("SELECT amount_minor AS n FROM bank_transactions WHERE account_id = ? AND status = 'Pending'").get(debtor.id) as { n: number }).n;
      const available = booked - pending;
      const fmt = (m: number) => `${Math.floor(m / 100)}.${String(m % 100).padStart(2, '0')}`;
      const state = moneyState(h.db);
      // Within the booked balance but above what is available.
      await rejects(pay(paymentConsent('cust-casey', debtor.id, { payment: instruction({ amount: fmt(available + 1) }) })), 'payment.insufficient_funds', 422);
      assert.deepEqual(moneyState(h.db), state);
      assert.equal(h.consumedCalls.length, 0);
      // Exactly what is available succeeds and leaves the booked balance at the pending amount.
      await pay(paymentConsent('cust-casey', debtor.id, { payment: instruction({ amount: fmt(available) }) }), 'key-all', hashOf('all'));
      assert.equal(balanceMinor(h.db, debtor.id), pending);
    });

    it('amounts are exact: 0.10 then 0.20 take exactly 30 cents', async () => {
      const before = balanceMinor(h.db, debtor.id);
      await pay(paymentConsent('cust-casey', debtor.id, { payment: instruction({ amount: '0.10' }) }), 'k-a', hashOf('a'));
      await pay(paymentConsent('cust-casey', debtor.id, { payment: instruction({ amount: '0.20' }) }), 'k-b', hashOf('b'));
      assert.equal(balanceMinor(h.db, debtor.id), before - 30);
    });

    const invalid: [string, (c: ReturnType<typeof paymentConsent>) => ReturnType<typeof paymentConsent>][] = [
      ['awaiting authorisation', (c) => ({ ...c, status: 'awaiting_authorisation' })],
      ['rejected', (c) => ({ ...c, status: 'rejected' })],
      ['revoked', (c) => ({ ...c, status: 'revoked' })],
      ['expired', (c) => ({ ...c, status: 'expired' })],
      ['an account-access consent', (c) => ({ ...c, kind: 'account-access', payment: null })],
      ['a payment consent without an instruction', (c) => ({ ...c, payment: null })],
      ['another client’s consent', (c) => ({ ...c, clientId: 'client-other' })],
      ['no debtor account', (c) => ({ ...c, accountIds: [] })],
      ['no customer', (c) => ({ ...c, customerId: null })],
      ['a debtor account of another customer', (c) => ({ ...c, customerId: 'cust-dana' })],
      ['an unknown debtor account', (c) => ({ ...c, accountIds: ['acc-unknown'] })],
      ['a currency the account does not hold', (c) => ({ ...c, payment: instruction({ currency: 'GBP' }) })],
      ['a creditor IBAN with wrong check digits', (c) => ({ ...c, payment: instruction({ creditorAccount: { schemeName: 'IBAN', identification: 'DE89370400440532013001', name: 'X' } }) })],
    ];
    for (const [name, change] of invalid) {
      it(`${name}: 400 payment.consent_invalid, nothing moves`, async () => {
        const state = moneyState(h.db);
        await rejects(pay(change(paymentConsent('cust-casey', debtor.id))), 'payment.consent_invalid', 400);
        assert.deepEqual(moneyState(h.db), state);
        assert.equal(h.consumedCalls.length, 0);
      });
    }

    it('an amount with three decimals in the consent: 400 banking.amount_invalid, nothing moves', async () => {
      const state = moneyState(h.db);
      await rejects(pay(paymentConsent('cust-casey', debtor.id, { payment: instruction({ amount: '12.505' }) })), 'banking.amount_invalid', 400);
      assert.deepEqual(moneyState(h.db), state);
    });

    it('a missing, empty, too long or spaced idempotency key: 400 payment.idempotency_key_invalid, nothing moves', async () => {
      const state = moneyState(h.db);
      for (const key of ['', 'k'.repeat(41), 'two words', 'tab\tkey', 'ключ']) {
        await rejects(pay(paymentConsent('cust-casey', debtor.id), key), 'payment.idempotency_key_invalid', 400);
      }
      await pay(paymentConsent('cust-casey', debtor.id), 'k'.repeat(40), hashOf('forty'));
      assert.equal(count(h.db, 'bank_payments'), (state.payments as number) + 1);
    });

    it('markConsumed failing (the consent was revoked meanwhile) rolls the whole payment back; a retry with the same key then executes', async () => {
      const consent = paymentConsent('cust-casey', debtor.id);
      const state = moneyState(h.db);
      h.failNextConsume();
      await assert.rejects(pay(consent), /no longer authorised/);
      assert.deepEqual(moneyState(h.db), state);
      const { replayed } = await pay(consent);
      assert.equal(replayed, false);
      assert.equal(count(h.db, 'bank_payments'), 1);
    });

    it('concurrent submissions: one key twice executes once and replays once; two keys for one consent pay once', async () => {
      const before = balanceMinor(h.db, debtor.id);
      const c1 = paymentConsent('cust-casey', debtor.id);
      const same = await Promise.all([pay(c1), pay(c1)]);
      assert.deepEqual(same.map((r) => r.replayed).sort(), [false, true]);
      assert.equal(same[0]!.payment.id, same[1]!.payment.id);
      const c2 = paymentConsent('cust-casey', debtor.id);
      const results = await Promise.allSettled([pay(c2, 'k-x', hashOf('x')), pay(c2, 'k-y', hashOf('y'))]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.equal((failed.reason as AppError).code, 'payment.consent_consumed');
      assert.equal(balanceMinor(h.db, debtor.id), before - 2 * 1250);
      assert.equal(count(h.db, 'bank_payments'), 2);
    });

    it('paymentForClient: the client’s own payment; another client’s or an unknown id is null', async () => {
      const { payment } = await pay();
      assert.deepEqual(await h.banking.paymentForClient('client-acme', payment.id), payment);
      assert.equal(await h.banking.paymentForClient('client-other', payment.id), null);
      assert.equal(await h.banking.paymentForClient('client-acme', 'pmt-unknown'), null);
    });
  });
});
