/**
 * Sign-up, sign-in (password, then TOTP), sign-out and password change for applicants; the staff sign-in
 * with its first-time enrolment; the staff administration pages; the bank customers' sign-in (no sign-up:
 * customers are created, enrolled, at the bank). Routes are thin: decisions live in the
 * service, sessions in src/http/middleware/session.ts.
 *
 * A sign-in in progress lives in `req.session.pendingLogin` (a few minutes, never a signed-in session);
 * only the last step calls `establishSession`, which regenerates the session id.
 */
import { type NextFunction, type Request, type Response, Router } from 'express';
import type { AuthenticateCallback } from 'passport';
import { AppError, InputError, NotFoundError } from '../errors.js';
import { requireCustomer, requireSignedIn, requireStaff, safeNext, actorFrom } from '../http/middleware/auth.js';
import { endSession, establishSession, type PendingLogin, setFlash } from '../http/middleware/session.js';
import { STAFF_ROLES, type StaffRole } from '../partners/types.js';
import { LoginExpiredError, LoginFailedError, ThrottledError } from './errors.js';
import { passportFor } from './passport.js';
import type { AccountsService } from './service.js';
import type { PasswordCheck, SessionUser, UserKind } from './types.js';
import { policy } from '../ops/policy.js';

export interface AccountsRouteDeps {
  accounts: AccountsService;
  now?: () => number;
}

