/**
 * oidc-provider's endpoints. They are not Express routes (the provider is one middleware under /oauth), so the
 * inventory asks the provider which of them it has (`provider.pathFor(name)` throws for an endpoint whose
 * feature is off) and takes their policies from here. `PROVIDER_ROUTES` names every route oidc-provider v9 can
 * register (lib/helpers/initialize_app.js; a test compares the list with the installed library), so an endpoint
 * switched on later shows up in the inventory without a policy, and the completeness test fails until one is
 * written below.
 */
import type { PolicyDeclaration } from './policy.js';

export interface ProviderRoute {
  /** Key in the mount declarations and in PROVIDER_POLICIES. */
  key: string;
  /** oidc-provider's route name (`pathFor`), or null for a fixed path it always serves. */
  name: string | null;
  /** The path when `name` is null (relative to the mount). */
  path?: string;
  methods: readonly string[];
}

export const PROVIDER_ROUTES: readonly ProviderRoute[] = [
  // Both discovery documents are registered under the one name 'discovery'; pathFor returns the first only.
  { key: 'discovery', name: null, path: '/.well-known/openid-configuration', methods: ['GET'] },
  { key: 'discovery:oauth', name: null, path: '/.well-known/oauth-authorization-server', methods: ['GET'] },
  { key: 'jwks', name: 'jwks', methods: ['GET'] },
  // POST on authorization and end_session only with enableHttpPostMethods, which the portal leaves off.
  { key: 'authorization', name: 'authorization', methods: ['GET'] },
  { key: 'resume', name: 'resume', methods: ['GET'] },
  { key: 'userinfo', name: 'userinfo', methods: ['GET', 'POST'] },
  { key: 'token', name: 'token', methods: ['POST'] },
  { key: 'pushed_authorization_request', name: 'pushed_authorization_request', methods: ['POST'] },
  { key: 'introspection', name: 'introspection', methods: ['POST'] },
  { key: 'revocation', name: 'revocation', methods: ['POST'] },
  { key: 'registration', name: 'registration', methods: ['POST'] },
  { key: 'client', name: 'client', methods: ['GET'] },
  { key: 'client_update', name: 'client_update', methods: ['PUT'] },
  { key: 'client_delete', name: 'client_delete', methods: ['DELETE'] },
  { key: 'end_session', name: 'end_session', methods: ['GET'] },
  { key: 'end_session_confirm', name: 'end_session_confirm', methods: ['POST'] },
  { key: 'end_session_success', name: 'end_session_success', methods: ['GET'] },
  // Features the portal does not enable; listed so that switching one on is noticed.
  { key: 'device_authorization', name: 'device_authorization', methods: ['POST'] },
  { key: 'code_verification', name: 'code_verification', methods: ['GET', 'POST'] },
  { key: 'device_resume', name: 'device_resume', methods: ['GET'] },
  { key: 'backchannel_authentication', name: 'backchannel_authentication', methods: ['POST'] },
  { key: 'openid_credential_issuer', name: 'openid_credential_issuer', methods: ['GET'] },
  { key: 'credential', name: 'credential', methods: ['POST'] },
  { key: 'challenge', name: 'challenge', methods: ['POST'] },
  { key: 'interaction', name: 'interaction', methods: ['GET'] },
  { key: 'submit', name: 'submit', methods: ['POST'] },
  { key: 'abort', name: 'abort', methods: ['GET'] },
];

const TOKEN_BINDING = 'issues certificate-bound tokens: cnf.x5t#S256 of the presented QWAC (RFC 8705 §3)';

/** Policies of the endpoints the portal serves, by ProviderRoute key. */
export const PROVIDER_POLICIES: Readonly<Record<string, PolicyDeclaration>> = {
  discovery: { auth: 'none', returns: 'OpenID Provider metadata: endpoints, mtls_endpoint_aliases, algorithms, scopes' },
  'discovery:oauth': { auth: 'none', returns: 'OAuth 2.0 authorization server metadata (RFC 8414), as the OpenID document' },
  jwks: { auth: 'none', returns: "the portal's public token-signing keys (JWK Set)" },
  authorization: {
    auth: 'none',
    returns: "redirect to the customer's sign-in and consent page; needs a request_uri from PAR (FAPI 2.0)",
  },
  resume: { auth: 'interaction', returns: 'redirect to the client with an authorization code, or an error' },
  userinfo: {
    auth: 'mtls+bound-token',
    scopes: ['openid'],
    returns: "the customer's subject identifier and the consent id claim",
  },
  token: {
    auth: 'mtls-client-auth',
    binding: TOKEN_BINDING,
    returns: 'access tokens (client_credentials, authorization_code, refresh_token grants), refresh tokens for account access',
  },
  pushed_authorization_request: { auth: 'mtls-client-auth', returns: 'a request_uri for the authorization endpoint (RFC 9126)' },
  introspection: { auth: 'mtls-client-auth', returns: "whether one of the client's own tokens is active, with its claims (RFC 7662)" },
  revocation: { auth: 'mtls-client-auth', returns: "nothing: revokes one of the client's own tokens (RFC 7009)" },
  registration: {
    auth: 'mtls+qwac',
    returns: 'the registered client metadata and a registration access token (RFC 7591)',
  },
  client: { auth: 'registration-access-token', returns: "the client's registered metadata (RFC 7592)" },
  client_update: { auth: 'registration-access-token', returns: 'the updated client metadata and a rotated registration access token' },
  client_delete: { auth: 'registration-access-token', returns: 'nothing: the client, its tokens and grants are removed' },
  end_session: { auth: 'none', returns: "a sign-out confirmation page for the customer's session at the authorization server" },
  end_session_confirm: { auth: 'none', returns: 'redirect after ending the authorization server session (form with its own xsrf token)' },
  end_session_success: { auth: 'none', returns: 'a signed-out page' },
};
