/**
 * The authorization server: oidc-provider v9 configured for open banking (FAPI 2.0 security profile, PAR,
 * PKCE S256, RFC 9207 `iss`, RFC 8705 mutual-TLS client authentication and certificate-bound tokens), with
 * our storage adapter, our signing keys, and the portal's decisions plugged into its hooks:
 *
 * - client authentication (`tls_client_auth`): the certificate on this connection must pass the eIDAS engine
 *   as a QWAC, carry the organizationIdentifier the client was registered for, and be issued by a CA whose key
 *   the client pinned. Clients are bound to the organisation, not to one certificate or a DN string, so a
 *   renewed QWAC from the same QTSP keeps working;
 * - token issuance (`extraTokenClaims`, the one async hook every access token passes): the client's partner is
 *   active and the certificate is still good — suspension and revocation stop issuance at once;
 * - registration: only through the portal's checks (src/oauth/registration.ts puts its decision on the request
 *   and the `portal-vetted` policy applies it; a request that did not pass them has no initial access token).
 */
import type { IncomingMessage } from 'node:http';
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../logger.js';
import type { PartnersService } from '../partners/types.js';
import type { ConsentRefusal, ConsentView } from '../consent/types.js';
import { x509 } from '../eidas/x509.js';
import type { AdapterClass } from './adapter.js';
import { presentedCertificate } from './client-certificate.js';
import { SIGNING_ALG, type SigningKeys } from './keys.js';
import { PORTAL_CLIENT_METADATA, ROLE_SCOPES, type PresentedCertificate } from './types.js';

/** oidc-provider's error classes, re-exported for the other oauth modules. */
export { errors };

export const API_SCOPES: readonly string[] = Object.values(ROLE_SCOPES);
/** API scope → the PSD2 role it needs (accounts → AIS, ...). */
export const ROLE_OF_SCOPE = new Map(Object.entries(ROLE_SCOPES).map(([role, scope]) => [scope as string, role as keyof typeof ROLE_SCOPES]));
const FAPI_ALGS = ['PS256', 'ES256'];
/** RFC 4514 name of the attribute tls_client_auth_subject_dn pins (EN 319 412-1 organizationIdentifier). */
const OI_ATTRIBUTE = '2.5.4.97';

/** What the registration gate decided for one request; the `portal-vetted` policy applies it. */
export interface VettedRegistration {
  metadata: Record<string, unknown>;
}

const vetted = new WeakMap<IncomingMessage, VettedRegistration>();

export function markVetted(req: IncomingMessage, decision: VettedRegistration): void {
  vetted.set(req, decision);
}

/** What the authorization server asks of the consent area (src/consent). */
export interface ConsentPort {
  get(id: string): Promise<ConsentView | null>;
  findByGrantId(grantId: string): Promise<ConsentView | null>;
  usable(id: string, opts: { clientId: string }): Promise<ConsentView | ConsentRefusal>;
}

/** The customer (a user of kind 'customer') a token's subject names. */
export interface CustomerPort {
  getUser(id: string): Promise<{ id: string; kind: string } | null>;
}

/** The UK Open Banking claim that carries the consent (intent) id in the authorization request. */
export const INTENT_CLAIM = 'openbanking_intent_id';

/**
 * The consent id a request names: `claims={"id_token":{"openbanking_intent_id":{"value":"…","essential":true}}}`
 * (or under `userinfo`). Null when absent; the caller decides whether that is allowed.
 */
export function intentIdFromClaims(claims: unknown): string | null {
  let parsed: unknown = claims;
  if (typeof claims === 'string') {
    try {
      parsed = JSON.parse(claims);
    } catch {
      return null;
    }
  }
  if (!parsed || typeof parsed !== 'object') return null;
  for (const member of ['id_token', 'userinfo'] as const) {
    const request = (parsed as Record<string, unknown>)[member] as Record<string, unknown> | undefined;
    const claim = request?.[INTENT_CLAIM] as { value?: unknown } | undefined;
    if (claim && typeof claim.value === 'string' && claim.value.length > 0 && claim.value.length <= 128) return claim.value;
  }
  return null;
}

/** The acr of a customer's grant: both factors were checked in the interaction that made it (UK OB). */
export const SCA_ACR = 'urn:openbanking:psd2:sca';

/** The API scope a consent of each kind opens. */
export const CONSENT_SCOPE: Record<ConsentView['kind'], string> = {
  'account-access': ROLE_SCOPES.AIS,
  'domestic-payment': ROLE_SCOPES.PIS,
};

