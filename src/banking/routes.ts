/**
 * The bank's APIs on the mutual-TLS listener, each behind `requireBoundToken`:
 *
 *   GET  /api/v1/connection                          what the bank knows of the caller's connection
 *   GET  /api/v1/accounts                            scope accounts + an account-access consent (UK OB v3.1)
 *   GET  /api/v1/accounts/:accountId
 *   GET  /api/v1/accounts/:accountId/balances
 *   GET  /api/v1/accounts/:accountId/transactions    ?fromBookingDateTime=&toBookingDateTime=
 *   POST /api/v1/domestic-payments                   scope payments + a domestic-payment consent, x-idempotency-key
 *   GET  /api/v1/domestic-payments/:paymentId        scope payments, the calling client's payments only
 *
 * `requireConsent` (the consent area's) runs after the token guard, answers 403 itself when the token has no
 * usable consent and hands the consent to `consentOf`. The handlers still check the account is one the
 * customer chose and the permission the endpoint needs, then shape the answer per permission (shape.ts).
 * Errors are `{ error, error_description }` JSON with Cache-Control: no-store, like the guard's.
 */
import { createHash } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { canonicalJson } from '../audit/canonical.js';
import type { AccountPermission, ConsentKind, ConsentView } from '../consent/types.js';
import { AppError, InputError, toAppError } from '../errors.js';
import { boundToken } from '../oauth/guard.js';
import type { PartnersService } from '../partners/types.js';
import {
  accountNotGranted,
  consentInvalid,
  consentMismatch,
  idempotencyKeyInvalid,
  initiationMismatch,
  paymentNotFound,
  permissionMissing,
} from './errors.js';
import { IDEMPOTENCY_KEY, parseBookingDateTime, type BankingService } from './service.js';
import {
  ACCOUNT_READ,
  canReadAccounts,
  initiationOf,
  shapeAccount,
  shapeAccounts,
  shapeBalances,
  shapePayment,
  shapeTransactions,
  TRANSACTION_READ,
  transactionScope,
} from './shape.js';
import type { BankAccountView } from './types.js';
import { policy } from '../ops/policy.js';

/** The payment submission's body limit: a UK OB domestic payment is well under 2 KiB. */
export const PAYMENT_BODY_LIMIT = 16 * 1024;

/** What the account and payment APIs need from the banking and consent areas. */
export interface BankingApiDeps {
  banking: BankingService;
  requireConsent: (opts: { kind: ConsentKind; anyOf?: AccountPermission[] }) => RequestHandler;
  consentOf: (res: Response) => ConsentView;
  markConsumed: (consentId: string, paymentId: string) => Promise<void>;
}

/** Without the banking deps only /api/v1/connection is mounted (as before issue 5); a partial set is a type error. */
export type BankingRouterDeps = {
  requireBoundToken: (opts?: { scopes?: readonly string[] }) => RequestHandler;
  partners: Pick<PartnersService, 'getPartner'>;
} & (BankingApiDeps | { [K in keyof BankingApiDeps]?: never });

function sendError(req: Request, res: Response, err: unknown): void {
  const e = toAppError(err);
  if (e.status >= 500) req.log?.error({ err: e.cause ?? e, code: e.code, detail: e.detail }, 'banking API failed');
  else req.log?.warn({ code: e.code, detail: e.detail }, 'banking API refused');
  if (res.headersSent) return;
  const body: Record<string, unknown> = {
    error: e.expose ? e.code : 'internal',
    error_description: e.expose ? e.message : 'Something went wrong on our side. It has been logged.',
  };
  if (e.expose && e instanceof InputError && e.fields.length > 0) body.errors = e.fields;
  res.status(e.status).set('Cache-Control', 'no-store').json(body);
}

/** An async step whose errors are answered here in the API's shape (not by the app's page/problem handler). */
function step(fn: (req: Request, res: Response, next: NextFunction) => Promise<void>): RequestHandler {
  return (req, res, next) => {
    fn(req, res, next).catch((err: unknown) => sendError(req, res, err));
  };
}

