/**
 * better-sqlite3 implementation of the banking repository (src/banking/repository.ts,
 * migrations/0011_banking.sql). Prepared statements only.
 */
import type { AccountRecord, BankingRepository, PaymentRecord, TransactionRecord } from '../../banking/repository.js';
import type { PaymentView } from '../../banking/types.js';
import type { Db } from '../database.js';

interface AccountRow {
  id: string;
  customer_id: string;
  currency: string;
  sub_type: string;
  nickname: string;
  iban: string;
  holder_name: string;
  opened_at: string;
  balance_minor: number;
}

interface TransactionRow {
  id: string;
  account_id: string;
  booked_at: string;
  amount_minor: number;
  credit_debit: string;
  status: string;
  reference: string;
  counterparty_name: string;
  counterparty_iban: string | null;
  balance_after_minor: number;
}

interface PaymentRow {
  id: string;
  consent_id: string;
  client_id: string;
  idempotency_key: string;
  request_hash: string;
  debtor_account_id: string;
  amount_minor: number;
  currency: string;
  creditor_name: string;
  creditor_iban: string;
  reference: string;
  status: string;
  created_at: string;
  response: string;
}

function account(r: AccountRow): AccountRecord {
  return {
    id: r.id,
    customerId: r.customer_id,
    currency: r.currency,
    subType: r.sub_type as AccountRecord['subType'],
    nickname: r.nickname,
    iban: r.iban,
    holderName: r.holder_name,
    openedAt: r.opened_at,
    balanceMinor: r.balance_minor,
  };
}

function transaction(r: TransactionRow): TransactionRecord {
  return {
    id: r.id,
    accountId: r.account_id,
    bookedAt: r.booked_at,
    amountMinor: r.amount_minor,
    creditDebit: r.credit_debit as TransactionRecord['creditDebit'],
    status: r.status as TransactionRecord['status'],
    reference: r.reference,
    counterpartyName: r.counterparty_name,
    counterpartyIban: r.counterparty_iban,
    balanceAfterMinor: r.balance_after_minor,
  };
}

function payment(r: PaymentRow): PaymentRecord {
  return {
    id: r.id,
    consentId: r.consent_id,
    clientId: r.client_id,
    idempotencyKey: r.idempotency_key,
    requestHash: r.request_hash,
    debtorAccountId: r.debtor_account_id,
    amountMinor: r.amount_minor,
    currency: r.currency,
    creditorName: r.creditor_name,
    creditorIban: r.creditor_iban,
    reference: r.reference,
    status: r.status as PaymentRecord['status'],
    createdAt: r.created_at,
    response: JSON.parse(r.response) as PaymentView,
  };
}

