/**
 * The banking area: the bank's (demo) customers' accounts, balances and transactions, and the execution of
 * domestic payments under a customer's payment consent.
 *
 * - Reads take ids the caller has already authorised (the routes check the consent's accounts and
 *   permissions); `ownsAccounts` lets the consent area check, before a consent is authorised, that the
 *   accounts a customer picked are theirs.
 * - `executePayment` is exactly-once: one `tx.run` holds the idempotency look-up, the consent checks, the debit,
 *   its transaction, the payment row, the consent's `markConsumed` and the audit event, and two UNIQUE
 *   constraints (consent_id; client_id + idempotency_key) back it should two requests ever race.
 * - Money is integer minor units; decimal strings are parsed exactly (money.ts).
 */
import { randomUUID } from 'node:crypto';
import type { AuditService } from '../audit/service.js';
import type { ConsentView } from '../consent/types.js';
import { InputError, InternalError } from '../errors.js';
import type { Db } from '../store/database.js';
import { createSqliteBankingRepository } from '../store/sqlite/banking.js';
import type { Transactor } from '../store/transaction.js';
import { demoAccounts } from './demo.js';
import {
  accountNotFound,
  consentConsumed,
  consentInvalid,
  idempotencyConflict,
  idempotencyKeyInvalid,
  insufficientFunds,
} from './errors.js';
import { isValidIban } from './iban.js';
import { formatMinor, formatSignedMinor, indicatorOf, parseAmountMinor } from './money.js';
import type { AccountRecord, BankingRepository, PaymentRecord, TransactionRecord } from './repository.js';
import type { BalanceView, BankAccountView, PaymentView, TransactionView } from './types.js';

/** At most this many transactions per call (the demo accounts hold a few dozen; UK OB pages are not needed). */
export const TRANSACTIONS_MAX = 1000;

/** x-idempotency-key: UK OB Max40Text, visible ASCII only (it is echoed in logs and compared byte for byte). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,40}$/;

export interface TransactionFilter {
  /** Inclusive bounds on the booking time, ISO 8601 (compared in UTC). */
  from?: string;
  to?: string;
  /** Only credits or only debits (the consent's ReadTransactionsCredits/Debits). */
  creditDebit?: 'Credit' | 'Debit';
}

export interface ExecutePaymentInput {
  /** The consent the access token was issued for (the consent area's view of it). */
  consent: ConsentView;
  idempotencyKey: string;
  /** SHA-256 (hex) of the canonical request body. */
  requestHash: string;
  /** The client presenting the token: it must be the consent's. */
  clientId: string;
  /** The consent area's: marks the consent consumed by this payment, inside this transaction. */
  markConsumed: (consentId: string, paymentId: string) => Promise<void>;
}

export interface BankingService {
  /** The customer's accounts, oldest first. */
  accountsOf(customerId: string): Promise<BankAccountView[]>;
  getAccount(id: string): Promise<BankAccountView | null>;
  /** True only when `ids` is not empty and every id is an account of this customer. */
  ownsAccounts(customerId: string, ids: readonly string[]): Promise<boolean>;
  /** InterimAvailable (booked less pending debits) and InterimBooked, now. `banking.account_not_found` (404). */
  balances(accountId: string): Promise<BalanceView[]>;
  /** Newest first, at most TRANSACTIONS_MAX. `banking.account_not_found` (404). */
  transactions(accountId: string, filter?: TransactionFilter): Promise<TransactionView[]>;
  /**
   * A current and a savings account with ~90 days of history for a customer, deterministic for a seed
   * (default: the customer id) and clock. A customer who already has accounts keeps them: they are returned
   * and nothing is written.
   */
  seedDemoAccounts(customerId: string, holderName: string, opts?: { seed?: string; now?: Date }): Promise<BankAccountView[]>;
  /**
   * Executes a payment consent once. Same client + key + request hash → the stored payment, `replayed: true`
   * (no money moves); same key, other hash → `payment.idempotency_conflict` (422); consent already paid →
   * `payment.consent_consumed` (409); not an authorised payment consent of this client →
   * `payment.consent_invalid` (400); not enough available → `payment.insufficient_funds` (422).
   */
  executePayment(input: ExecutePaymentInput): Promise<{ payment: PaymentView; replayed: boolean }>;
  /**
   * The stored payment for this client and key when the request hash matches (a replay), null when the key
   * is new; `payment.idempotency_conflict` when it was used with another body. Read-only: lets the API answer
   * a replay even once the consent is consumed.
   */
  replayPayment(input: { clientId: string; idempotencyKey: string; requestHash: string }): Promise<PaymentView | null>;
  /** The payment if it was made by this client; null otherwise (another client's is not told apart). */
  paymentForClient(clientId: string, paymentId: string): Promise<PaymentView | null>;
}

export interface BankingServiceDeps {
  db: Db;
  tx: Transactor;
  audit: AuditService;
  now?: () => Date;
  repository?: BankingRepository;
}

