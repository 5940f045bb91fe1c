/**
 * The registration pipeline as small named checks (RFC 7591/7592, UK Open Banking DCR, and our eIDAS
 * profile). Each check reads what earlier ones resolved into the context, adds what it resolves, and on
 * failure returns its own RFC 7591 §3.2.2 error with a description that says what to fix.
 *
 * Trust order: the TLS certificate (a QWAC validated by the eIDAS engine) says who is calling; the software
 * statement, signed by the portal's directory, says what that organisation may register; the request only
 * chooses within those limits. Statement claims take precedence over the same metadata in the request.
 */
import { randomBytes } from 'node:crypto';
import {
  calculateJwkThumbprint,
  compactVerify,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  importX509,
  jwtVerify,
  type JWK,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose';
import { z } from 'zod';
import { AppError } from '../errors.js';
import type { EidasService } from '../eidas/service.js';
import type { CertificateReport, OrganizationIdentifier, Psd2RoleName } from '../eidas/types.js';
import { x509 } from '../eidas/x509.js';
import { ROLE_SCOPES, type PresentedCertificate } from '../oauth/types.js';
import type { PartnersService, PartnerView, RequestedRole } from '../partners/types.js';
import type { RegistrationJtiStore } from './jti.js';
import type { RegistrationErrorCode, RegistrationRequestInput, SoftwareProduct } from './types.js';

// --- dependencies ---------------------------------------------------------------------------------------

export interface JwkSet {
  keys: JWK[];
}

/**
 * The partners service as the evaluator uses it. registerRegulatedPartner throws AppError
 * `partners.fast_lane_refused` (403) when the register or certificate checks fail, and returns the existing
 * partner when one already holds the organizationIdentifier.
 */
export type RegistrationPartners = Pick<PartnersService, 'getPartner' | 'partnerForOrganization' | 'registerRegulatedPartner'>;

export interface RegistrationEvaluatorDeps {
  /** The portal's directory: the issuer and public keys of the software statements it signs. */
  directory: { issuer: string; publicJwks(): { keys: JWK[] } };
  software: { getSoftware(id: string): Promise<SoftwareProduct | null> };
  partners: RegistrationPartners;
  clients: { findBySoftware(orgId: string, softwareId: string): Promise<{ clientId: string } | null> };
  eidas: EidasService;
  jtis: RegistrationJtiStore;
  /** The authorization server's issuer URL: the `aud` a signed registration request must carry. */
  audience: () => string;
  /** Oldest software statement accepted (by its `iat`). */
  ssaMaxAgeDays: number;
  /** Fetches a `software_jwks_endpoint`; default: https only, 3 s, 64 KiB, no redirects. */
  fetchJwks?: (uri: string) => Promise<JwkSet>;
  now?: () => Date;
}

// --- limits and vocabularies ------------------------------------------------------------------------------

export const REGISTRATION_LIMITS = {
  maxKeys: 50,
  maxRedirectUris: 20,
  maxUriLength: 2000,
  maxJwksKeys: 20,
  maxX5c: 10,
  /** Allowed clock difference for `iat`/`nbf` in the future. */
  skewSeconds: 60,
  /** The longest a signed registration request may live (exp - now). */
  maxRequestLifetimeSeconds: 3600,
} as const;

export const SIGNING_ALGS = ['PS256', 'ES256'] as const;
export const AUTH_METHODS = ['tls_client_auth', 'private_key_jwt'] as const;
export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export const DEFAULT_GRANT_TYPES = ['client_credentials', 'authorization_code', 'refresh_token'] as const;
export const RESPONSE_TYPES = ['code'] as const;

/** Request metadata passed on to the provider as sent (it validates them); everything else is dropped. */
export const PASS_THROUGH_METADATA = [
  'client_name',
  'client_uri',
  'logo_uri',
  'policy_uri',
  'tos_uri',
  'contacts',
  'software_version',
  'id_token_signed_response_alg',
  'token_endpoint_auth_signing_alg',
  'request_object_signing_alg',
  'application_type',
] as const;

/** Claims of a signed registration request that are about the request, not client metadata. */
export const REQUEST_CLAIMS = ['iss', 'aud', 'exp', 'iat', 'nbf', 'jti', 'software_statement'] as const;

/** Statement roles (ours: AIS/PIS/CBPII; UK OB: AISP/PISP/CBPII) → portal roles. */
const STATEMENT_ROLES: Record<string, RequestedRole> = { AIS: 'AIS', AISP: 'AIS', PIS: 'PIS', PISP: 'PIS', CBPII: 'CBPII' };
/** TS 119 495 roles in the QWAC → portal roles (PSP_AS, account servicing, is the bank's own role). */
export const CERTIFICATE_ROLES: Partial<Record<Psd2RoleName, RequestedRole>> = { PSP_AI: 'AIS', PSP_PI: 'PIS', PSP_IC: 'CBPII' };
const ROLE_ORDER: RequestedRole[] = ['AIS', 'PIS', 'CBPII'];
const ROLE_OF_SCOPE = Object.fromEntries(Object.entries(ROLE_SCOPES).map(([r, s]) => [s, r as RequestedRole])) as Record<
  string,
  RequestedRole
>;
/** Scopes that are not PSD2 roles and need no role (OpenID Connect). */
const ROLE_FREE_SCOPES = ['openid'];
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

// --- context and results -------------------------------------------------------------------------------

export interface CheckFailure {
  status: 400 | 401 | 403;
  error: RegistrationErrorCode;
  description: string;
  detail?: string;
}

const statementSchema = z.object({
  iss: z.string(),
  iat: z.number().optional(),
  jti: z.string().optional(),
  software_id: z.string().min(1).max(200),
  org_id: z.string().min(1).max(200),
  org_name: z.string().optional(),
  org_status: z.string().optional(),
  software_roles: z.array(z.string()).max(10).default([]),
  software_redirect_uris: z.array(z.string()).max(REGISTRATION_LIMITS.maxRedirectUris).default([]),
  software_jwks: z.unknown().optional(),
  software_jwks_endpoint: z.string().max(REGISTRATION_LIMITS.maxUriLength).optional(),
  software_client_name: z.string().max(200).optional(),
  // UK OB statements carry it as a number (1.5) or a string.
  software_version: z.union([z.string().max(50), z.number()]).optional(),
  software_client_uri: z.string().max(REGISTRATION_LIMITS.maxUriLength).optional(),
  software_logo_uri: z.string().max(REGISTRATION_LIMITS.maxUriLength).optional(),
  software_policy_uri: z.string().max(REGISTRATION_LIMITS.maxUriLength).optional(),
  software_tos_uri: z.string().max(REGISTRATION_LIMITS.maxUriLength).optional(),
});
export type StatementClaims = z.infer<typeof statementSchema>;

/** The typed shape of the request members the checks read; others are kept as unknown. */
const requestSchema = z.object({
  software_statement: z.string().min(1).max(16_384).optional(),
  software_id: z.string().min(1).max(200).optional(),
  redirect_uris: z.array(z.string().max(REGISTRATION_LIMITS.maxUriLength)).max(REGISTRATION_LIMITS.maxRedirectUris).optional(),
  grant_types: z.array(z.string().max(100)).max(10).optional(),
  response_types: z.array(z.string().max(100)).max(10).optional(),
  scope: z.string().max(1000).optional(),
  token_endpoint_auth_method: z.string().max(100).optional(),
  jwks_uri: z.string().max(REGISTRATION_LIMITS.maxUriLength).optional(),
});
type RequestFields = z.infer<typeof requestSchema>;

export interface ResolvedClient {
  redirectUris: string[];
  authMethod: (typeof AUTH_METHODS)[number];
  grantTypes: string[];
  responseTypes: string[];
  scopes: string[];
  /** Portal roles behind the requested scopes (what the fast lane asks the partners service for). */
  roles: RequestedRole[];
  keys: { jwks: JwkSet } | { jwks_uri: string } | null;
}

export interface CheckContext {
  deps: Required<Pick<RegistrationEvaluatorDeps, 'fetchJwks' | 'now'>> & RegistrationEvaluatorDeps;
  input: RegistrationRequestInput;
  now: Date;
  /** POST (RFC 7591) or PUT (RFC 7592, `input.existing` set). */
  mode: 'create' | 'update';
  format?: 'json' | 'jws';
  /** The compact JWS as sent (signed requests). */
  jws?: string;
  header?: ProtectedHeaderParameters;
  /** The request members: the JSON body, or the JWS payload (verified once request.signature passed). */
  body?: Record<string, unknown>;
  fields?: RequestFields;
  certificate?: PresentedCertificate;
  organization?: OrganizationIdentifier;
  /** `statement`: a software statement was sent; `qwac`: the regulated fast lane (QWAC alone). */
  path?: 'statement' | 'qwac';
  statementJwt?: string;
  statement?: StatementClaims;
  software?: SoftwareProduct;
  softwareId?: string;
  /** The partner; null on the fast lane until partner.fast_lane creates it. */
  partner?: PartnerView | null;
  fastLane: boolean;
  /** How the signed request was verified. */
  signedWith?: 'software_jwks' | 'qsealc';
  resolved: Partial<ResolvedClient>;
}

export interface Check {
  name: string;
  /** Runs only when this holds (a skipped check is not listed among the checks that ran). */
  when?: (ctx: CheckContext) => boolean;
  run(ctx: CheckContext): Promise<CheckFailure | undefined> | CheckFailure | undefined;
}

function fail(
  error: RegistrationErrorCode,
  description: string,
  opts: { status?: 400 | 401 | 403; detail?: string } = {},
): CheckFailure {
  return { status: opts.status ?? 400, error, description, ...(opts.detail === undefined ? {} : { detail: opts.detail }) };
}

/** A value an earlier check resolved; its absence is a pipeline bug, not the caller's fault. */
function need<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`registration pipeline: ${what} not resolved`);
  return value;
}

