/**
 * The banking area's error codes. Stable: partners' servers and tests switch on `code`. The API answers them
 * as `{ error: code, error_description: message }` with Cache-Control: no-store (src/banking/routes.ts), like
 * the bound-token guard's answers.
 *
 * Idempotency: the same `x-idempotency-key` with another body is 422, as the IETF Idempotency-Key draft
 * (draft-ietf-httpapi-idempotency-key-header §2.7) answers a reused key; UK OB only asks for a 4xx.
 */
import { AppError } from '../errors.js';

/** `banking.account_not_found` (404). */
export function accountNotFound(): AppError {
  return new AppError('banking.account_not_found', 404, 'There is no such account.');
}

/** `payment.not_found` (404): unknown, or another client's (not told apart). */
export function paymentNotFound(): AppError {
  return new AppError('payment.not_found', 404, 'There is no such payment.');
}

/** `payment.idempotency_key_invalid` (400): the header is missing, repeated, empty or longer than 40 characters. */
export function idempotencyKeyInvalid(): AppError {
  return new AppError(
    'payment.idempotency_key_invalid',
    400,
    'Send one x-idempotency-key header of 1 to 40 visible ASCII characters, unique per payment you submit.',
  );
}

/** `payment.idempotency_conflict` (422): this key was used for a request with another body. */
export function idempotencyConflict(): AppError {
  return new AppError(
    'payment.idempotency_conflict',
    422,
    'This x-idempotency-key was already used for a different request: use a new key for a new payment.',
  );
}

/** `payment.consent_consumed` (409): the consent already paid once. */
export function consentConsumed(): AppError {
  return new AppError('payment.consent_consumed', 409, 'This payment consent has already been used for a payment.');
}

/** `payment.consent_invalid` (400, as UK OB answers a consent in the wrong status): it cannot pay now. */
export function consentInvalid(detail: string): AppError {
  return new AppError('payment.consent_invalid', 400, 'The consent is not an authorised domestic payment consent of this client.', {
    detail,
  });
}

/** `payment.consent_mismatch` (400): Data.ConsentId is not the consent the access token was issued for. */
export function consentMismatch(): AppError {
  return new AppError('payment.consent_mismatch', 400, 'Data.ConsentId is not the consent this access token was issued for.');
}

/** `payment.initiation_mismatch` (400): the Initiation differs from the one the customer approved. */
export function initiationMismatch(fields: string[]): AppError {
  return new AppError(
    'payment.initiation_mismatch',
    400,
    'Data.Initiation must be exactly the Initiation of the consent the customer approved.',
    { detail: `differs in ${fields.join(', ')}` },
  );
}

/** `payment.insufficient_funds` (422). */
export function insufficientFunds(): AppError {
  return new AppError('payment.insufficient_funds', 422, 'The debtor account does not have enough available funds for this payment.');
}

/** `consent.account_not_granted` (403): the customer did not choose this account for the consent. */
export function accountNotGranted(): AppError {
  return new AppError('consent.account_not_granted', 403, 'The consent does not cover this account.');
}

/** `consent.permission_missing` (403): the consent lacks the permission this endpoint needs. */
export function permissionMissing(needed: string): AppError {
  return new AppError('consent.permission_missing', 403, `The consent does not include the permission this endpoint needs: ${needed}.`);
}
