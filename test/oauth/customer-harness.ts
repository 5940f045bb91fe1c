/**
 * The customer flow for the tests, over the whole portal (startOAuthPortal): a registered authorization_code
 * client driven by openid-client over mutual TLS, a bank customer with demo accounts, consent intents created
 * with a client_credentials token, and the customer's pages driven through their real forms (a cookie jar over
 * HTTPS, CSRF tokens read from the pages) — the same forms the browser test fills in.
 */
import { randomUUID } from 'node:crypto';
import * as client from 'openid-client';
import supertest from 'supertest';
import { fetch, type Dispatcher } from 'undici';
import { DEMO_SOFTWARE } from '../../src/demo/seed.js';
import { csrfFrom, nextTotpCode, type Agent } from '../helpers/web.js';
import type { OAuthHarness } from './harness.js';

export function mtlsFetch(dispatcher: Dispatcher): client.CustomFetch {
  return (url, options) =>
    fetch(url, { ...options, dispatcher } as Parameters<typeof fetch>[1]) as unknown as Promise<Response>;
}

export interface Customer {
  id: string;
  email: string;
  password: string;
  totpSecret: string;
  accountIds: string[];
}

let customers = 0;

/** A new bank customer (password + enrolled TOTP) with the demo current and savings accounts. */
export async function seedCustomer(h: OAuthHarness, name = `Casey Customer ${++customers}`): Promise<Customer> {
  const email = `customer-${randomUUID().slice(0, 8)}@example.test`;
  const password = `pw-${randomUUID()}`;
  const { user, totpSecretBase32 } = await h.portal.accounts.seedCustomer({ email, displayName: name, password });
  await h.portal.banking.seedDemoAccounts(user.id, name, { seed: email });
  const accounts = await h.portal.banking.accountsOf(user.id);
  return { id: user.id, email, password, totpSecret: totpSecretBase32, accountIds: accounts.map((a) => a.id) };
}

export interface PartnerClient {
  clientId: string;
  config: client.Configuration;
  fetch: client.CustomFetch;
  /** A client_credentials token (opaque) for the consent APIs. */
  ccToken(scope: string): Promise<string>;
  /** POST a consent intent; returns the consent id. */
  createConsent(kind: 'account-access' | 'domestic-payment', body: unknown): Promise<{ status: number; json: Record<string, unknown> }>;
  /** Pushes the authorization request (PAR, PKCE S256) and returns the URL to send the customer to. */
  authorizationUrl(consentId: string, scope: string, extra?: Record<string, string>): Promise<{ url: URL; verifier: string; state: string }>;
  /** Exchanges the code the redirect carried. */
  exchange(redirect: URL, verifier: string, state: string): Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers>;
  api(token: string, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }>;
}

/** Registers the demo software for the customer flow (authorization_code, refresh_token, client_credentials). */
export async function registerPartnerClient(h: OAuthHarness, who = 'acme-payments'): Promise<PartnerClient> {
  const dispatcher = h.client(who);
  const f = mtlsFetch(dispatcher);
  const issuer = new URL(h.portal.oauth.issuer());
  const registered = await client.dynamicClientRegistration(
    issuer,
    {
      software_statement: h.demo.ssa,
      token_endpoint_auth_method: 'tls_client_auth',
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      redirect_uris: [DEMO_SOFTWARE.redirectUri],
      scope: 'openid accounts payments',
      use_mtls_endpoint_aliases: true,
    },
    client.TlsClientAuth(),
    { [client.customFetch]: f },
  );
  const clientId = registered.clientMetadata().client_id;
  const config = await client.discovery(
    issuer,
    clientId,
    { use_mtls_endpoint_aliases: true, id_token_signed_response_alg: 'PS256' },
    client.TlsClientAuth(),
    { [client.customFetch]: f },
  );
  const api: PartnerClient['api'] = async (token, method, path, body, headers = {}) => {
    const res = await fetch(`${h.mtlsUrl}${path}`, {
      dispatcher,
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      redirect: 'manual',
    });
    const text = await res.text();
    let json: Record<string, unknown>;
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      json = { raw: text };
    }
    return { status: res.status, json, headers: res.headers as unknown as Headers };
  };
  const ccToken = async (scope: string) => (await client.clientCredentialsGrant(config, { scope })).access_token;
  return {
    clientId,
    config,
    fetch: f,
    ccToken,
    api,
    async createConsent(kind, body) {
      const scope = kind === 'account-access' ? 'accounts' : 'payments';
      const token = await ccToken(scope);
      const path = kind === 'account-access' ? '/api/v1/account-access-consents' : '/api/v1/domestic-payment-consents';
      const r = await api(token, 'POST', path, body, { 'x-idempotency-key': randomUUID() });
      return { status: r.status, json: r.json };
    },
    async authorizationUrl(consentId, scope, extra = {}) {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const url = await client.buildAuthorizationUrlWithPAR(config, {
        redirect_uri: DEMO_SOFTWARE.redirectUri,
        scope,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        claims: JSON.stringify({
          id_token: { openbanking_intent_id: { value: consentId, essential: true }, acr: { essential: true, values: ['urn:openbanking:psd2:sca'] } },
        }),
        ...extra,
      });
      return { url, verifier, state };
    },
    async exchange(redirect, verifier, state) {
      if (redirect.searchParams.has('error')) {
        // openid-client would only say "an error": name it, so that a failing test says why.
        const e = new client.AuthorizationResponseError('authorization response from the server is an error', { cause: redirect.searchParams });
        e.message += `: ${redirect.searchParams.get('error')} ${redirect.searchParams.get('error_description') ?? ''}`;
        throw e;
      }
      return client.authorizationCodeGrant(config, redirect, { pkceCodeVerifier: verifier, expectedState: state });
    },
  };
}

