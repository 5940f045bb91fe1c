/**
 * The partner's consent API on the mutual-TLS listener (UK Open Banking v3.1 account-access-consents and
 * domestic-payment-consents), each behind `requireBoundToken` with the kind's scope:
 *
 *   POST   /api/v1/account-access-consents               scope accounts, optional x-idempotency-key
 *   GET    /api/v1/account-access-consents/:consentId
 *   DELETE /api/v1/account-access-consents/:consentId    → Revoked (204)
 *   POST   /api/v1/domestic-payment-consents             scope payments, optional x-idempotency-key
 *   GET    /api/v1/domestic-payment-consents/:consentId
 *   DELETE /api/v1/domestic-payment-consents/:consentId  405 consent.delete_not_supported
 *
 * Consents are the partner's own business, so only client_credentials tokens manage them: a customer's token
 * (one that carries a consent) is refused with `consent.customer_token_not_allowed`. Another client's
 * consent is 404, like an unknown one. Bodies: application/json, at most 16 KiB, parsed here (not by an
 * app-wide parser). Answers and errors (`{ error, error_description[, errors] }`) carry Cache-Control: no-store.
 */
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AppError, toAppError } from '../errors.js';
import { boundToken } from '../oauth/guard.js';
import { ConsentRequestError, consentNotFound, deleteNotSupported, idempotencyKeyInvalid } from './errors.js';
import { IBAN_SCHEME } from './requests.js';
import { IDEMPOTENCY_KEY, type ConsentService } from './service.js';
import { API_STATUS, type ConsentClient, type ConsentKind, type ConsentView } from './types.js';
import { policy } from '../ops/policy.js';

/** A consent request is well under 2 KiB; 16 KiB leaves room and bounds what a hostile client can send. */
export const CONSENT_BODY_LIMIT = 16 * 1024;

export const CONSENT_PATHS: Record<ConsentKind, string> = {
  'account-access': '/api/v1/account-access-consents',
  'domestic-payment': '/api/v1/domestic-payment-consents',
};

const SCOPE: Record<ConsentKind, string> = { 'account-access': 'accounts', 'domestic-payment': 'payments' };

export interface ConsentApiDeps {
  requireBoundToken: (opts?: { scopes?: readonly string[] }) => RequestHandler;
  consents: Pick<ConsentService, 'createAccountAccess' | 'createDomesticPayment' | 'getForClient' | 'deleteForClient'>;
}

/** UK OB OBReadConsentResponse1 / OBWriteDomesticConsentResponse shape. */
export function shapeConsent(c: ConsentView) {
  const data: Record<string, unknown> = {
    ConsentId: c.id,
    Status: API_STATUS[c.status],
    StatusUpdateDateTime: c.statusUpdatedAt,
    CreationDateTime: c.createdAt,
  };
  if (c.kind === 'account-access') {
    data.Permissions = [...c.permissions];
    if (c.expiresAt) data.ExpirationDateTime = c.expiresAt;
    if (c.transactionFrom) data.TransactionFromDateTime = c.transactionFrom;
    if (c.transactionTo) data.TransactionToDateTime = c.transactionTo;
  } else if (c.payment) {
    const p = c.payment;
    const initiation: Record<string, unknown> = {
      InstructionIdentification: p.instructionIdentification,
      EndToEndIdentification: p.endToEndIdentification,
      InstructedAmount: { Amount: p.amount, Currency: p.currency },
      CreditorAccount: { SchemeName: IBAN_SCHEME, Identification: p.creditorAccount.identification, Name: p.creditorAccount.name },
    };
    if (p.reference !== '') initiation.RemittanceInformation = { Reference: p.reference };
    data.Initiation = initiation;
    // UK OB: the cut-off for the payment consent (authorised and used by then, or it expires).
    if (c.expiresAt) data.CutOffDateTime = c.expiresAt;
  }
  return { Data: data, Risk: {}, Links: { Self: `${CONSENT_PATHS[c.kind]}/${encodeURIComponent(c.id)}` }, Meta: {} };
}

function sendError(req: Request, res: Response, err: unknown): void {
  const e = toAppError(err);
  if (e.status >= 500) req.log?.error({ err: e.cause ?? e, code: e.code, detail: e.detail }, 'consent API failed');
  else req.log?.warn({ code: e.code, detail: e.detail }, 'consent API refused');
  if (res.headersSent) return;
  const body: Record<string, unknown> = {
    error: e.expose ? e.code : 'internal',
    error_description: e.expose ? e.message : 'Something went wrong on our side. It has been logged.',
  };
  if (e.expose && e instanceof ConsentRequestError && e.fields.length > 0) body.errors = e.fields;
  if (e.status === 405) res.set('Allow', 'GET');
  res.status(e.status).set('Cache-Control', 'no-store').json(body);
}

