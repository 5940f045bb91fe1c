/**
 * The customer's side of the authorization code flow (public listener, `/oauth/interaction/:uid`), the bank
 * pages a partner's app sends its customer to:
 *
 *   1. password, then 2. TOTP (two independent factors, throttled and replay-guarded by the accounts area),
 *   3. the consent: the partner's vetted name and status, the permissions in plain words, the accounts to share
 *      (or, for a payment, amount, payee and the account to pay from), approve or deny.
 *
 * A payment needs a fresh authentication bound to its amount and payee (PSD2 RTS art. 5, dynamic linking): the
 * page carries a digest of exactly what it shows, the approval must echo it with a new TOTP code, and a consent
 * whose payment changed in between is refused.
 *
 * Every authorisation asks for both factors again, even with a live provider session: PSD2 wants strong
 * customer authentication per consent, not single sign-on. The interaction's progress lives in the express
 * session (regenerated after each factor); the decision ends the interaction with a grant for exactly the
 * consent's scope and the API resource, or with access_denied.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { type NextFunction, type Request, type Response, Router } from 'express';
import type Provider from 'oidc-provider';
import { errors as oidcErrors } from 'oidc-provider';
import type { AccountsService } from '../accounts/service.js';
import type { AuditService } from '../audit/service.js';
import type { BankAccountView } from '../banking/types.js';
import { dateText } from '../consent/text.js';
import { PERMISSION_TEXT, type ConsentView } from '../consent/types.js';
import { AppError } from '../errors.js';
import type { PartnersService } from '../partners/types.js';
import { CONSENT_SCOPE, INTENT_CLAIM, intentIdFromClaims, SCA_ACR } from './provider.js';
import type { OAuthService } from './service.js';
import { policy } from '../ops/policy.js';

/** How long an authenticated customer has to decide. */
const DECIDE_MS = 10 * 60_000;
const UID = /^[A-Za-z0-9_-]{10,64}$/;

interface AuthoriseState {
  uid: string;
  userId: string;
  stage: 'totp' | 'authenticated';
  at: number;
}

declare module 'express-session' {
  interface SessionData {
    authorise: AuthoriseState;
  }
}

export interface InteractionConsentPort {
  get(id: string): Promise<ConsentView | null>;
  authorise(id: string, input: { customerId: string; accountIds: string[]; grantId: string; channel: 'authorisation' }): Promise<ConsentView>;
  reject(id: string, input: { customerId: string; reason: string }): Promise<ConsentView>;
}

export interface InteractionDeps {
  provider: () => Provider;
  apiAudience: () => string;
  accounts: Pick<AccountsService, 'verifyPassword' | 'verifyTotp' | 'getUser'>;
  consents: InteractionConsentPort;
  banking: { accountsOf(customerId: string): Promise<BankAccountView[]> };
  partners: Pick<PartnersService, 'getPartner'>;
  clients: Pick<OAuthService, 'getClient'>;
  audit: AuditService;
  now?: () => number;
}