export function accountAccessBody(permissions: string[], days = 30) {
  return {
    Data: { Permissions: permissions, ExpirationDateTime: new Date(Date.now() + days * 86_400_000).toISOString() },
    Risk: {},
  };
}

export function paymentBody(amount = '12.50', name = 'Corner Shop Ltd') {
  return {
    Data: {
      Initiation: {
        InstructionIdentification: `instr-${randomUUID().slice(0, 8)}`,
        EndToEndIdentification: `e2e-${randomUUID().slice(0, 8)}`,
        InstructedAmount: { Amount: amount, Currency: 'EUR' },
        CreditorAccount: { SchemeName: 'UK.OBIE.IBAN', Identification: 'DE89370400440532013000', Name: name },
        RemittanceInformation: { Reference: 'Invoice 42' },
      },
    },
    Risk: {},
  };
}

export interface Journey {
  agent: Agent;
  /** The public listener's origin. */
  base: string;
  /** The interaction page's path (`/oauth/interaction/<uid>`). */
  page: string;
  html: string;
}

/** Follows the authorization URL to the bank's sign-in page, in a fresh cookie jar (a customer's browser). */
export async function openAuthorization(h: OAuthHarness, url: URL): Promise<Journey> {
  const agent = supertest.agent(h.publicUrl, { ca: h.ca });
  const first = await agent.get(`${url.pathname}${url.search}`);
  if (first.status !== 303 && first.status !== 302) throw new Error(`authorization: ${first.status} ${first.text.slice(0, 500)}`);
  const page = String(first.headers.location);
  const r = await agent.get(page).set('Accept', 'text/html');
  return { agent, base: h.publicUrl, page, html: r.text };
}

/** Posts a form of the current page. */
export async function post(j: Journey, action: string, fields: Record<string, string | string[]>) {
  return j.agent.post(`${j.page}/${action}`).type('form').set('Accept', 'text/html').send({ _csrf: csrfFrom(j.html), ...fields });
}

/** Password, then TOTP: leaves the journey on the consent page. */
export async function signIn(j: Journey, c: Customer): Promise<void> {
  const login = await post(j, 'login', { email: c.email, password: c.password });
  if (login.status !== 303) throw new Error(`login: ${login.status} ${login.text.slice(0, 500)}`);
  j.html = (await j.agent.get(j.page).set('Accept', 'text/html')).text;
  const totp = await post(j, 'totp', { code: await nextTotpCode(c.totpSecret) });
  if (totp.status !== 303) throw new Error(`totp: ${totp.status} ${totp.text.slice(0, 500)}`);
  j.html = (await j.agent.get(j.page).set('Accept', 'text/html')).text;
}

/** Posts the decision and follows the provider's redirects to the partner's redirect URI (returned, not fetched). */
export async function decide(j: Journey, fields: Record<string, string | string[]>): Promise<{ status: number; redirect: URL | null; html: string }> {
  let r = await post(j, 'decision', fields);
  for (let hops = 0; hops < 5 && (r.status === 302 || r.status === 303); hops++) {
    const to = new URL(String(r.headers.location), j.base);
    if (to.origin !== j.base) return { status: r.status, redirect: to, html: '' };
    r = await j.agent.get(`${to.pathname}${to.search}`);
  }
  return { status: r.status, redirect: null, html: r.text };
}

/** The whole customer side: open, sign in, approve these accounts (and the payment code when asked). */
export async function approve(h: OAuthHarness, url: URL, c: Customer, accountIds: string[]): Promise<URL> {
  const j = await openAuthorization(h, url);
  await signIn(j, c);
  const link = /name="link" value="([^"]+)"/.exec(j.html)?.[1];
  const fields: Record<string, string | string[]> = { decision: 'approve', account: accountIds };
  if (link) Object.assign(fields, { link, code: await nextTotpCode(c.totpSecret) });
  const d = await decide(j, fields);
  if (!d.redirect) throw new Error(`decision: ${d.status} ${d.html.slice(0, 800)}`);
  return d.redirect;
}
