/**
 * npm run demo:partner — acts as the demo partner's server (Acme Payments) and prints each step in plain words:
 *
 *   1. discovery (issuer, mutual-TLS endpoint aliases)
 *   2. registration over mutual TLS with a signed application/jwt request carrying the software statement
 *   3. a client_credentials token (a JWT for the bank's API) bound to the QWAC
 *   4. a call to the protected API with it
 *   5. the same token over another organisation's QWAC (Nordic Insights): refused
 *   6. an account-access consent created with a client_credentials token
 *   7. the authorization request pushed (PAR, PKCE S256, the consent as openbanking_intent_id)
 *   8. the demo customer approves at the bank's pages — driven here without a browser, through the same forms
 *      (password, TOTP, accounts to share), with the credentials the demo seed wrote to
 *      CERTS_DIR/customers/demo-customer.json
 *   9. the code exchanged for bound tokens naming the consent, and the accounts API called with them
 *  10. clean-up: the client is deleted with RFC 7592, so the demo can run again against the same portal
 *
 * With PORTAL_URL (the portal's public base URL, e.g. https://127.0.0.1:3443) it talks to that portal, with the
 * partner files and dev root CA from CERTS_DIR (default ./certs/dev, as `npm run demo:seed` wrote them);
 * PORTAL_MTLS_URL overrides the mutual-TLS base URL that discovery publishes. Without PORTAL_URL it starts a
 * portal of its own on free loopback ports, with a fresh data and certificates directory in a temporary
 * folder (./data and ./certs are never touched) and the dev PKI's OCSP/CRL responder, and removes it all at
 * the end — so it runs alone on a new machine.
 *
 * Nothing secret is printed: tokens by their first characters only, keys never.
 * Exit status: 0 every step passed, 1 a step failed (which one and why is printed), 2 usage or configuration.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decodeJwt, importJWK, SignJWT, type JWK } from 'jose';
import * as client from 'openid-client';
import { Agent, fetch } from 'undici';
import { totpCode } from '../src/accounts/totp.js';
import { DEMO_SOFTWARE } from '../src/demo/seed.js';
import { startThrowawayPortal } from '../src/demo/throwaway.js';
import { x509 } from '../src/eidas/x509.js';
import { OAUTH_MOUNT } from '../src/oauth/area.js';

const PARTNER = 'acme-payments';
const OTHER_PARTNER = 'nordic-insights';
const SCOPE = 'accounts';
const API_PATH = '/api/v1/connection';

const USAGE = `Usage: npm run demo:partner

Acts as the demo partner's server: discovery, registration over mutual TLS with its software statement, a
certificate-bound token, a call to the protected API, the same token refused over another certificate, and
clean-up (RFC 7592 delete).

Environment:
  PORTAL_URL       the portal's public base URL (e.g. https://127.0.0.1:3443). Unset: the demo starts a
                   portal of its own on free ports with a fresh temporary data directory.
  PORTAL_MTLS_URL  the portal's mutual-TLS base URL (default: from discovery's mtls_endpoint_aliases)
  CERTS_DIR        with PORTAL_URL: where the dev PKI and the partner files are (default ./certs/dev)
`;

/** A configuration problem: exit 2. */
class UsageError extends Error {}

/** A step that did not do what it should: exit 1, naming the step. */
class StepFailed extends Error {}

interface PartnerFiles {
  ssa: string;
  signingJwk: JWK;
  softwareId: string;
  qwacChain: string;
  qwacKey: string;
  qwacPem: string;
  qwacThumbprint: string;
  otherChain: string;
  otherKey: string;
  rootCa: string;
}

interface Target {
  publicUrl: string;
  /** From PORTAL_MTLS_URL, or null to use what discovery publishes. */
  mtlsUrl: string | null;
  certsDir: string;
  ownPortal: boolean;
}

/**
 * What the demo started or created, undone last-in first-out: at the end, and on Ctrl-C (so that neither a
 * registered client nor the temporary portal and its folder outlive an interrupted run).
 */
const cleanups: (() => Promise<void>)[] = [];

async function cleanUpAll(): Promise<void> {
  for (const undo of cleanups.splice(0).reverse()) await undo().catch(() => undefined);
}