export interface ProviderDeps {
  issuer: string;
  /** Base URL of the mutual-TLS listener, e.g. https://127.0.0.1:3444 (no trailing slash). */
  mtlsBaseUrl: string;
  /** Where oidc-provider is mounted on both listeners. */
  mountPath: string;
  /** Audience of JWT access tokens for the bank's APIs (a resource indicator, RFC 8707). */
  apiAudience: string;
  keys: SigningKeys;
  adapter: AdapterClass;
  cookieKeys: string[];
  accessTokenTtl: number;
  partners: Pick<PartnersService, 'getPartner'>;
  consents: ConsentPort;
  customers: CustomerPort;
  logger: Logger;
}

/** The subject DN value a client is registered with: its organisation, as an RFC 4514 string. */
export function organisationDn(orgId: string): string {
  return new x509.Name([{ [OI_ATTRIBUTE]: [orgId] }]).toString();
}

/** Why a certificate cannot act for a client (null when it can): the checks the token side shares. */
export function certificateRefusal(
  cert: PresentedCertificate | null | undefined,
  client: { orgId: unknown; issuerKeys: unknown },
): string | null {
  if (!cert) return 'no client certificate was presented';
  if (cert.report.verdict !== 'pass' || cert.report.type !== 'QWAC') {
    const codes = cert.report.findings.filter((f) => f.severity === 'error').map((f) => f.code);
    return `the client certificate is not a valid QWAC (${codes.join(', ') || cert.report.type})`;
  }
  if (typeof client.orgId !== 'string' || cert.report.organizationIdentifier?.raw !== client.orgId) {
    return 'the client certificate belongs to another organisation';
  }
  const pinned = Array.isArray(client.issuerKeys) ? client.issuerKeys : [];
  if (!cert.issuerKeySha256 || !pinned.includes(cert.issuerKeySha256)) {
    return 'the client certificate was issued by a CA this client has not registered (update the client with RFC 7592 to rebind it)';
  }
  return null;
}

/** invalid_client answered 401, as for a failed authentication (RFC 6749 §5.2), with a description that says why. */
function refusedClient(description: string): InstanceType<typeof errors.InvalidClient> {
  const err = new errors.InvalidClient(description);
  err.status = 401;
  err.statusCode = 401;
  return err;
}

function clientFacts(client: { [key: string]: unknown }) {
  return { orgId: client.org_id, issuerKeys: client.issuer_key_sha256, partnerId: client.partner_id };
}

