/**
 * The partner's consent requests (UK Open Banking v3.1 OBReadConsent1 and OBWriteDomesticConsent), read in
 * two passes: a strict zod schema for the shape (unknown members refused, every string bounded, no control
 * characters) → `consent.invalid_request` with the fields; then the rules, each with its own code, so that a
 * partner's developer sees which rule failed, not just "invalid".
 *
 * The payment's strings are kept exactly as sent: the payment submission must repeat the same Initiation
 * (src/banking/routes.ts compares it member by member), so normalising "12.5" to "12.50" here would make an
 * honest submission a mismatch. Non-canonical forms are refused instead.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '../audit/canonical.js';
import { isValidIban } from '../banking/iban.js';
import { ConsentRequestError, invalidRequest, type FieldProblem } from './errors.js';
import { ACCOUNT_PERMISSIONS, type AccountPermission, type ConsentKind, type PaymentInstruction } from './types.js';

/** UK OB: an account-access consent lasts at most this long (the 180-day re-authentication of PSD2 RTS Art. 10). */
export const MAX_EXPIRY_DAYS = 180;
export const CURRENCIES = ['EUR', 'GBP'] as const;
/** UK OB CreditorAccount.SchemeName for an IBAN. */
export const IBAN_SCHEME = 'UK.OBIE.IBAN';

const TRANSACTION_DETAIL: readonly AccountPermission[] = ['ReadTransactionsBasic', 'ReadTransactionsDetail'];
const TRANSACTION_DIRECTION: readonly AccountPermission[] = ['ReadTransactionsCredits', 'ReadTransactionsDebits'];
const KNOWN: ReadonlySet<string> = new Set(ACCOUNT_PERMISSIONS);

/** Text the customer will read and partners echo: 1..max characters, no control characters. */
const text = (max: number) =>
  z
    .string()
    .min(1, 'Must not be empty.')
    .max(max, `At most ${max} characters.`)
    .regex(/^[^\p{Cc}]*$/u, 'Must not contain control characters.');

const dateTime = z.string().max(40, 'At most 40 characters.');
const risk = z.strictObject({}, { error: 'Risk must be an empty object.' });

const accountAccessSchema = z.strictObject({
  Data: z.strictObject({
    Permissions: z.array(z.string().max(64, 'At most 64 characters.')).min(1, 'Name at least one permission.').max(16, 'At most 16 permissions.'),
    ExpirationDateTime: dateTime.optional(),
    TransactionFromDateTime: dateTime.optional(),
    TransactionToDateTime: dateTime.optional(),
  }),
  Risk: risk,
});

const paymentSchema = z.strictObject({
  Data: z.strictObject({
    Initiation: z.strictObject({
      InstructionIdentification: text(35),
      EndToEndIdentification: text(35),
      InstructedAmount: z.strictObject({ Amount: z.string().max(32, 'At most 32 characters.'), Currency: z.string().max(8, 'At most 8 characters.') }),
      CreditorAccount: z.strictObject({
        SchemeName: z.literal(IBAN_SCHEME, { error: `Only ${IBAN_SCHEME} is supported.` }),
        Identification: z.string().max(64, 'At most 64 characters.'),
        Name: text(70),
      }),
      RemittanceInformation: z.strictObject({ Reference: text(35) }).optional(),
    }),
  }),
  Risk: risk,
});

export interface AccountAccessRequest {
  permissions: AccountPermission[];
  expiresAt: string | null;
  transactionFrom: string | null;
  transactionTo: string | null;
  /** SHA-256 (hex) of the canonical request: an idempotent replay must match it. */
  requestHash: string;
}

export interface PaymentRequest {
  payment: PaymentInstruction;
  requestHash: string;
}

function shapeProblems(error: z.ZodError): FieldProblem[] {
  // Bounded: a hostile body with thousands of members must not produce a thousand-line answer.
  return error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));
}

function requestHash(kind: ConsentKind, body: unknown): string {
  return createHash('sha256').update(canonicalJson({ kind, body })).digest('hex');
}

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An ISO 8601 date-time with a zone (UK OB ISODateTime) as UTC with milliseconds, or null when it is not
 * one or names a moment that does not exist (2026-02-30, 25:00).
 */
export function parseIsoDateTime(value: string): string | null {
  const m = ISO_DATE_TIME.exec(value);
  if (!m) return null;
  const [y, mo, d, h, mi, s, frac, zone] = [m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]];
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0)] as const;
  const t = Date.UTC(...parts, Number((frac ?? '0').slice(0, 3).padEnd(3, '0')));
  const back = new Date(t);
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
  const utc = t - offset;
  // Up to year 9999 only: toISOString would write +YYYYYY after it, breaking text order. (Years below 100 were
  // refused above: Date.UTC reads them as 19xx.)
  if (utc > Date.UTC(9999, 11, 31, 23, 59, 59, 999)) return null;
  return new Date(utc).toISOString();
}

