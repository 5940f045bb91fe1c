/**
 * `requireConsent({ kind, anyOf? })`: what the bank's resource APIs mount after `requireBoundToken`. Named
 * checks, in order; the first that fails answers 403 `{ error, error_description }` (Cache-Control: no-store),
 * like the token guard:
 *
 *   consent.required              the token carries a consent (a customer authorised it: authorization_code)
 *   <usable>                      the consent is usable now by this client (`ConsentRefusal` codes: not found,
 *                                 other client, not authorised, revoked, expired — also before the sweep ran —,
 *                                 consumed)
 *   consent.not_authorised        it is the consent of the token's customer
 *   consent.kind_mismatch         it is of the kind the API serves (a payment consent reads no accounts)
 *   consent.permission_missing    it includes one of the permissions the endpoint needs (`anyOf`)
 *   consent.account_not_granted   the `:accountId` in the path is one the customer chose
 *
 * On success the consent is on `consentOf(res)`, and once the response is finished the call is recorded in
 * the customer's access history with the route pattern (never the concrete URL) and its status.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { boundToken } from '../oauth/guard.js';
import type { ConsentService } from './service.js';
import type { AccountPermission, ConsentKind, ConsentView } from './types.js';

export interface ConsentGuardDeps {
  consents: Pick<ConsentService, 'usable' | 'recordAccess'>;
}

const DESCRIPTIONS: Record<string, string> = {
  'consent.required': 'This API needs an access token the customer authorised for a consent (authorization_code).',
  'consent.not_found': 'The consent of this access token does not exist.',
  'consent.other_client': 'The consent of this access token belongs to another client.',
  'consent.not_authorised': 'The consent of this access token is not authorised by the customer.',
  'consent.revoked': 'The customer withdrew this consent.',
  'consent.expired': 'This consent has expired: ask the customer for a new one.',
  'consent.consumed': 'This payment consent has already been used.',
  'consent.kind_mismatch': 'This API needs another kind of consent.',
  'consent.account_not_granted': 'The consent does not cover this account.',
};

/** `GET /api/v1/accounts/:accountId/balances` → `GET /api/v1/accounts/{AccountId}/balances` (UK OB style). */
export function endpointPattern(method: string, baseUrl: string, routePath: unknown): string {
  const path = typeof routePath === 'string' ? routePath : '(unknown route)';
  const pattern = `${baseUrl}${path}`.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => `{${name.charAt(0).toUpperCase()}${name.slice(1)}}`);
  return `${method.toUpperCase()} ${pattern}`.slice(0, 200);
}

export function createConsentGuard(deps: ConsentGuardDeps) {
  function refuse(res: Response, code: string, description?: string): void {
    res
      .status(403)
      .set('Cache-Control', 'no-store')
      .json({ error: code, error_description: description ?? DESCRIPTIONS[code] ?? 'The consent does not allow this call.' });
  }

  function requireConsent(opts: { kind: ConsentKind; anyOf?: readonly AccountPermission[] }): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      const token = boundToken(res);
      if (!token) {
        next(new Error('requireConsent: mount requireBoundToken first'));
        return;
      }
      if (!token.consentId) return refuse(res, 'consent.required');
      deps.consents.usable(token.consentId, { clientId: token.clientId }).then((state) => {
        if (typeof state === 'string') return refuse(res, state);
        const consent = state;
        if (consent.customerId === null || (token.customerId !== null && token.customerId !== consent.customerId)) {
          return refuse(res, 'consent.not_authorised');
        }
        if (consent.kind !== opts.kind) return refuse(res, 'consent.kind_mismatch');
        if (opts.anyOf && opts.anyOf.length > 0 && !opts.anyOf.some((p) => consent.permissions.includes(p))) {
          return refuse(res, 'consent.permission_missing', `The consent does not include the permission this endpoint needs: ${opts.anyOf.join(' or ')}.`);
        }
        const accountId = typeof req.params.accountId === 'string' ? req.params.accountId : null;
        if (accountId !== null && !consent.accountIds.includes(accountId)) return refuse(res, 'consent.account_not_granted');

        res.locals.consent = consent;
        const endpoint = endpointPattern(req.method, req.baseUrl, req.route?.path);
        res.once('finish', () => {
          deps.consents
            .recordAccess(consent.id, { clientId: token.clientId, endpoint, accountId, status: res.statusCode })
            .catch((err: unknown) => req.log?.error({ err, consentId: consent.id }, 'consent access not recorded'));
        });
        next();
      }, next);
    };
  }

  return { requireConsent };
}

/** The consent `requireConsent` checked for this request. */
export function consentOf(res: Response): ConsentView {
  const consent = res.locals.consent as ConsentView | undefined;
  if (!consent) throw new Error('consentOf: requireConsent did not run for this route');
  return consent;
}
