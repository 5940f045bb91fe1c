/**
 * The whole portal as `npm start` runs it, for the OAuth tests: a dev PKI generated into a temp directory with
 * its OCSP/CRL responder running on loopback (revocation hard-fail), the demo seed (Acme Payments approved on
 * the regulated track), both HTTPS listeners on ephemeral ports, and mutual-TLS clients built from the dev
 * PKI's partner and bad certificates.
 *
 *   const h = await startOAuthPortal();
 *   const acme = h.client('acme-payments');             // undici dispatcher with Acme's QWAC chain
 *   const r = await h.mtls(acme, 'POST', '/oauth/token', { form: {...} });
 *   await h.stop();
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { decodeJwt, importJWK, SignJWT, type JWK } from 'jose';
import supertest from 'supertest';
import { Agent, fetch, type Dispatcher } from 'undici';
import type { StaffRole } from '../../src/partners/types.js';
import { loginStaff, seedStaff, type Agent as BrowserAgent } from '../helpers/web.js';
import type { DevPki } from '../../src/devpki/index.js';
import { startThrowawayPortal, type Responder } from '../../src/demo/throwaway.js';
import type { Portal } from '../../src/main.js';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

export interface OAuthHarness {
  dir: string;
  portal: Portal;
  pki: DevPki;
  responder: Responder;
  ca: string;
  publicUrl: string;
  mtlsUrl: string;
  /** A mutual-TLS client presenting a dev partner's QWAC chain, or a bad certificate (`bad/<name>`), or none. */
  client(who: string | null): Dispatcher;
  /** A client presenting an arbitrary PEM certificate chain and key. */
  clientWith(certPem: string, keyPem: string): Dispatcher;
  request(
    dispatcher: Dispatcher,
    method: string,
    url: string,
    opts?: { form?: Record<string, string>; json?: unknown; body?: string; headers?: Record<string, string> },
  ): Promise<Reply>;
  /** The demo partner's statement and signing key, as the demo seed wrote them. */
  demo: { ssa: string; signingJwk: JWK; softwareId: string };
  /**
   * A registration request signed with the demo partner's key (iss = software_id, aud = issuer, fresh jti),
   * asking for client_credentials with tls_client_auth unless `claims` say otherwise.
   */
  signedRequest(claims?: Record<string, unknown>, opts?: { key?: JWK; alg?: string }): Promise<string>;
  /** A browser-like agent on the public listener, signed in as a new staff member with these roles. */
  staff(roles: StaffRole[]): Promise<BrowserAgent>;
  /** Rows of a table (tests assert that nothing changed). */
  count(sql: string, ...params: unknown[]): number;
  stop(): Promise<void>;
}

export async function startOAuthPortal(env: Record<string, string> = {}): Promise<OAuthHarness> {
  const t = await startThrowawayPortal({ prefix: 'oauth-', env });
  const { dir, certsDir, portal, responder, pki } = t;
  const ca = readFileSync(path.join(certsDir, 'ca', 'root.pem'), 'utf8');
  const agents: Agent[] = [];
  const agent = (cert?: string, key?: string) => {
    const a = new Agent({
      connect: { ca, servername: 'localhost', ...(cert ? { cert, key } : {}) },
    });
    agents.push(a);
    return a;
  };
  const file = (...p: string[]) => readFileSync(path.join(certsDir, ...p), 'utf8');
  const ssa = file('partners', 'acme-payments', 'ssa.jwt').trim();
  const demo = {
    ssa,
    signingJwk: JSON.parse(file('partners', 'acme-payments', 'signing.jwk.json')) as JWK,
    softwareId: String(decodeJwt(ssa).software_id),
  };
  return {
    demo,
    async signedRequest(claims = {}, opts = {}) {
      const jwk = opts.key ?? demo.signingJwk;
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        software_statement: demo.ssa,
        token_endpoint_auth_method: 'tls_client_auth',
        grant_types: ['client_credentials'],
        scope: 'accounts payments',
        ...claims,
      })
        .setProtectedHeader({ alg: opts.alg ?? 'PS256', kid: jwk.kid!, typ: 'JWT' })
        .setIssuer(demo.softwareId)
        .setAudience(portal.oauth.issuer())
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .setJti(randomUUID())
        .sign(await importJWK(jwk, 'PS256'));
    },
    dir,
    portal,
    pki,
    responder,
    ca,
    publicUrl: `https://127.0.0.1:${portal.publicPort}`,
    mtlsUrl: `https://127.0.0.1:${portal.mtlsPort}`,
    client(who) {
      if (who === null) return agent();
      if (who.startsWith('bad/')) {
        const name = who.slice(4);
        return agent(file('bad', `${name}.pem`), file('bad', `${name}.key`));
      }
      return agent(file('partners', who, 'qwac-chain.pem'), file('partners', who, 'qwac.key'));
    },
    clientWith(cert, key) {
      return agent(cert, key);
    },
    async request(dispatcher, method, url, opts = {}) {
      const headers: Record<string, string> = { accept: 'application/json', ...(opts.headers ?? {}) };
      let body: string | undefined;
      if (opts.form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams(opts.form).toString();
      } else if (opts.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(opts.json);
      } else if (opts.body !== undefined) {
        body = opts.body;
      }
      const res = await fetch(url, { method, headers, dispatcher, ...(body === undefined ? {} : { body }) });
      const text = await res.text();
      let json: Record<string, unknown>;
      try {
        json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        json = {};
      }
      return { status: res.status, headers: res.headers, text, json };
    },
    async staff(roles) {
      const creds = await seedStaff(portal, `${roles.join('-')}-${randomUUID().slice(0, 8)}@bank.test`, roles);
      const browser = supertest.agent(`https://127.0.0.1:${portal.publicPort}`, { ca });
      await loginStaff(browser, creds);
      return browser;
    },
    count(sql, ...params) {
      return (portal.db.prepare(sql).get(...params) as { n: number }).n;
    },
    async stop() {
      await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
      await t.stop();
    },
  };
}
