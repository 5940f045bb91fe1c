/**
 * The registration area's portal-side error codes (software products and their statements). Stable: pages
 * and tests switch on `code`. Bad form input is the shared `input.invalid` (InputError) with one message per
 * field; these are the refusals that do not depend on what was typed.
 */
import { AppError } from '../errors.js';

/** `registration.partner_not_active` (409): no approved, active partner behind this application. */
export function partnerNotActive(why: 'not_approved' | 'suspended'): AppError {
  return new AppError(
    'registration.partner_not_active',
    409,
    why === 'suspended'
      ? 'Your partnership is suspended: software products and statements are unavailable until the bank reinstates it.'
      : 'Software products can be declared once the application is approved.',
  );
}

/**
 * `registration.no_organization` (409): the partner has no organizationIdentifier from an approved QWAC, so a
 * statement could not name its `org_id` and no registration could ever match it.
 */
export function noOrganization(): AppError {
  return new AppError(
    'registration.no_organization',
    409,
    'Your approved QWAC carries no organisation identifier: software statements need one. Contact the bank.',
  );
}

/** `registration.software_revoked` (409): the product was revoked; it issues no statements and cannot be revoked again. */
export function softwareRevoked(): AppError {
  return new AppError(
    'registration.software_revoked',
    409,
    'This software product is revoked: it has no statements any more. Declare a new software product.',
  );
}

/** `registration.software_limit` (409): too many products for one partner. */
export function softwareLimit(max: number): AppError {
  return new AppError(
    'registration.software_limit',
    409,
    `You already have ${max} active software products: revoke one you no longer use before declaring another.`,
  );
}