function message(e: unknown): string {
  return e instanceof Error ? `${(e as { code?: string }).code ?? e.name}: ${e.message}` : String(e);
}

function joseCode(e: unknown): string | undefined {
  return (e as { code?: unknown } | null)?.code as string | undefined;
}

function list(items: readonly string[]): string {
  return items.length === 0 ? 'none' : items.join(', ');
}

function iso(seconds: number): string {
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? String(seconds) : d.toISOString();
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function zodProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'malformed';
  const where = issue.path.length > 0 ? issue.path.join('.') : 'the request';
  return `${where}: ${issue.message}`;
}

function httpsUrl(value: string): URL | null {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/**
 * A JWK Set the client may register or sign with: public keys only (a private member means the key leaked
 * into metadata), no symmetric keys, each complete enough for a thumbprint. Returns the thumbprints.
 */
async function checkPublicJwks(value: unknown, what: string): Promise<{ ok: true; thumbprints: string[] } | { ok: false; problem: string }> {
  if (!isObject(value) || !Array.isArray(value.keys)) return { ok: false, problem: `${what} must be a JWK Set: {"keys": [...]}` };
  const keys = value.keys as unknown[];
  if (keys.length === 0) return { ok: false, problem: `${what} holds no keys` };
  if (keys.length > REGISTRATION_LIMITS.maxJwksKeys) {
    return { ok: false, problem: `${what} holds ${keys.length} keys, more than ${REGISTRATION_LIMITS.maxJwksKeys}` };
  }
  const thumbprints: string[] = [];
  for (const [i, key] of keys.entries()) {
    if (!isObject(key)) return { ok: false, problem: `${what} key ${i + 1} is not a JSON object` };
    const name = typeof key.kid === 'string' ? `key "${key.kid}"` : `key ${i + 1}`;
    if (key.kty === 'oct') return { ok: false, problem: `${what} ${name} is a symmetric (oct) key: register public keys only` };
    const secret = PRIVATE_JWK_MEMBERS.filter((m) => m in key);
    if (secret.length > 0) {
      return {
        ok: false,
        problem: `${what} ${name} contains private key material (${secret.join(', ')}): publish only the public key, and replace this key pair since its private part has been sent`,
      };
    }
    if (key.kty !== 'RSA' && key.kty !== 'EC' && key.kty !== 'OKP') {
      return { ok: false, problem: `${what} ${name} has kty ${JSON.stringify(key.kty)}: use RSA or EC keys` };
    }
    try {
      thumbprints.push(await calculateJwkThumbprint(key as JWK));
    } catch (e) {
      return { ok: false, problem: `${what} ${name} is incomplete (${e instanceof Error ? e.message : String(e)})` };
    }
  }
  return { ok: true, thumbprints };
}

function rolesOfCertificate(report: CertificateReport): RequestedRole[] {
  const roles = new Set((report.psd2?.roles ?? []).map((r) => CERTIFICATE_ROLES[r]).filter((r) => r !== undefined));
  return ROLE_ORDER.filter((r) => roles.has(r));
}

function scopesOf(roles: Iterable<RequestedRole>): string[] {
  const set = new Set(roles);
  return ROLE_ORDER.filter((r) => set.has(r)).map((r) => ROLE_SCOPES[r]);
}

// --- request ---------------------------------------------------------------------------------------------

const contentType: Check = {
  name: 'request.content_type',
  run(ctx) {
    const type = (ctx.input.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === 'application/json') ctx.format = 'json';
    else if (type === 'application/jwt' || type === 'application/jose') ctx.format = 'jws';
    else {
      return fail(
        'invalid_client_metadata',
        `Content-Type ${type === '' ? '(none)' : type} is not accepted: send the registration request as application/json (RFC 7591) or as a signed JWT with application/jwt or application/jose.`,
      );
    }
    return undefined;
  },
};

function describeRefusedAlg(alg: unknown): string {
  if (alg === undefined) return 'The JWS header has no alg: sign the request with PS256 or ES256.';
  if (typeof alg === 'string' && alg.toLowerCase() === 'none') {
    return 'alg none (an unsigned request) is refused: sign the request with your private key using PS256 or ES256.';
  }
  if (typeof alg === 'string' && /^HS/i.test(alg)) {
    return `alg ${alg} (HMAC, a shared secret) is refused: a registration request is signed with your private key using PS256 or ES256, never with a shared or public key.`;
  }
  if (alg === 'RS256') return 'alg RS256 (RSASSA-PKCS1-v1_5) is refused by the FAPI profile: sign with PS256 (RSASSA-PSS) or ES256.';
  return `alg ${JSON.stringify(alg)} is not supported: sign the request with PS256 or ES256.`;
}

const parse: Check = {
  name: 'request.parse',
  run(ctx) {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(ctx.input.body);
    } catch {
      return fail('invalid_client_metadata', 'The request body is not UTF-8 text.');
    }
    let body: unknown;
    if (ctx.format === 'json') {
      try {
        body = JSON.parse(text);
      } catch (e) {
        return fail('invalid_client_metadata', 'The request body is not valid JSON: send one JSON object of client metadata.', {
          detail: message(e),
        });
      }
      if (!isObject(body)) return fail('invalid_client_metadata', 'The request body must be one JSON object of client metadata.');
    } else {
      const jws = text.trim();
      let header: ProtectedHeaderParameters;
      try {
        header = decodeProtectedHeader(jws);
        body = decodeJwt(jws);
      } catch (e) {
        return fail(
          'invalid_client_metadata',
          'The request body is not a signed JWT: send a compact JWS (header.payload.signature) whose payload is a JSON object of claims.',
          { detail: message(e) },
        );
      }
      if (!SIGNING_ALGS.includes(header.alg as (typeof SIGNING_ALGS)[number])) {
        return fail('invalid_client_metadata', describeRefusedAlg(header.alg), { detail: `alg ${String(header.alg)}` });
      }
      if (header.typ !== undefined && !['jwt', 'application/jwt'].includes(String(header.typ).toLowerCase())) {
        return fail('invalid_client_metadata', `The JWS header typ is ${JSON.stringify(header.typ)}: omit typ or set it to JWT.`);
      }
      ctx.jws = jws;
      ctx.header = header;
    }
    const members = body as Record<string, unknown>;
    const count = Object.keys(members).length;
    if (count > REGISTRATION_LIMITS.maxKeys) {
      return fail('invalid_client_metadata', `The request has ${count} members, more than ${REGISTRATION_LIMITS.maxKeys}: send only client metadata.`);
    }
    const fields = requestSchema.safeParse(members);
    if (!fields.success) return fail('invalid_client_metadata', `Malformed client metadata: ${zodProblem(fields.error)}.`);
    ctx.body = members;
    ctx.fields = fields.data;
    return undefined;
  },
};

