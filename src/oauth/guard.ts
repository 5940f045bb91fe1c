/**
 * `requireBoundToken({ scopes })`: the security template every bank API mounts on the mutual-TLS listener.
 * A list of named checks, in order; the first that fails answers per RFC 6750 with `WWW-Authenticate`:
 *
 *   token.present      a Bearer token in the Authorization header (never in the query or body)
 *   token.valid        a JWT access token signed by us for this API's audience, or an opaque token we issued
 *   token.bound        its cnf.x5t#S256 equals the thumbprint of the certificate on this connection (RFC 8705 §3)
 *   certificate.valid  that certificate is still a valid QWAC of the client's organisation, from a pinned CA
 *   client.active      the client is still registered (RFC 7592 delete ends it)
 *   partner.active     its partner is not suspended (checked on every call: suspension is not at token expiry)
 *   grant.active       a customer's token: the grant behind it still exists (a replayed code or a revoked
 *                      consent removes it, and the tokens issued from it stop at once, JWTs included)
 *   token.scope        the token carries every scope the route needs (403 insufficient_scope)
 *   partner.role       the partner is still allowed the role behind each of those scopes (the monitor narrows
 *                      roles when the NCA register withdraws a service): 403 insufficient_scope at once
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type Provider from 'oidc-provider';
import { Lru } from '../eidas/chain/lru.js';
import type { PartnersService, PartnerView } from '../partners/types.js';
import { presentedCertificate } from './client-certificate.js';
import { SIGNING_ALG, type SigningKeys } from './keys.js';
import { certificateRefusal, ROLE_OF_SCOPE } from './provider.js';
import type { OAuthService } from './service.js';
import type { ClientSummary } from './types.js';

export interface BoundTokenContext {
  clientId: string;
  partnerId: string;
  partner: PartnerView;
  orgId: string;
  scopes: string[];
  thumbprint: string;
  format: 'jwt' | 'opaque';
  /** The consent a customer granted (authorization_code tokens); null for client_credentials tokens. */
  consentId: string | null;
  /** The customer (the token's subject); null for client_credentials tokens. */
  customerId: string | null;
}

export interface GuardDeps {
  issuer: () => string;
  apiAudience: () => string;
  keys: SigningKeys;
  provider: () => Provider;
  oauth: Pick<OAuthService, 'getClient'>;
  partners: Pick<PartnersService, 'getPartner'>;
  realm?: string;
}

interface Failure {
  status: 400 | 401 | 403;
  error: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  description: string;
  check: string;
  scope?: string;
}

interface TokenFacts {
  clientId: string;
  scopes: string[];
  thumbprint: string | null;
  format: 'jwt' | 'opaque';
  consentId: string | null;
  customerId: string | null;
  grantId: string | null;
}

const TOKEN_SYNTAX = /^[A-Za-z0-9\-._~+/]+=*$/;

export function bearerChallenge(realm: string, f: Pick<Failure, 'error' | 'description' | 'scope'> | null): string {
  const q = (s: string) => `"${s.replace(/["\\]/g, '')}"`;
  const parts = [`realm=${q(realm)}`];
  if (f) {
    parts.push(`error=${q(f.error)}`, `error_description=${q(f.description)}`);
    if (f.scope) parts.push(`scope=${q(f.scope)}`);
  }
  return `Bearer ${parts.join(', ')}`;
}