export function createSqliteBankingRepository(db: Db): BankingRepository {
  const insertAccount = db.prepare(`INSERT INTO bank_accounts
    (id, customer_id, currency, sub_type, nickname, iban, holder_name, opened_at, balance_minor)
    VALUES (@id, @customer_id, @currency, @sub_type, @nickname, @iban, @holder_name, @opened_at, @balance_minor)`);
  const getAccount = db.prepare('SELECT * FROM bank_accounts WHERE id = ?');
  const accountsOf = db.prepare('SELECT * FROM bank_accounts WHERE customer_id = ? ORDER BY opened_at, id');
  const updateBalance = db.prepare('UPDATE bank_accounts SET balance_minor = @to WHERE id = @id AND balance_minor = @from');
  const insertTransaction = db.prepare(`INSERT INTO bank_transactions
    (id, account_id, booked_at, amount_minor, credit_debit, status, reference, counterparty_name, counterparty_iban, balance_after_minor)
    VALUES (@id, @account_id, @booked_at, @amount_minor, @credit_debit, @status, @reference, @counterparty_name, @counterparty_iban, @balance_after_minor)`);
  // NULL bounds mean "no bound", so one statement serves every filter combination.
  const listTransactions = db.prepare(`SELECT * FROM bank_transactions
    WHERE account_id = @account_id
      AND (@from IS NULL OR booked_at >= @from)
      AND (@to IS NULL OR booked_at <= @to)
      AND (@credit_debit IS NULL OR credit_debit = @credit_debit)
    ORDER BY booked_at DESC, id DESC
    LIMIT @limit`);
  const pendingDebits = db.prepare(
    "SELECT COALESCE(SUM(amount_minor), 0) AS n FROM bank_transactions WHERE account_id = ? AND status = 'Pending' AND credit_debit = 'Debit'",
  );
  const insertPayment = db.prepare(`INSERT INTO bank_payments
    (id, consent_id, client_id, idempotency_key, request_hash, debtor_account_id, amount_minor, currency, creditor_name, creditor_iban,
     reference, status, created_at, response)
    VALUES (@id, @consent_id, @client_id, @idempotency_key, @request_hash, @debtor_account_id, @amount_minor, @currency, @creditor_name,
     @creditor_iban, @reference, @status, @created_at, @response)`);
  const getPayment = db.prepare('SELECT * FROM bank_payments WHERE id = ?');
  const paymentByKey = db.prepare('SELECT * FROM bank_payments WHERE client_id = ? AND idempotency_key = ?');
  const paymentByConsent = db.prepare('SELECT * FROM bank_payments WHERE consent_id = ?');

  return {
    async insertAccount(r) {
      insertAccount.run({
        id: r.id,
        customer_id: r.customerId,
        currency: r.currency,
        sub_type: r.subType,
        nickname: r.nickname,
        iban: r.iban,
        holder_name: r.holderName,
        opened_at: r.openedAt,
        balance_minor: r.balanceMinor,
      });
    },
    async getAccount(id) {
      const row = getAccount.get(id) as AccountRow | undefined;
      return row ? account(row) : null;
    },
    async accountsOf(customerId) {
      return (accountsOf.all(customerId) as AccountRow[]).map(account);
    },
    async updateBalance(accountId, from, to) {
      return updateBalance.run({ id: accountId, from, to }).changes === 1;
    },
    async insertTransaction(r) {
      insertTransaction.run({
        id: r.id,
        account_id: r.accountId,
        booked_at: r.bookedAt,
        amount_minor: r.amountMinor,
        credit_debit: r.creditDebit,
        status: r.status,
        reference: r.reference,
        counterparty_name: r.counterpartyName,
        counterparty_iban: r.counterpartyIban,
        balance_after_minor: r.balanceAfterMinor,
      });
    },
    async listTransactions(accountId, q) {
      const rows = listTransactions.all({
        account_id: accountId,
        from: q.from ?? null,
        to: q.to ?? null,
        credit_debit: q.creditDebit ?? null,
        limit: q.limit,
      }) as TransactionRow[];
      return rows.map(transaction);
    },
    async pendingDebitsMinor(accountId) {
      return (pendingDebits.get(accountId) as { n: number }).n;
    },
    async insertPayment(r) {
      insertPayment.run({
        id: r.id,
        consent_id: r.consentId,
        client_id: r.clientId,
        idempotency_key: r.idempotencyKey,
        request_hash: r.requestHash,
        debtor_account_id: r.debtorAccountId,
        amount_minor: r.amountMinor,
        currency: r.currency,
        creditor_name: r.creditorName,
        creditor_iban: r.creditorIban,
        reference: r.reference,
        status: r.status,
        created_at: r.createdAt,
        response: JSON.stringify(r.response),
      });
    },
    async getPayment(id) {
      const row = getPayment.get(id) as PaymentRow | undefined;
      return row ? payment(row) : null;
    },
    async paymentByKey(clientId, idempotencyKey) {
      const row = paymentByKey.get(clientId, idempotencyKey) as PaymentRow | undefined;
      return row ? payment(row) : null;
    },
    async paymentByConsent(consentId) {
      const row = paymentByConsent.get(consentId) as PaymentRow | undefined;
      return row ? payment(row) : null;
    },
  };
}