// --- TLS client certificate ----------------------------------------------------------------------------

const tlsCertificate: Check = {
  name: 'tls.certificate',
  run(ctx) {
    if (!ctx.input.certificate) {
      return fail(
        'invalid_client_metadata',
        'Registration requires mutual TLS with your QWAC: connect to the mutual-TLS endpoint presenting your organisation’s QWAC and its key.',
      );
    }
    ctx.certificate = ctx.input.certificate;
    return undefined;
  },
};

const tlsQwacValid: Check = {
  name: 'tls.qwac_valid',
  run(ctx) {
    const cert = need(ctx.certificate, 'certificate');
    const { report } = cert;
    if (report.verdict !== 'pass' || report.type !== 'QWAC') {
      const codes = report.findings.filter((f) => f.severity === 'error').map((f) => f.code);
      const what = report.type === 'QWAC' ? 'is not a valid QWAC' : `is not a QWAC (read as ${report.type})`;
      return fail(
        'invalid_client_metadata',
        `The TLS client certificate ${what} (findings: ${list(codes)}): present a valid, unrevoked QWAC from a qualified trust service provider.`,
        { detail: `certificate ${report.sha256} subject ${report.subject}` },
      );
    }
    if (!cert.issuerKeySha256) {
      return fail('invalid_client_metadata', 'No certification path was built for the TLS client certificate: present your QWAC with its issuing CA.', {
        detail: 'issuerKeySha256 is null on a passing report',
      });
    }
    return undefined;
  },
};

const tlsOrganization: Check = {
  name: 'tls.organization',
  run(ctx) {
    const oi = need(ctx.certificate, 'certificate').report.organizationIdentifier;
    if (!oi) {
      return fail(
        'invalid_client_metadata',
        'Your QWAC carries no organizationIdentifier (2.5.4.97): the portal binds clients to it. Present a QWAC issued with your PSD2 authorisation number.',
      );
    }
    ctx.organization = oi;
    return undefined;
  },
};