const say = (line = '') => console.log(line);
const detail = (label: string, value: string) => console.log(`   ${label}: ${value}`);
/** Tokens are bearer secrets: the demo shows enough to recognise one, never enough to use it. */
const prefix = (secret: string) => `${secret.slice(0, 10)}… (${secret.length} characters)`;

function httpsUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${name} is not a URL: ${value}`);
  }
  if (url.protocol !== 'https:') throw new UsageError(`${name} must be an https URL (the portal only speaks TLS): ${value}`);
  if (url.search || url.hash) throw new UsageError(`${name} must be a base URL without query or fragment: ${value}`);
  return url.href.replace(/\/+$/, '');
}

function readPartnerFiles(certsDir: string): PartnerFiles {
  const file = (...p: string[]) => {
    const f = path.join(certsDir, ...p);
    if (!existsSync(f)) {
      throw new UsageError(
        `${f} is missing. The demo needs the dev PKI and the demo partner's statement in CERTS_DIR (${certsDir}): ` +
          'run the portal once in development (npm start) or npm run demo:seed, with the same CERTS_DIR.',
      );
    }
    return readFileSync(f, 'utf8');
  };
  const ssa = file('partners', PARTNER, 'ssa.jwt').trim();
  let softwareId: string;
  let signingJwk: JWK;
  try {
    softwareId = String(decodeJwt(ssa).software_id ?? '');
    signingJwk = JSON.parse(file('partners', PARTNER, 'signing.jwk.json')) as JWK;
  } catch (err) {
    throw new UsageError(`the demo partner's statement or signing key in ${certsDir} cannot be read: ${describe(err)}`);
  }
  if (!softwareId) throw new UsageError(`the software statement in ${certsDir} names no software_id`);
  if (!signingJwk.kid) throw new UsageError(`the signing key in ${certsDir} has no kid`);
  return {
    ssa,
    signingJwk,
    softwareId,
    qwacChain: file('partners', PARTNER, 'qwac-chain.pem'),
    qwacKey: file('partners', PARTNER, 'qwac.key'),
    qwacPem: file('partners', PARTNER, 'qwac.pem'),
    qwacThumbprint: '',
    otherChain: file('partners', OTHER_PARTNER, 'qwac-chain.pem'),
    otherKey: file('partners', OTHER_PARTNER, 'qwac.key'),
    rootCa: file('ca', 'root.pem'),
  };
}

/** RFC 8705 §3.1: base64url(SHA-256(DER)) of the certificate, as cnf.x5t#S256 carries it. */
async function thumbprint(pem: string): Promise<string> {
  return Buffer.from(await new x509.X509Certificate(pem).getThumbprint('SHA-256')).toString('base64url');
}

/** A portal of the demo's own in a temporary folder (src/demo/throwaway.ts), removed at the end. */
async function startOwnPortal(): Promise<Target> {
  const t = await startThrowawayPortal({ prefix: 'demo-partner-' });
  cleanups.push(() => t.stop());
  return { publicUrl: t.publicUrl, mtlsUrl: null, certsDir: t.certsDir, ownPortal: true };
}

function targetFromEnv(env: NodeJS.ProcessEnv): Target | null {
  if (!env.PORTAL_URL) {
    if (env.PORTAL_MTLS_URL) throw new UsageError('PORTAL_MTLS_URL is used only with PORTAL_URL');
    return null;
  }
  return {
    publicUrl: httpsUrl('PORTAL_URL', env.PORTAL_URL),
    mtlsUrl: env.PORTAL_MTLS_URL ? httpsUrl('PORTAL_MTLS_URL', env.PORTAL_MTLS_URL) : null,
    certsDir: path.resolve(env.CERTS_DIR ?? path.join('certs', 'dev')),
    ownPortal: false,
  };
}

/** What went wrong, in words: openid-client's errors carry the server's answer; network errors their cause. */
function describe(err: unknown): string {
  if (err instanceof client.ResponseBodyError) {
    return `the server answered ${err.status} ${err.error}${err.error_description ? `: ${err.error_description}` : ''}`;
  }
  if (err instanceof client.WWWAuthenticateChallengeError) {
    const c = err.cause[0];
    return `the server answered ${err.status} ${c?.parameters.error ?? c?.scheme ?? ''}${c?.parameters.error_description ? `: ${c.parameters.error_description}` : ''}`;
  }
  if (err instanceof Error) {
    const cause = err.cause as { code?: string; message?: string } | undefined;
    const why = cause && typeof cause === 'object' && (cause.code || cause.message) ? ` (${[cause.code, cause.message].filter(Boolean).join(': ')})` : '';
    return `${err.message}${why}`;
  }
  return String(err);
}

