/**
 * The notifications area's error codes. Stable: pages and tests switch on `code`. Bad form input is the
 * shared `input.invalid` (InputError) with the message next to the field.
 */
import { AppError } from '../errors.js';

/** `notifications.partner_not_approved` (409): webhooks belong to an approved partner; this application has none. */
export function partnerNotApproved(): AppError {
  return new AppError(
    'notifications.partner_not_approved',
    409,
    'Webhooks can be registered once the application is approved and the partner exists.',
  );
}

/** `notifications.invalid_request` (500): a caller in the portal built a notification the outbox refuses (a bug, not input). */
export function invalidRequest(detail: string): AppError {
  return new AppError('notifications.invalid_request', 500, 'The notification could not be queued.', { detail });
}

/** `notifications.no_webhook` (409): a test event needs a registered webhook URL. */
export function noWebhook(): AppError {
  return new AppError('notifications.no_webhook', 409, 'Register your webhook URL first: the test event is sent there.');
}

/** `notifications.test_too_soon` (429): one test event a minute per partner. */
export function testTooSoon(): AppError {
  return new AppError('notifications.test_too_soon', 429, 'A test event was sent less than a minute ago: wait for it in the history below, then try again.');
}
