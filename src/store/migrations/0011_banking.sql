-- Banking area (src/banking): the demo customers' accounts, their transactions, and the domestic payments
-- partners executed under a payment consent. customer_id and consent_id point at the accounts and consent
-- areas by value (areas never join each other's tables). Money is in integer minor units (cents).
CREATE TABLE bank_accounts (
  -- The UK OB AccountId: opaque, stable.
  id TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL,
  currency TEXT NOT NULL CHECK (length(currency) = 3),
  sub_type TEXT NOT NULL CHECK (sub_type IN ('CurrentAccount', 'Savings')),
  nickname TEXT NOT NULL,
  iban TEXT NOT NULL UNIQUE,
  holder_name TEXT NOT NULL,
  opened_at TEXT NOT NULL,
  -- The booked balance: the balance_after_minor of the account's last booked transaction.
  balance_minor INTEGER NOT NULL
);
CREATE INDEX bank_accounts_customer ON bank_accounts (customer_id, opened_at);

CREATE TABLE bank_transactions (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES bank_accounts (id),
  -- ISO 8601 UTC with milliseconds, so that text order is time order (date filters compare text).
  booked_at TEXT NOT NULL,
  -- Always positive: the direction is credit_debit.
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  credit_debit TEXT NOT NULL CHECK (credit_debit IN ('Credit', 'Debit')),
  -- A pending transaction does not move the booked balance; it reduces the available one when a debit.
  status TEXT NOT NULL CHECK (status IN ('Booked', 'Pending')),
  reference TEXT NOT NULL,
  counterparty_name TEXT NOT NULL,
  -- NULL for card payments and the bank's own postings (interest).
  counterparty_iban TEXT,
  -- The booked balance once this transaction is (or would be, for a pending one) counted.
  balance_after_minor INTEGER NOT NULL
);
CREATE INDEX bank_transactions_account_booked ON bank_transactions (account_id, booked_at, id);

CREATE TABLE bank_payments (
  id TEXT PRIMARY KEY,
  -- A payment consent pays at most once, whatever idempotency key the partner sends.
  consent_id TEXT NOT NULL UNIQUE,
  client_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  -- SHA-256 (hex) of the canonical request body: the same key with another body is a conflict.
  request_hash TEXT NOT NULL,
  debtor_account_id TEXT NOT NULL REFERENCES bank_accounts (id),
  amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
  currency TEXT NOT NULL CHECK (length(currency) = 3),
  creditor_name TEXT NOT NULL,
  creditor_iban TEXT NOT NULL,
  reference TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('AcceptedSettlementCompleted')),
  created_at TEXT NOT NULL,
  -- The PaymentView as first answered (JSON): a replay answers exactly this.
  response TEXT NOT NULL,
  UNIQUE (client_id, idempotency_key)
);
CREATE INDEX bank_payments_debtor ON bank_payments (debtor_account_id, created_at);
