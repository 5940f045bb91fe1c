/**
 * Set-up for `npm run bench:mtls`: the portal as `npm start` runs it in development (dev PKI with its OCSP/CRL
 * responder on loopback, revocation hard-fail, the demo seed), on free ports in a temporary folder; the demo
 * partner's client registered with its signed statement over mutual TLS; a certificate-bound JWT for the API;
 * and the floor: a bare HTTPS server built by the same `createMtlsServer` as the portal's mutual-TLS listener
 * (same certificate and key, requestCert, rejectUnauthorized false, no session tickets) that answers a fixed
 * JSON body.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { decodeJwt, importJWK, SignJWT, type JWK } from 'jose';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { Agent, request } from 'undici';
import { startThrowawayPortal } from '../../src/demo/throwaway.js';
import { createApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import type { Portal } from '../../src/main.js';
import { close, createMtlsServer, listen, readTlsMaterial } from '../../src/server/listeners.js';

const PARTNER = 'acme-payments';
export const API_PATH = '/api/v1/connection';
export const TOKEN_PATH = '/oauth/token';

/** What a load generator needs to talk mutual TLS as the demo partner. */
export interface ClientTls {
  ca: string;
  cert: string;
  key: string;
  servername: string;
}

/** Counts full and resumed TLS handshakes on a server (to prove what a "new handshake" run did). */
export interface HandshakeCounter {
  /** Zeroes the counts (the protocols seen are kept). */
  reset(): void;
  read(): { full: number; resumed: number; protocols: string[] };
}

export interface BenchPortal {
  portal: Portal;
  mtlsOrigin: string;
  tls: ClientTls;
  clientId: string;
  /** A JWT access token for the bank API, bound to the demo partner's QWAC. */
  apiToken: string;
  /** The protected API's answer to that token (the floor answers the same bytes). */
  apiBody: string;
  /** The form body of a client_credentials request (opaque token, no resource). */
  tokenForm: string;
  handshakes: HandshakeCounter;
  /** The mutual-TLS listener's certificate and key files (the floor uses the same). */
  tlsFiles: { certFile: string; keyFile: string };
  stop(): Promise<void>;
}

export interface FloorServer {
  origin: string;
  server: Server;
  handshakes: HandshakeCounter;
  stop(): Promise<void>;
}

export function countHandshakes(server: Server): HandshakeCounter {
  let full = 0;
  let resumed = 0;
  const protocols = new Set<string>();
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.isSessionReused()) resumed++;
    else full++;
    protocols.add(socket.getProtocol() ?? 'unknown');
  });
  return {
    reset() {
      full = 0;
      resumed = 0;
    },
    read: () => ({ full, resumed, protocols: [...protocols] }),
  };
}

async function call(
  agent: Agent,
  url: string,
  method: 'GET' | 'POST',
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; text: string }> {
  const r = await request(url, { dispatcher: agent, method, headers, ...(body === undefined ? {} : { body }) });
  return { status: r.statusCode, text: await r.body.text() };
}

function expectOk(step: string, r: { status: number; text: string }, status = 200): Record<string, unknown> {
  if (r.status !== status) throw new Error(`set-up: ${step} answered ${r.status}: ${r.text.slice(0, 300)}`);
  return JSON.parse(r.text) as Record<string, unknown>;
}

export async function startBenchPortal(): Promise<BenchPortal> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  };
  try {
    const t = await startThrowawayPortal({ prefix: 'bench-mtls-', logLevel: 'silent' });
    stops.push(() => t.stop());
    const { portal, certsDir } = t;
    const mtlsServer = portal.servers[1]!;
    const mtlsOrigin = `https://127.0.0.1:${portal.mtlsPort}`;

    const file = (...p: string[]) => readFileSync(path.join(certsDir, ...p), 'utf8');
    const tls: ClientTls = {
      ca: file('ca', 'root.pem'),
      cert: file('partners', PARTNER, 'qwac-chain.pem'),
      key: file('partners', PARTNER, 'qwac.key'),
      servername: 'localhost',
    };
    const agent = new Agent({ connect: tls });
    stops.push(() => agent.close());

    // Registration as the demo partner's server does it: a signed request carrying the software statement.
    const ssa = file('partners', PARTNER, 'ssa.jwt').trim();
    const jwk = JSON.parse(file('partners', PARTNER, 'signing.jwk.json')) as JWK;
    const now = Math.floor(Date.now() / 1000);
    const signed = await new SignJWT({
      software_statement: ssa,
      token_endpoint_auth_method: 'tls_client_auth',
      grant_types: ['client_credentials'],
      scope: 'accounts',
    })
      .setProtectedHeader({ alg: 'PS256', kid: jwk.kid!, typ: 'JWT' })
      .setIssuer(String(decodeJwt(ssa).software_id))
      .setAudience(portal.oauth.issuer())
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .setJti(randomUUID())
      .sign(await importJWK(jwk, 'PS256'));
    const reg = expectOk(
      'registration',
      await call(agent, `${mtlsOrigin}/oauth/register`, 'POST', { 'content-type': 'application/jwt', accept: 'application/json' }, signed),
      201,
    );
    const clientId = String(reg.client_id);
    const form = (extra: Record<string, string> = {}) =>
      new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, scope: 'accounts', ...extra }).toString();
    const formHeaders = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const jwt = expectOk(
      'JWT token',
      await call(agent, `${mtlsOrigin}${TOKEN_PATH}`, 'POST', formHeaders, form({ resource: portal.oauth.apiAudience() })),
    );
    const apiToken = String(jwt.access_token);
    if (apiToken.split('.').length !== 3) throw new Error('set-up: the API token is not a JWT');
    const apiAnswer = await call(agent, `${mtlsOrigin}${API_PATH}`, 'GET', { authorization: `Bearer ${apiToken}` });
    const api = expectOk('protected API', apiAnswer);
    if (api.token_format !== 'jwt') throw new Error(`set-up: the API saw a ${String(api.token_format)} token`);
    return {
      portal,
      mtlsOrigin,
      tls,
      clientId,
      apiToken,
      apiBody: apiAnswer.text,
      tokenForm: form(),
      handshakes: countHandshakes(mtlsServer),
      tlsFiles: portal.config.tls,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The floor: the mutual-TLS listener's TLS set-up with nothing behind it but a fixed JSON body. */
export function startFloor(tlsFiles: { certFile: string; keyFile: string }, body: string): Promise<FloorServer> {
  const bytes = Buffer.from(body);
  return serve(tlsFiles, (req, res) => {
    // Drain whatever was sent (none for GET), then the same headers a JSON API answer carries.
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length, 'cache-control': 'no-store' });
    res.end(bytes);
  });
}

