/**
 * The oauth area composed: storage, signing keys, the certificate context, the authorization server (built
 * once the listeners know their addresses), the resource guard, and the routers for both listeners.
 *
 *   public listener:  /oauth/.well-known/openid-configuration, /oauth/jwks, /oauth/auth (customers' browsers)
 *   mutual-TLS:       /oauth/token, /oauth/par, /oauth/introspect, /oauth/revoke, /oauth/userinfo,
 *                     /oauth/register[/:clientId] (behind the registration gate), and the bank's APIs
 */
import { Router, type Request, type Response, type NextFunction, type RequestHandler } from 'express';
import type Provider from 'oidc-provider';
import type { AuditService } from '../audit/service.js';
import type { EidasService } from '../eidas/service.js';
import { createCertificateSource } from '../http/middleware/client-cert.js';
import type { Logger } from '../logger.js';
import type { PartnersService } from '../partners/types.js';
import type { RegistrationDecision, RegistrationRequestInput } from '../registration/types.js';
import type { Db } from '../store/database.js';
import { createSqliteOAuthRepository } from '../store/sqlite/oauth.js';
import type { Transactor } from '../store/transaction.js';
import { createAdapterClass } from './adapter.js';
import { createCertificateContext, type CertificateContext } from './client-certificate.js';
import { createTokenGuard } from './guard.js';
import { loadSigningKeys, type SigningKeys } from './keys.js';
import { createProvider, type ConsentPort, type CustomerPort } from './provider.js';
import { createRegistrationGate } from './registration.js';
import type { OAuthRepository } from './repository.js';
import { policy, providerMount } from '../ops/policy.js';
import { createOAuthService, type OAuthService } from './service.js';

export const OAUTH_MOUNT = '/oauth';

/** Public-listener paths under the mount; everything else is a mutual-TLS endpoint. */
const PUBLIC_PATHS = [/^\/\.well-known\/openid-configuration$/, /^\/jwks$/, /^\/auth(\/.*)?$/, /^\/session\/end(\/.*)?$/];
/** The same, as oidc-provider endpoints (for the API inventory, src/ops/provider-endpoints.ts). */
const PUBLIC_ENDPOINTS = ['discovery', 'jwks', 'authorization', 'resume', 'end_session', 'end_session_confirm', 'end_session_success'];

export interface OAuthAreaDeps {
  db: Db;
  tx: Transactor;
  audit: AuditService;
  eidas: EidasService;
  partners: PartnersService;
  logger: Logger;
  dataDir: string;
  cookieSecret: string;
  accessTokenTtl: number;
  /** The bank's customers (accounts of kind 'customer'): the subjects of authorization_code grants. */
  customers: CustomerPort;
  proxy: { trusted: string[]; header: string };
  /**
   * Configured external URLs (PUBLIC_URL, MTLS_URL). When set, OAuth requests must name that host: the
   * provider builds endpoint URLs from the Host header, and a forged one must not end up in discovery or in a
   * registration_client_uri.
   */
  externalUrls?: { publicUrl: string | null; mtlsUrl: string | null };
  /** Validation reuse for presented certificates (ms). Default 60 s. */
  certificateTtlMs?: number;
}

export interface OAuthArea {
  repo: OAuthRepository;
  service: OAuthService;
  keys: SigningKeys;
  certificates: CertificateContext;
  /** The consent area, created after this one (it reads clients): call before `start`. */
  useConsents(port: ConsentPort): void;
  /** Builds the authorization server for the listeners' external URLs. Call once, after listen. */
  start(urls: { publicBaseUrl: string; mtlsBaseUrl: string }): Provider;
  provider(): Provider;
  issuer(): string;
  apiAudience(): string;
  requireBoundToken(opts?: { scopes?: readonly string[] }): RequestHandler;
  /** The guard's checks without the middleware around them (bench:mtls --breakdown measures them outside Express). */
  checkBoundToken: ReturnType<typeof createTokenGuard>['check'];
  publicRouter(): Router;
  /** `evaluate` is the registration area's decision on a registration request. */
  mtlsRouter(evaluate: (input: RegistrationRequestInput) => Promise<RegistrationDecision>): Router;
}

