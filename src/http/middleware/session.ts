/**
 * The session stack for the pages listener, in order: form bodies, express-session (SQLite store),
 * passport (session restore), session lifetime rules, the view locals, then the CSRF check.
 *
 * Cookie `__Host-portal.sid`: Secure, HttpOnly, SameSite=Lax, Path=/, no Domain (the `__Host-` prefix makes
 * browsers enforce the last three). Lifetime: idle 30 min for staff, 60 min for applicants, 5 min for bank
 * customers (rolling), and 12 h at most after sign-in whatever the activity. The session id is renewed at sign-in (passport 0.7
 * regenerates it) and at password change; sign-out destroys the server-side row.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import session from 'express-session';
import { passportFor } from '../../accounts/passport.js';
import type { AccountsService } from '../../accounts/service.js';
import type { SessionUser, UserKind } from '../../accounts/types.js';
import type { StaffRole } from '../../partners/types.js';
import type { Db } from '../../store/database.js';
import { SqliteSessionStore } from '../../store/sqlite/sessions.js';
import type { Transactor } from '../../store/transaction.js';
import { csrfProtection, ensureCsrfToken } from './csrf.js';

export const SESSION_COOKIE = '__Host-portal.sid';
export const IDLE_MS: Record<UserKind | 'anonymous', number> = {
  staff: 30 * 60 * 1000,
  applicant: 60 * 60 * 1000,
  // PSD2 RTS on SCA, art. 4(3)(d): at most 5 minutes without activity once a payer is authenticated online.
  customer: 5 * 60 * 1000,
  anonymous: 60 * 60 * 1000,
};
export const ABSOLUTE_MS = 12 * 60 * 60 * 1000;

export interface Flash {
  kind: 'ok' | 'error';
  text: string;
}

/** A sign-in between its password step and its completion (never a signed-in session). */
export interface PendingLogin {
  userId: string;
  kind: UserKind;
  /** Epoch ms when the password was accepted; the pending state expires after a few minutes. */
  at: number;
  /** What comes next: a code, the TOTP enrolment, or the change of a temporary password. */
  stage: 'totp' | 'enrol' | 'password';
  mustChangePassword: boolean;
  /** Where to go once signed in (already checked to be a safe local path). */
  next: string | null;
}

declare module 'express-session' {
  interface SessionData {
    csrf: string;
    flash: Flash[];
    /** Set at sign-in: when (absolute lifetime) and the password stamp it was made under. */
    auth: { at: number; stamp: string | null };
    pendingLogin: PendingLogin;
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- passport's user type is augmented this way
  namespace Express {
    interface User {
      id: string;
      kind: UserKind;
      email: string;
      displayName: string;
      roles: StaffRole[];
    }
  }
}

export interface SessionDeps {
  db: Db;
  tx: Transactor;
  config: { sessionSecret: string; env: string };
  accounts: AccountsService;
  /**
   * Clock of the absolute-lifetime check (epoch ms; tests move it). Cookie and store expiry follow
   * express-session's own clock (Date.now), so the idle timeout is not affected by it.
   */
  now?: () => number;
}

/** Queues a message for the next page this session renders (read once). */
export function setFlash(req: Request, kind: Flash['kind'], text: string): void {
  if (!req.session) return;
  req.session.flash = [...(req.session.flash ?? []), { kind, text }].slice(-5);
}

function setLifetime(req: Request, ms: number): void {
  // Setting maxAge also sets originalMaxAge, which `rolling` re-applies on every response.
  req.session.cookie.maxAge = Math.max(1000, Math.floor(ms));
}

/**
 * Completes a sign-in: passport regenerates the session (a fixed or stolen pre-login id is worth nothing),
 * then the sign-in time and password stamp are recorded and the kind's idle lifetime applied. The CSRF
 * token of the old session is gone with it; a new one is issued with the next page.
 */
export function establishSession(req: Request, user: SessionUser, stamp: string | null, now: number): Promise<void> {
  return new Promise((resolve, reject) => {
    req.login(user, (err?: unknown) => {
      if (err) return reject(err);
      req.session.auth = { at: now, stamp };
      setLifetime(req, IDLE_MS[user.kind]);
      resolve();
    });
  });
}

/** Signs out: the server-side session row is destroyed and a fresh anonymous session takes its place. */
export function endSession(req: Request): Promise<void> {
  return new Promise((resolve, reject) => {
    req.logout((err?: unknown) => (err ? reject(err) : resolve()));
  });
}

function shapeUser(u: Express.User): SessionUser {
  return { id: u.id, kind: u.kind, email: u.email, displayName: u.displayName, roles: [...u.roles] };
}

export function createSessionMiddleware(deps: SessionDeps): RequestHandler[] {
  const now = deps.now ?? Date.now;
  const store = new SqliteSessionStore(deps.db, deps.tx);
  const passport = passportFor(deps.accounts);

  const sessionHandler = session({
    name: SESSION_COOKIE,
    secret: deps.config.sessionSecret,
    store,
    resave: false,
    // No row and no cookie until something is stored (a CSRF token for a rendered form, a sign-in).
    saveUninitialized: false,
    rolling: true,
    unset: 'destroy',
    cookie: { secure: true, httpOnly: true, sameSite: 'lax', path: '/', maxAge: IDLE_MS.anonymous },
  });

  /** Absolute lifetime, the kind's idle lifetime, and no caching of signed-in pages. */
  function lifetime(req: Request, res: Response, next: NextFunction): void {
    if (!req.user) return next();
    const t = now();
    const at = req.session.auth?.at ?? 0;
    if (t - at >= ABSOLUTE_MS) {
      endSession(req).then(() => {
        setFlash(req, 'error', 'Your session ended after 12 hours. Sign in again.');
        next();
      }, next);
      return;
    }
    setLifetime(req, Math.min(IDLE_MS[req.user.kind], at + ABSOLUTE_MS - t));
    res.setHeader('Cache-Control', 'no-store');
    next();
  }

  /**
   * View locals. `csrfToken` and `flash` are resolved when a page renders (Express copies res.locals then),
   * so redirects do not consume flash messages and anonymous requests that render nothing get no session.
   */
  function locals(req: Request, res: Response, next: NextFunction): void {
    res.locals.currentUser = req.user ? shapeUser(req.user) : null;
    let token: string | undefined;
    Object.defineProperty(res.locals, 'csrfToken', {
      enumerable: true,
      configurable: true,
      get(): string {
        if (token !== undefined) return token;
        // Error pages for anonymous visitors have no form: no session is created for them. (Signed-in users
        // always get a token: every page has their sign-out form.)
        if (!req.session.csrf && res.statusCode >= 400 && !req.user) return (token = '');
        token = ensureCsrfToken(req);
        if (!res.headersSent) res.setHeader('Cache-Control', 'no-store');
        return token;
      },
    });
    let flash: Flash[] | undefined;
    Object.defineProperty(res.locals, 'flash', {
      enumerable: true,
      configurable: true,
      get(): Flash[] {
        if (flash !== undefined) return flash;
        flash = req.session.flash ?? [];
        if (req.session.flash) delete req.session.flash;
        return flash;
      },
    });
    next();
  }

  return [
    express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 200 }),
    sessionHandler,
    passport.initialize(),
    passport.session(),
    lifetime,
    locals,
    csrfProtection,
  ];
}
