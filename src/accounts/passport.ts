/**
 * One passport instance per accounts service (not the global singleton, so that two apps in one process,
 * as in tests, keep their own serialisers). The session holds `{ id, kind }` only; each request reloads the
 * user, so a disabled account or a changed role takes effect on the next request.
 *
 * Step one of a sign-in runs through passport-local (`applicant-password`, `staff-password`,
 * `customer-password`); its "user" is the PasswordCheck, not a signed-in user: the session is only
 * established after the TOTP step.
 */
import type { Request } from 'express';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { AppError } from '../errors.js';
import type { AccountsService } from './service.js';
import type { UserKind } from './types.js';

/** Every kind (a Record, so a new kind cannot be forgotten), each with its own password strategy. */
const KINDS: Record<UserKind, true> = { applicant: true, staff: true, customer: true };
const USER_KINDS = Object.keys(KINDS) as UserKind[];

/** A session naming any other kind is no session. */
function isUserKind(v: unknown): v is UserKind {
  return (USER_KINDS as readonly unknown[]).includes(v);
}

const instances = new WeakMap<AccountsService, passport.Authenticator>();

export function passportFor(accounts: AccountsService): passport.Authenticator {
  const existing = instances.get(accounts);
  if (existing) return existing;
  const p = new passport.Passport();
  p.serializeUser((user, done) => done(null, { id: user.id, kind: user.kind }));
  type Done = (err: unknown, user?: Express.User | false) => void;
  const deserialize = (req: Request, ref: unknown, done: Done): void => {
    const r = ref as { id?: unknown; kind?: unknown } | null;
    if (!r || typeof r.id !== 'string' || !isUserKind(r.kind)) return done(null, false);
    accounts.resolveSession({ id: r.id, kind: r.kind }, req.session?.auth?.stamp).then(
      (user) => done(null, user ?? false),
      (err: unknown) => done(err),
    );
  };
  // passport 0.7 calls a three-argument deserializer as (req, serialized, done); @types/passport declares
  // the first two the other way round.
  p.deserializeUser(deserialize as unknown as (ref: unknown, req: Request, done: Done) => void);
  for (const kind of USER_KINDS) {
    p.use(
      `${kind}-password`,
      new LocalStrategy({ usernameField: 'email', passwordField: 'password', passReqToCallback: true }, (req, email, password, done) => {
        accounts.verifyPassword(kind, email, password, req.ip ?? null).then(
          (check) => done(null, check as unknown as Express.User),
          (err: unknown) => (err instanceof AppError && err.expose ? done(null, false, err) : done(err)),
        );
      }),
    );
  }
  instances.set(accounts, p);
  return p;
}
