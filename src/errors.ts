/**
 * The error family. Every error the application raises on purpose carries a stable code, an HTTP status,
 * a message safe to show to the caller, and a private detail that goes to logs and audit only.
 */
export interface AppErrorOptions {
  /** For logs and audit only: never rendered or serialised to a client. */
  detail?: string;
  cause?: unknown;
}

export class AppError extends Error {
  readonly detail: string | undefined;

  constructor(
    /** Stable, dotted, documented: callers and tests switch on it. */
    readonly code: string,
    /** HTTP status. */
    readonly status: number,
    /** Safe to show to the caller. Never contains secrets or internal state. */
    message: string,
    opts: AppErrorOptions = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.detail = opts.detail;
  }

  /** Client errors are shown as they are; server errors are replaced by a generic message. */
  get expose(): boolean {
    return this.status < 500;
  }
}

export class InputError extends AppError {
  constructor(
    message: string,
    readonly fields: { path: string; message: string }[] = [],
    opts?: AppErrorOptions,
  ) {
    super('input.invalid', 400, message, opts);
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'Not found.', opts?: AppErrorOptions) {
    super('not_found', 404, message, opts);
  }
}

export class ForbiddenError extends AppError {
  constructor(code = 'auth.forbidden', message = 'You are not allowed to do this.', opts?: AppErrorOptions) {
    super(code, 403, message, opts);
  }
}

export class InternalError extends AppError {
  constructor(detail: string, cause?: unknown) {
    super('internal', 500, 'Something went wrong on our side. It has been logged.', { detail, cause });
  }
}

/** Any thrown value as an AppError: unknown errors become `internal` with the original kept as cause. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const status = (err as { status?: unknown } | null)?.status;
  const type = (err as { type?: unknown } | null)?.type;
  // body-parser style errors: bounded bodies and malformed JSON are the client's, not ours.
  if (status === 413 || type === 'entity.too.large') {
    return new AppError('input.too_large', 413, 'The request body is too large.', { cause: err });
  }
  if (status === 400 && type === 'entity.parse.failed') {
    return new AppError('input.malformed', 400, 'The request body could not be parsed.', { cause: err });
  }
  return new InternalError(err instanceof Error ? err.message : String(err), err);
}