/** How long each pending step stays valid. */
const PENDING_MS: Record<PendingLogin['stage'], number> = {
  totp: 5 * 60 * 1000,
  enrol: 15 * 60 * 1000,
  password: 15 * 60 * 1000,
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Form = Record<string, unknown>;

function body(req: Request): Form {
  return req.body && typeof req.body === 'object' ? (req.body as Form) : {};
}

/** A single text field (a repeated field counts as missing: no form here sends one twice). */
function str(form: Form, name: string): string {
  const v = form[name];
  return typeof v === 'string' ? v : '';
}

function list(form: Form, name: string): string[] {
  const v = form[name];
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Each kind's pages: where a sign-in starts, its code step, its TOTP enrolment (none for customers) and home. */
const PATHS: Record<UserKind, { home: string; login: string; totp: string; enrol: string | null }> = {
  applicant: { home: '/applications', login: '/login', totp: '/login/totp', enrol: '/signup/totp' },
  staff: { home: '/staff/applications', login: '/staff/login', totp: '/staff/login/totp', enrol: '/staff/enrol' },
  customer: { home: '/customer', login: '/customer/login', totp: '/customer/login/totp', enrol: null },
};

function home(kind: UserKind): string {
  return PATHS[kind].home;
}

function loginPath(kind: UserKind): string {
  return PATHS[kind].login;
}

function fieldErrors(err: InputError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of err.fields) out[f.path] ??= f.message;
  return out;
}

/** The error as the page shows it, with Retry-After for throttling. */
function refusal(res: Response, err: AppError): { code: string; message: string } {
  res.status(err.status);
  if (err instanceof ThrottledError) res.setHeader('Retry-After', String(err.retryAfterSeconds));
  return { code: err.code, message: err.message };
}

function isClientError(err: unknown): err is AppError {
  return err instanceof AppError && err.expose;
}

function createFlow(deps: AccountsRouteDeps) {
  const { accounts } = deps;
  const now = deps.now ?? Date.now;

  function pending(req: Request, kind: UserKind, stage: PendingLogin['stage']): PendingLogin | null {
    const p = req.session.pendingLogin;
    if (!p || p.kind !== kind || p.stage !== stage) return null;
    if (now() - p.at > PENDING_MS[stage]) {
      delete req.session.pendingLogin;
      return null;
    }
    return p;
  }

  function restart(req: Request, res: Response, kind: UserKind): void {
    delete req.session.pendingLogin;
    setFlash(req, 'error', new LoginExpiredError().message);
    res.redirect(303, loginPath(kind));
  }

  async function finish(req: Request, res: Response, user: SessionUser, next: string | null, stamp?: string): Promise<void> {
    const passwordStamp = stamp ?? (await accounts.passwordStamp(user.id));
    await establishSession(req, user, passwordStamp, now());
    res.redirect(303, next ?? home(user.kind));
  }

  /** Step one for either kind: passport-local runs the password check. */
  function passwordStep(kind: UserKind, render: (req: Request, res: Response, error: { code: string; message: string }) => void) {
    const passport = passportFor(accounts);
    return (req: Request, res: Response, next: NextFunction): void => {
      const target = safeNext(str(body(req), 'next'), kind);
      const callback: AuthenticateCallback = (err, user, info) => {
        if (err) return next(err);
        if (!user) {
          const e = info instanceof AppError ? info : new InputError('Enter your e-mail and password.');
          return render(req, res, refusal(res, e));
        }
        const check = user as unknown as PasswordCheck;
        const paths = PATHS[kind];
        if (paths.enrol === null && (!check.totpEnrolled || check.mustChangePassword)) {
          // Customers get their password and authenticator at the bank: there is no page here to finish
          // either, so such an account cannot sign in online (the same answer as a wrong password).
          return render(req, res, refusal(res, new LoginFailedError({ detail: 'not set up for online sign-in' })));
        }
        const stage: PendingLogin['stage'] = check.totpEnrolled ? 'totp' : 'enrol';
        // A fresh start: whatever was pending (or signed in) in this browser no longer counts.
        req.session.pendingLogin = {
          userId: check.user.id,
          kind,
          at: now(),
          stage,
          mustChangePassword: check.mustChangePassword,
          next: target,
        };
        res.redirect(303, stage === 'totp' ? paths.totp : (paths.enrol ?? paths.login));
      };
      passport.authenticate(`${kind}-password`, { session: false }, callback)(req, res, next);
    };
  }

  /** After the code: staff with a temporary password change it first; everyone else is signed in. */
  async function afterCode(req: Request, res: Response, p: PendingLogin, user: SessionUser): Promise<void> {
    if (p.mustChangePassword) {
      req.session.pendingLogin = { ...p, stage: 'password', at: now() };
      return res.redirect(303, '/staff/enrol/password');
    }
    await finish(req, res, user, p.next);
  }

  function codeStep(kind: UserKind, action: string, view = 'accounts/totp') {
    const renderTotp = (res: Response, error: { code: string; message: string } | null) =>
      res.render(view, { action, restart: loginPath(kind), error });
    return {
      get(req: Request, res: Response): void {
        if (!pending(req, kind, 'totp')) return restart(req, res, kind);
        renderTotp(res, null);
      },
      async post(req: Request, res: Response): Promise<void> {
        const p = pending(req, kind, 'totp');
        if (!p) return restart(req, res, kind);
        try {
          const user = await accounts.verifyTotp(p.userId, str(body(req), 'code'), req.ip ?? null);
          await afterCode(req, res, p, user);
        } catch (err) {
          if (!isClientError(err)) throw err;
          if (err.code === 'accounts.login_failed') return restart(req, res, kind);
          renderTotp(res, refusal(res, err));
        }
      },
    };
  }

  function enrolStep(kind: UserKind, action: string) {
    const renderEnrol = async (res: Response, p: PendingLogin, error: { code: string; message: string } | null) => {
      const enrolment = await accounts.totpEnrolment(p.userId);
      const user = await accounts.getUser(p.userId);
      res.render('accounts/enrol', { action, enrolment, email: user?.email ?? '', error });
    };
    return {
      async get(req: Request, res: Response): Promise<void> {
        const p = pending(req, kind, 'enrol');
        if (!p) return restart(req, res, kind);
        try {
          await renderEnrol(res, p, null);
        } catch (err) {
          if (isClientError(err)) return restart(req, res, kind);
          throw err;
        }
      },
      async post(req: Request, res: Response): Promise<void> {
        const p = pending(req, kind, 'enrol');
        if (!p) return restart(req, res, kind);
        try {
          const user = await accounts.confirmTotp(p.userId, str(body(req), 'code'), req.ip ?? null);
          await afterCode(req, res, p, user);
        } catch (err) {
          if (!isClientError(err)) throw err;
          if (err.code === 'accounts.login_failed' || err.code === 'accounts.totp_already_enrolled') return restart(req, res, kind);
          const error = refusal(res, err);
          await renderEnrol(res, p, error);
        }
      },
    };
  }

  /** The password form (signed-in change, or the staff temporary-password replacement). */
  async function changePassword(
    req: Request,
    res: Response,
    userId: string,
    render: (errors: Record<string, string>, error: { code: string; message: string } | null) => void,
  ): Promise<{ changedAt: string } | null> {
    const form = body(req);
    const next = str(form, 'newPassword');
    if (next !== str(form, 'confirmPassword')) {
      const message = 'The two new passwords are not the same.';
      res.status(400);
      render({ confirmPassword: message }, { code: 'input.invalid', message });
      return null;
    }
    try {
      return await accounts.changePassword(userId, str(form, 'currentPassword'), next, req.ip ?? null);
    } catch (err) {
      if (!isClientError(err)) throw err;
      const error = refusal(res, err);
      const errors = err instanceof InputError ? fieldErrors(err) : err.code === 'accounts.password_incorrect' ? { currentPassword: err.message } : {};
      render(errors, error);
      return null;
    }
  }

  async function logout(req: Request, res: Response, kind: UserKind): Promise<void> {
    if (req.user) {
      await accounts.recordLogout(req.user, req.ip ?? null);
      await endSession(req);
      setFlash(req, 'ok', 'You are signed out.');
    }
    res.redirect(303, loginPath(kind));
  }

  return { now, pending, restart, finish, passwordStep, codeStep, enrolStep, changePassword, logout };
}

/** Applicants: /signup, /signup/totp, /login, /login/totp, /logout, /account/password. */
export function accountsRouter(deps: AccountsRouteDeps): Router {
  const { accounts } = deps;
  const flow = createFlow(deps);
  const router = Router();

  const renderSignup = (res: Response, values: Form, errors: Record<string, string>, error: { code: string; message: string } | null) =>
    res.render('accounts/signup', { values, errors, error });
  const renderLogin = (req: Request, res: Response, error: { code: string; message: string } | null) =>
    res.render('accounts/login', {
      title: 'Sign in',
      kind: 'applicant',
      action: '/login',
      next: safeNext(req.method === 'GET' ? req.query.next : str(body(req), 'next'), 'applicant'),
      values: { email: req.method === 'POST' ? str(body(req), 'email') : '' },
      error,
    });

  router.get('/signup', policy({ auth: 'none', returns: 'the applicant sign-up form' }), (req, res) => {
    if (req.user) return res.redirect(303, home(req.user.kind));
    renderSignup(res, { email: '', displayName: '' }, {}, null);
  });

  router.post('/signup', policy({ auth: 'none', returns: 'creates an applicant account; redirect to TOTP enrolment (or the form with its errors)' }), async (req, res) => {
    const form = body(req);
    const values = { email: str(form, 'email'), displayName: str(form, 'displayName') };
    const password = str(form, 'password');
    if (password !== str(form, 'passwordConfirm')) {
      const message = 'The two passwords are not the same.';
      res.status(400);
      return renderSignup(res, values, { passwordConfirm: message }, { code: 'input.invalid', message });
    }
    try {
      const user = await accounts.signUpApplicant({ ...values, password }, req.ip ?? null);
      req.session.pendingLogin = { userId: user.id, kind: 'applicant', at: flow.now(), stage: 'enrol', mustChangePassword: false, next: null };
      res.redirect(303, '/signup/totp');
    } catch (err) {
      if (!isClientError(err)) throw err;
      const error = refusal(res, err);
      renderSignup(res, values, err instanceof InputError ? fieldErrors(err) : {}, error);
    }
  });

  const enrol = flow.enrolStep('applicant', '/signup/totp');
  router.get('/signup/totp', policy({ auth: 'sign-in-step', returns: 'the TOTP enrolment page with its QR code' }), enrol.get);
  router.post('/signup/totp', policy({ auth: 'sign-in-step', returns: 'confirms TOTP enrolment and signs in; redirect' }), enrol.post);

  router.get('/login', policy({ auth: 'none', returns: 'the applicant sign-in form' }), (req, res) => {
    if (req.user?.kind === 'applicant') return res.redirect(303, home('applicant'));
    renderLogin(req, res, null);
  });
  router.post('/login', policy({ auth: 'none', returns: 'checks e-mail and password; redirect to the TOTP step' }), flow.passwordStep('applicant', renderLogin));

  const code = flow.codeStep('applicant', '/login/totp');
  router.get('/login/totp', policy({ auth: 'sign-in-step', returns: 'the TOTP code form' }), code.get);
  router.post('/login/totp', policy({ auth: 'sign-in-step', returns: 'checks the TOTP code and signs in; redirect' }), code.post);

  router.post('/logout', policy({ auth: 'none', returns: 'ends the session (if any); redirect' }), (req, res) => flow.logout(req, res, req.user?.kind ?? 'applicant'));

  const renderPassword = (res: Response, errors: Record<string, string>, error: { code: string; message: string } | null) =>
    res.render('accounts/password', { title: 'Change your password', action: '/account/password', currentLabel: 'Current password', intro: '', errors, error });
  router.get('/account/password', policy({ auth: 'session:any', returns: 'the password change form' }), requireSignedIn, (_req, res) => renderPassword(res, {}, null));
  router.post('/account/password', policy({ auth: 'session:any', returns: 'changes the password, ends other sessions; redirect' }), requireSignedIn, async (req, res) => {
    const user = req.user!;
    const done = await flow.changePassword(req, res, user.id, (errors, error) => renderPassword(res, errors, error));
    if (!done) return;
    // A new session id after the change; other sessions of this user end (their stamp no longer matches).
    await establishSession(req, user, done.changedAt, flow.now());
    setFlash(req, 'ok', 'Your password is changed. Other signed-in sessions have been signed out.');
    res.redirect(303, home(user.kind));
  });

  return router;
}

/** Staff: /staff/login, /staff/login/totp, /staff/enrol, /staff/enrol/password, /staff/logout. */
export function staffAuthRouter(deps: AccountsRouteDeps): Router {
  const flow = createFlow(deps);
  const router = Router();

  const renderLogin = (req: Request, res: Response, error: { code: string; message: string } | null) =>
    res.render('accounts/login', {
      title: 'Staff sign-in',
      kind: 'staff',
      action: '/staff/login',
      next: safeNext(req.method === 'GET' ? req.query.next : str(body(req), 'next'), 'staff'),
      values: { email: req.method === 'POST' ? str(body(req), 'email') : '' },
      error,
    });

  router.get('/staff/login', policy({ auth: 'none', returns: 'the staff sign-in form' }), (req, res) => {
    if (req.user?.kind === 'staff') return res.redirect(303, home('staff'));
    renderLogin(req, res, null);
  });
  router.post('/staff/login', policy({ auth: 'none', returns: 'checks e-mail and password; redirect to the TOTP step or enrolment' }), flow.passwordStep('staff', renderLogin));

  const code = flow.codeStep('staff', '/staff/login/totp');
  router.get('/staff/login/totp', policy({ auth: 'sign-in-step', returns: 'the TOTP code form' }), code.get);
  router.post('/staff/login/totp', policy({ auth: 'sign-in-step', returns: 'checks the TOTP code and signs in; redirect' }), code.post);

  const enrol = flow.enrolStep('staff', '/staff/enrol');
  router.get('/staff/enrol', policy({ auth: 'sign-in-step', returns: 'the TOTP enrolment page for a new staff member' }), enrol.get);
  router.post('/staff/enrol', policy({ auth: 'sign-in-step', returns: 'confirms TOTP enrolment; redirect' }), enrol.post);

  const renderTempPassword = (res: Response, errors: Record<string, string>, error: { code: string; message: string } | null) =>
    res.render('accounts/password', {
      title: 'Choose your password',
      action: '/staff/enrol/password',
      currentLabel: 'Temporary password',
      intro: 'Your account was created with a temporary password. Replace it with one only you know.',
      errors,
      error,
    });
  router.get('/staff/enrol/password', policy({ auth: 'sign-in-step', returns: 'the form replacing the temporary password' }), (req, res) => {
    if (!flow.pending(req, 'staff', 'password')) return flow.restart(req, res, 'staff');
    renderTempPassword(res, {}, null);
  });
  router.post('/staff/enrol/password', policy({ auth: 'sign-in-step', returns: 'sets the password and signs in; redirect' }), async (req, res) => {
    const p = flow.pending(req, 'staff', 'password');
    if (!p) return flow.restart(req, res, 'staff');
    const done = await flow.changePassword(req, res, p.userId, (errors, error) => renderTempPassword(res, errors, error));
    if (!done) return;
    const user = await deps.accounts.getUser(p.userId);
    if (!user) return flow.restart(req, res, 'staff');
    await flow.finish(req, res, user, p.next, done.changedAt);
  });

  router.post('/staff/logout', policy({ auth: 'none', returns: 'ends the staff session (if any); redirect' }), (req, res) => flow.logout(req, res, 'staff'));
  return router;
}

/** Staff administration (admin role): list, create, change roles, disable. */
export function staffAdminRouter(deps: AccountsRouteDeps): Router {
  const { accounts } = deps;
  const router = Router();
  router.use('/staff/admin', requireStaff('admin'));

  interface CreateForm {
    values: { email: string; displayName: string; roles: string[] };
    errors: Record<string, string>;
  }
  const emptyForm = (): CreateForm => ({ values: { email: '', displayName: '', roles: ['reviewer'] }, errors: {} });

  async function renderList(res: Response, form: CreateForm, error: { code: string; message: string } | null): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    res.render('staff/admin/staff', { staff: await accounts.listStaff(), allRoles: STAFF_ROLES, form, error });
  }

  function staffId(req: Request): string {
    const id = String(req.params.id ?? '');
    if (!UUID.test(id)) throw new NotFoundError('No such staff member.');
    return id;
  }

  router.get('/staff/admin/staff', policy({ auth: 'session:staff', roles: ['admin'], returns: 'staff accounts with their roles, and the form to add one' }), async (_req, res) => renderList(res, emptyForm(), null));

  router.post('/staff/admin/staff', policy({ auth: 'session:staff', roles: ['admin'], returns: 'creates a staff account; its temporary password, shown once' }), async (req, res) => {
    const form = body(req);
    const values = { email: str(form, 'email'), displayName: str(form, 'displayName'), roles: list(form, 'roles') };
    try {
      const created = await accounts.createStaff({ ...values, roles: values.roles as StaffRole[] }, actorFrom(req));
      res.status(201).setHeader('Cache-Control', 'no-store');
      res.render('staff/admin/created', { user: created.user, tempPassword: created.tempPassword });
    } catch (err) {
      if (!isClientError(err)) throw err;
      const error = refusal(res, err);
      await renderList(res, { values, errors: err instanceof InputError ? fieldErrors(err) : {} }, error);
    }
  });

  router.post('/staff/admin/staff/:id/roles', policy({ auth: 'session:staff', roles: ['admin'], returns: "changes a staff member's roles; redirect" }), async (req, res) => {
    const id = staffId(req);
    try {
      const updated = await accounts.setStaffRoles(id, list(body(req), 'roles') as StaffRole[], actorFrom(req));
      setFlash(req, 'ok', `Roles of ${updated.email} are now: ${updated.roles.join(', ')}.`);
      res.redirect(303, '/staff/admin/staff');
    } catch (err) {
      if (!isClientError(err) || err instanceof NotFoundError) throw err;
      await renderList(res, emptyForm(), refusal(res, err));
    }
  });

  router.post('/staff/admin/staff/:id/disable', policy({ auth: 'session:staff', roles: ['admin'], returns: 'disables a staff account; redirect' }), async (req, res) => {
    const id = staffId(req);
    try {
      const updated = await accounts.disableStaff(id, actorFrom(req));
      setFlash(req, 'ok', `${updated.email} is disabled and can no longer sign in.`);
      res.redirect(303, '/staff/admin/staff');
    } catch (err) {
      if (!isClientError(err) || err instanceof NotFoundError) throw err;
      await renderList(res, emptyForm(), refusal(res, err));
    }
  });

  return router;
}

