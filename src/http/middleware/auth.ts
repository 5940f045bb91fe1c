/**
 * Route guards for applicants, staff and bank customers. Not signed in: a redirect to the right sign-in
 * page (with `next` for a safe local GET path). Signed in as the wrong kind: 403 `auth.forbidden`. Staff
 * without a needed role: 403 `auth.role_required`.
 */
import type { NextFunction, Request, Response } from 'express';
import type { UserKind } from '../../accounts/types.js';
import { AppError, ForbiddenError } from '../../errors.js';
import type { ActorRef, StaffRole } from '../../partners/types.js';

/** Which side of the portal a local path belongs to: `/staff…` staff, `/customer…` customers, else applicants. */
function sideOf(path: string): UserKind {
  const under = (prefix: string) => path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`);
  if (under('/staff')) return 'staff';
  return under('/customer') ? 'customer' : 'applicant';
}

const LOGIN_PATH: Record<UserKind, string> = { applicant: '/login', staff: '/staff/login', customer: '/customer/login' };

/** `next` targets must be local paths of the user's own side: no scheme, no `//host`, no backslashes. */
export function safeNext(raw: unknown, kind: UserKind): string | null {
  if (typeof raw !== 'string' || raw.length > 1000) return null;
  if (!raw.startsWith('/') || raw.startsWith('//') || /[\\\p{Cc}\s]/u.test(raw)) return null;
  if (sideOf(raw) !== kind) return null;
  // Sign-in and sign-out pages are never a destination.
  if (/^\/(staff\/|customer\/)?(login|logout|signup|enrol)(\/|\?|$)/.test(raw)) return null;
  return raw;
}

function toLogin(req: Request, res: Response, kind: UserKind): void {
  const base = LOGIN_PATH[kind];
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

/** Bank customers only (the consent centre); applicants and staff get 403 like on each other's pages. */
export function requireCustomer(req: Request, res: Response, next: NextFunction): void {
  if (!req.user) return toLogin(req, res, 'customer');
  if (req.user.kind !== 'customer') return next(new ForbiddenError('auth.forbidden', 'This page is for bank customers.'));
  next();
}

/** Any signed-in user (pages the kinds share, such as the password change). */
export function requireSignedIn(req: Request, res: Response, next: NextFunction): void {
  if (!req.user) return toLogin(req, res, sideOf(req.originalUrl));
  next();
}

/** The signed-in user as the services' actor. `auth.required` (401) when nobody is signed in. */
export function actorFrom(req: Request): ActorRef {
  const u = req.user;
  if (!u) throw new AppError('auth.required', 401, 'Sign in first.');
  // Roles are staff's only: an applicant's or a customer's actor never carries any.
  return { id: u.id, kind: u.kind, label: u.email, roles: u.kind === 'staff' ? [...u.roles] : [], ip: req.ip ?? null };
}