/** RFC 7592 update: only the organisation the client was registered for may change it. */
const clientOwner: Check = {
  name: 'client.owner',
  when: (ctx) => ctx.mode === 'update',
  run(ctx) {
    const existing = need(ctx.input.existing, 'existing client');
    const oi = need(ctx.organization, 'organization');
    if (oi.raw !== existing.orgId) {
      return fail(
        'unapproved_software_statement',
        `Client ${existing.clientId} is registered for organisation ${existing.orgId}; your QWAC is for ${oi.raw}. Only its own organisation can update it.`,
        { status: 403 },
      );
    }
    return undefined;
  },
};

// --- software statement --------------------------------------------------------------------------------

const statementPresent: Check = {
  name: 'statement.present',
  run(ctx) {
    const fields = need(ctx.fields, 'fields');
    const oi = need(ctx.organization, 'organization');
    if (fields.software_statement !== undefined) {
      ctx.path = 'statement';
      ctx.statementJwt = fields.software_statement.trim();
      return undefined;
    }
    if (oi.scheme !== 'PSD') {
      return fail(
        'invalid_software_statement',
        `A software statement is required for ${oi.raw}: registration without one (the PSD2 fast lane) needs a QWAC whose organizationIdentifier is a PSD2 authorisation (PSD…). Declare your software in the portal and send its statement as software_statement.`,
      );
    }
    ctx.path = 'qwac';
    // Fast lane: the software id is the caller's (or, on update, the client's), else a fresh one.
    ctx.softwareId = fields.software_id ?? ctx.input.existing?.softwareId ?? randomBytes(16).toString('base64url');
    return undefined;
  },
};

const onStatementPath = (ctx: CheckContext) => ctx.path === 'statement';

const statementSignature: Check = {
  name: 'statement.signature',
  when: onStatementPath,
  async run(ctx) {
    const ssa = need(ctx.statementJwt, 'statement');
    const { directory } = ctx.deps;
    let header: ProtectedHeaderParameters;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(ssa);
      unverified = decodeJwt(ssa);
    } catch (e) {
      return fail('invalid_software_statement', 'software_statement is not a signed JWT (compact JWS): send the statement as downloaded from the portal.', {
        detail: message(e),
      });
    }
    if (unverified.iss !== directory.issuer) {
      return fail(
        'invalid_software_statement',
        `The software statement was issued by ${JSON.stringify(unverified.iss ?? null)}, which this portal does not trust, so its signature cannot be verified: send the statement downloaded from this portal (issuer ${directory.issuer}).`,
        { detail: `statement kid ${String(header.kid)}, alg ${String(header.alg)}` },
      );
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(ssa, createLocalJWKSet(directory.publicJwks()), {
        algorithms: [...SIGNING_ALGS],
        issuer: directory.issuer,
        currentDate: ctx.now,
        clockTolerance: REGISTRATION_LIMITS.skewSeconds,
      }));
    } catch (e) {
      if (joseCode(e) === 'ERR_JWT_EXPIRED') {
        return fail('invalid_software_statement', `The software statement expired at ${iso(Number(unverified.exp))}: download a fresh one from the portal.`);
      }
      return fail(
        'invalid_software_statement',
        'The software statement’s signature does not verify with the portal directory’s keys: send the statement exactly as downloaded from the portal.',
        { detail: message(e) },
      );
    }
    const claims = statementSchema.safeParse(payload);
    if (!claims.success) {
      return fail('invalid_software_statement', `The software statement is malformed (${zodProblem(claims.error)}): download it again from the portal.`);
    }
    ctx.statement = claims.data;
    return undefined;
  },
};

const statementAge: Check = {
  name: 'statement.age',
  when: onStatementPath,
  run(ctx) {
    const { iat } = need(ctx.statement, 'statement');
    const maxDays = ctx.deps.ssaMaxAgeDays;
    if (iat === undefined || !Number.isFinite(iat)) {
      return fail('invalid_software_statement', 'The software statement has no iat (issue time): download a fresh one from the portal.');
    }
    const now = ctx.now.getTime();
    if (iat * 1000 > now + REGISTRATION_LIMITS.skewSeconds * 1000) {
      return fail('invalid_software_statement', `The software statement’s iat (${iso(iat)}) is in the future: download a fresh one from the portal.`);
    }
    if (now - iat * 1000 > maxDays * 86_400_000) {
      return fail(
        'invalid_software_statement',
        `The software statement was issued at ${iso(iat)}, more than ${maxDays} days ago: download a fresh one from the portal.`,
      );
    }
    return undefined;
  },
};

const statementSoftware: Check = {
  name: 'statement.software',
  when: onStatementPath,
  async run(ctx) {
    const st = need(ctx.statement, 'statement');
    const fields = need(ctx.fields, 'fields');
    const product = await ctx.deps.software.getSoftware(st.software_id);
    if (!product) {
      return fail('unapproved_software_statement', `Software ${st.software_id} is not declared in this portal: declare it and download its statement.`);
    }
    if (product.orgId !== st.org_id) {
      return fail(
        'unapproved_software_statement',
        `Software ${st.software_id} belongs to another organisation than the statement’s org_id ${st.org_id}: download the statement again from the portal.`,
        { detail: `product org ${product.orgId}` },
      );
    }
    if (product.status !== 'active') {
      return fail(
        'unapproved_software_statement',
        `Software ${st.software_id} was revoked in the portal: its statements can no longer register clients. Declare a new software product.`,
      );
    }
    if (fields.software_id !== undefined && fields.software_id !== st.software_id) {
      return fail(
        'invalid_client_metadata',
        `software_id ${fields.software_id} differs from your statement’s software_id ${st.software_id}: omit it or send the statement’s.`,
      );
    }
    ctx.software = product;
    ctx.softwareId = st.software_id;
    return undefined;
  },
};