/** Reads an account-access consent request; `now` bounds the expiry. */
export function readAccountAccessRequest(body: unknown, now: Date): AccountAccessRequest {
  const parsed = accountAccessSchema.safeParse(body);
  if (!parsed.success) throw invalidRequest(shapeProblems(parsed.error));
  const data = parsed.data.Data;

  const unknown = data.Permissions.map((p, i) => ({ p, i })).filter(({ p }) => !KNOWN.has(p));
  if (unknown.length > 0) {
    throw new ConsentRequestError(
      'consent.permission_unknown',
      `Unknown permission: use only ${ACCOUNT_PERMISSIONS.join(', ')}.`,
      unknown.map(({ p, i }) => ({ path: `Data.Permissions.${i}`, message: `${JSON.stringify(p)} is not a permission this bank offers.` })),
    );
  }
  const permissions = data.Permissions as AccountPermission[];
  const twice = permissions.findIndex((p, i) => permissions.indexOf(p) !== i);
  if (twice >= 0) throw invalidRequest([{ path: `Data.Permissions.${twice}`, message: `${permissions[twice]} is listed twice.` }]);

  const detail = permissions.some((p) => TRANSACTION_DETAIL.includes(p));
  const direction = permissions.some((p) => TRANSACTION_DIRECTION.includes(p));
  if (detail !== direction) {
    throw new ConsentRequestError(
      'consent.permissions_incomplete',
      detail
        ? 'ReadTransactionsBasic or ReadTransactionsDetail also needs ReadTransactionsCredits and/or ReadTransactionsDebits.'
        : 'ReadTransactionsCredits or ReadTransactionsDebits also needs ReadTransactionsBasic or ReadTransactionsDetail.',
      [{ path: 'Data.Permissions', message: 'Transactions need both what to show (Basic/Detail) and which direction (Credits/Debits).' }],
    );
  }

  let expiresAt: string | null = null;
  if (data.ExpirationDateTime !== undefined) {
    expiresAt = parseIsoDateTime(data.ExpirationDateTime);
    const latest = now.getTime() + MAX_EXPIRY_DAYS * 86_400_000;
    if (expiresAt === null || Date.parse(expiresAt) <= now.getTime() || Date.parse(expiresAt) > latest) {
      throw new ConsentRequestError(
        'consent.expiry_invalid',
        `ExpirationDateTime must be an ISO 8601 date-time with a zone, in the future and at most ${MAX_EXPIRY_DAYS} days ahead.`,
        [{ path: 'Data.ExpirationDateTime', message: expiresAt === null ? 'Not an ISO 8601 date-time with a zone.' : 'Out of range.' }],
      );
    }
  }

  const window = (value: string | undefined, path: string): string | null => {
    if (value === undefined) return null;
    const at = parseIsoDateTime(value);
    if (at === null) {
      throw new ConsentRequestError('consent.transaction_window_invalid', 'The transaction window must be ISO 8601 date-times with a zone.', [
        { path, message: 'Not an ISO 8601 date-time with a zone.' },
      ]);
    }
    return at;
  };
  const transactionFrom = window(data.TransactionFromDateTime, 'Data.TransactionFromDateTime');
  const transactionTo = window(data.TransactionToDateTime, 'Data.TransactionToDateTime');
  if (transactionFrom && transactionTo && transactionFrom > transactionTo) {
    throw new ConsentRequestError('consent.transaction_window_invalid', 'TransactionFromDateTime must not be after TransactionToDateTime.', [
      { path: 'Data.TransactionToDateTime', message: 'Before TransactionFromDateTime.' },
    ]);
  }
  if ((transactionFrom || transactionTo) && !detail) {
    throw new ConsentRequestError('consent.transaction_window_invalid', 'A transaction window only makes sense with transaction permissions.', [
      { path: 'Data.TransactionFromDateTime', message: 'No transaction permission is asked for.' },
    ]);
  }

  return { permissions, expiresAt, transactionFrom, transactionTo, requestHash: requestHash('account-access', parsed.data) };
}

/** Positive, at most 13 integer digits (UK OB) and 2 decimals (EUR, GBP), no leading zeros, no sign or exponent. */
const AMOUNT = /^(0|[1-9]\d{0,12})(\.\d{1,2})?$/;

/** Reads a domestic payment consent request. */
export function readPaymentRequest(body: unknown): PaymentRequest {
  const parsed = paymentSchema.safeParse(body);
  if (!parsed.success) throw invalidRequest(shapeProblems(parsed.error));
  const i = parsed.data.Data.Initiation;
  const { Amount: amount, Currency: currency } = i.InstructedAmount;

  if (!(CURRENCIES as readonly string[]).includes(currency)) {
    throw new ConsentRequestError('consent.currency_unsupported', `Payments are made in ${CURRENCIES.join(' or ')}.`, [
      { path: 'Data.Initiation.InstructedAmount.Currency', message: `Use ${CURRENCIES.join(' or ')}.` },
    ]);
  }
  if (!AMOUNT.test(amount) || /^0(\.0{1,2})?$/.test(amount)) {
    throw new ConsentRequestError(
      'consent.amount_invalid',
      `The amount must be a positive decimal number with at most 2 decimals for ${currency}, e.g. "12.50".`,
      [{ path: 'Data.Initiation.InstructedAmount.Amount', message: 'Not a positive amount with at most 2 decimals.' }],
    );
  }
  const iban = i.CreditorAccount.Identification;
  if (!isValidIban(iban)) {
    throw new ConsentRequestError(
      'consent.iban_invalid',
      'CreditorAccount.Identification must be a valid IBAN: capital letters and digits, no spaces, correct check digits.',
      [{ path: 'Data.Initiation.CreditorAccount.Identification', message: 'Not a valid IBAN.' }],
    );
  }
  return {
    payment: {
      instructionIdentification: i.InstructionIdentification,
      endToEndIdentification: i.EndToEndIdentification,
      amount,
      currency,
      creditorAccount: { schemeName: 'IBAN', identification: iban, name: i.CreditorAccount.Name },
      reference: i.RemittanceInformation?.Reference ?? '',
    },
    requestHash: requestHash('domestic-payment', parsed.data),
  };
}