/** An async step whose errors are answered here in the API's shape. */
function step(fn: (req: Request, res: Response, next: NextFunction) => Promise<void>): RequestHandler {
  return (req, res, next) => {
    fn(req, res, next).catch((err: unknown) => sendError(req, res, err));
  };
}

function send(res: Response, status: number, body?: unknown): void {
  res.status(status).set('Cache-Control', 'no-store');
  if (body === undefined) res.end();
  else res.json(body);
}

/** The partner side of the call: only a client_credentials token (no consent in it) manages consents. */
function clientOf(res: Response): ConsentClient {
  const token = boundToken(res);
  if (token.consentId !== null) {
    throw new AppError(
      'consent.customer_token_not_allowed',
      403,
      'Consents are created and managed with a client_credentials access token, not with a token a customer authorised.',
    );
  }
  return { clientId: token.clientId, partnerId: token.partnerId };
}

export function consentApiRouter(deps: ConsentApiDeps): Router {
  const router = Router();
  const { consents } = deps;
  const json = express.json({ limit: CONSENT_BODY_LIMIT, type: 'application/json', strict: true });

  async function readBody(req: Request, res: Response): Promise<unknown> {
    if (!req.is('application/json')) throw new AppError('input.unsupported_media_type', 415, 'Send the consent request as application/json.');
    await new Promise<void>((resolve, reject) => {
      json(req, res, (err?: unknown) => (err ? reject(err) : resolve()));
    });
    return req.body as unknown;
  }

  function idempotencyKey(req: Request): string | undefined {
    const raw = req.headers['x-idempotency-key'];
    if (raw === undefined) return undefined;
    // Node joins a repeated custom header with ", ": the space fails the pattern, so a repeat is refused too.
    if (typeof raw !== 'string' || !IDEMPOTENCY_KEY.test(raw)) throw idempotencyKeyInvalid();
    return raw;
  }

  for (const kind of ['account-access', 'domestic-payment'] as const) {
    const base = CONSENT_PATHS[kind];
    const token = deps.requireBoundToken({ scopes: [SCOPE[kind]] });

    router.post(
      base,
      policy({ auth: 'mtls+bound-token', scopes: [SCOPE[kind]], consent: 'none: a client_credentials token', returns: `creates a ${kind} consent awaiting the customer (UK OB consent resource)` }),
      token,
      step(async (req, res) => {
        const client = clientOf(res);
        const key = idempotencyKey(req);
        const body = await readBody(req, res);
        const consent =
          kind === 'account-access' ? await consents.createAccountAccess(client, body, key) : await consents.createDomesticPayment(client, body, key);
        res.set('Location', `${base}/${encodeURIComponent(consent.id)}`);
        send(res, 201, shapeConsent(consent));
      }),
    );

    router.get(
      `${base}/:consentId`,
      policy({ auth: 'mtls+bound-token', scopes: [SCOPE[kind]], consent: 'none: a client_credentials token', returns: `one of the client's ${kind} consents with its status` }),
      token,
      step(async (req, res) => {
        const consent = await consents.getForClient(clientOf(res), String(req.params.consentId));
        // A payment consent is read on its own path, an account-access one on its own: the other is unknown here.
        if (consent.kind !== kind) throw consentNotFound();
        send(res, 200, shapeConsent(consent));
      }),
    );

    router.delete(
      `${base}/:consentId`,
      policy({ auth: 'mtls+bound-token', scopes: [SCOPE[kind]], consent: 'none: a client_credentials token', returns: kind === 'account-access' ? 'nothing: revokes the consent (its grant and tokens end)' : 'nothing: 405, a payment consent cannot be deleted (UK OB)' }),
      token,
      step(async (req, res) => {
        const client = clientOf(res);
        const id = String(req.params.consentId);
        const consent = await consents.getForClient(client, id);
        if (consent.kind !== kind) throw consentNotFound();
        // Unknown or another client's stays 404; an own payment consent is 405 (UK OB defines no DELETE for it).
        if (kind === 'domestic-payment') throw deleteNotSupported();
        await consents.deleteForClient(client, id);
        send(res, 204);
      }),
    );
  }
  return router;
}