/**
 * Diagnostic steps between the floor and the API (`--breakdown`): the portal's Express stack (createApp:
 * helmet, request context, error handlers) answering the same fixed JSON at the API's path, optionally behind
 * the portal's own certificate-context middleware (certificate read from the socket, validation cached by
 * fingerprint).
 */
export function startExpressStep(
  tlsFiles: { certFile: string; keyFile: string },
  body: string,
  before: RequestHandler[] = [],
): Promise<FloorServer> {
  const answer = JSON.parse(body) as unknown;
  const router = Router();
  router.get(API_PATH, ...before, (_req, res) => {
    res.set('Cache-Control', 'no-store').json(answer);
  });
  return serve(tlsFiles, createApp({ logger: createLogger({ level: 'silent' }), routers: [router] }));
}

/**
 * Diagnostic (`--breakdown`): the same work without Express, to measure what Express costs on the hot paths.
 * On one listener with the mutual-TLS listener's TLS set-up:
 *   GET /api/v1/connection  the portal's certificate context and the token guard's checks (checkBoundToken,
 *                           the same code requireBoundToken runs), answering the connection API's JSON
 *   POST /oauth/token       the portal's certificate context, then oidc-provider's own request handler
 * Nothing else of the mutual-TLS app runs (no helmet, request id, metrics or activity), and this is not a way
 * the portal serves requests: the rows only show how much of each hot path's cost is the framework.
 */
export function startWithoutExpress(bench: BenchPortal): Promise<FloorServer> {
  const { oauth } = bench.portal;
  let providerHandle: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | null = null;
  const json = (res: ServerResponse, status: number, body: unknown) => {
    const bytes = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length, 'cache-control': 'no-store' });
    res.end(bytes);
  };
  return serve(bench.tlsFiles, (req, res) => {
    const fail = (err: unknown) => json(res, 500, { error: String(err) });
    oauth.certificates.middleware(req as Request, res as Response, (err?: unknown) => {
      if (err) return fail(err);
      if (req.method === 'GET' && req.url === API_PATH) {
        oauth.checkBoundToken(req as Request, []).then((t) => {
          if ('error' in t) return json(res, t.status, { error: t.error, error_description: t.description });
          json(res, 200, {
            client_id: t.clientId,
            org_id: t.orgId,
            partner: { name: t.partner.legalName, status: t.partner.status, allowed_roles: t.partner.allowedRoles },
            scope: t.scopes.join(' '),
            token_format: t.format,
            certificate_thumbprint: t.thumbprint,
          });
        }, fail);
      } else if (req.method === 'POST' && req.url === TOKEN_PATH) {
        providerHandle ??= oauth.provider().callback() as unknown as typeof providerHandle;
        // As Express mounts it: the provider sees the path below its mount point.
        Object.assign(req, { originalUrl: req.url, url: TOKEN_PATH.slice('/oauth'.length) });
        providerHandle!(req, res).catch(fail);
      } else json(res, 404, { error: 'not_found' });
    });
  });
}

async function serve(tlsFiles: { certFile: string; keyFile: string }, app: RequestListener): Promise<FloorServer> {
  const server = createMtlsServer(readTlsMaterial(tlsFiles), app);
  const handshakes = countHandshakes(server);
  const port = await listen(server, 0, '127.0.0.1');
  return { origin: `https://127.0.0.1:${port}`, server, handshakes, stop: () => close(server) };
}