/** undici's fetch with an Agent of the same undici version, as openid-client's customFetch. */
function fetchVia(agent: Agent): client.CustomFetch {
  return (url, options) => fetch(url, { ...options, dispatcher: agent } as Parameters<typeof fetch>[1]) as unknown as Promise<Response>;
}

async function jsonOf(res: { text(): Promise<string> }): Promise<Record<string, unknown>> {
  const text = await res.text();
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

interface DemoCustomer {
  email: string;
  password: string;
  totpSecret: string;
}

function readCustomer(certsDir: string): DemoCustomer {
  const f = path.join(certsDir, 'customers', 'demo-customer.json');
  if (!existsSync(f)) {
    throw new UsageError(`${f} is missing: the demo customer is written by the demo seed (npm run demo:seed, or a first npm start) with the same CERTS_DIR.`);
  }
  const c = JSON.parse(readFileSync(f, 'utf8')) as Partial<DemoCustomer>;
  if (typeof c.email !== 'string' || typeof c.password !== 'string' || typeof c.totpSecret !== 'string') {
    throw new UsageError(`${f} does not hold the demo customer's e-mail, password and TOTP secret`);
  }
  return { email: c.email, password: c.password, totpSecret: c.totpSecret };
}

/**
 * A customer's browser without a browser: a cookie jar over the portal's public listener, following redirects
 * on the portal only and stopping at the partner's redirect URI. It submits the same forms a person does.
 */
function customerBrowser(publicUrl: string, rootCa: string) {
  const agent = new Agent({ connect: { ca: rootCa } });
  cleanups.push(() => agent.close());
  const jar = new Map<string, string>();
  const origin = new URL(publicUrl).origin;
  async function go(url: string, init: { method?: string; form?: Record<string, string | string[]> } = {}) {
    let target = new URL(url, origin);
    let method = init.method ?? 'GET';
    let body: string | undefined;
    if (init.form) {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(init.form)) for (const one of Array.isArray(v) ? v : [v]) p.append(k, one);
      body = p.toString();
    }
    for (let hop = 0; hop < 10; hop++) {
      const res = await fetch(target, {
        method,
        dispatcher: agent,
        redirect: 'manual',
        headers: {
          accept: 'text/html',
          cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
          ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded', origin }),
        },
        ...(body === undefined ? {} : { body }),
      });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const eq = pair!.indexOf('=');
        jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1));
      }
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        const next = new URL(location, target);
        if (next.origin !== origin) return { status: res.status, url: next, html: '' };
        target = next;
        method = 'GET';
        body = undefined;
        continue;
      }
      return { status: res.status, url: target, html: await res.text() };
    }
    throw new StepFailed(`too many redirects from ${url}`);
  }
  return { go };
}

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
const errorOf = (html: string) => /<code class="error-code">([^<]+)<\/code>/.exec(html)?.[1] ?? null;