export async function createOAuthArea(deps: OAuthAreaDeps): Promise<OAuthArea> {
  const repo = createSqliteOAuthRepository(deps.db);
  const service = createOAuthService({ repo, tx: deps.tx, audit: deps.audit });
  const keys = await loadSigningKeys(deps.dataDir);
  const certificates = createCertificateContext({
    eidas: deps.eidas,
    source: createCertificateSource(deps.proxy),
    audit: deps.audit,
    logger: deps.logger,
    onRevoked: async (cert) => {
      const removed = await service.revokeCertificateTokens(cert.thumbprint, 'the certificate was found revoked');
      const org = cert.report.organizationIdentifier?.raw;
      const partner = org ? await deps.partners.partnerForOrganization(org) : null;
      // Only the partner's approved QWAC suspends it; another revoked certificate of the organisation just loses
      // what was bound to it.
      if (partner && partner.status === 'active' && partner.qwacSha256 === cert.report.sha256) {
        await deps.partners.suspendPartnerAutomatically(partner.id, {
          reasonCode: 'CERTIFICATE_REVOKED',
          text: `The approved QWAC (serial ${cert.report.serialNumber}) was found revoked by ${cert.report.revocation.source ?? 'its issuer'} when presented over mutual TLS.`,
          source: 'mutual-TLS certificate check',
        });
      }
      deps.logger.warn({ thumbprint: cert.thumbprint, org, removed }, 'revoked client certificate presented');
    },
    ...(deps.certificateTtlMs === undefined ? {} : { ttlMs: deps.certificateTtlMs }),
  });
  const adapter = createAdapterClass({ repo, tx: deps.tx, audit: deps.audit });
  let provider: Provider | null = null;
  let consents: ConsentPort | null = null;
  let issuer = '';
  let apiAudience = '';
  const current = (): Provider => {
    if (!provider) throw new Error('the authorization server is not started yet');
    return provider;
  };
  const guard = createTokenGuard({
    issuer: () => issuer,
    apiAudience: () => apiAudience,
    keys,
    provider: current,
    oauth: service,
    partners: deps.partners,
  });

  /** Hands the request to oidc-provider (Express stripped the mount from req.url; the provider reads originalUrl). */
  let providerHandle: { provider: Provider; handle: (req: Request, res: Response) => Promise<void> } | null = null;
  const toProvider = (req: Request, res: Response, next: NextFunction) => {
    if (!provider) {
      res.status(503).set('Retry-After', '1').json({ error: 'temporarily_unavailable', error_description: 'starting' });
      return;
    }
    // Koa composes the middleware stack on every callback() call: once per provider, not once per request.
    if (providerHandle?.provider !== provider) {
      providerHandle = { provider, handle: provider.callback() as (req: Request, res: Response) => Promise<void> };
    }
    providerHandle.handle(req, res).catch(next);
  };

  /** 421 for a request whose Host is not the configured external host (nothing to check when none is). */
  const hostGuard = (configured: string | null | undefined) => {
    const expected = configured ? new URL(configured).host.toLowerCase() : null;
    return (req: Request, res: Response, next: NextFunction) => {
      if (expected && String(req.headers.host ?? '').toLowerCase() !== expected) {
        res.status(421).set('Cache-Control', 'no-store').json({
          error: 'invalid_request',
          error_description: `this server answers OAuth requests for ${expected} only`,
        });
        return;
      }
      next();
    };
  };

  return {
    repo,
    service,
    keys,
    certificates,
    useConsents(port) {
      consents = port;
    },
    start(urls) {
      if (!consents) throw new Error('the consent area is not attached (useConsents) before start');
      issuer = `${urls.publicBaseUrl}${OAUTH_MOUNT}`;
      apiAudience = `${urls.mtlsBaseUrl}/api`;
      provider = createProvider({
        issuer,
        mtlsBaseUrl: urls.mtlsBaseUrl,
        mountPath: OAUTH_MOUNT,
        apiAudience,
        keys,
        adapter,
        cookieKeys: [deps.cookieSecret],
        accessTokenTtl: deps.accessTokenTtl,
        partners: deps.partners,
        consents,
        customers: deps.customers,
        logger: deps.logger,
      });
      return provider;
    },
    provider: current,
    issuer: () => issuer,
    apiAudience: () => apiAudience,
    requireBoundToken: guard.requireBoundToken,
    checkBoundToken: guard.check,
    publicRouter() {
      const router = Router();
      router.use(OAUTH_MOUNT, hostGuard(deps.externalUrls?.publicUrl));
      router.use(OAUTH_MOUNT, providerMount({ endpoints: PUBLIC_ENDPOINTS }), (req, res, next) => {
        if (PUBLIC_PATHS.some((re) => re.test(req.path))) {
          toProvider(req, res, next);
          return;
        }
        if (req.path.startsWith('/interaction/')) {
          next();
          return;
        }
        res
          .status(400)
          .set('Cache-Control', 'no-store')
          .json({
            error: 'invalid_request',
            error_description: 'this endpoint is served on the mutual-TLS listener: see mtls_endpoint_aliases in the discovery document',
          });
      });
      return router;
    },
    mtlsRouter(evaluate) {
      const gate = createRegistrationGate({ provider: current, evaluate, oauth: service, audit: deps.audit, logger: deps.logger });
      const router = Router();
      router.use(OAUTH_MOUNT, hostGuard(deps.externalUrls?.mtlsUrl));
      router.use(certificates.middleware);
      router.post(
        `${OAUTH_MOUNT}/register`,
        policy({ auth: 'mtls+qwac', returns: 'the registered client metadata and a registration access token (RFC 7591), after the portal checks (software statement or fast lane)' }),
        gate.create,
      );
      router.all(
        `${OAUTH_MOUNT}/register/:clientId`,
        policy({
          auth: 'registration-access-token',
          methods: ['GET', 'PUT', 'DELETE'],
          returns: 'RFC 7592: the client metadata (GET), updated through the portal checks (PUT), or the client removed (DELETE)',
        }),
        gate.manage,
      );
      router.use(OAUTH_MOUNT, providerMount({ endpoints: 'all' }), toProvider);
      return router;
    },
  };
}
