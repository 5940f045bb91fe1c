/**
 * The partners area's error codes. Each is stable: pages and tests switch on `code`. Messages are safe to
 * show to the person acting; `detail` (logs and audit only) carries anything internal.
 */
import { AppError, ForbiddenError } from '../errors.js';
import type { CertificateReport } from '../eidas/types.js';

/** `partners.illegal_transition` (409): the state machine has no such step from the current state. */
export class IllegalTransitionError extends AppError {
  constructor(message: string) {
    super('partners.illegal_transition', 409, message);
  }
}

/** `partners.not_editable` (409): profile, certificates, answers and evidence change only in draft or changes requested. */
export function notEditable(state: string): AppError {
  return new AppError(
    'partners.not_editable',
    409,
    `This application is ${stateWords(state)}: it can no longer be changed.`,
  );
}

/** `partners.submission_blocked` (409): submit or resubmit while something is missing; `blockers` says what. */
export class SubmissionBlockedError extends AppError {
  constructor(readonly blockers: string[]) {
    super('partners.submission_blocked', 409, `The application cannot be submitted yet: ${blockers.join(' ')}`);
  }
}

/** `partners.role_required` (403): the staff member lacks the role the decision needs (a reviewer trying to approve). */
export function roleRequired(role: string, what: string): AppError {
  return new ForbiddenError('partners.role_required', `Only a member of staff with the ${role} role can ${what}.`);
}

/** `partners.staff_only` (403): a staff operation called by someone who is not staff. */
export function staffOnly(): AppError {
  return new ForbiddenError('partners.staff_only', 'This is for the bank’s staff only.');
}

/** `partners.four_eyes` (403): the second approver must be neither the reviewer nor the first approver. */
export function fourEyes(): AppError {
  return new ForbiddenError(
    'partners.four_eyes',
    'A second approval must come from a different approver: not the reviewer and not the first approver.',
  );
}

/**
 * `partners.second_officer_required` (409): a partner suspended automatically (a revoked or expired certificate,
 * a withdrawn authorisation) comes back only when one officer proposes it and another approves
 * (the monitor page), never on one officer's word.
 */
export function secondOfficerRequired(): AppError {
  return new AppError(
    'partners.second_officer_required',
    409,
    'This partner was suspended automatically: one officer proposes the reinstatement on the monitor page and a different approver approves it.',
  );
}

/** `partners.knockout_needs_acceptance` (422): a knock-out answer is approved only with a written risk acceptance. */
export function knockoutNeedsAcceptance(questions: string[]): AppError {
  return new AppError(
    'partners.knockout_needs_acceptance',
    422,
    `The questionnaire has knock-out answers (${questions.join(', ')}): explain in the text why the risk is accepted.`,
  );
}

/** `partners.checks_failed` (409): approval refused because a certificate does not pass validation. */
export function checksFailed(problems: string[]): AppError {
  return new AppError('partners.checks_failed', 409, `This application cannot be approved: ${problems.join(' ')}`);
}

/** `partners.upload_too_large` (413): the file is over the limit for its slot. */
export function uploadTooLarge(limit: number): AppError {
  return new AppError('partners.upload_too_large', 413, `The file is too large: at most ${formatBytes(limit)} is accepted.`);
}

/** `partners.upload_type` (415): the file's content is not one of the accepted types (checked by its bytes, not its name). */
export function uploadType(accepted: string[]): AppError {
  return new AppError(
    'partners.upload_type',
    415,
    `This type of file is not accepted here. Accepted: ${accepted.map(mediaTypeWords).join(', ')}.`,
  );
}

/**
 * `partners.certificate_unreadable` (422): the upload holds no readable certificate. Nothing is stored;
 * `report` (the engine's findings with how to fix them) is there for the page.
 */
export class CertificateUnreadableError extends AppError {
  constructor(readonly report: CertificateReport) {
    super(
      'partners.certificate_unreadable',
      422,
      `The file could not be read as a certificate. ${report.findings[0]?.message ?? ''}`.trim(),
    );
  }
}

/** `partners.certificate_password` (422): a PKCS#12 file that the password given does not open. Nothing is stored. */
export function certificatePassword(missing: boolean): AppError {
  return new AppError(
    'partners.certificate_password',
    422,
    missing
      ? 'The PKCS#12 file is password-protected: give its export password, or upload the certificate alone as PEM or DER.'
      : 'The PKCS#12 file could not be opened with that password. Check the export password, or upload the certificate alone as PEM or DER.',
  );
}

export function stateWords(state: string): string {
  return state.replace(/_/g, ' ');
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${Math.round((n / (1024 * 1024)) * 10) / 10} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} bytes`;
}

const MEDIA_WORDS: Record<string, string> = {
  'application/pdf': 'PDF',
  'image/png': 'PNG image',
  'image/jpeg': 'JPEG image',
  'text/plain': 'plain text',
};

export function mediaTypeWords(t: string): string {
  return MEDIA_WORDS[t] ?? t;
}

/**
 * `renewal.*` (422): a renewed certificate that may not replace the approved one (the failed check's code,
 * src/partners/checks.ts RENEWAL_CHECKS). Nothing is stored; `report` is the renewed certificate's, for the page.
 */
export class RenewalRefusedError extends AppError {
  constructor(
    code: string,
    message: string,
    readonly fix: string,
    readonly report: CertificateReport,
  ) {
    super(code, 422, message);
  }
}

/** `renewal.not_approved` (409): only an approved partner renews certificates; an application in progress replaces them. */
export function renewalNotApproved(state: string): AppError {
  return new AppError(
    'renewal.not_approved',
    409,
    `This application is ${stateWords(state)}: certificates are renewed once the bank has approved you. Until then, upload the new certificate in its slot.`,
  );
}

/** `renewal.nothing_to_renew` (409): the partner has no approved certificate of that kind to replace. */
export function nothingToRenew(kind: string): AppError {
  return new AppError(
    'renewal.nothing_to_renew',
    409,
    `You have no approved ${kind === 'qwac' ? 'QWAC' : 'QSealC'} to renew. Ask the bank to add one to your approval.`,
  );
}
