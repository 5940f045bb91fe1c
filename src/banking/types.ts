/**
 * The banking area's public contract: the bank's (demo) customers' accounts, balances, transactions and
 * payments. Money is kept in minor units (integer cents) and shown as decimal strings ("12.50").
 */

export interface BankAccountView {
  id: string;
  customerId: string;
  currency: string;
  /** e.g. CurrentAccount, Savings. */
  subType: 'CurrentAccount' | 'Savings';
  nickname: string;
  /** IBAN. */
  iban: string;
  holderName: string;
  openedAt: string;
}

export interface BalanceView {
  accountId: string;
  type: 'InterimAvailable' | 'InterimBooked';
  amount: string;
  currency: string;
  creditDebitIndicator: 'Credit' | 'Debit';
  at: string;
}

export interface TransactionView {
  id: string;
  accountId: string;
  bookedAt: string;
  amount: string;
  currency: string;
  creditDebitIndicator: 'Credit' | 'Debit';
  status: 'Booked' | 'Pending';
  reference: string;
  /** Who paid or was paid (the detail permission shows it). */
  counterpartyName: string;
  counterpartyIban: string | null;
  /** The booked balance after it, signed ("-3.20" when overdrawn); a pending one leaves it unchanged. */
  balanceAfter: string;
}

export interface PaymentView {
  id: string;
  consentId: string;
  /** The consent's instruction ids, echoed in the UK OB Initiation (added for the response shape). */
  instructionIdentification: string;
  endToEndIdentification: string;
  debtorAccountId: string;
  amount: string;
  currency: string;
  creditorName: string;
  creditorIban: string;
  reference: string;
  status: 'AcceptedSettlementCompleted';
  createdAt: string;
}
