/**
 * The consent area's error codes. Stable: partners' servers, the OAuth interactions and tests switch on
 * `code`. The partner API answers them as `{ error: code, error_description: message }` (plus `errors`, the
 * offending fields, for request errors) with Cache-Control: no-store, like the bound-token guard.
 *
 *   consent.invalid_request          400  the body is not a UK OB consent request (shape, types, sizes, unknown fields)
 *   consent.permission_unknown       400  a permission that is not a UK OB account-access permission we offer
 *   consent.permissions_incomplete   400  ReadTransactionsBasic/Detail without Credits/Debits, or the other way round
 *   consent.expiry_invalid           400  ExpirationDateTime in the past or more than 180 days ahead
 *   consent.transaction_window_invalid 400 TransactionFromDateTime after TransactionToDateTime, or not a date-time
 *   consent.amount_invalid           400  not a positive amount with at most the currency's 2 decimals
 *   consent.currency_unsupported     400  a currency other than EUR or GBP
 *   consent.iban_invalid             400  the creditor's IBAN fails the ISO 13616 check (mod 97)
 *   consent.idempotency_key_invalid  400  x-idempotency-key not 1-40 visible ASCII characters
 *   consent.idempotency_conflict     422  the key was used for another request
 *   consent.not_found                404  unknown, or another client's (never told apart)
 *   consent.delete_not_supported     405  payment consents cannot be deleted (UK OB has no such endpoint)
 *   consent.invalid_status           409  the change is not allowed from the consent's current status
 *   consent.expired                  409  past its expiry (authorise)
 *   consent.account_not_owned        403  an account the customer does not hold
 *   consent.accounts_invalid         400  no account, duplicates, or not exactly one for a payment
 *   consent.grant_conflict           409  the grant is already linked to another consent
 */
import { AppError, type AppErrorOptions } from '../errors.js';

export interface FieldProblem {
  path: string;
  message: string;
}

/** A consent request refused for its content: the code says which rule, `fields` say where. */
export class ConsentRequestError extends AppError {
  constructor(
    code: string,
    message: string,
    readonly fields: FieldProblem[] = [],
    opts?: AppErrorOptions,
  ) {
    super(code, 400, message, opts);
  }
}

export function invalidRequest(fields: FieldProblem[]): ConsentRequestError {
  return new ConsentRequestError('consent.invalid_request', 'The consent request is not valid: see errors for each field.', fields);
}

export function consentNotFound(): AppError {
  return new AppError('consent.not_found', 404, 'There is no such consent.');
}

export function invalidStatus(status: string, wanted: string, detail?: string): AppError {
  return new AppError('consent.invalid_status', 409, `The consent is ${status.replace(/_/g, ' ')}: it cannot be ${wanted}.`, {
    ...(detail === undefined ? {} : { detail }),
  });
}

export function consentExpired(): AppError {
  return new AppError('consent.expired', 409, 'The consent has expired: the partner must ask for a new one.');
}

export function deleteNotSupported(): AppError {
  return new AppError('consent.delete_not_supported', 405, 'Payment consents cannot be deleted: an unused one simply is not executed.');
}

export function accountNotOwned(): AppError {
  return new AppError('consent.account_not_owned', 403, 'You can only choose your own accounts.');
}

export function accountsInvalid(message: string): AppError {
  return new AppError('consent.accounts_invalid', 400, message);
}

export function idempotencyKeyInvalid(): AppError {
  return new AppError(
    'consent.idempotency_key_invalid',
    400,
    'Send at most one x-idempotency-key header of 1 to 40 visible ASCII characters, unique per consent you create.',
  );
}

export function idempotencyConflict(): AppError {
  return new AppError(
    'consent.idempotency_conflict',
    422,
    'This x-idempotency-key was already used for a different request: use a new key for a new consent.',
  );
}

export function grantConflict(): AppError {
  return new AppError('consent.grant_conflict', 409, 'This authorisation is already linked to another consent.');
}