function accountView(a: AccountRecord): BankAccountView {
  return {
    id: a.id,
    customerId: a.customerId,
    currency: a.currency,
    subType: a.subType,
    nickname: a.nickname,
    iban: a.iban,
    holderName: a.holderName,
    openedAt: a.openedAt,
  };
}

function transactionView(t: TransactionRecord, currency: string): TransactionView {
  return {
    id: t.id,
    accountId: t.accountId,
    bookedAt: t.bookedAt,
    amount: formatMinor(t.amountMinor),
    currency,
    creditDebitIndicator: t.creditDebit,
    status: t.status,
    reference: t.reference,
    counterpartyName: t.counterpartyName,
    counterpartyIban: t.counterpartyIban,
    balanceAfter: formatSignedMinor(t.balanceAfterMinor),
  };
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * An ISO 8601 date or date-time (UK OB ISODateTime) in the stored form (UTC with milliseconds), or null when
 * it is not one or names a day that does not exist. Without an offset the time is read as UTC. A date alone
 * means the start of that day, or its last millisecond when `endOfDay` (so that `to=2026-03-01` includes it).
 */
export function parseBookingDateTime(value: string, endOfDay = false): string | null {
  const m = typeof value === 'string' ? DATE_TIME.exec(value) : null;
  if (!m) return null;
  const [y, mo, d, h, mi, sec, ms, zone] = [m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]];
  const dateOnly = h === undefined;
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(sec ?? 0), Number((ms ?? '0').padEnd(3, '0'))] as const;
  const t = Date.UTC(...parts);
  const back = new Date(t);
  // Date.UTC rolls 2026-02-30 over to March: a component that changed was out of range.
  if (
    back.getUTCFullYear() !== parts[0] || back.getUTCMonth() !== parts[1] || back.getUTCDate() !== parts[2] ||
    back.getUTCHours() !== parts[3] || back.getUTCMinutes() !== parts[4] || back.getUTCSeconds() !== parts[5]
  ) {
    return null;
  }
  let offset = 0;
  if (zone && zone !== 'Z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 14 || om > 59) return null;
    offset = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return new Date(t - offset + (dateOnly && endOfDay ? 86_400_000 - 1 : 0)).toISOString();
}

function instant(value: string, field: 'from' | 'to'): string {
  const parsed = parseBookingDateTime(value, field === 'to');
  if (!parsed) throw new InputError(`${field} is not an ISO 8601 date-time.`, [{ path: field, message: 'Not an ISO 8601 date-time.' }]);
  return parsed;
}