export function createTokenGuard(deps: GuardDeps) {
  const realm = deps.realm ?? 'bank-api';
  const verified = new Lru<string, { payload: JWTPayload; until: number }>(10_000);
  const jwks = createLocalJWKSet(deps.keys.publicJwks as Parameters<typeof createLocalJWKSet>[0]);

  function fail(res: Response, f: Failure, withError = true): void {
    // The failed check's name, for what observes the answer (the activity recorder), not for the client.
    res.locals.oauthRefusal = f.check;
    res
      .status(f.status)
      .set('WWW-Authenticate', bearerChallenge(realm, withError ? f : null))
      .set('Cache-Control', 'no-store')
      .json({ error: f.error, error_description: f.description });
  }

  async function readToken(value: string): Promise<TokenFacts | Failure> {
    const invalid = (description: string): Failure => ({ status: 401, error: 'invalid_token', description, check: 'token.valid' });
    if (value.split('.').length === 3) {
      let payload: JWTPayload;
      try {
        const hit = verified.get(value);
        if (hit && Date.now() < hit.until) payload = hit.payload;
        else {
          ({ payload } = await jwtVerify(value, jwks, {
            issuer: deps.issuer(),
            audience: deps.apiAudience(),
            algorithms: [SIGNING_ALG],
            typ: 'at+jwt',
          }));
          // A token that verified stays valid until it expires: reuse the result, bounded to a minute.
          verified.set(value, { payload, until: Math.min((payload.exp ?? 0) * 1000, Date.now() + 60_000) });
        }
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'ERR_JWT_INVALID';
        return invalid(code === 'ERR_JWT_EXPIRED' ? 'the access token has expired' : `the access token is not valid here (${code})`);
      }
      const cnf = payload.cnf as Record<string, unknown> | undefined;
      return {
        clientId: String(payload.client_id ?? ''),
        scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
        thumbprint: typeof cnf?.['x5t#S256'] === 'string' ? (cnf['x5t#S256'] as string) : null,
        format: 'jwt',
        consentId: typeof payload.consent_id === 'string' ? payload.consent_id : null,
        // client_credentials JWTs have sub = client_id; only a customer's token names a consent.
        customerId: typeof payload.consent_id === 'string' && typeof payload.sub === 'string' ? payload.sub : null,
        grantId: typeof payload.grant_id === 'string' ? payload.grant_id : null,
      };
    }
    const provider = deps.provider();
    const token = (await provider.AccessToken.find(value)) ?? (await provider.ClientCredentials.find(value));
    if (!token || token.isExpired) return invalid('the access token is unknown, expired or revoked');
    // An opaque token issued for a resource is a JWT; an opaque one has no audience and serves this API.
    const record = token as unknown as {
      clientId: string;
      scope?: string;
      'x5t#S256'?: string;
      accountId?: string;
      grantId?: string;
      extra?: Record<string, unknown>;
    };
    const consentId = typeof record.extra?.consent_id === 'string' ? record.extra.consent_id : null;
    return {
      clientId: record.clientId,
      scopes: (record.scope ?? '').split(' ').filter(Boolean),
      thumbprint: record['x5t#S256'] ?? null,
      format: 'opaque',
      consentId,
      customerId: consentId && typeof record.accountId === 'string' ? record.accountId : null,
      grantId: consentId && typeof record.grantId === 'string' ? record.grantId : null,
    };
  }

  /** Runs the checks; returns the context or the first failure. */
  async function check(req: Request, scopes: readonly string[]): Promise<BoundTokenContext | Failure> {
    const header = req.headers.authorization;
    const query = req.query as Record<string, unknown> | undefined;
    if (query && 'access_token' in query) {
      return { status: 400, error: 'invalid_request', description: 'send the access token in the Authorization header, not in the URL', check: 'token.present' };
    }
    if (!header) {
      return { status: 401, error: 'invalid_token', description: 'an access token is required (Authorization: Bearer ...)', check: 'token.present' };
    }
    const match = /^Bearer ([^\s]+)$/i.exec(header);
    if (!match || !TOKEN_SYNTAX.test(match[1]!) || match[1]!.length > 8192) {
      return { status: 400, error: 'invalid_request', description: 'the Authorization header must be "Bearer <token>"', check: 'token.present' };
    }
    const facts = await readToken(match[1]!);
    if ('error' in facts) return facts;

    const cert = presentedCertificate(req);
    if (!facts.thumbprint) {
      return { status: 401, error: 'invalid_token', description: 'the access token is not bound to a certificate', check: 'token.bound' };
    }
    if (!cert || cert.thumbprint !== facts.thumbprint) {
      return {
        status: 401,
        error: 'invalid_token',
        description: cert
          ? 'the access token is bound to another certificate than the one on this connection'
          : 'present the certificate the access token is bound to (mutual TLS)',
        check: 'token.bound',
      };
    }
    const client: ClientSummary | null = await deps.oauth.getClient(facts.clientId);
    if (!client) {
      return { status: 401, error: 'invalid_token', description: 'the client of this access token no longer exists', check: 'client.active' };
    }
    const refusal = certificateRefusal(cert, { orgId: client.orgId, issuerKeys: client.issuerKeys });
    if (refusal) return { status: 401, error: 'invalid_token', description: refusal, check: 'certificate.valid' };
    const partner = await deps.partners.getPartner(client.partnerId);
    if (!partner || partner.status !== 'active') {
      return { status: 401, error: 'invalid_token', description: 'the partner of this client is suspended', check: 'partner.active' };
    }
    if (facts.consentId) {
      const grant = facts.grantId ? await deps.provider().Grant.find(facts.grantId) : undefined;
      if (!grant) {
        return { status: 401, error: 'invalid_token', description: 'the authorisation behind this access token was revoked', check: 'grant.active' };
      }
    }
    const missing = scopes.filter((s) => !facts.scopes.includes(s));
    if (missing.length > 0) {
      return {
        status: 403,
        error: 'insufficient_scope',
        description: `this API needs the scope ${missing.join(' ')}`,
        scope: scopes.join(' '),
        check: 'token.scope',
      };
    }
    const withdrawn = scopes.filter((s) => {
      const role = ROLE_OF_SCOPE.get(s);
      return role !== undefined && !partner.allowedRoles.includes(role);
    });
    if (withdrawn.length > 0) {
      return {
        status: 403,
        error: 'insufficient_scope',
        description: `the bank no longer allows ${partner.legalName} the role behind ${withdrawn.join(' ')}`,
        scope: scopes.join(' '),
        check: 'partner.role',
      };
    }
    return {
      clientId: client.clientId,
      partnerId: client.partnerId,
      partner,
      orgId: client.orgId,
      scopes: facts.scopes,
      thumbprint: cert.thumbprint,
      format: facts.format,
      consentId: facts.consentId,
      customerId: facts.customerId,
    };
  }

  function requireBoundToken(opts: { scopes?: readonly string[] } = {}): RequestHandler {
    const scopes = opts.scopes ?? [];
    return (req: Request, res: Response, next: NextFunction) => {
      check(req, scopes).then((out) => {
        if ('error' in out) {
          // RFC 6750 §3.1: no error code in the challenge when the request carried no credentials.
          fail(res, out, out.check !== 'token.present' || req.headers.authorization !== undefined);
          return;
        }
        res.locals.oauth = out;
        next();
      }, next);
    };
  }

  return { requireBoundToken, check };
}

export function boundToken(res: Response): BoundTokenContext {
  return res.locals.oauth as BoundTokenContext;
}