/**
 * Bank customers: /customer/login, /customer/login/totp, /customer/logout, /customer/password, and /customer
 * (their landing, the consent centre). The OAuth interaction pages sign customers in their own way (through
 * `verifyPassword('customer', ...)` and `verifyTotp`), not through these pages.
 */
export function customerRouter(deps: AccountsRouteDeps): Router {
  const flow = createFlow(deps);
  const router = Router();

  const renderLogin = (req: Request, res: Response, error: { code: string; message: string } | null) =>
    res.render('customer/login', {
      action: '/customer/login',
      next: safeNext(req.method === 'GET' ? req.query.next : str(body(req), 'next'), 'customer'),
      values: { email: req.method === 'POST' ? str(body(req), 'email') : '' },
      error,
    });

  router.get('/customer', policy({ auth: 'session:customer', returns: 'redirect to the consent centre' }), requireCustomer, (_req, res) => res.redirect(303, '/customer/consents'));

  router.get('/customer/login', policy({ auth: 'none', returns: 'the customer sign-in form' }), (req, res) => {
    if (req.user?.kind === 'customer') return res.redirect(303, home('customer'));
    renderLogin(req, res, null);
  });
  router.post('/customer/login', policy({ auth: 'none', returns: 'checks e-mail and password; redirect to the TOTP step' }), flow.passwordStep('customer', renderLogin));

  const code = flow.codeStep('customer', '/customer/login/totp', 'customer/totp');
  router.get('/customer/login/totp', policy({ auth: 'sign-in-step', returns: 'the TOTP code form' }), code.get);
  router.post('/customer/login/totp', policy({ auth: 'sign-in-step', returns: 'checks the TOTP code and signs in; redirect' }), code.post);

  router.post('/customer/logout', policy({ auth: 'none', returns: 'ends the customer session (if any); redirect' }), (req, res) => flow.logout(req, res, 'customer'));

  const renderPassword = (res: Response, errors: Record<string, string>, error: { code: string; message: string } | null) =>
    res.render('customer/password', { errors, error });
  router.get('/customer/password', policy({ auth: 'session:customer', returns: 'the password change form' }), requireCustomer, (_req, res) => renderPassword(res, {}, null));
  router.post('/customer/password', policy({ auth: 'session:customer', returns: 'changes the password, ends other sessions; redirect' }), requireCustomer, async (req, res) => {
    const user = req.user!;
    const done = await flow.changePassword(req, res, user.id, (errors, error) => renderPassword(res, errors, error));
    if (!done) return;
    // As for applicants: a new session id, and the customer's other sessions end with the old stamp.
    await establishSession(req, user, done.changedAt, flow.now());
    setFlash(req, 'ok', 'Your password is changed. Other signed-in sessions have been signed out.');
    res.redirect(303, home('customer'));
  });

  return router;
}
