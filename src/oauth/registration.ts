/**
 * The gate in front of oidc-provider's registration endpoints on the mutual-TLS listener (RFC 7591 create,
 * RFC 7592 read/update/delete). oidc-provider accepts JSON only and does not look at software statements, so
 * the gate reads the body (JSON, or a signed `application/jwt` / `application/jose` request), has the
 * registration area evaluate it (named checks: certificate, statement, signature, partner, metadata), and hands
 * the provider the resolved metadata with a one-time initial access token whose `portal-vetted` policy applies
 * it. Refusals answer in RFC 7591 §3.2.2 shape and are audited; nothing reaches the provider.
 */
import type { NextFunction, Request, Response } from 'express';
import type { AuditService } from '../audit/service.js';
import type { Logger } from '../logger.js';
import type { RegistrationDecision, RegistrationRequestInput } from '../registration/types.js';
import { presentedCertificate } from './client-certificate.js';
import { markVetted, organisationDn } from './provider.js';
import type Provider from 'oidc-provider';
import type { OAuthService } from './service.js';

export const REGISTRATION_BODY_LIMIT = 64 * 1024;
const CONTENT_TYPES = new Set(['application/json', 'application/jwt', 'application/jose']);

export interface RegistrationGateDeps {
  provider: () => Provider;
  evaluate: (input: RegistrationRequestInput) => Promise<RegistrationDecision>;
  oauth: OAuthService;
  audit: AuditService;
  logger: Logger;
}

function sendError(res: Response, status: number, error: string, description: string): void {
  res.status(status).set('Cache-Control', 'no-store').json({ error, error_description: description });
}

class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readBody(req: Request): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > REGISTRATION_BODY_LIMIT) {
    throw new BodyError(413, `the registration request is larger than ${REGISTRATION_BODY_LIMIT} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > REGISTRATION_BODY_LIMIT) {
      throw new BodyError(413, `the registration request is larger than ${REGISTRATION_BODY_LIMIT} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

function mediaType(req: Request): string {
  return String(req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
}

/** Express handlers for `${mount}/register` and `${mount}/register/:clientId`. */
export function createRegistrationGate(deps: RegistrationGateDeps) {
  const ip = (req: Request) => req.socket.remoteAddress ?? null;

  async function refuse(
    req: Request,
    res: Response,
    decision: Extract<RegistrationDecision, { ok: false }>,
    op: string,
    status: number = decision.status,
  ) {
    const cert = presentedCertificate(req);
    deps.logger.info({ check: decision.check, error: decision.error, detail: decision.detail }, 'registration refused');
    await deps.audit.record({
      actor: { type: 'partner', id: null, label: cert?.report.organizationIdentifier?.raw ?? 'no certificate' },
      action: 'oauth.registration.refused',
      data: { operation: op, check: decision.check, error: decision.error, description: decision.description },
      ip: ip(req),
    });
    sendError(res, status, decision.error, decision.description);
  }

  /** Hands the evaluated metadata to oidc-provider as a JSON body with a one-time initial access token. */
  async function forward(
    req: Request,
    res: Response,
    next: NextFunction,
    metadata: Record<string, unknown>,
    existingKeys: string[] | null,
  ) {
    const orgId = String(metadata.org_id);
    // The issuing CA is pinned by key. An update (a renewed QWAC, perhaps from another QTSP) adds its issuer's
    // key to the ones already pinned, so that old and new certificates both work during the changeover.
    const key = presentedCertificate(req)?.issuerKeySha256;
    const issuerKeys = [...new Set([...(key ? [key] : []), ...(existingKeys ?? [])])].slice(0, 3);
    const pinned = {
      ...metadata,
      issuer_key_sha256: issuerKeys,
      ...(metadata.token_endpoint_auth_method === 'tls_client_auth' ? { tls_client_auth_subject_dn: organisationDn(orgId) } : {}),
      tls_client_certificate_bound_access_tokens: true,
    };
    markVetted(req, { metadata: pinned });
    req.headers['content-type'] = 'application/json';
    (req as Request & { body?: unknown }).body = pinned;
    if (existingKeys === null) {
      const provider = deps.provider();
      const iat = new provider.InitialAccessToken({ expiresIn: 60, policies: ['portal-vetted'] });
      const value = await iat.save();
      req.headers.authorization = `Bearer ${value}`;
      // One request, one token: it must not serve a second registration.
      res.once('finish', () => {
        void provider.InitialAccessToken.find(value).then((t) => t?.destroy());
      });
    }
    next();
  }

  async function evaluateBody(req: Request, res: Response, existing: RegistrationRequestInput['existing'], op: string) {
    const contentType = mediaType(req);
    if (!CONTENT_TYPES.has(contentType)) {
      await refuse(req, res, {
        ok: false,
        status: 400,
        error: 'invalid_client_metadata',
        check: 'request.content_type',
        description: 'send the registration request as application/json, or signed as application/jwt or application/jose',
      }, op);
      return null;
    }
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (err) {
      if (err instanceof BodyError) {
        const decision = { ok: false, status: 400, error: 'invalid_client_metadata', check: 'request.size', description: err.message } as const;
        await refuse(req, res, decision, op, err.status);
        return null;
      }
      throw err;
    }
    const decision = await deps.evaluate({
      contentType,
      body,
      certificate: presentedCertificate(req) ?? null,
      existing: existing ?? null,
      ip: ip(req),
    });
    if (!decision.ok) {
      await refuse(req, res, decision, op);
      return null;
    }
    return decision;
  }

  return {
    /** POST /register (RFC 7591). */
    async create(req: Request, res: Response, next: NextFunction) {
      if (req.headers.authorization) {
        // Registration is authorised by the certificate and the statement, not by a bearer token.
        sendError(res, 400, 'invalid_client_metadata', 'do not send an Authorization header: registration is authorised by your QWAC and software statement');
        return;
      }
      const decision = await evaluateBody(req, res, null, 'create');
      if (!decision) return;
      await forward(req, res, next, decision.metadata, null);
    },

    /** GET, PUT, DELETE /register/:clientId (RFC 7592): the registration access token and the organisation's QWAC. */
    async manage(req: Request, res: Response, next: NextFunction) {
      const clientId = String(req.params.clientId ?? '');
      const client = await deps.oauth.getClient(clientId);
      // Unknown clients and bad tokens are the provider's answer (401 invalid_token), as RFC 7592 §2 says.
      if (!client) {
        next();
        return;
      }
      const op = req.method === 'PUT' ? 'update' : req.method === 'DELETE' ? 'delete' : 'read';
      const cert = presentedCertificate(req);
      const org = cert?.report.organizationIdentifier?.raw ?? null;
      if (!cert || cert.report.verdict !== 'pass' || org !== client.orgId) {
        await refuse(req, res, {
          ok: false,
          status: 403,
          error: 'invalid_client_metadata',
          check: 'tls.organization',
          description: 'manage this client over mutual TLS with a valid QWAC of the organisation it was registered for',
        }, op);
        return;
      }
      if (req.method !== 'PUT') {
        next();
        return;
      }
      const decision = await evaluateBody(req, res, { clientId, orgId: client.orgId, softwareId: client.softwareId }, op);
      if (!decision) return;
      await forward(req, res, next, { ...decision.metadata, client_id: clientId }, client.issuerKeys);
    },
  };
}
