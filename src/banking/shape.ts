/**
 * UK Open Banking Read/Write API v3.1 response bodies, shaped per consent permission (pure functions). Only
 * what a permission allows leaves the bank (OWASP API3, excessive data exposure): each field is added on
 * purpose, never copied from a row.
 *
 *   ReadAccountsBasic        AccountId, Currency, AccountType, AccountSubType, Nickname
 *   ReadAccountsDetail       + Account[{ SchemeName: UK.OBIE.IBAN, Identification, Name }]
 *   ReadBalances             the balances endpoint
 *   ReadTransactionsBasic    TransactionId, dates, amount, direction, status
 *   ReadTransactionsDetail   + TransactionReference, TransactionInformation (the counterparty's name), the
 *                              running Balance and the counterparty's account (Creditor/DebtorAccount), as
 *                              UK OB lists them among the fields Basic excludes
 *   ReadTransactionsCredits / ReadTransactionsDebits  which transactions appear at all
 */
import type { AccountPermission, PaymentInstruction } from '../consent/types.js';
import type { BalanceView, BankAccountView, PaymentView, TransactionView } from './types.js';

export const IBAN_SCHEME = 'UK.OBIE.IBAN';

type Links = { Self: string };

export interface ObAccount {
  AccountId: string;
  Currency: string;
  AccountType: 'Personal';
  AccountSubType: BankAccountView['subType'];
  Nickname: string;
  Account?: { SchemeName: string; Identification: string; Name: string }[];
}

export interface ObInitiation {
  InstructionIdentification: string;
  EndToEndIdentification: string;
  InstructedAmount: { Amount: string; Currency: string };
  CreditorAccount: { SchemeName: string; Identification: string; Name: string };
  RemittanceInformation?: { Reference: string };
}

const has = (permissions: readonly AccountPermission[], p: AccountPermission) => permissions.includes(p);

/** The account permissions that let a partner list or read accounts. */
export const ACCOUNT_READ: readonly AccountPermission[] = ['ReadAccountsBasic', 'ReadAccountsDetail'];
export const TRANSACTION_READ: readonly AccountPermission[] = ['ReadTransactionsBasic', 'ReadTransactionsDetail'];

export function canReadAccounts(permissions: readonly AccountPermission[]): boolean {
  return ACCOUNT_READ.some((p) => has(permissions, p));
}

/**
 * Which transactions the permissions show: 'all', only 'Credit' or 'Debit', or null for none (no Basic/Detail,
 * or neither Credits nor Debits: UK OB pairs them, so one without the other opens nothing).
 */
export function transactionScope(permissions: readonly AccountPermission[]): 'all' | 'Credit' | 'Debit' | null {
  if (!TRANSACTION_READ.some((p) => has(permissions, p))) return null;
  const credits = has(permissions, 'ReadTransactionsCredits');
  const debits = has(permissions, 'ReadTransactionsDebits');
  if (credits && debits) return 'all';
  if (credits) return 'Credit';
  if (debits) return 'Debit';
  return null;
}

export function shapeAccount(a: BankAccountView, permissions: readonly AccountPermission[]): ObAccount {
  const out: ObAccount = {
    AccountId: a.id,
    Currency: a.currency,
    AccountType: 'Personal',
    AccountSubType: a.subType,
    Nickname: a.nickname,
  };
  if (has(permissions, 'ReadAccountsDetail')) out.Account = [{ SchemeName: IBAN_SCHEME, Identification: a.iban, Name: a.holderName }];
  return out;
}

/** `{ Data: { Account: [...] }, Links, Meta }`; no account permission → an empty list (the route refuses first). */
export function shapeAccounts(accounts: readonly BankAccountView[], permissions: readonly AccountPermission[], self: string) {
  const shown = canReadAccounts(permissions) ? accounts.map((a) => shapeAccount(a, permissions)) : [];
  return { Data: { Account: shown }, Links: { Self: self } as Links, Meta: { TotalPages: 1 } };
}

