/**
 * Money as integer minor units, parsed from and written as decimal strings without ever passing through a
 * float: "0.10" + "0.20" must be exactly 30 cents. Every currency the demo bank keeps (EUR) has two decimals.
 */
import { AppError } from '../errors.js';

/** UK OB ActiveOrHistoricCurrencyAndAmount allows 13 integer digits; we allow at most the currency's 2 decimals. */
const AMOUNT = /^(\d{1,13})(?:\.(\d{1,2}))?$/;

/** `banking.amount_invalid` (400): not a positive decimal with at most two decimals. */
export function amountInvalid(value: string): AppError {
  return new AppError('banking.amount_invalid', 400, 'The amount must be a positive decimal number with at most two decimals, e.g. "12.50".', {
    detail: `amount ${JSON.stringify(value.slice(0, 40))}`,
  });
}

/** "12.5" → 1250. Throws `banking.amount_invalid` for anything else than a positive amount with ≤ 2 decimals. */
export function parseAmountMinor(value: string): number {
  const m = typeof value === 'string' ? AMOUNT.exec(value) : null;
  if (!m) throw amountInvalid(String(value));
  const minor = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  // 13 + 2 digits stay below 2^53: still checked, since a wrong total here would move the wrong money.
  if (!Number.isSafeInteger(minor) || minor <= 0) throw amountInvalid(value);
  return minor;
}

/** 1250 → "12.50"; the sign is dropped (UK OB carries it as CreditDebitIndicator). */
export function formatMinor(minor: number): string {
  if (!Number.isSafeInteger(minor)) throw new TypeError(`formatMinor: not an integer: ${minor}`);
  const abs = Math.abs(minor);
  return `${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** 1250 → "12.50", -1250 → "-12.50" (a running balance, whose sign matters). */
export function formatSignedMinor(minor: number): string {
  return minor < 0 ? `-${formatMinor(minor)}` : formatMinor(minor);
}

/** Credit for zero and above, Debit below (balances). */
export function indicatorOf(minor: number): 'Credit' | 'Debit' {
  return minor < 0 ? 'Debit' : 'Credit';
}