const statementOrganization: Check = {
  name: 'statement.organization',
  when: onStatementPath,
  run(ctx) {
    const st = need(ctx.statement, 'statement');
    const oi = need(ctx.organization, 'organization');
    if (st.org_id !== oi.raw) {
      return fail(
        'unapproved_software_statement',
        `The software statement is for organisation ${st.org_id}, but your QWAC is for ${oi.raw}: present your own organisation’s statement, or the QWAC of ${st.org_id}.`,
      );
    }
    if (st.org_status !== undefined && st.org_status.toLowerCase() !== 'active') {
      return fail('unapproved_software_statement', `The software statement says organisation status ${st.org_status}: only active organisations can register.`);
    }
    return undefined;
  },
};

// --- signed request ------------------------------------------------------------------------------------

const isSigned = (ctx: CheckContext) => ctx.format === 'jws';

async function verifyWithQsealc(ctx: CheckContext): Promise<CheckFailure | undefined> {
  const header = need(ctx.header, 'header');
  const jws = need(ctx.jws, 'jws');
  const oi = need(ctx.organization, 'organization');
  const x5c = header.x5c as unknown;
  if (
    !Array.isArray(x5c) ||
    x5c.length === 0 ||
    x5c.length > REGISTRATION_LIMITS.maxX5c ||
    !x5c.every((c) => typeof c === 'string' && /^[A-Za-z0-9+/]+={0,2}$/.test(c))
  ) {
    return fail('invalid_client_metadata', `The JWS header x5c must be an array of 1 to ${REGISTRATION_LIMITS.maxX5c} base64 DER certificates, your QSealC first.`);
  }
  const ders = (x5c as string[]).map((c) => new Uint8Array(Buffer.from(c, 'base64')));
  const alg = String(header.alg);
  let key: Awaited<ReturnType<typeof importX509>>;
  try {
    key = await importX509(x509.PemConverter.encode(ders[0]!, 'CERTIFICATE'), alg);
  } catch (e) {
    return fail('invalid_client_metadata', `The first x5c certificate’s key cannot verify alg ${alg}: sign with your QSealC’s key and the matching alg (PS256 for RSA, ES256 for P-256).`, {
      detail: message(e),
    });
  }
  // The signature first: it is cheap, and a forged request never costs a certificate validation.
  try {
    await compactVerify(jws, key, { algorithms: [alg] });
  } catch (e) {
    return fail('invalid_client_metadata', 'The request’s signature does not verify with the key of the QSealC in x5c: sign the request with that QSealC’s private key.', {
      detail: message(e),
    });
  }
  const report = await ctx.deps.eidas.validate(x509.PemConverter.encode(ders, 'CERTIFICATE'), { expect: 'qseal', at: ctx.now });
  if (report.verdict !== 'pass' || report.type !== 'QSealC') {
    const codes = report.findings.filter((f) => f.severity === 'error').map((f) => f.code);
    return fail(
      'invalid_client_metadata',
      `The certificate in x5c is not a valid QSealC (findings: ${list(codes)}): sign with your organisation’s valid QSealC, or with a key of your software statement (kid).`,
      { detail: `x5c ${report.sha256} subject ${report.subject}` },
    );
  }
  if (report.organizationIdentifier?.raw !== oi.raw) {
    return fail(
      'invalid_client_metadata',
      `The QSealC in x5c belongs to ${report.organizationIdentifier?.raw ?? 'no organisation'}, but your QWAC is for ${oi.raw}: sign with your own organisation’s QSealC.`,
      { status: 403, detail: `x5c ${report.sha256} subject ${report.subject}` },
    );
  }
  ctx.signedWith = 'qsealc';
  return undefined;
}

async function softwareKeys(ctx: CheckContext, st: StatementClaims): Promise<{ keys: JwkSet } | CheckFailure> {
  if (st.software_jwks !== undefined) {
    const check = await checkPublicJwks(st.software_jwks, 'software_jwks');
    if (!check.ok) return fail('invalid_software_statement', `Your software statement’s ${check.problem}: fix the software product’s keys in the portal.`);
    return { keys: st.software_jwks as JwkSet };
  }
  if (st.software_jwks_endpoint !== undefined) {
    let keys: JwkSet;
    try {
      keys = await ctx.deps.fetchJwks(st.software_jwks_endpoint);
    } catch (e) {
      return fail(
        'invalid_client_metadata',
        `Your software_jwks_endpoint ${st.software_jwks_endpoint} could not be read (${e instanceof Error ? e.message : String(e)}): publish your JWK Set there over https.`,
        { detail: message(e) },
      );
    }
    const check = await checkPublicJwks(keys, `the JWK Set at ${st.software_jwks_endpoint}`);
    if (!check.ok) return fail('invalid_client_metadata', `${check.problem}.`);
    return { keys };
  }
  return fail(
    'invalid_client_metadata',
    'Your software statement has no keys (software_jwks or software_jwks_endpoint) to verify a signed request: add keys to the software product, sign with your QSealC (x5c), or send application/json.',
  );
}

const requestSignature: Check = {
  name: 'request.signature',
  when: isSigned,
  async run(ctx) {
    const header = need(ctx.header, 'header');
    if (header.x5c !== undefined) return verifyWithQsealc(ctx);
    if (ctx.path === 'qwac') {
      return fail(
        'invalid_client_metadata',
        'Without a software statement there are no registered keys to verify your signature: sign the request with your QSealC (its chain in the x5c header) or send it as application/json.',
      );
    }
    const resolved = await softwareKeys(ctx, need(ctx.statement, 'statement'));
    if (!('keys' in resolved)) return resolved;
    const kid = header.kid === undefined ? '(none)' : JSON.stringify(header.kid);
    try {
      await compactVerify(need(ctx.jws, 'jws'), createLocalJWKSet(resolved.keys), { algorithms: [...SIGNING_ALGS] });
    } catch (e) {
      const code = joseCode(e);
      const description =
        code === 'ERR_JWKS_NO_MATCHING_KEY'
          ? `No signing key of your software matches kid ${kid} and alg ${String(header.alg)}: sign with a key published in your software statement’s JWK Set and put its kid in the header.`
          : code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS'
            ? 'Several signing keys of your software match the header: put the signing key’s kid in the JWS header.'
            : code === 'ERR_JWKS_INVALID'
              ? 'Your software’s JWK Set is malformed: fix the software product’s keys.'
              : `The request’s signature does not verify with your software’s key ${kid}: sign with that key’s private part.`;
      return fail('invalid_client_metadata', description, { detail: message(e) });
    }
    ctx.signedWith = 'software_jwks';
    return undefined;
  },
};