async function customerSteps(ctx: {
  step: (n: number, title: string) => void;
  target: Target;
  files: PartnerFiles;
  acmeConfig: client.Configuration;
  mtlsBase: string;
  acme: Agent;
}): Promise<void> {
  const { step, target, files, acmeConfig, mtlsBase, acme } = ctx;
  const customer = readCustomer(target.certsDir);
  const api = async (token: string, method: string, p: string, body?: unknown) => {
    const res = await fetch(`${mtlsBase}${p}`, {
      method,
      dispatcher: acme,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json', 'x-idempotency-key': randomUUID() }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: await jsonOf(res) };
  };

  step(6, 'create an account-access consent (client_credentials token, POST /api/v1/account-access-consents)');
  const cc = await client.clientCredentialsGrant(acmeConfig, { scope: SCOPE });
  const permissions = ['ReadAccountsBasic', 'ReadAccountsDetail', 'ReadBalances'];
  const created = await api(cc.access_token, 'POST', '/api/v1/account-access-consents', {
    Data: { Permissions: permissions, ExpirationDateTime: new Date(Date.now() + 30 * 86_400_000).toISOString() },
    Risk: {},
  });
  if (created.status !== 201) throw new StepFailed(`the consent was refused: ${created.status} ${JSON.stringify(created.json)}`);
  const data = created.json.Data as Record<string, unknown>;
  const consentId = String(data.ConsentId);
  detail('consent', `${consentId}, ${String(data.Status)}`);
  detail('permissions', permissions.join(', '));

  step(7, 'push the authorization request (PAR, PKCE S256, the consent as openbanking_intent_id)');
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const authUrl = await client.buildAuthorizationUrlWithPAR(acmeConfig, {
    redirect_uri: DEMO_SOFTWARE.redirectUri,
    scope: `openid ${SCOPE}`,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    claims: JSON.stringify({
      id_token: { openbanking_intent_id: { value: consentId, essential: true }, acr: { essential: true, values: ['urn:openbanking:psd2:sca'] } },
    }),
  });
  detail('send the customer to', `${authUrl.origin}${authUrl.pathname}?client_id=…&request_uri=urn:ietf:params:oauth:request_uri:…`);

  step(8, `the customer (${customer.email}) signs in with password and TOTP and shares one account`);
  const browser = customerBrowser(target.publicUrl, files.rootCa);
  let page = await browser.go(authUrl.href);
  const interaction = page.url.pathname;
  if (!/^\/oauth\/interaction\/[\w-]+$/.test(interaction)) throw new StepFailed(`the bank did not show its sign-in page (${page.status} ${page.url.href})`);
  page = await browser.go(`${interaction}/login`, { method: 'POST', form: { _csrf: csrfOf(page.html), email: customer.email, password: customer.password } });
  if (errorOf(page.html)) throw new StepFailed(`sign-in refused: ${errorOf(page.html)}`);
  detail('password', 'accepted');
  // A code whose 30 s step was already used is refused (replay guard): a run soon after another uses the next
  // step's code (accepted one step early), and a third waits for the step after.
  const offsets = [0, 30_000, 'wait', 30_000] as const;
  for (const offset of offsets) {
    if (offset === 'wait') {
      const ms = 30_000 - (Date.now() % 30_000) + 1_000;
      detail('TOTP', `the current codes were used by an earlier run: waiting ${Math.round(ms / 1000)} s for the next one`);
      await new Promise((r) => setTimeout(r, ms));
      continue;
    }
    const form = { _csrf: csrfOf(page.html), code: totpCode(customer.totpSecret, new Date(Date.now() + offset)) };
    page = await browser.go(`${interaction}/totp`, { method: 'POST', form });
    if (errorOf(page.html) !== 'accounts.totp_invalid') break;
  }
  if (errorOf(page.html)) throw new StepFailed(`the TOTP code was refused: ${errorOf(page.html)}`);
  detail('TOTP', 'accepted (two factors)');
  const partnerName = /<h2 id="partner-heading">([^<]+)<\/h2>/.exec(page.html)?.[1] ?? '?';
  const shown = [...page.html.matchAll(/<li data-permission="[^"]+">([^<]+)<\/li>/g)].map((m) => m[1]);
  const account = /name="account" value="([^"]+)"/.exec(page.html)?.[1];
  detail('the bank shows', partnerName.replace(/&#39;|&#x27;/g, "'"));
  for (const line of shown) detail('  permission', String(line));
  if (!account) throw new StepFailed('the consent page offers no account to share');
  const decision = await browser.go(`${interaction}/decision`, { method: 'POST', form: { _csrf: csrfOf(page.html), decision: 'approve', account } });
  if (decision.url.origin === new URL(target.publicUrl).origin) {
    throw new StepFailed(`the approval did not return to the partner (${decision.status}, ${errorOf(decision.html) ?? 'no error code'})`);
  }
  detail('redirect to the partner', `${decision.url.origin}${decision.url.pathname}?code=…&state=…&iss=…`);

  step(9, 'exchange the code for bound tokens, then GET /api/v1/accounts');
  const tokens = await client.authorizationCodeGrant(acmeConfig, decision.url, { pkceCodeVerifier: verifier, expectedState: state });
  const at = decodeJwt(tokens.access_token);
  detail('access token', prefix(tokens.access_token));
  detail('consent_id', String(at.consent_id));
  detail('cnf.x5t#S256', String((at.cnf as Record<string, unknown> | undefined)?.['x5t#S256']));
  detail('refresh token', tokens.refresh_token ? prefix(tokens.refresh_token) : 'none');
  if (at.consent_id !== consentId) throw new StepFailed('the token does not name the consent');
  const accounts = await api(tokens.access_token, 'GET', '/api/v1/accounts');
  if (accounts.status !== 200) throw new StepFailed(`the accounts API answered ${accounts.status}: ${JSON.stringify(accounts.json)}`);
  const list = ((accounts.json.Data as Record<string, unknown>).Account ?? []) as Record<string, unknown>[];
  for (const a of list) detail('account', `${String(a.Nickname)} (${String(a.Currency)}, ${String(a.AccountSubType)})`);
  if (list.length !== 1 || list[0]!.AccountId !== account) throw new StepFailed('the API answered with other accounts than the one shared');
  say('   Only the account the customer chose, only the data the permissions allow.');
}

interface Registered {
  clientId: string;
  registrationClientUri: string;
  registrationAccessToken: string;
}

async function runSteps(target: Target, files: PartnerFiles): Promise<void> {
  const agents = [
    new Agent({ connect: { ca: files.rootCa, cert: files.qwacChain, key: files.qwacKey } }),
    new Agent({ connect: { ca: files.rootCa, cert: files.otherChain, key: files.otherKey } }),
  ];
  const [acme, other] = agents as [Agent, Agent];
  const acmeFetch = fetchVia(acme);
  let current = '';
  const step = (n: number, title: string) => {
    current = `Step ${n} (${title})`;
    say();
    say(`Step ${n}: ${title}`);
  };
  let registered: Registered | null = null;
  try {
    // 1. Discovery.
    step(1, 'discovery');
    const issuer = new URL(`${target.publicUrl}${OAUTH_MOUNT}`);
    // openid-client ties server metadata to a client id, and there is none before registration: discovery runs
    // for a placeholder, and the registered client's configuration is built from the same checked metadata.
    const discovered = await client.discovery(issuer, 'not-registered-yet', undefined, undefined, {
      [client.customFetch]: acmeFetch,
    });
    const as = discovered.serverMetadata();
    const aliases = as.mtls_endpoint_aliases ?? {};
    detail('issuer', as.issuer);
    if (!aliases.token_endpoint) throw new StepFailed('discovery publishes no mtls_endpoint_aliases.token_endpoint');
    const discoveredMtls = aliases.token_endpoint.replace(new RegExp(`${OAUTH_MOUNT}/token$`), '');
    const mtlsBase = target.mtlsUrl ?? discoveredMtls;
    const onMtls = (url: string) => (url.startsWith(discoveredMtls) ? mtlsBase + url.slice(discoveredMtls.length) : url);
    for (const [name, url] of Object.entries(aliases)) detail(`mutual-TLS ${name}`, String(url));
    if (target.mtlsUrl && target.mtlsUrl !== discoveredMtls) {
      detail('note', `PORTAL_MTLS_URL is set: mutual-TLS requests go to ${mtlsBase} instead of ${discoveredMtls}`);
    }
    if (as.tls_client_certificate_bound_access_tokens !== true) {
      throw new StepFailed('the server does not announce certificate-bound access tokens');
    }
    say('   The server issues access tokens bound to the client certificate (RFC 8705).');
    const apiAudience = `${discoveredMtls}/api`;
    // The checked metadata, with the mutual-TLS endpoints where this demo reaches them (PORTAL_MTLS_URL).
    const server: client.ServerMetadata = {
      // A plain copy: serverMetadata() adds helper methods, which are not metadata.
      ...(structuredClone(as) as client.ServerMetadata),
      mtls_endpoint_aliases: Object.fromEntries(Object.entries(aliases).map(([k, v]) => [k, onMtls(String(v))])),
    };
    /** The registered client as openid-client sees it: TLS client auth over the mutual-TLS endpoint aliases. */
    const configFor = (clientId: string, fetchFn: client.CustomFetch) => {
      const c = new client.Configuration(server, clientId, { use_mtls_endpoint_aliases: true }, client.TlsClientAuth());
      c[client.customFetch] = fetchFn;
      return c;
    };

    // 2. Registration.
    step(2, 'registration over mutual TLS with a signed request carrying the software statement');
    const registrationEndpoint = onMtls(aliases.registration_endpoint ?? as.registration_endpoint ?? `${mtlsBase}${OAUTH_MOUNT}/register`);
    detail('software', `${files.softwareId} (statement signed by the portal's directory)`);
    detail('certificate', `Acme Payments' QWAC, SHA-256 thumbprint ${files.qwacThumbprint}`);
    const alg = files.signingJwk.alg ?? 'PS256';
    const now = Math.floor(Date.now() / 1000);
    const request = await new SignJWT({
      software_statement: files.ssa,
      token_endpoint_auth_method: 'tls_client_auth',
      grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [DEMO_SOFTWARE.redirectUri],
      scope: `openid ${SCOPE}`,
    })
      .setProtectedHeader({ alg, kid: files.signingJwk.kid!, typ: 'JWT' })
      .setIssuer(files.softwareId)
      .setAudience(as.issuer)
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .setJti(randomUUID())
      .sign(await importJWK(files.signingJwk, alg));
    detail('request', `application/jwt signed with key ${files.signingJwk.kid} (${alg}), iss = software_id, aud = issuer, expires in 5 minutes`);
    const res = await fetch(registrationEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/jwt', accept: 'application/json' },
      body: request,
      dispatcher: acme,
    });
    const reg = await jsonOf(res);
    if (res.status !== 201) {
      const why = `${res.status} ${String(reg.error ?? '')}: ${String(reg.error_description ?? '(no description)')}`;
      if (reg.error === 'unapproved_software_statement' && /already registered/i.test(String(reg.error_description))) {
        throw new StepFailed(
          `the software ${files.softwareId} is already registered at this portal (${why}).\n` +
            '   A previous run probably stopped before its clean-up. Delete the old client with RFC 7592 ' +
            '(DELETE its registration_client_uri with its registration access token), or start the portal on a ' +
            'fresh data directory and seed it again (npm run demo:seed).',
        );
      }
      throw new StepFailed(`registration refused: ${why}`);
    }
    registered = {
      clientId: String(reg.client_id),
      registrationClientUri: onMtls(String(reg.registration_client_uri)),
      registrationAccessToken: String(reg.registration_access_token),
    };
    const mine = registered;
    // Interrupted from here on (Ctrl-C), the client is deleted before the demo exits.
    cleanups.push(async () => {
      if (registered === mine) await cleanUp(mine, acme);
    });
    detail('client_id', registered.clientId);
    detail('authentication', `${String(reg.token_endpoint_auth_method)} (the client authenticates with its certificate, no secret)`);
    detail('registration access token', prefix(registered.registrationAccessToken));
    if (reg.tls_client_certificate_bound_access_tokens !== true) throw new StepFailed('the client was registered without bound tokens');
    say('   Registered: tokens issued to this client are bound to the certificate it presents.');

    // 3. Token.
    step(3, 'client_credentials token over mutual TLS (a JWT for the bank’s API)');
    const acmeConfig = configFor(registered.clientId, acmeFetch);
    const token = await client.clientCredentialsGrant(acmeConfig, { scope: SCOPE, resource: apiAudience });
    const claims = decodeJwt(token.access_token);
    const bound = (claims.cnf as Record<string, unknown> | undefined)?.['x5t#S256'];
    detail('access token', prefix(token.access_token));
    detail('audience', String(claims.aud));
    detail('scope', String(token.scope ?? claims.scope ?? ''));
    detail('expires', `in ${token.expiresIn() ?? '?'} s`);
    detail('cnf.x5t#S256', String(bound));
    if (bound !== files.qwacThumbprint) throw new StepFailed(`the token is bound to ${String(bound)}, not to the QWAC (${files.qwacThumbprint})`);
    say('   The token is bound to the QWAC: cnf.x5t#S256 equals its thumbprint.');

    // 4. Protected API.
    step(4, `call the protected API (GET ${API_PATH}) over the same certificate`);
    const apiUrl = new URL(`${mtlsBase}${API_PATH}`);
    const answer = await client.fetchProtectedResource(acmeConfig, token.access_token, apiUrl, 'GET');
    const body = await jsonOf(answer);
    detail('status', String(answer.status));
    if (answer.status !== 200) throw new StepFailed(`the API answered ${answer.status}: ${JSON.stringify(body)}`);
    detail('answer', JSON.stringify(body));
    if (body.client_id !== registered.clientId) throw new StepFailed('the API answered for another client');

    // 5. Same token, other certificate.
    step(5, 'the same token over another certificate (Nordic Insights’ QWAC)');
    const otherConfig = configFor(registered.clientId, fetchVia(other));
    try {
      const r = await client.fetchProtectedResource(otherConfig, token.access_token, apiUrl, 'GET');
      throw new StepFailed(`the API accepted the token over another certificate (${r.status}): it is not bound`);
    } catch (err) {
      if (!(err instanceof client.WWWAuthenticateChallengeError) || err.status !== 401) throw err;
      const c = err.cause[0];
      detail('answer', `401 ${c?.parameters.error ?? ''}: ${c?.parameters.error_description ?? ''}`);
      say('   Refused: a stolen token is useless without the certificate it is bound to.');
    }

    // 6-9. A customer's consent, end to end.
    await customerSteps({ step, target, files, acmeConfig, mtlsBase, acme });

    // 10. Clean-up.
    step(10, 'clean-up: delete the client (RFC 7592)');
    const done = registered;
    registered = null;
    await cleanUp(done, acme);
    say(`   Client ${done.clientId} deleted: the demo can run again against this portal.`);
  } catch (err) {
    const failure = `${current} failed: ${err instanceof StepFailed ? err.message : describe(err)}`;
    // A later step failed: the client registered in step 2 goes anyway, so that the next run can register.
    const left: Registered | null = registered;
    registered = null;
    if (!left) throw new StepFailed(failure);
    const afterwards = await cleanUp(left, acme).then(
      () => `(The client ${left.clientId} registered in step 2 was deleted.)`,
      (e: unknown) => `The client ${left.clientId} registered in step 2 could not be deleted: ${describe(e)}`,
    );
    throw new StepFailed(`${failure}\n   ${afterwards}`);
  } finally {
    await Promise.all(agents.map((a) => a.close()));
  }
}

async function cleanUp(registered: Registered, agent: Agent): Promise<void> {
  const res = await fetch(registered.registrationClientUri, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${registered.registrationAccessToken}` },
    dispatcher: agent,
  });
  if (res.status !== 204) {
    const body = await jsonOf(res);
    throw new StepFailed(`DELETE ${registered.registrationClientUri} answered ${res.status} ${String(body.error ?? '')} ${String(body.error_description ?? '')}`.trim());
  }
}

async function main(): Promise<number> {
  // Piped into `head`, stdout may close early: the demo still runs to the end and removes what it started.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
  let target: Target | null;
  try {
    const { values } = parseArgs({ options: { help: { type: 'boolean', short: 'h' } }, strict: true });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    target = targetFromEnv(process.env);
    if (target) readPartnerFiles(target.certsDir);
  } catch (err) {
    console.error(err instanceof UsageError ? err.message : `${describe(err)}\n\n${USAGE}`);
    return 2;
  }

  const interrupted = () => {
    void cleanUpAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    if (!target) {
      say('No PORTAL_URL: starting a portal of its own on free loopback ports, with a fresh temporary data directory…');
      try {
        target = await startOwnPortal();
      } catch (err) {
        console.error(`Could not start a portal: ${describe(err)}`);
        return 1;
      }
    }
    const files = readPartnerFiles(target.certsDir);
    files.qwacThumbprint = await thumbprint(files.qwacPem);
    say(`Acme Payments' server talks to the portal at ${target.publicUrl}${target.ownPortal ? ' (started by this demo)' : ''}.`);
    await runSteps(target, files);
    say();
    say('All steps passed.');
    return 0;
  } catch (err) {
    say();
    if (err instanceof UsageError) {
      console.error(err.message);
      return 2;
    }
    console.error(err instanceof StepFailed ? err.message : `The demo failed: ${describe(err)}`);
    return 1;
  } finally {
    await cleanUpAll();
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo:partner failed: ${describe(err)}`);
    process.exit(1);
  },
);
