/**
 * The accounts area's error codes. Messages are safe to show; none says whether an e-mail has an account.
 */
import { AppError, type AppErrorOptions } from '../errors.js';

/** `accounts.login_failed` (401): unknown e-mail, wrong password or disabled account, indistinguishably. */
export class LoginFailedError extends AppError {
  constructor(opts?: AppErrorOptions) {
    super('accounts.login_failed', 401, 'The e-mail or password is not right.', opts);
  }
}

/**
 * `accounts.login_throttled` (429): too many failed attempts for this account or from this address.
 * `retryAfterSeconds` goes into the Retry-After header.
 */
export class ThrottledError extends AppError {
  constructor(
    readonly retryAfterSeconds: number,
    opts?: AppErrorOptions,
  ) {
    super(
      'accounts.login_throttled',
      429,
      `Too many failed attempts. Try again in ${Math.max(1, Math.ceil(retryAfterSeconds / 60))} minute(s).`,
      opts,
    );
  }
}

/** `accounts.totp_invalid` (401): the code is wrong, outside the ±30 s window, or already used. */
export class TotpInvalidError extends AppError {
  constructor(opts?: AppErrorOptions) {
    super('accounts.totp_invalid', 401, 'That code is not right. Enter the current 6-digit code from your authenticator app.', opts);
  }
}

/** `accounts.signup_refused` (409): the e-mail cannot be used to sign up (it already has an account). */
export class SignupRefusedError extends AppError {
  constructor(opts?: AppErrorOptions) {
    super('accounts.signup_refused', 409, 'An account cannot be created with this e-mail. If you already have one, sign in.', opts);
  }
}

/** `accounts.staff_exists` (409): a staff account with this e-mail exists. */
export class StaffExistsError extends AppError {
  constructor(opts?: AppErrorOptions) {
    super('accounts.staff_exists', 409, 'A staff account with this e-mail already exists.', opts);
  }
}

/** `accounts.customer_exists` (409): a customer with this e-mail exists (seeding a customer twice). */
export class CustomerExistsError extends AppError {
  constructor(opts?: AppErrorOptions) {
    super('accounts.customer_exists', 409, 'A customer with this e-mail already exists.', opts);
  }
}

/** `accounts.password_incorrect` (400): the current password given for a change is wrong. */
export class PasswordIncorrectError extends AppError {
  constructor(opts?: AppErrorOptions) {
    super('accounts.password_incorrect', 400, 'The current password is not right.', opts);
  }
}

/** `accounts.totp_already_enrolled` (409): enrolment was asked for an account that has TOTP already. */
export class TotpAlreadyEnrolledError extends AppError {
  constructor(opts?: AppErrorOptions) {
    super('accounts.totp_already_enrolled', 409, 'Two-factor sign-in is already set up for this account.', opts);
  }
}

/** `accounts.self_change_refused` (409): an admin tried to remove their own admin role or disable themselves. */
export class SelfChangeRefusedError extends AppError {
  constructor(message: string, opts?: AppErrorOptions) {
    super('accounts.self_change_refused', 409, message, opts);
  }
}

/** `accounts.last_admin` (409): the change would leave no active admin. */
export class LastAdminError extends AppError {
  constructor(opts?: AppErrorOptions) {
    super('accounts.last_admin', 409, 'At least one active admin must remain.', opts);
  }
}

/** `accounts.login_expired` (400): the half-finished sign-in (password done, code pending) expired. */
export class LoginExpiredError extends AppError {
  constructor(opts?: AppErrorOptions) {
    super('accounts.login_expired', 400, 'Your sign-in took too long. Start again.', opts);
  }
}