const requestClaims: Check = {
  name: 'request.claims',
  when: isSigned,
  run(ctx) {
    const body = need(ctx.body, 'body');
    const fields = need(ctx.fields, 'fields');
    const now = ctx.now.getTime();
    const skew = REGISTRATION_LIMITS.skewSeconds * 1000;
    const expectedIss =
      ctx.path === 'statement' ? need(ctx.statement, 'statement').software_id : (fields.software_id ?? need(ctx.organization, 'organization').raw);
    if (body.iss !== expectedIss) {
      const whose = ctx.path === 'statement' ? 'your software statement’s software_id' : 'your software_id (or, without one, your organizationIdentifier)';
      return fail('invalid_client_metadata', `iss must be ${whose} ${expectedIss}; the request has ${JSON.stringify(body.iss ?? null)}.`);
    }
    const audience = ctx.deps.audience();
    const aud = body.aud;
    if (!(aud === audience || (Array.isArray(aud) && aud.includes(audience)))) {
      return fail('invalid_client_metadata', `aud must be this authorization server’s issuer ${audience}; the request has ${JSON.stringify(aud ?? null)}.`);
    }
    if (typeof body.exp !== 'number' || !Number.isFinite(body.exp)) {
      return fail('invalid_client_metadata', 'exp is required: give the request a short lifetime (a NumericDate a few minutes ahead).');
    }
    if (body.exp * 1000 <= now) {
      return fail('invalid_client_metadata', `The request expired at ${iso(body.exp)}: sign a new one with exp in the future.`);
    }
    if (body.exp * 1000 > now + REGISTRATION_LIMITS.maxRequestLifetimeSeconds * 1000) {
      // A bound lifetime keeps a captured request short-lived and the replay store small.
      return fail('invalid_client_metadata', `exp ${iso(body.exp)} is too far ahead: a registration request may live at most ${REGISTRATION_LIMITS.maxRequestLifetimeSeconds / 60} minutes.`);
    }
    if (typeof body.iat !== 'number' || !Number.isFinite(body.iat)) {
      return fail('invalid_client_metadata', 'iat is required: the time the request was signed (NumericDate).');
    }
    if (body.iat * 1000 > now + skew) {
      return fail('invalid_client_metadata', `iat ${iso(body.iat)} is in the future: check your server’s clock and sign a new request.`);
    }
    if (body.nbf !== undefined && (typeof body.nbf !== 'number' || body.nbf * 1000 > now + skew)) {
      return fail('invalid_client_metadata', `The request is not valid before ${typeof body.nbf === 'number' ? iso(body.nbf) : 'a malformed nbf'}: send it later or fix nbf.`);
    }
    if (typeof body.jti !== 'string' || body.jti.length === 0 || body.jti.length > 255) {
      return fail('invalid_client_metadata', 'jti is required: a unique identifier (for example a UUID) for this request, at most 255 characters.');
    }
    return undefined;
  },
};

const requestReplay: Check = {
  name: 'request.replay',
  when: isSigned,
  async run(ctx) {
    const body = need(ctx.body, 'body');
    const fresh = await ctx.deps.jtis.use(body.iss as string, body.jti as string, new Date((body.exp as number) * 1000), ctx.now);
    if (!fresh) {
      return fail('invalid_client_metadata', 'jti already used: every registration request needs a new unique jti.', {
        detail: `iss ${String(body.iss)} jti ${String(body.jti)}`,
      });
    }
    return undefined;
  },
};

// --- partner -----------------------------------------------------------------------------------------------

function suspended(partner: PartnerView): CheckFailure {
  return fail(
    'unapproved_software_statement',
    `Partner ${partner.legalName} is suspended: ${partner.statusReason ?? 'contact the bank'}. Clients cannot be registered until the bank reinstates it.`,
    { status: 403, detail: `partner ${partner.id} reason ${partner.statusReasonCode ?? '-'}` },
  );
}

const partnerApproved: Check = {
  name: 'partner.approved',
  async run(ctx) {
    const oi = need(ctx.organization, 'organization');
    const partner = await ctx.deps.partners.partnerForOrganization(oi.raw);
    if (ctx.path === 'qwac') {
      // The fast lane creates the partner at the very end, once everything else has passed.
      if (partner && partner.status !== 'active') return suspended(partner);
      ctx.partner = partner;
      return undefined;
    }
    const st = need(ctx.statement, 'statement');
    const software = need(ctx.software, 'software');
    if (!partner) {
      return fail('unapproved_software_statement', `No approved partner holds organisation ${oi.raw}: apply in the portal first.`, { status: 403 });
    }
    if (partner.organizationIdentifier !== st.org_id || partner.id !== software.partnerId) {
      return fail(
        'unapproved_software_statement',
        `Software ${software.id} is not a product of the approved partner for ${oi.raw}: use a statement of your own software.`,
        { status: 403, detail: `partner ${partner.id} (${String(partner.organizationIdentifier)}), software partner ${software.partnerId}` },
      );
    }
    if (partner.status !== 'active') return suspended(partner);
    ctx.partner = partner;
    return undefined;
  },
};

// --- metadata --------------------------------------------------------------------------------------------

const redirectUris: Check = {
  name: 'metadata.redirect_uris',
  run(ctx) {
    const fields = need(ctx.fields, 'fields');
    const allowed = ctx.path === 'statement' ? need(ctx.statement, 'statement').software_redirect_uris : null;
    const uris = [...new Set(fields.redirect_uris ?? allowed ?? [])];
    for (const uri of uris) {
      const url = httpsUrl(uri);
      if (!url) return fail('invalid_redirect_uri', `Redirect URI ${uri} is not an https URL: redirect URIs must use https.`);
      if (url.hash !== '' || uri.includes('#')) return fail('invalid_redirect_uri', `Redirect URI ${uri} has a fragment: redirect URIs must not contain #.`);
      if (allowed && !allowed.includes(uri)) {
        return fail(
          'invalid_redirect_uri',
          `Redirect URI ${uri} is not in your software statement (software_redirect_uris: ${list(allowed)}): add it to the software product in the portal and download a new statement.`,
        );
      }
    }
    ctx.resolved.redirectUris = uris;
    return undefined;
  },
};