export function createProvider(deps: ProviderDeps): Provider {
  const { issuer, mtlsBaseUrl, mountPath, apiAudience } = deps;
  const mtls = (route: string) => `${mtlsBaseUrl}${mountPath}${route}`;

  const configuration: Configuration = {
    adapter: deps.adapter,
    jwks: { keys: deps.keys.keys as NonNullable<Configuration['jwks']>['keys'] },
    cookies: { keys: deps.cookieKeys },
    clients: [],
    // FAPI 2.0 signs with PS256 or ES256; RS256 (oidc-provider's default) is not allowed.
    clientDefaults: {
      grant_types: ['authorization_code'],
      id_token_signed_response_alg: 'PS256',
      response_types: ['code'],
      token_endpoint_auth_method: 'tls_client_auth',
    },
    clientAuthMethods: ['tls_client_auth', 'private_key_jwt'],
    enabledJWA: {
      clientAuthSigningAlgValues: FAPI_ALGS as never,
      idTokenSigningAlgValues: FAPI_ALGS as never,
      requestObjectSigningAlgValues: FAPI_ALGS as never,
      authorizationSigningAlgValues: FAPI_ALGS as never,
      userinfoSigningAlgValues: FAPI_ALGS as never,
      introspectionSigningAlgValues: FAPI_ALGS as never,
    },
    scopes: ['openid', 'offline_access', ...API_SCOPES],
    responseTypes: ['code'],
    pkce: { required: () => true },
    routes: {
      authorization: '/auth',
      token: '/token',
      pushed_authorization_request: '/par',
      introspection: '/introspect',
      revocation: '/revoke',
      registration: '/register',
      userinfo: '/userinfo',
      jwks: '/jwks',
      end_session: '/session/end',
    },
    discovery: {
      mtls_endpoint_aliases: {
        token_endpoint: mtls('/token'),
        pushed_authorization_request_endpoint: mtls('/par'),
        introspection_endpoint: mtls('/introspect'),
        revocation_endpoint: mtls('/revoke'),
        registration_endpoint: mtls('/register'),
        userinfo_endpoint: mtls('/userinfo'),
      },
    },
    ttl: {
      AccessToken: deps.accessTokenTtl,
      ClientCredentials: deps.accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 30 * 24 * 3600,
      Grant: 30 * 24 * 3600,
      Interaction: 600,
      Session: 3600,
      PushedAuthorizationRequest: 60,
    },
    extraClientMetadata: {
      properties: [...PORTAL_CLIENT_METADATA],
      validator(_ctx, key, value) {
        if (value === undefined) return;
        if (key === 'issuer_key_sha256') {
          if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v))) {
            throw new errors.InvalidClientMetadata('issuer_key_sha256 must be a list of hex SHA-256 values');
          }
          return;
        }
        if (typeof value !== 'string' || value.length > 8192) {
          throw new errors.InvalidClientMetadata(`${key} must be a string`);
        }
      },
    },
    // Subjects are the bank's customers. The ID token also names the consent the grant was made for (UK OB).
    claims: { openid: ['sub'], [INTENT_CLAIM]: null },
    acrValues: [SCA_ACR],
    findAccount: async (ctx, sub) => {
      const user = await deps.customers.getUser(sub);
      if (!user || user.kind !== 'customer') return undefined;
      return {
        accountId: user.id,
        claims: async () => {
          const grantId = (ctx.oidc.entities as { Grant?: { jti?: string } } | undefined)?.Grant?.jti;
          const consent = grantId ? await deps.consents.findByGrantId(grantId) : null;
          return consent ? { sub: user.id, [INTENT_CLAIM]: consent.id } : { sub: user.id };
        },
      };
    },
    // A customer's tokens live as long as their consent, not as long as their browser session at the bank.
    expiresWithSession: async () => false,
    // Refresh tokens for account access only: a payment consent is used once.
    issueRefreshToken: async (_ctx, client, code) => {
      if (!client.grantTypeAllowed('refresh_token') || !code.grantId) return false;
      const consent = await deps.consents.findByGrantId(code.grantId);
      return consent?.kind === 'account-access';
    },
    interactions: { url: (_ctx, interaction) => `${mountPath}/interaction/${interaction.uid}` },
    extraTokenClaims: async (ctx, token) => {
      const client = ctx.oidc.client;
      if (!client) return undefined;
      const facts = clientFacts(client as unknown as Record<string, unknown>);
      const partner = typeof facts.partnerId === 'string' ? await deps.partners.getPartner(facts.partnerId) : null;
      if (!partner) throw refusedClient('this client is not linked to a partner of the bank');
      if (partner.status !== 'active') {
        throw refusedClient(`the partner ${partner.legalName} is suspended: no tokens are issued to its clients`);
      }
      const refusal = certificateRefusal(presentedCertificate(ctx.req), facts);
      if (refusal) throw refusedClient(`token refused: ${refusal}`);
      // Roles the bank withdrew since registration (the monitor narrows them on register changes).
      const withdrawn = [...(token as { scopes?: Set<string> }).scopes ?? []].filter((s) => {
        const role = ROLE_OF_SCOPE.get(s);
        return role !== undefined && !partner.allowedRoles.includes(role);
      });
      if (withdrawn.length > 0) {
        throw new errors.InvalidScope(`the bank no longer allows ${partner.legalName} the role behind ${withdrawn.join(' ')}`, withdrawn.join(' '));
      }
      // A customer's token (authorization_code, refresh_token) carries its consent, which must still be usable.
      const grantId = (token as { grantId?: string }).grantId;
      if (token.kind === 'ClientCredentials' || !grantId) return undefined;
      const consent = await deps.consents.findByGrantId(grantId);
      if (!consent) throw new errors.InvalidGrant('no consent is linked to this grant');
      const state = await deps.consents.usable(consent.id, { clientId: client.clientId });
      if (typeof state === 'string') throw new errors.InvalidGrant(`the consent cannot be used (${state})`);
      // grant_id lets the API refuse tokens whose grant is gone (code replay, revocation) before they expire.
      return { consent_id: consent.id, grant_id: grantId };
    },
    features: {
      devInteractions: { enabled: false },
      // The consent id travels in the (pushed) request as the openbanking_intent_id claim, checked at PAR time:
      // it must exist, belong to this client and still await the customer.
      claimsParameter: {
        enabled: true,
        assertClaimsParameter: async (ctx, claims, client) => {
          const id = intentIdFromClaims(claims);
          if (!id) return;
          const consent = await deps.consents.get(id);
          if (!consent || consent.clientId !== client.clientId) {
            throw new errors.InvalidRequest(`${INTENT_CLAIM} names no consent of this client: create one first`);
          }
          // On resume (after the customer's decision) the consent is authorised by now: that is the point.
          if (ctx.oidc.route !== 'resume' && consent.status !== 'awaiting_authorisation') {
            throw new errors.InvalidRequest(`the consent ${id} is ${consent.status}, not awaiting authorisation: create a new one`);
          }
          if (ctx.oidc.route !== 'resume' && consent.authoriseBy && Date.parse(consent.authoriseBy) <= Date.now()) {
            throw new errors.InvalidRequest(`the consent ${id} was not authorised in time (by ${consent.authoriseBy}): create a new one`);
          }
          const scopes = String(ctx.oidc.params?.scope ?? '').split(' ');
          if (!scopes.includes(CONSENT_SCOPE[consent.kind])) {
            throw new errors.InvalidRequest(`a ${consent.kind} consent needs the scope ${CONSENT_SCOPE[consent.kind]}`);
          }
        },
      },
      fapi: { enabled: true, profile: '2.0' },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
      clientCredentials: { enabled: true },
      // A partner may introspect and revoke its own clients' tokens only: partners never learn about each other.
      introspection: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      userinfo: { enabled: true },
      registration: {
        enabled: true,
        initialAccessToken: true,
        policies: {
          'portal-vetted': (ctx, properties) => {
            const decision = vetted.get(ctx.req);
            if (!decision) {
              throw new errors.InvalidClientMetadata('registration goes through the portal checks on the mutual-TLS listener');
            }
            const clientId = properties.client_id;
            for (const key of Object.keys(properties)) delete properties[key];
            Object.assign(properties, decision.metadata);
            if (clientId !== undefined) properties.client_id = clientId;
          },
        },
      },
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: true },
      resourceIndicators: {
        enabled: true,
        // No resource: an opaque token (introspectable, revocable at once). The API audience: a JWT.
        // client_credentials without a resource: an opaque token. A customer's token is always for the API.
        defaultResource: async (ctx, _client, oneOf) =>
          oneOf ?? (ctx.oidc.params?.grant_type === 'client_credentials' ? undefined : apiAudience),
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => {
          if (resource !== apiAudience) throw new errors.InvalidTarget(`unknown resource; the bank's API is ${apiAudience}`);
          return {
            scope: API_SCOPES.join(' '),
            audience: apiAudience,
            accessTokenTTL: deps.accessTokenTtl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: SIGNING_ALG } },
          };
        },
      },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        tlsClientAuth: true,
        selfSignedTlsClientAuth: false,
        getCertificate: (ctx) => presentedCertificate(ctx.req)?.pem,
        // Decided by the eIDAS engine's report, not by the TLS stack (the listener accepts any certificate).
        certificateAuthorized: (ctx) => {
          const cert = presentedCertificate(ctx.req);
          return !!cert && cert.report.verdict === 'pass' && cert.report.type === 'QWAC';
        },
        certificateSubjectMatches: (ctx, property, expected) => {
          const client = ctx.oidc.client as unknown as Record<string, unknown> | undefined;
          if (property !== 'tls_client_auth_subject_dn' || !client) return false;
          // The registered DN names the organisation only; the binding itself is organisation + issuer key.
          if (expected !== organisationDn(String(client.org_id))) return false;
          return certificateRefusal(presentedCertificate(ctx.req), clientFacts(client)) === null;
        },
      },
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Authorisation error</title></head><body><main><h1>Authorisation error</h1><p>${escapeHtml(String(out.error))}: ${escapeHtml(String(out.error_description ?? ''))}</p></main></body></html>`;
    },
  };

  const provider = new Provider(issuer, configuration);
  // The registration endpoint lives on the mutual-TLS listener only: say so in discovery.
  provider.use(async (ctx: KoaContextWithOIDC, next) => {
    await next();
    if (ctx.oidc?.route === 'discovery' && ctx.body && typeof ctx.body === 'object') {
      (ctx.body as Record<string, unknown>).registration_endpoint = mtls('/register');
    }
  });
  provider.on('server_error', (_ctx: unknown, err: Error) => deps.logger.error({ err }, 'oauth server error'));
  return provider;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
