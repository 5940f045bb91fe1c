/**
 * Route guards. Not signed in: a redirect to the right sign-in page (with `next` for a safe local GET
 * path). Signed in as the wrong kind: 403 `auth.forbidden`. Staff without a needed role: 403
 * `auth.role_required`.
 */
import type { NextFunction, Request, Response } from 'express';
import type { UserKind } from '../../accounts/types.js';
import { AppError, ForbiddenError } from '../../errors.js';
import type { ActorRef, StaffRole } from '../../partners/types.js';

/** `next` targets must be local paths of the user's own side: no scheme, no `//host`, no backslashes. */
export function safeNext(raw: unknown, kind: UserKind): string | null {
  if (typeof raw !== 'string' || raw.length > 1000) return null;
  if (!raw.startsWith('/') || raw.startsWith('//') || /[\\\p{Cc}\s]/u.test(raw)) return null;
  const staffPath = raw === '/staff' || raw.startsWith('/staff/') || raw.startsWith('/staff?');
  if (kind === 'staff' ? !staffPath : staffPath) return null;
  // Sign-in and sign-out pages are never a destination.
  if (/^\/(staff\/)?(login|logout|signup|enrol)(\/|\?|$)/.test(raw)) return null;
  return raw;
}

function toLogin(req: Request, res: Response, kind: UserKind): void {
  const base = kind === 'staff' ? '/staff/login' : '/login';
  const next = req.method === 'GET' ? safeNext(req.originalUrl, kind) : null;
  res.redirect(302, next ? `${base}?next=${encodeURIComponent(next)}` : base);
}

export function requireApplicant(req: Request, res: Response, next: NextFunction): void {
  if (!req.user) return toLogin(req, res, 'applicant');
  if (req.user.kind !== 'applicant') return next(new ForbiddenError('auth.forbidden', 'This page is for applicants.'));
  next();
}

/** Staff only; with roles, the staff member needs at least one of them. */
export function requireStaff(...roles: StaffRole[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!req.user) return toLogin(req, res, 'staff');
    if (req.user.kind !== 'staff') return next(new ForbiddenError('auth.forbidden', 'This page is for bank staff.'));
    if (roles.length && !roles.some((r) => req.user!.roles.includes(r))) {
      return next(new ForbiddenError('auth.role_required', `This needs the ${roles.join(' or ')} role.`));
    }
    next();
  };
}

/** Any signed-in user (pages both kinds share, such as the password change). */
export function requireSignedIn(req: Request, res: Response, next: NextFunction): void {
  if (!req.user) return toLogin(req, res, req.originalUrl.startsWith('/staff') ? 'staff' : 'applicant');
  next();
}

/** The signed-in user as the services' actor. `auth.required` (401) when nobody is signed in. */
export function actorFrom(req: Request): ActorRef {
  const u = req.user;
  if (!u) throw new AppError('auth.required', 401, 'Sign in first.');
  return { id: u.id, kind: u.kind, label: u.email, roles: u.kind === 'staff' ? [...u.roles] : [], ip: req.ip ?? null };
}
