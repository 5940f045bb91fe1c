/**
 * CSRF defence for the cookie-authenticated pages: a synchronizer token kept in the session (32 random
 * bytes, base64url) that every unsafe request must echo in the `_csrf` field, plus an Origin check (a
 * browser sends Origin on cross-site POSTs; one that is not ours is refused before the token is read).
 *
 * `csrfProtection` runs globally after the session middleware. Multipart bodies are not parsed yet at that
 * point, so upload routes call `requireCsrf` themselves, after multer. A failure is `csrf.invalid` (403)
 * and nothing else of the request runs.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../../errors.js';

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `csrf.invalid` (403): the form's token is missing, wrong, from another session, or the request is cross-origin. */
export class CsrfError extends AppError {
  constructor(detail: string) {
    super('csrf.invalid', 403, 'This form has expired or did not come from this site. Go back, reload the page and try again.', {
      detail,
    });
  }
}

/** The session's token, created when missing. */
export function ensureCsrfToken(req: Request): string {
  if (!req.session) throw new Error('csrf: no session (the session middleware must run first)');
  req.session.csrf ??= randomBytes(32).toString('base64url');
  return req.session.csrf;
}

/** A new token (after sign-in the session is regenerated, so this happens by itself; also usable explicitly). */
export function rotateCsrfToken(req: Request): string {
  delete req.session.csrf;
  return ensureCsrfToken(req);
}

function crossOrigin(req: Request): string | null {
  const origin = req.get('origin');
  // Browsers send `Origin: null` for privacy-sensitive contexts; then only fetch metadata can vouch for it.
  if (origin === 'null') return req.get('sec-fetch-site') === 'same-origin' ? null : 'Origin: null from another context';
  if (origin !== undefined) {
    const own = `${req.protocol}://${req.get('host') ?? ''}`;
    if (origin.toLowerCase() !== own.toLowerCase()) return `foreign Origin ${origin.slice(0, 100)}`;
  }
  // Fetch metadata, where browsers send it: a cross-site form post is never ours.
  if (req.get('sec-fetch-site') === 'cross-site') return 'Sec-Fetch-Site: cross-site';
  return null;
}

function tokenProblem(req: Request): string | null {
  const expected = req.session?.csrf;
  const body = req.body as Record<string, unknown> | undefined;
  const given = body && typeof body === 'object' ? body._csrf : undefined;
  if (typeof expected !== 'string' || !expected) return 'no token in the session';
  if (typeof given !== 'string' || !given) return 'no token in the form';
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return 'token mismatch';
  return null;
}

/** Global check for every unsafe method (multipart: the Origin part only; the route calls requireCsrf). */
export function csrfProtection(req: Request, _res: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(req.method)) return next();
  const origin = crossOrigin(req);
  if (origin) return next(new CsrfError(origin));
  if (req.is('multipart/form-data')) return next();
  const problem = tokenProblem(req);
  next(problem ? new CsrfError(problem) : undefined);
}

/** For upload routes, after multer has parsed the body: the token (and Origin) check. */
export function requireCsrf(req: Request, _res: Response, next: NextFunction): void {
  const problem = crossOrigin(req) ?? tokenProblem(req);
  next(problem ? new CsrfError(problem) : undefined);
}