function send(res: Response, status: number, body: unknown): void {
  res.status(status).set('Cache-Control', 'no-store').json(body);
}

const transactionQuery = z.object({
  fromBookingDateTime: z.string().max(40).optional(),
  toBookingDateTime: z.string().max(40).optional(),
});

const submission = z.strictObject({
  Data: z.strictObject({
    ConsentId: z.string().min(1).max(128),
    // Compared as a whole with the consent's Initiation, so any member the consent lacks is a mismatch.
    Initiation: z.record(z.string(), z.unknown()),
  }),
  Risk: z.record(z.string(), z.unknown()).optional(),
});
type Submission = z.infer<typeof submission>;

function inputError(error: z.ZodError, message: string): InputError {
  return new InputError(
    message,
    error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message })),
  );
}

export function bankingRouter(deps: BankingRouterDeps): Router {
  const router = Router();
  router.get('/api/v1/connection', policy({ auth: 'mtls+bound-token', returns: 'what the bank sees of the caller: client, organisation, partner status and roles, scope, token format, certificate thumbprint' }), deps.requireBoundToken(), (_req, res) => {
    const t = boundToken(res);
    const partner = t.partner;
    res.set('Cache-Control', 'no-store').json({
      client_id: t.clientId,
      org_id: t.orgId,
      partner: partner ? { name: partner.legalName, status: partner.status, allowed_roles: partner.allowedRoles } : null,
      scope: t.scopes.join(' '),
      token_format: t.format,
      certificate_thumbprint: t.thumbprint,
    });
  });
  if (deps.banking) mountApis(router, deps);
  return router;
}