/** What the customer is shown about a payment, and the digest the approval must echo (dynamic linking). */
export function paymentLink(consent: ConsentView): string {
  const p = consent.payment;
  const shown = p ? [consent.id, p.amount, p.currency, p.creditorAccount.identification, p.creditorAccount.name, p.reference] : [consent.id];
  return createHash('sha256').update(JSON.stringify(shown)).digest('base64url');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function maskIban(iban: string): string {
  return iban.length > 8 ? `${iban.slice(0, 4)} •••• ${iban.slice(-4)}` : iban;
}

type Form = Record<string, unknown>;
const form = (req: Request): Form => (req.body && typeof req.body === 'object' ? (req.body as Form) : {});
const str = (f: Form, k: string): string => (typeof f[k] === 'string' ? (f[k] as string) : '');
const list = (f: Form, k: string): string[] => {
  const v = f[k];
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
};

/** A page-level refusal with its stable code. */
class AuthoriseError extends AppError {}

interface Context {
  uid: string;
  clientId: string;
  clientName: string;
  redirectUri: string;
  scopes: string[];
  consent: ConsentView;
  partner: { name: string; status: string; fastLane: boolean };
}

export function interactionRouter(deps: InteractionDeps): Router {
  const now = deps.now ?? Date.now;
  const router = Router();

  /** The interaction this browser is in, its client and consent; refusals that end it go back to the partner. */
  async function load(req: Request, res: Response): Promise<Context | { finished: true }> {
    const uid = String(req.params.uid ?? '');
    if (!UID.test(uid)) throw new AuthoriseError('authorise.interaction_unknown', 404, 'This authorisation link is not valid.');
    let details: Awaited<ReturnType<Provider['interactionDetails']>>;
    try {
      details = await deps.provider().interactionDetails(req, res);
    } catch (err) {
      if (err instanceof oidcErrors.SessionNotFound || err instanceof oidcErrors.InvalidRequest) {
        throw new AuthoriseError(
          'authorise.interaction_expired',
          400,
          'This authorisation has expired or was started in another browser. Go back to the app and start again.',
          { cause: err },
        );
      }
      throw err;
    }
    if (details.uid !== uid) throw new AuthoriseError('authorise.interaction_unknown', 404, 'This authorisation link is not valid.');
    const params = details.params as Record<string, unknown>;
    const clientId = String(params.client_id ?? '');
    const abort = async (description: string) => {
      await deps.provider().interactionFinished(req, res, { error: 'invalid_request', error_description: description }, { mergeWithLastSubmission: false });
      return { finished: true } as const;
    };
    const intentId = intentIdFromClaims(params.claims);
    if (!intentId) return abort(`the request must name a consent in claims.id_token.${INTENT_CLAIM}`);
    const consent = await deps.consents.get(intentId);
    if (!consent || consent.clientId !== clientId) return abort(`${INTENT_CLAIM} names no consent of this client`);
    if (consent.status !== 'awaiting_authorisation') return abort(`the consent is ${consent.status}, not awaiting authorisation`);
    if (consent.expiresAt && Date.parse(consent.expiresAt) <= now()) return abort('the consent has expired');
    const client = await deps.clients.getClient(clientId);
    const partner = client ? await deps.partners.getPartner(client.partnerId) : null;
    if (!client || !partner) return abort('the client is not registered with the bank');
    return {
      uid,
      clientId,
      clientName: client.clientName ?? partner.legalName,
      redirectUri: String(params.redirect_uri ?? ''),
      scopes: String(params.scope ?? '').split(' ').filter(Boolean),
      consent,
      partner: { name: partner.legalName, status: partner.status, fastLane: partner.origin === 'registration_fast_lane' },
    };
  }

  function state(req: Request, uid: string): AuthoriseState | null {
    const s = req.session.authorise;
    if (!s || s.uid !== uid) return null;
    if (s.stage === 'authenticated' && now() - s.at > DECIDE_MS) return null;
    return s;
  }

  /** A new session id after each factor (fixation), keeping only the interaction's progress. */
  function advance(req: Request, next: AuthoriseState): Promise<void> {
    return new Promise((resolve, reject) => {
      req.session.regenerate((err) => {
        if (err) return reject(err);
        req.session.authorise = next;
        req.session.save((e) => (e ? reject(e) : resolve()));
      });
    });
  }

  function page(res: Response, view: string, ctx: Context, extra: Record<string, unknown> = {}): void {
    res.set('Cache-Control', 'no-store');
    res.render(`authorise/${view}`, {
      title: view === 'consent' ? `Authorise ${ctx.partner.name}` : 'Sign in to your bank',
      action: `/oauth/interaction/${ctx.uid}`,
      partner: ctx.partner,
      clientName: ctx.clientName,
      consent: {
        kind: ctx.consent.kind,
        permissions: ctx.consent.permissions.map((p) => ({ code: p, text: PERMISSION_TEXT[p] })),
        expiresAt: ctx.consent.expiresAt,
        // The same wording as the consent centre's, so the customer recognises the date there.
        expiresText: ctx.consent.expiresAt ? dateText(ctx.consent.expiresAt) : null,
        payment: ctx.consent.payment,
      },
      error: null,
      values: {},
      ...extra,
    });
  }

  /** The consent page's form posts to us, and our answer redirects to the partner: allow that origin (CSP form-action). */
  function allowRedirectTarget(res: Response, redirectUri: string): void {
    const csp = res.getHeader('Content-Security-Policy');
    let origin: string;
    try {
      const u = new URL(redirectUri);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') return;
      origin = u.origin;
    } catch {
      return;
    }
    if (typeof csp === 'string') res.setHeader('Content-Security-Policy', csp.replace("form-action 'self'", `form-action 'self' ${origin}`));
  }

  async function consentPage(res: Response, ctx: Context, userId: string, extra: Record<string, unknown> = {}): Promise<void> {
    const accounts = await deps.banking.accountsOf(userId);
    allowRedirectTarget(res, ctx.redirectUri);
    page(res, 'consent', ctx, {
      accounts: accounts.map((a) => ({ id: a.id, nickname: a.nickname, iban: maskIban(a.iban), currency: a.currency, subType: a.subType })),
      link: paymentLink(ctx.consent),
      ...extra,
    });
  }

  const handle =
    (fn: (req: Request, res: Response) => Promise<void>) =>
    (req: Request, res: Response, next: NextFunction): void => {
      fn(req, res).catch(next);
    };

  router.get(
    '/oauth/interaction/:uid',
    policy({ auth: 'interaction', returns: "the customer's sign-in, TOTP or consent page (the partner's vetted name, permissions, accounts)" }),
    handle(async (req, res) => {
      const ctx = await load(req, res);
      if ('finished' in ctx) return;
      const s = state(req, ctx.uid);
      if (!s) return page(res, 'login', ctx);
      if (s.stage === 'totp') return page(res, 'totp', ctx);
      return consentPage(res, ctx, s.userId);
    }),
  );

  router.post(
    '/oauth/interaction/:uid/login',
    policy({ auth: 'interaction', returns: "checks the customer's password; redirect to the TOTP step" }),
    handle(async (req, res) => {
      const ctx = await load(req, res);
      if ('finished' in ctx) return;
      const f = form(req);
      const email = str(f, 'email').slice(0, 254);
      try {
        const check = await deps.accounts.verifyPassword('customer', email, str(f, 'password').slice(0, 256), req.ip ?? null);
        await advance(req, { uid: ctx.uid, userId: check.user.id, stage: 'totp', at: now() });
      } catch (err) {
        if (!(err instanceof AppError) || !err.expose) throw err;
        res.status(err.status);
        if ('retryAfterSeconds' in err) res.setHeader('Retry-After', String(err.retryAfterSeconds));
        return page(res, 'login', ctx, { error: { code: err.code, message: err.message }, values: { email } });
      }
      res.redirect(303, `/oauth/interaction/${ctx.uid}`);
    }),
  );

  router.post(
    '/oauth/interaction/:uid/totp',
    policy({ auth: 'interaction', returns: "checks the customer's TOTP code; redirect to the consent page" }),
    handle(async (req, res) => {
      const ctx = await load(req, res);
      if ('finished' in ctx) return;
      const s = state(req, ctx.uid);
      if (!s || s.stage !== 'totp') return res.redirect(303, `/oauth/interaction/${ctx.uid}`);
      try {
        await deps.accounts.verifyTotp(s.userId, str(form(req), 'code').trim().slice(0, 12), req.ip ?? null);
      } catch (err) {
        if (!(err instanceof AppError) || !err.expose) throw err;
        res.status(err.status);
        if ('retryAfterSeconds' in err) res.setHeader('Retry-After', String(err.retryAfterSeconds));
        return page(res, 'totp', ctx, { error: { code: err.code, message: err.message } });
      }
      await advance(req, { uid: ctx.uid, userId: s.userId, stage: 'authenticated', at: now() });
      res.redirect(303, `/oauth/interaction/${ctx.uid}`);
    }),
  );

  router.post(
    '/oauth/interaction/:uid/decision',
    policy({ auth: 'interaction', returns: "records the customer's decision on the consent; redirect to the client (code or access_denied)" }),
    handle(async (req, res) => {
      const ctx = await load(req, res);
      if ('finished' in ctx) return;
      const s = state(req, ctx.uid);
      if (!s || s.stage !== 'authenticated') {
        throw new AuthoriseError('authorise.not_authenticated', 401, 'Sign in again: your authentication for this consent has expired.');
      }
      const f = form(req);
      const decision = str(f, 'decision');
      const provider = deps.provider();
      const customer = { type: 'customer' as const, id: s.userId };
      if (decision === 'deny') {
        await deps.consents.reject(ctx.consent.id, { customerId: s.userId, reason: 'the customer declined on the consent page' });
        delete req.session.authorise;
        allowRedirectTarget(res, ctx.redirectUri);
        await provider.interactionFinished(
          req,
          res,
          { error: 'access_denied', error_description: 'the customer did not authorise the consent' },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      if (decision !== 'approve') throw new AuthoriseError('authorise.decision_invalid', 400, 'Choose approve or deny.');

      const accountIds = [...new Set(list(f, 'account'))];
      const payment = ctx.consent.kind === 'domestic-payment';
      if (accountIds.length === 0 || (payment && accountIds.length !== 1)) {
        res.status(400);
        return consentPage(res, ctx, s.userId, {
          error: { code: 'authorise.accounts_required', message: payment ? 'Choose the account to pay from.' : 'Choose at least one account to share.' },
        });
      }
      if (payment) {
        // Dynamic linking: the approval is for exactly the amount and payee the page showed, with a fresh code.
        if (!sameText(str(f, 'link'), paymentLink(ctx.consent))) {
          res.status(409);
          return consentPage(res, ctx, s.userId, {
            error: { code: 'authorise.payment_changed', message: 'The payment details changed while you were deciding. Check them and approve again.' },
          });
        }
        try {
          await deps.accounts.verifyTotp(s.userId, str(f, 'code').trim().slice(0, 12), req.ip ?? null);
        } catch (err) {
          if (!(err instanceof AppError) || !err.expose) throw err;
          res.status(err.status);
          return consentPage(res, ctx, s.userId, { error: { code: err.code, message: `${err.message} Use a new code, not the one you signed in with.` } });
        }
        const p = ctx.consent.payment!;
        await deps.audit.record({
          actor: { ...customer, label: 'customer' },
          action: 'consent.payment.authenticated',
          subject: { type: 'consent', id: ctx.consent.id },
          data: { amount: p.amount, currency: p.currency, payee: p.creditorAccount.name, payeeIban: p.creditorAccount.identification, link: paymentLink(ctx.consent), acr: SCA_ACR },
        });
      }

      const wanted = ctx.scopes;
      const grant = new provider.Grant({ accountId: s.userId, clientId: ctx.clientId });
      const apiScope = CONSENT_SCOPE[ctx.consent.kind];
      // The API scope is one of the provider's scopes, so the consent prompt counts it as granted only when the
      // grant names it too; the token for the API resource gets it from the resource scope.
      const oidc = [
        ...(wanted.includes('openid') ? ['openid'] : []),
        ...(ctx.consent.kind === 'account-access' && wanted.includes('offline_access') ? ['offline_access'] : []),
        apiScope,
      ];
      grant.addOIDCScope(oidc.join(' '));
      if (wanted.includes('openid')) grant.addOIDCClaims([INTENT_CLAIM]);
      grant.addResourceScope(deps.apiAudience(), apiScope);
      const grantId = await grant.save();
      try {
        await deps.consents.authorise(ctx.consent.id, { customerId: s.userId, accountIds, grantId, channel: 'authorisation' });
      } catch (err) {
        await grant.destroy();
        if (!(err instanceof AppError) || !err.expose) throw err;
        res.status(err.status);
        return consentPage(res, ctx, s.userId, { error: { code: err.code, message: err.message } });
      }
      delete req.session.authorise;
      allowRedirectTarget(res, ctx.redirectUri);
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: s.userId, acr: SCA_ACR, amr: ['pwd', 'otp'], remember: false }, consent: { grantId } },
        { mergeWithLastSubmission: false },
      );
    }),
  );

  // Errors on these pages render on the customer-facing layout, with the stable code.
  router.use('/oauth/interaction', (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (!(err instanceof AppError) || !err.expose || res.headersSent) return next(err);
    res.status(err.status).set('Cache-Control', 'no-store');
    res.render('authorise/error', { title: 'Authorisation', error: { code: err.code, message: err.message } });
  });

  return router;
}