export function createBankingService(deps: BankingServiceDeps): BankingService {
  const { tx, audit } = deps;
  const repo = deps.repository ?? createSqliteBankingRepository(deps.db);
  const now = deps.now ?? (() => new Date());

  async function account(id: string): Promise<AccountRecord> {
    const a = await repo.getAccount(id);
    if (!a) throw accountNotFound();
    return a;
  }

  function checkKey(idempotencyKey: string, requestHash: string): void {
    if (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(idempotencyKey)) throw idempotencyKeyInvalid();
    if (typeof requestHash !== 'string' || !/^[0-9a-f]{64}$/.test(requestHash)) throw new TypeError('banking: requestHash must be SHA-256 hex');
  }

  /** The stored answer for a replay; throws on a reused key with another request. */
  function replayOf(previous: PaymentRecord, requestHash: string, consentId?: string): PaymentView {
    if (previous.requestHash !== requestHash || (consentId !== undefined && previous.consentId !== consentId)) throw idempotencyConflict();
    return previous.response;
  }

  return {
    async accountsOf(customerId) {
      return (await repo.accountsOf(customerId)).map(accountView);
    },

    async getAccount(id) {
      const a = await repo.getAccount(id);
      return a ? accountView(a) : null;
    },

    async ownsAccounts(customerId, ids) {
      if (ids.length === 0) return false;
      const own = new Set((await repo.accountsOf(customerId)).map((a) => a.id));
      return ids.every((id) => own.has(id));
    },

    async balances(accountId) {
      const a = await account(accountId);
      const available = a.balanceMinor - (await repo.pendingDebitsMinor(a.id));
      const at = now().toISOString();
      const balance = (type: BalanceView['type'], minor: number): BalanceView => ({
        accountId: a.id,
        type,
        amount: formatMinor(minor),
        currency: a.currency,
        creditDebitIndicator: indicatorOf(minor),
        at,
      });
      return [balance('InterimAvailable', available), balance('InterimBooked', a.balanceMinor)];
    },

    async transactions(accountId, filter = {}) {
      const a = await account(accountId);
      const from = filter.from === undefined ? undefined : instant(filter.from, 'from');
      const to = filter.to === undefined ? undefined : instant(filter.to, 'to');
      const rows = await repo.listTransactions(a.id, { from, to, creditDebit: filter.creditDebit, limit: TRANSACTIONS_MAX });
      return rows.map((t) => transactionView(t, a.currency));
    },

    async seedDemoAccounts(customerId, holderName, opts = {}) {
      const name = typeof holderName === 'string' ? holderName.trim() : '';
      if (typeof customerId !== 'string' || customerId === '' || name === '' || name.length > 140) {
        throw new InputError('A demo customer needs an id and a holder name of at most 140 characters.');
      }
      return tx.run(async () => {
        const existing = await repo.accountsOf(customerId);
        if (existing.length > 0) return existing.map(accountView);
        const plan = demoAccounts(customerId, name, { seed: opts.seed ?? customerId, now: opts.now ?? now() });
        for (const a of plan.accounts) await repo.insertAccount(a);
        for (const t of plan.transactions) await repo.insertTransaction(t);
        await audit.record({
          actor: { type: 'system', id: null, label: 'demo seed' },
          action: 'banking.accounts.seeded',
          subject: { type: 'customer', id: customerId },
          data: { accountIds: plan.accounts.map((a) => a.id), transactions: plan.transactions.length },
        });
        return plan.accounts.map(accountView);
      });
    },

    async replayPayment({ clientId, idempotencyKey, requestHash }) {
      checkKey(idempotencyKey, requestHash);
      const previous = await repo.paymentByKey(clientId, idempotencyKey);
      return previous ? replayOf(previous, requestHash) : null;
    },

    async executePayment({ consent, idempotencyKey, requestHash, clientId, markConsumed }) {
      checkKey(idempotencyKey, requestHash);
      return tx.run(async () => {
        const previous = await repo.paymentByKey(clientId, idempotencyKey);
        if (previous) return { payment: replayOf(previous, requestHash, consent.id), replayed: true };

        const instruction = consent.payment;
        if (consent.kind !== 'domestic-payment' || !instruction) throw consentInvalid(`consent ${consent.id} is ${consent.kind}`);
        if (consent.clientId !== clientId) throw consentInvalid(`consent ${consent.id} belongs to client ${consent.clientId}`);
        if (consent.status === 'consumed' || (await repo.paymentByConsent(consent.id))) throw consentConsumed();
        if (consent.status !== 'authorised') throw consentInvalid(`consent ${consent.id} is ${consent.status}`);
        const debtorId = consent.accountIds[0];
        if (!debtorId || !consent.customerId) throw consentInvalid(`consent ${consent.id} names no customer or debtor account`);
        const debtor = await repo.getAccount(debtorId);
        if (!debtor || debtor.customerId !== consent.customerId) throw consentInvalid(`debtor ${debtorId} is not the customer's account`);
        if (instruction.currency !== debtor.currency) throw consentInvalid(`currency ${instruction.currency} on a ${debtor.currency} account`);
        const creditor = instruction.creditorAccount;
        if (!isValidIban(creditor.identification)) throw consentInvalid('the creditor IBAN is not valid');
        const amountMinor = parseAmountMinor(instruction.amount);
        const available = debtor.balanceMinor - (await repo.pendingDebitsMinor(debtor.id));
        if (amountMinor > available) throw insufficientFunds();

        const at = now().toISOString();
        const balanceAfter = debtor.balanceMinor - amountMinor;
        if (!(await repo.updateBalance(debtor.id, debtor.balanceMinor, balanceAfter))) {
          throw new InternalError(`balance of ${debtor.id} changed during the payment`);
        }
        const transactionId = `txn-${randomUUID()}`;
        await repo.insertTransaction({
          id: transactionId,
          accountId: debtor.id,
          bookedAt: at,
          amountMinor,
          creditDebit: 'Debit',
          status: 'Booked',
          reference: instruction.reference,
          counterpartyName: creditor.name,
          counterpartyIban: creditor.identification,
          balanceAfterMinor: balanceAfter,
        });
        const payment: PaymentView = {
          id: `pmt-${randomUUID()}`,
          consentId: consent.id,
          instructionIdentification: instruction.instructionIdentification,
          endToEndIdentification: instruction.endToEndIdentification,
          debtorAccountId: debtor.id,
          amount: formatMinor(amountMinor),
          currency: debtor.currency,
          creditorName: creditor.name,
          creditorIban: creditor.identification,
          reference: instruction.reference,
          status: 'AcceptedSettlementCompleted',
          createdAt: at,
        };
        await repo.insertPayment({
          id: payment.id,
          consentId: consent.id,
          clientId,
          idempotencyKey,
          requestHash,
          debtorAccountId: debtor.id,
          amountMinor,
          currency: debtor.currency,
          creditorName: creditor.name,
          creditorIban: creditor.identification,
          reference: instruction.reference,
          status: payment.status,
          createdAt: at,
          response: payment,
        });
        await markConsumed(consent.id, payment.id);
        await audit.record({
          actor: { type: 'partner', id: clientId, label: `client ${clientId}` },
          action: 'banking.payment.executed',
          subject: { type: 'payment', id: payment.id },
          data: {
            consentId: consent.id,
            partnerId: consent.partnerId,
            customerId: consent.customerId,
            debtorAccountId: debtor.id,
            transactionId,
            amount: payment.amount,
            currency: payment.currency,
          },
        });
        return { payment, replayed: false };
      });
    },

    async paymentForClient(clientId, paymentId) {
      const p = await repo.getPayment(paymentId);
      return p && p.clientId === clientId ? p.response : null;
    },
  };
}