const authMethod: Check = {
  name: 'metadata.auth_method',
  run(ctx) {
    const fields = need(ctx.fields, 'fields');
    const body = need(ctx.body, 'body');
    const method = fields.token_endpoint_auth_method ?? 'tls_client_auth';
    if (!AUTH_METHODS.includes(method as (typeof AUTH_METHODS)[number])) {
      return fail('invalid_client_metadata', `token_endpoint_auth_method ${method} is not supported: use tls_client_auth (your QWAC) or private_key_jwt.`);
    }
    const alg = body.token_endpoint_auth_signing_alg;
    if (method === 'private_key_jwt' && alg !== undefined && !SIGNING_ALGS.includes(alg as (typeof SIGNING_ALGS)[number])) {
      return fail('invalid_client_metadata', `token_endpoint_auth_signing_alg ${JSON.stringify(alg)} is not supported: use PS256 or ES256.`);
    }
    ctx.resolved.authMethod = method as (typeof AUTH_METHODS)[number];
    return undefined;
  },
};

const grantAndResponseTypes: Check = {
  name: 'metadata.grant_and_response_types',
  run(ctx) {
    const fields = need(ctx.fields, 'fields');
    const redirects = need(ctx.resolved.redirectUris, 'redirect URIs');
    // Without redirect URIs the authorization code flow cannot work: the default is then client_credentials.
    const grants = [...new Set(fields.grant_types ?? (redirects.length > 0 ? DEFAULT_GRANT_TYPES : ['client_credentials']))];
    for (const g of grants) {
      if (!GRANT_TYPES.includes(g as (typeof GRANT_TYPES)[number])) {
        return fail('invalid_client_metadata', `grant_type ${g} is not supported: use ${GRANT_TYPES.join(', ')}.`);
      }
    }
    const code = grants.includes('authorization_code');
    const responses = [...new Set(fields.response_types ?? (code ? ['code'] : []))];
    for (const r of responses) {
      if (!RESPONSE_TYPES.includes(r as (typeof RESPONSE_TYPES)[number])) {
        return fail('invalid_client_metadata', `response_type ${r} is not supported: the only response type is code (FAPI 2.0, with PAR and PKCE).`);
      }
    }
    if (responses.includes('code') && !code) {
      return fail('invalid_client_metadata', 'response_type code needs grant_type authorization_code: add it to grant_types, or drop response_types.');
    }
    if (code && !responses.includes('code')) {
      return fail('invalid_client_metadata', 'grant_type authorization_code needs response_type code: add it to response_types.');
    }
    if (code && redirects.length === 0) {
      return fail('invalid_redirect_uri', 'grant_type authorization_code needs at least one redirect URI: send redirect_uris.');
    }
    ctx.resolved.grantTypes = grants;
    ctx.resolved.responseTypes = responses;
    return undefined;
  },
};

const algorithms: Check = {
  name: 'metadata.algorithms',
  run(ctx) {
    const body = need(ctx.body, 'body');
    for (const [name, value] of Object.entries(body)) {
      if (!name.endsWith('_alg')) continue;
      if (!SIGNING_ALGS.includes(value as (typeof SIGNING_ALGS)[number])) {
        return fail('invalid_client_metadata', `${name} ${JSON.stringify(value)} is not supported: use PS256 or ES256.`);
      }
    }
    return undefined;
  },
};

const scope: Check = {
  name: 'metadata.scope',
  run(ctx) {
    const fields = need(ctx.fields, 'fields');
    const report = need(ctx.certificate, 'certificate').report;
    const limits: { what: string; roles: Set<RequestedRole> }[] = [];
    if (ctx.path === 'statement') {
      const st = need(ctx.statement, 'statement');
      const roles = st.software_roles.map((r) => STATEMENT_ROLES[r.toUpperCase()]).filter((r) => r !== undefined);
      limits.push({ what: `your software statement’s roles (${list(st.software_roles)}); add the role to the software product`, roles: new Set(roles) });
    }
    const certRoles = report.psd2?.roles ?? [];
    limits.push({ what: `your QWAC’s PSD2 roles (${list(certRoles)}); a new role needs a new certificate`, roles: new Set(rolesOfCertificate(report)) });
    if (ctx.partner) {
      limits.push({
        what: `the roles the bank approved for your organisation (${list(ctx.partner.allowedRoles)}); ask the bank to extend the approval`,
        roles: new Set(ctx.partner.allowedRoles),
      });
    }
    const permitted = ROLE_ORDER.filter((r) => limits.every((l) => l.roles.has(r)));
    let scopes: string[];
    if (fields.scope === undefined) {
      scopes = scopesOf(permitted);
      if (scopes.length === 0) {
        return fail('invalid_client_metadata', `No scope can be granted: every scope must be within ${limits.map((l) => l.what.split(';')[0]).join(', and within ')}.`);
      }
    } else {
      scopes = [...new Set(fields.scope.split(/\s+/).filter((s) => s !== ''))];
      if (scopes.length === 0) return fail('invalid_client_metadata', 'scope is empty: omit it to get every scope you are allowed, or list the scopes you need.');
      for (const s of scopes) {
        if (ROLE_FREE_SCOPES.includes(s)) continue;
        const role = ROLE_OF_SCOPE[s];
        if (!role) {
          return fail('invalid_client_metadata', `scope ${s} is not offered: the scopes are ${Object.values(ROLE_SCOPES).join(', ')} (and openid).`);
        }
        const limit = limits.find((l) => !l.roles.has(role));
        if (limit) return fail('invalid_client_metadata', `scope ${s} (role ${role}) is beyond ${limit.what}.`);
      }
    }
    ctx.resolved.scopes = scopes;
    ctx.resolved.roles = ROLE_ORDER.filter((r) => scopes.includes(ROLE_SCOPES[r]));
    return undefined;
  },
};