export function shapeBalances(balances: readonly BalanceView[], permissions: readonly AccountPermission[], self: string) {
  const shown = has(permissions, 'ReadBalances')
    ? balances.map((b) => ({
        AccountId: b.accountId,
        Amount: { Amount: b.amount, Currency: b.currency },
        CreditDebitIndicator: b.creditDebitIndicator,
        Type: b.type,
        DateTime: b.at,
      }))
    : [];
  return { Data: { Balance: shown }, Links: { Self: self } as Links, Meta: { TotalPages: 1 } };
}

function shapeTransaction(t: TransactionView, detail: boolean) {
  const out: Record<string, unknown> = {
    AccountId: t.accountId,
    TransactionId: t.id,
    CreditDebitIndicator: t.creditDebitIndicator,
    Status: t.status,
    BookingDateTime: t.bookedAt,
    Amount: { Amount: t.amount, Currency: t.currency },
  };
  if (!detail) return out;
  out.TransactionReference = t.reference;
  out.TransactionInformation = t.counterpartyName;
  const negative = t.balanceAfter.startsWith('-');
  out.Balance = {
    Amount: { Amount: negative ? t.balanceAfter.slice(1) : t.balanceAfter, Currency: t.currency },
    CreditDebitIndicator: negative ? 'Debit' : 'Credit',
    Type: 'InterimBooked',
  };
  if (t.counterpartyIban) {
    // The other party: who was paid for a debit, who paid for a credit.
    const party = { SchemeName: IBAN_SCHEME, Identification: t.counterpartyIban, Name: t.counterpartyName };
    if (t.creditDebitIndicator === 'Debit') out.CreditorAccount = party;
    else out.DebtorAccount = party;
  }
  return out;
}

/** Filters by Credits/Debits and adds the detail fields only with ReadTransactionsDetail. */
export function shapeTransactions(transactions: readonly TransactionView[], permissions: readonly AccountPermission[], self: string) {
  const scope = transactionScope(permissions);
  const detail = has(permissions, 'ReadTransactionsDetail');
  const shown = scope === null ? [] : transactions.filter((t) => scope === 'all' || t.creditDebitIndicator === scope).map((t) => shapeTransaction(t, detail));
  return { Data: { Transaction: shown }, Links: { Self: self } as Links, Meta: { TotalPages: 1 } };
}

/** The UK OB Initiation of a consent's instruction: what a payment submission must repeat exactly. */
export function initiationOf(p: PaymentInstruction): ObInitiation {
  const out: ObInitiation = {
    InstructionIdentification: p.instructionIdentification,
    EndToEndIdentification: p.endToEndIdentification,
    InstructedAmount: { Amount: p.amount, Currency: p.currency },
    CreditorAccount: { SchemeName: IBAN_SCHEME, Identification: p.creditorAccount.identification, Name: p.creditorAccount.name },
  };
  if (p.reference !== '') out.RemittanceInformation = { Reference: p.reference };
  return out;
}

/** The domestic-payment resource (POST answer and GET), UK OB v3.1 OBWriteDomesticResponse. */
export function shapePayment(p: PaymentView) {
  const initiation: ObInitiation = {
    InstructionIdentification: p.instructionIdentification,
    EndToEndIdentification: p.endToEndIdentification,
    InstructedAmount: { Amount: p.amount, Currency: p.currency },
    CreditorAccount: { SchemeName: IBAN_SCHEME, Identification: p.creditorIban, Name: p.creditorName },
  };
  if (p.reference !== '') initiation.RemittanceInformation = { Reference: p.reference };
  return {
    Data: {
      DomesticPaymentId: p.id,
      ConsentId: p.consentId,
      Status: p.status,
      CreationDateTime: p.createdAt,
      StatusUpdateDateTime: p.createdAt,
      Initiation: initiation,
    },
    Links: { Self: `/api/v1/domestic-payments/${encodeURIComponent(p.id)}` } as Links,
    Meta: {},
  };
}