function mountApis(router: Router, deps: BankingRouterDeps & BankingApiDeps): void {
  const { banking, requireConsent, consentOf, markConsumed } = deps;
  const accountsToken = deps.requireBoundToken({ scopes: ['accounts'] });
  const paymentsToken = deps.requireBoundToken({ scopes: ['payments'] });

  /** The account-access consent this token was issued for, with its customer. */
  function accessConsent(res: Response): ConsentView & { customerId: string } {
    const consent = consentOf(res);
    const token = boundToken(res);
    // requireConsent has checked all of this; a wiring mistake must still not open another consent's data.
    if (consent.kind !== 'account-access' || consent.customerId === null || token.consentId !== consent.id) {
      throw new AppError('consent.not_authorised', 403, 'The access token carries no authorised account-access consent.', {
        detail: `consent ${consent.id} (${consent.kind}) for token consent ${String(token.consentId)}`,
      });
    }
    return consent as ConsentView & { customerId: string };
  }

  async function grantedAccount(consent: ConsentView & { customerId: string }, accountId: string): Promise<BankAccountView> {
    if (!consent.accountIds.includes(accountId)) throw accountNotGranted();
    const account = await banking.getAccount(accountId);
    if (!account || account.customerId !== consent.customerId) throw accountNotGranted();
    return account;
  }

  const accountPath = (id: string) => `/api/v1/accounts/${encodeURIComponent(id)}`;

  router.get(
    '/api/v1/accounts',
    policy({ auth: 'mtls+bound-token', scopes: ['accounts'], consent: 'account-access: ReadAccountsBasic or ReadAccountsDetail', returns: 'the accounts the customer chose for the consent (UK OB Account; identification with ReadAccountsDetail)' }),
    accountsToken,
    requireConsent({ kind: 'account-access', anyOf: [...ACCOUNT_READ] }),
    step(async (_req, res) => {
      const consent = accessConsent(res);
      if (!canReadAccounts(consent.permissions)) throw permissionMissing('ReadAccountsBasic or ReadAccountsDetail');
      const chosen = (await banking.accountsOf(consent.customerId)).filter((a) => consent.accountIds.includes(a.id));
      send(res, 200, shapeAccounts(chosen, consent.permissions, '/api/v1/accounts'));
    }),
  );

  router.get(
    '/api/v1/accounts/:accountId',
    policy({ auth: 'mtls+bound-token', scopes: ['accounts'], consent: 'account-access: ReadAccountsBasic or ReadAccountsDetail', returns: 'one account the consent covers (UK OB Account)' }),
    accountsToken,
    requireConsent({ kind: 'account-access', anyOf: [...ACCOUNT_READ] }),
    step(async (req, res) => {
      const consent = accessConsent(res);
      const account = await grantedAccount(consent, String(req.params.accountId));
      if (!canReadAccounts(consent.permissions)) throw permissionMissing('ReadAccountsBasic or ReadAccountsDetail');
      send(res, 200, { Data: { Account: [shapeAccount(account, consent.permissions)] }, Links: { Self: accountPath(account.id) }, Meta: { TotalPages: 1 } });
    }),
  );

  router.get(
    '/api/v1/accounts/:accountId/balances',
    policy({ auth: 'mtls+bound-token', scopes: ['accounts'], consent: 'account-access: ReadBalances', returns: "one account's balances (UK OB Balance)" }),
    accountsToken,
    requireConsent({ kind: 'account-access', anyOf: ['ReadBalances'] }),
    step(async (req, res) => {
      const consent = accessConsent(res);
      const account = await grantedAccount(consent, String(req.params.accountId));
      if (!consent.permissions.includes('ReadBalances')) throw permissionMissing('ReadBalances');
      send(res, 200, shapeBalances(await banking.balances(account.id), consent.permissions, `${accountPath(account.id)}/balances`));
    }),
  );

  router.get(
    '/api/v1/accounts/:accountId/transactions',
    policy({ auth: 'mtls+bound-token', scopes: ['accounts'], consent: 'account-access: ReadTransactionsBasic or ReadTransactionsDetail (credits/debits)', returns: "one account's transactions within the consent's window (UK OB Transaction)" }),
    accountsToken,
    requireConsent({ kind: 'account-access', anyOf: [...TRANSACTION_READ] }),
    step(async (req, res) => {
      const consent = accessConsent(res);
      const account = await grantedAccount(consent, String(req.params.accountId));
      const scope = transactionScope(consent.permissions);
      if (scope === null) {
        throw permissionMissing('ReadTransactionsBasic or ReadTransactionsDetail, with ReadTransactionsCredits and/or ReadTransactionsDebits');
      }
      const parsed = transactionQuery.safeParse(req.query);
      if (!parsed.success) throw inputError(parsed.error, 'fromBookingDateTime and toBookingDateTime must each be given at most once, as ISO 8601 date-times.');
      const q = parsed.data;
      const problems: { path: string; message: string }[] = [];
      const from = q.fromBookingDateTime === undefined ? undefined : parseBookingDateTime(q.fromBookingDateTime);
      const to = q.toBookingDateTime === undefined ? undefined : parseBookingDateTime(q.toBookingDateTime, true);
      if (from === null) problems.push({ path: 'fromBookingDateTime', message: 'Not an ISO 8601 date-time, e.g. 2026-01-31T00:00:00Z.' });
      if (to === null) problems.push({ path: 'toBookingDateTime', message: 'Not an ISO 8601 date-time, e.g. 2026-01-31T23:59:59Z.' });
      if (from && to && from > to) problems.push({ path: 'toBookingDateTime', message: 'Must not be before fromBookingDateTime.' });
      if (problems.length > 0) throw new InputError('The booking date-time filter is not valid.', problems);

      // The consent's transaction window (UK OB TransactionFrom/ToDateTime) bounds every query: a partner
      // asking for earlier or later bookings gets the window's edge, never more.
      const iso = (v: string | null | undefined) => (v ? new Date(v).toISOString() : undefined);
      const windowFrom = iso(consent.transactionFrom);
      const windowTo = iso(consent.transactionTo);
      const lower = [from ? new Date(from).toISOString() : undefined, windowFrom].filter((v): v is string => v !== undefined).sort().at(-1);
      const upper = [to ? new Date(to).toISOString() : undefined, windowTo].filter((v): v is string => v !== undefined).sort().at(0);
      const transactions =
        lower && upper && lower > upper
          ? []
          : await banking.transactions(account.id, {
              ...(lower ? { from: lower } : {}),
              ...(upper ? { to: upper } : {}),
              ...(scope === 'all' ? {} : { creditDebit: scope }),
            });
      const echo = new URLSearchParams();
      if (q.fromBookingDateTime !== undefined) echo.set('fromBookingDateTime', q.fromBookingDateTime);
      if (q.toBookingDateTime !== undefined) echo.set('toBookingDateTime', q.toBookingDateTime);
      const self = `${accountPath(account.id)}/transactions${echo.size > 0 ? `?${echo}` : ''}`;
      send(res, 200, shapeTransactions(transactions, consent.permissions, self));
    }),
  );

  const paymentJson = express.json({ limit: PAYMENT_BODY_LIMIT, type: 'application/json' });
  interface PendingPayment {
    idempotencyKey: string;
    body: Submission;
    requestHash: string;
  }
  const pending = (res: Response) => res.locals.bankingPayment as PendingPayment;

  router.post(
    '/api/v1/domestic-payments',
    policy({ auth: 'mtls+bound-token', scopes: ['payments'], consent: 'domestic-payment, authorised and unused', returns: 'executes the payment the customer authorised, once per idempotency key (UK OB DomesticPayment)' }),
    paymentsToken,
    // The key and the body first: a replay is answered from them, before the consent (by then consumed) is looked at.
    step(async (req, res, next) => {
      const key = req.headers['x-idempotency-key'];
      // Node joins a repeated custom header with ", ": the space fails the pattern, so a repeat is refused too.
      if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) throw idempotencyKeyInvalid();
      if (!req.is('application/json')) throw new AppError('input.unsupported_media_type', 415, 'Send the payment as application/json.');
      await new Promise<void>((resolve, reject) => {
        paymentJson(req, res, (err?: unknown) => (err ? reject(err) : resolve()));
      });
      const parsed = submission.safeParse(req.body);
      if (!parsed.success) throw inputError(parsed.error, 'The body must be { Data: { ConsentId, Initiation }, Risk }.');
      const requestHash = createHash('sha256').update(canonicalJson(parsed.data)).digest('hex');
      res.locals.bankingPayment = { idempotencyKey: key, body: parsed.data, requestHash } satisfies PendingPayment;
      const token = boundToken(res);
      const previous = await banking.replayPayment({ clientId: token.clientId, idempotencyKey: key, requestHash });
      if (previous && previous.consentId === token.consentId) {
        send(res, 201, shapePayment(previous));
        return;
      }
      next();
    }),
    requireConsent({ kind: 'domestic-payment' }),
    step(async (_req, res) => {
      const { idempotencyKey, body, requestHash } = pending(res);
      const consent = consentOf(res);
      const token = boundToken(res);
      if (body.Data.ConsentId !== consent.id || token.consentId !== consent.id) throw consentMismatch();
      if (consent.kind !== 'domestic-payment' || !consent.payment) throw consentInvalid(`consent ${consent.id} is ${consent.kind}`);
      const expected = initiationOf(consent.payment) as unknown as Record<string, unknown>;
      const sent = body.Data.Initiation;
      const differing = [...new Set([...Object.keys(expected), ...Object.keys(sent)])].filter(
        (k) => canonicalJson(expected[k] ?? null) !== canonicalJson(sent[k] ?? null),
      );
      if (differing.length > 0) throw initiationMismatch(differing.sort());
      const { payment } = await banking.executePayment({ consent, idempotencyKey, requestHash, clientId: token.clientId, markConsumed });
      send(res, 201, shapePayment(payment));
    }),
  );

  router.get(
    '/api/v1/domestic-payments/:paymentId',
    policy({ auth: 'mtls+bound-token', scopes: ['payments'], returns: "one of the client's payments and its status (UK OB DomesticPayment)" }),
    paymentsToken,
    step(async (req, res) => {
      const payment = await banking.paymentForClient(boundToken(res).clientId, String(req.params.paymentId));
      if (!payment) throw paymentNotFound();
      send(res, 200, shapePayment(payment));
    }),
  );
}