const jwks: Check = {
  name: 'metadata.jwks',
  async run(ctx) {
    const body = need(ctx.body, 'body');
    const fields = need(ctx.fields, 'fields');
    const hasJwks = body.jwks !== undefined;
    const hasUri = fields.jwks_uri !== undefined;
    if (hasJwks && hasUri) return fail('invalid_client_metadata', 'Send jwks or jwks_uri, never both (RFC 7591).');
    let sentThumbprints: string[] = [];
    if (hasJwks) {
      const check = await checkPublicJwks(body.jwks, 'jwks');
      if (!check.ok) return fail('invalid_client_metadata', `${check.problem}.`);
      sentThumbprints = check.thumbprints;
    }
    if (hasUri && !httpsUrl(fields.jwks_uri!)) return fail('invalid_client_metadata', `jwks_uri ${fields.jwks_uri} must be an https URL.`);

    let keys: ResolvedClient['keys'] = null;
    if (ctx.path === 'statement') {
      // The client's keys are the software's, as the signed statement says; the request may only repeat them.
      const st = need(ctx.statement, 'statement');
      if (st.software_jwks !== undefined) {
        const check = await checkPublicJwks(st.software_jwks, 'software_jwks');
        if (!check.ok) return fail('invalid_software_statement', `Your software statement’s ${check.problem}: fix the software product’s keys in the portal.`);
        if (hasUri) return fail('invalid_client_metadata', 'Your keys come from your software statement (software_jwks): omit jwks_uri.');
        const foreign = sentThumbprints.find((t) => !check.thumbprints.includes(t));
        if (foreign) {
          return fail(
            'invalid_client_metadata',
            'jwks holds a key that is not in your software statement’s software_jwks: the client’s keys come from the statement. Omit jwks, or add the key to the software product in the portal.',
            { detail: `foreign key thumbprint ${foreign}` },
          );
        }
        keys = { jwks: st.software_jwks as JwkSet };
      } else if (st.software_jwks_endpoint !== undefined) {
        if (hasJwks) return fail('invalid_client_metadata', `Your software publishes its keys at ${st.software_jwks_endpoint}: omit jwks.`);
        if (hasUri && fields.jwks_uri !== st.software_jwks_endpoint) {
          return fail('invalid_client_metadata', `jwks_uri must be your statement’s software_jwks_endpoint ${st.software_jwks_endpoint}: omit it or send that one.`);
        }
        if (!httpsUrl(st.software_jwks_endpoint)) {
          return fail('invalid_software_statement', `Your statement’s software_jwks_endpoint ${st.software_jwks_endpoint} is not https: fix it in the portal.`);
        }
        keys = { jwks_uri: st.software_jwks_endpoint };
      } else if (hasJwks || hasUri) {
        return fail('invalid_client_metadata', 'Your software statement declares no keys: add them to the software product in the portal instead of sending jwks or jwks_uri.');
      }
    } else if (hasJwks) {
      keys = { jwks: body.jwks as JwkSet };
    } else if (hasUri) {
      keys = { jwks_uri: fields.jwks_uri! };
    }
    if (ctx.resolved.authMethod === 'private_key_jwt' && !keys) {
      return fail('invalid_client_metadata', 'private_key_jwt needs your public keys: declare them on the software product (or, without a statement, send jwks or jwks_uri).');
    }
    ctx.resolved.keys = keys;
    return undefined;
  },
};

// --- uniqueness and the fast lane ----------------------------------------------------------------------------

const clientUnique: Check = {
  name: 'client.unique',
  when: (ctx) => ctx.mode === 'create',
  async run(ctx) {
    const oi = need(ctx.organization, 'organization');
    const softwareId = need(ctx.softwareId, 'software id');
    const existing = await ctx.deps.clients.findBySoftware(oi.raw, softwareId);
    if (existing) {
      return fail(
        'unapproved_software_statement',
        `Software ${softwareId} is already registered as client ${existing.clientId}: read, update or delete it with RFC 7592 at its registration_client_uri.`,
      );
    }
    return undefined;
  },
};

const clientSoftwareId: Check = {
  name: 'client.software_id',
  when: (ctx) => ctx.mode === 'update',
  run(ctx) {
    const existing = need(ctx.input.existing, 'existing client');
    const softwareId = need(ctx.softwareId, 'software id');
    if (existing.softwareId !== null && existing.softwareId !== softwareId) {
      return fail(
        'invalid_client_metadata',
        `software_id cannot change: client ${existing.clientId} is registered for software ${existing.softwareId}, not ${softwareId}. Register the other software as a new client.`,
      );
    }
    return undefined;
  },
};

const partnerFastLane: Check = {
  name: 'partner.fast_lane',
  when: (ctx) => ctx.path === 'qwac' && !ctx.partner,
  async run(ctx) {
    const cert = need(ctx.certificate, 'certificate');
    const roles = need(ctx.resolved.roles, 'roles');
    let partner: PartnerView;
    try {
      partner = await ctx.deps.partners.registerRegulatedPartner({
        qwac: { ders: cert.ders, report: cert.report },
        requestedRoles: roles,
        ip: ctx.input.ip ?? null,
      });
    } catch (e) {
      if (e instanceof AppError && e.code === 'partners.fast_lane_refused') {
        return fail('unapproved_software_statement', e.message, { status: 403, ...(e.detail === undefined ? {} : { detail: e.detail }) });
      }
      throw e;
    }
    if (partner.status !== 'active') return suspended(partner);
    const missing = roles.filter((r) => !partner.allowedRoles.includes(r));
    if (missing.length > 0) {
      return fail(
        'unapproved_software_statement',
        `The bank approved your organisation for ${list(partner.allowedRoles)} only, not ${list(missing)}: request only the scopes of those roles.`,
        { status: 403 },
      );
    }
    ctx.partner = partner;
    ctx.fastLane = true;
    return undefined;
  },
};

/** The pipeline, in order. */
export const REGISTRATION_CHECKS: readonly Check[] = [
  contentType,
  parse,
  tlsCertificate,
  tlsQwacValid,
  tlsOrganization,
  clientOwner,
  statementPresent,
  statementSignature,
  statementAge,
  statementSoftware,
  statementOrganization,
  requestSignature,
  requestClaims,
  requestReplay,
  partnerApproved,
  redirectUris,
  authMethod,
  grantAndResponseTypes,
  algorithms,
  scope,
  jwks,
  clientUnique,
  clientSoftwareId,
  partnerFastLane,
];
