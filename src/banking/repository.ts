/**
 * Storage contract of the banking area: accounts, transactions and payments. Async so that a PostgreSQL
 * implementation fits later; the SQLite one is src/store/sqlite/banking.ts. Writes are called inside the
 * service's `tx.run`. Amounts are integer minor units.
 */
import type { BankAccountView, PaymentView } from './types.js';

export interface AccountRecord {
  id: string;
  customerId: string;
  currency: string;
  subType: BankAccountView['subType'];
  nickname: string;
  iban: string;
  holderName: string;
  openedAt: string;
  balanceMinor: number;
}

export interface TransactionRecord {
  id: string;
  accountId: string;
  bookedAt: string;
  amountMinor: number;
  creditDebit: 'Credit' | 'Debit';
  status: 'Booked' | 'Pending';
  reference: string;
  counterpartyName: string;
  counterpartyIban: string | null;
  balanceAfterMinor: number;
}

export interface PaymentRecord {
  id: string;
  consentId: string;
  clientId: string;
  idempotencyKey: string;
  requestHash: string;
  debtorAccountId: string;
  amountMinor: number;
  currency: string;
  creditorName: string;
  creditorIban: string;
  reference: string;
  status: PaymentView['status'];
  createdAt: string;
  /** What the first request was answered with. */
  response: PaymentView;
}

export interface TransactionQuery {
  /** Inclusive bounds, ISO 8601 UTC with milliseconds (the stored form). */
  from?: string;
  to?: string;
  creditDebit?: 'Credit' | 'Debit';
  limit: number;
}

export interface BankingRepository {
  insertAccount(record: AccountRecord): Promise<void>;
  getAccount(id: string): Promise<AccountRecord | null>;
  /** Oldest account first. */
  accountsOf(customerId: string): Promise<AccountRecord[]>;
  /** Sets the booked balance if it still is `from`; false when it was not (nothing changed). */
  updateBalance(accountId: string, from: number, to: number): Promise<boolean>;
  insertTransaction(record: TransactionRecord): Promise<void>;
  /** Newest first. */
  listTransactions(accountId: string, query: TransactionQuery): Promise<TransactionRecord[]>;
  /** Sum of the account's pending debits (they reduce the available balance). */
  pendingDebitsMinor(accountId: string): Promise<number>;
  insertPayment(record: PaymentRecord): Promise<void>;
  getPayment(id: string): Promise<PaymentRecord | null>;
  paymentByKey(clientId: string, idempotencyKey: string): Promise<PaymentRecord | null>;
  paymentByConsent(consentId: string): Promise<PaymentRecord | null>;
}
