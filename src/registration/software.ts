/**
 * Software products and their software statements (the portal side of enrolment, DESIGN.md flow 2).
 *
 * An approved, active partner declares software products (name, redirect URIs, roles within its approved
 * roles, a public JWKS or a jwks_uri) and downloads statements for them: JWTs signed by the portal's
 * directory key with claims modelled on the UK Open Banking SSA. The registration checks read the products
 * back through `getSoftware` and verify statements with the directory's public keys.
 *
 * - Applicant methods go through `partners.getForApplicant`, so another applicant's application is "not
 *   found" exactly as the partners pages answer it.
 * - Input is hostile until checked here (zod, then per-URI and per-key rules that say what to fix); every
 *   problem of one form comes back at once as `input.invalid` with one message per field.
 * - Every write and its audit event share one `tx.run`; key imports and signing happen before it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { z } from 'zod';
import type { AuditService } from '../audit/service.js';
import { InputError, NotFoundError } from '../errors.js';
import { redirectUriProblem } from '../partners/profile.js';
import { REQUESTED_ROLES, type ActorRef, type ApplicationView, type PartnersService, type PartnerView, type RequestedRole } from '../partners/types.js';
import type { Db } from '../store/database.js';
import { createSqliteSoftwareRepository } from '../store/sqlite/registration.js';
import type { Transactor } from '../store/transaction.js';
import type { Directory } from './directory.js';
import { noOrganization, partnerNotActive, softwareLimit, softwareRevoked } from './errors.js';
import type { SoftwareRecord, SoftwareRepository } from './repository.js';
import type { SoftwareProduct } from './types.js';

export const SOFTWARE_LIMITS = {
  nameMax: 100,
  redirectUrisMax: 10,
  uriMax: 2000,
  jwksMaxBytes: 16 * 1024,
  jwksKeysMax: 10,
  kidMax: 200,
  rsaMinBits: 2048,
  activePerPartner: 20,
} as const;

/** Portal roles → UK Open Banking `software_roles`. */
export const STATEMENT_ROLES: Record<RequestedRole, string> = { AIS: 'AISP', PIS: 'PISP', CBPII: 'CBPII' };

/** JWK members that carry private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1). */
export const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'] as const;

/** The form fields of a declaration, for the page to place each message next to its field. */
export const SOFTWARE_FIELDS = ['name', 'redirectUris', 'roles', 'keys', 'jwks', 'jwksUri'] as const;

/** What the software page shows about one application. */
export interface SoftwareOverview {
  application: { id: string; name: string; state: ApplicationView['state'] };
  partner: PartnerView | null;
  /** Null when a product may be declared now; otherwise why not (the same refusal `declare` would give). */
  refusal: { code: string; message: string } | null;
  products: (SoftwareProduct & { statementsIssued: number; lastIssuedAt: string | null })[];
}

export interface SoftwareService {
  list(applicant: ActorRef, applicationId: string): Promise<SoftwareProduct[]>;
  overview(applicant: ActorRef, applicationId: string): Promise<SoftwareOverview>;
  /** `input`: `{ name, redirectUris (list or one per line), roles (list or one), jwks (JSON text) | jwksUri }`. */
  declare(applicant: ActorRef, applicationId: string, input: unknown): Promise<SoftwareProduct>;
  statement(applicant: ActorRef, applicationId: string, softwareId: string): Promise<{ jwt: string; fileName: string }>;
  revoke(applicant: ActorRef, applicationId: string, softwareId: string): Promise<SoftwareProduct>;
  /** System use (registration checks): the product by its software_id, whoever owns it. */
  getSoftware(softwareId: string): Promise<SoftwareProduct | null>;
}

export interface SoftwareServiceDeps {
  db: Db;
  tx: Transactor;
  audit: AuditService;
  partners: Pick<PartnersService, 'getForApplicant'>;
  directory: Pick<Directory, 'issuer' | 'sign'>;
  now?: () => Date;
  repository?: SoftwareRepository;
}

// --- input rules ------------------------------------------------------------------------------------

type FieldError = { path: string; message: string };

const listField = z.union([z.string().max(40_000), z.array(z.string().max(SOFTWARE_LIMITS.uriMax + 100)).max(50)]).optional();
const declarationSchema = z.object({
  name: z.string({ error: 'Enter a name.' }).max(1000, `At most ${SOFTWARE_LIMITS.nameMax} characters.`),
  redirectUris: listField,
  roles: z.union([z.string().max(20), z.array(z.string().max(20)).max(10)]).optional(),
  jwks: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  jwksUri: z.string().max(10_000).optional(),
});

function lines(v: string | string[] | undefined): string[] {
  const all = v === undefined ? [] : Array.isArray(v) ? v : v.split(/\r?\n/);
  return all.map((s) => s.trim()).filter((s) => s !== '');
}

/** Why a jwks_uri is refused, or null. */
function jwksUriProblem(uri: string): string | null {
  if (uri.length > SOFTWARE_LIMITS.uriMax) return `The jwks_uri is longer than ${SOFTWARE_LIMITS.uriMax} characters.`;
  if (uri.includes('#')) return 'The jwks_uri must not have a fragment (#…).';
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'The jwks_uri is not a valid address.';
  }
  if (url.protocol !== 'https:') return 'The jwks_uri must start with https://.';
  if (url.username !== '' || url.password !== '' || /^https:\/\/[^/?]*@/i.test(uri)) return 'The jwks_uri must not contain a user name or password.';
  if (url.hostname === '') return 'The jwks_uri has no host name.';
  return null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function modulusBits(n: string): number {
  const bytes = Buffer.from(n, 'base64url');
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i += 1;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i]!));
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/** One key's problem, in words that say which key and what to do; null when it is acceptable. */
async function keyProblem(key: unknown, index: number): Promise<string | null> {
  const at = `Key ${index + 1}`;
  if (!isObject(key)) return `${at} is not a JSON object.`;
  const name = typeof key.kid === 'string' && key.kid !== '' ? `${at} (kid "${key.kid.slice(0, 60)}")` : at;
  const secret = PRIVATE_JWK_MEMBERS.filter((m) => m in key);
  if (secret.length > 0) {
    return `${name} contains private key material (${secret.join(', ')}): paste only the public key, and replace this key pair since its private part has left your systems.`;
  }
  if (typeof key.kid !== 'string' || key.kid.trim() === '') return `${at} has no kid: give every key a key id.`;
  if (key.kid.length > SOFTWARE_LIMITS.kidMax) return `${at} has a kid longer than ${SOFTWARE_LIMITS.kidMax} characters.`;
  if (key.use !== undefined && key.use !== 'sig' && key.use !== 'tls') {
    return `${name} has use ${JSON.stringify(key.use)}: use must be "sig" (signing) or "tls" (your transport certificate), or left out.`;
  }
  let alg: 'PS256' | 'ES256';
  if (key.kty === 'RSA') {
    if (typeof key.n !== 'string' || !B64URL.test(key.n) || typeof key.e !== 'string' || !B64URL.test(key.e)) {
      return `${name} is an RSA key without a valid modulus (n) and exponent (e).`;
    }
    const bits = modulusBits(key.n);
    if (bits < SOFTWARE_LIMITS.rsaMinBits) return `${name} is a ${bits}-bit RSA key: at least ${SOFTWARE_LIMITS.rsaMinBits} bits are required.`;
    if (key.alg !== undefined && key.alg !== 'PS256') return `${name} has alg ${JSON.stringify(key.alg)}: RSA keys here sign with PS256 (or leave alg out).`;
    alg = 'PS256';
  } else if (key.kty === 'EC') {
    if (key.crv !== 'P-256') return `${name} is an EC key on curve ${JSON.stringify(key.crv)}: only P-256 is accepted.`;
    if (key.alg !== undefined && key.alg !== 'ES256') return `${name} has alg ${JSON.stringify(key.alg)}: P-256 keys sign with ES256 (or leave alg out).`;
    alg = 'ES256';
  } else {
    return `${name} has kty ${JSON.stringify(key.kty)}: only RSA (2048 bits or more) and EC P-256 keys are accepted.`;
  }
  try {
    await importJWK(key as JWK, alg);
  } catch (e) {
    return `${name} cannot be read as a ${alg === 'PS256' ? 'RSA' : 'P-256'} public key (${e instanceof Error ? e.message : String(e)}).`;
  }
  return null;
}

/** A pasted JWK Set (JSON text or an object) → the set, or the field errors that say what to fix. */
async function parseJwks(raw: string | Record<string, unknown>): Promise<{ jwks: { keys: Record<string, unknown>[] } } | { errors: FieldError[] }> {
  const fail = (message: string) => ({ errors: [{ path: 'jwks', message }] });
  const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
  if (Buffer.byteLength(text, 'utf8') > SOFTWARE_LIMITS.jwksMaxBytes) {
    return fail(`The JWK Set is larger than ${SOFTWARE_LIMITS.jwksMaxBytes / 1024} KiB: publish it at a jwks_uri instead.`);
  }
  let json: unknown;
  try {
    json = typeof raw === 'string' ? JSON.parse(raw) : raw;
  } catch (e) {
    return fail(`The JWK Set is not valid JSON (${e instanceof Error ? e.message : String(e)}).`);
  }
  if (!isObject(json) || !Array.isArray(json.keys)) return fail('The JWK Set must be a JSON object with a "keys" array: {"keys": [ … ]}.');
  const keys = json.keys as unknown[];
  if (keys.length === 0) return fail('The JWK Set holds no keys: add at least one public key.');
  if (keys.length > SOFTWARE_LIMITS.jwksKeysMax) return fail(`The JWK Set holds ${keys.length} keys: at most ${SOFTWARE_LIMITS.jwksKeysMax} are accepted.`);
  const errors: FieldError[] = [];
  const kids = new Set<string>();
  for (const [i, key] of keys.entries()) {
    const problem = await keyProblem(key, i);
    if (problem) {
      errors.push({ path: 'jwks', message: problem });
      continue;
    }
    const kid = (key as { kid: string }).kid;
    if (kids.has(kid)) errors.push({ path: 'jwks', message: `Key ${i + 1} repeats kid "${kid.slice(0, 60)}": every key needs its own kid.` });
    kids.add(kid);
  }
  if (errors.length) return { errors };
  return { jwks: { keys: keys as Record<string, unknown>[] } };
}

interface Declaration {
  name: string;
  redirectUris: string[];
  roles: RequestedRole[];
  jwks: { keys: Record<string, unknown>[] } | null;
  jwksUri: string | null;
}

/** The whole form checked at once: every problem comes back, each with its field. */
async function parseDeclaration(input: unknown, allowed: readonly RequestedRole[]): Promise<Declaration> {
  const shape = declarationSchema.safeParse(isObject(input) ? input : {});
  if (!shape.success) {
    throw new InputError(
      'The software product could not be read.',
      shape.error.issues.map((i) => ({ path: String(i.path[0] ?? '_form'), message: i.message })),
    );
  }
  const f = shape.data;
  const errors: FieldError[] = [];

  const name = f.name.trim();
  if (name === '') errors.push({ path: 'name', message: 'Enter a name.' });
  else if (name.length > SOFTWARE_LIMITS.nameMax) errors.push({ path: 'name', message: `At most ${SOFTWARE_LIMITS.nameMax} characters.` });
  // eslint-disable-next-line no-control-regex
  else if (/[\u0000-\u001f\u007f]/.test(name)) errors.push({ path: 'name', message: 'The name must not contain control characters.' });

  const redirectUris = lines(f.redirectUris);
  if (redirectUris.length === 0) errors.push({ path: 'redirectUris', message: 'Enter at least one redirect URI.' });
  else if (redirectUris.length > SOFTWARE_LIMITS.redirectUrisMax) {
    errors.push({ path: 'redirectUris', message: `At most ${SOFTWARE_LIMITS.redirectUrisMax} redirect URIs.` });
  } else {
    const seen = new Set<string>();
    for (const [i, uri] of redirectUris.entries()) {
      const problem = redirectUriProblem(uri);
      const shown = uri.length > 80 ? `${uri.slice(0, 80)}…` : uri;
      if (problem) errors.push({ path: `redirectUris.${i}`, message: `Redirect URI ${i + 1} (${shown}) ${problem}.` });
      else if (seen.has(uri)) errors.push({ path: `redirectUris.${i}`, message: `Redirect URI ${i + 1} (${shown}) is listed twice.` });
      seen.add(uri);
    }
  }

  const asked = f.roles === undefined ? [] : Array.isArray(f.roles) ? f.roles : [f.roles];
  const unknown = asked.filter((r) => !(REQUESTED_ROLES as readonly string[]).includes(r));
  const beyond = asked.filter((r): r is RequestedRole => (REQUESTED_ROLES as readonly string[]).includes(r) && !allowed.includes(r as RequestedRole));
  if (asked.length === 0) errors.push({ path: 'roles', message: `Choose one or more roles (your approved roles: ${allowed.join(', ')}).` });
  else if (unknown.length) errors.push({ path: 'roles', message: `Unknown role ${unknown.map((r) => JSON.stringify(r.slice(0, 20))).join(', ')}: choose from ${allowed.join(', ')}.` });
  else if (beyond.length) {
    errors.push({ path: 'roles', message: `${beyond.join(', ')} ${beyond.length === 1 ? 'is' : 'are'} not among your approved roles (${allowed.join(', ')}).` });
  }
  const roles = REQUESTED_ROLES.filter((r) => asked.includes(r));

  const jwksText = typeof f.jwks === 'string' ? f.jwks.trim() : f.jwks;
  const hasJwks = jwksText !== undefined && jwksText !== '';
  const jwksUri = (f.jwksUri ?? '').trim();
  let jwks: Declaration['jwks'] = null;
  if (hasJwks && jwksUri !== '') {
    errors.push({ path: 'keys', message: 'Give either a JWK Set or a jwks_uri, not both.' });
  } else if (!hasJwks && jwksUri === '') {
    errors.push({ path: 'keys', message: 'Give your public keys: paste a JWK Set, or enter the https jwks_uri where you publish them.' });
  } else if (hasJwks) {
    const parsed = await parseJwks(jwksText);
    if ('errors' in parsed) errors.push(...parsed.errors);
    else jwks = parsed.jwks;
  } else {
    const problem = jwksUriProblem(jwksUri);
    if (problem) errors.push({ path: 'jwksUri', message: problem });
  }

  if (errors.length) throw new InputError('The software product could not be declared: see the marked fields.', errors);
  return { name, redirectUris, roles, jwks, jwksUri: jwks ? null : jwksUri };
}

// --- the service ------------------------------------------------------------------------------------

const SOFTWARE_ID = /^[A-Za-z0-9_-]{1,100}$/;

function product(r: SoftwareRecord): SoftwareProduct {
  return {
    id: r.id,
    partnerId: r.partnerId,
    orgId: r.orgId,
    name: r.name,
    redirectUris: [...r.redirectUris],
    roles: [...r.roles],
    jwks: r.jwks,
    jwksUri: r.jwksUri,
    status: r.status,
    createdAt: r.createdAt,
  };
}

/** Why no product may be declared or issued for this application now, or the active partner. */
function activePartner(view: ApplicationView): PartnerView & { organizationIdentifier: string } {
  const p = view.partner;
  if (!p || (view.state !== 'approved' && view.state !== 'conditionally_approved')) throw partnerNotActive('not_approved');
  if (p.status !== 'active') throw partnerNotActive('suspended');
  if (!p.organizationIdentifier) throw noOrganization();
  return p as PartnerView & { organizationIdentifier: string };
}

export function createSoftwareService(deps: SoftwareServiceDeps): SoftwareService {
  const { tx, audit, partners, directory } = deps;
  const repo = deps.repository ?? createSqliteSoftwareRepository(deps.db);
  const now = deps.now ?? (() => new Date());

  function record(actor: ActorRef, action: string, softwareId: string, data: Record<string, unknown>) {
    return audit.record({
      actor: { type: actor.kind, id: actor.id, label: actor.label },
      action,
      subject: { type: 'software', id: softwareId },
      data,
      ip: actor.ip ?? null,
    });
  }

  /** The applicant's product on this application's partner; "not found" for anything else. */
  async function ownProduct(view: ApplicationView, softwareId: string): Promise<SoftwareRecord> {
    const r = typeof softwareId === 'string' && SOFTWARE_ID.test(softwareId) ? await repo.getSoftware(softwareId) : null;
    if (!r || !view.partner || r.partnerId !== view.partner.id) throw new NotFoundError('No such software product.');
    return r;
  }

  return {
    async list(applicant, applicationId) {
      const view = await partners.getForApplicant(applicant, applicationId);
      if (!view.partner) return [];
      return (await repo.listSoftwareForPartner(view.partner.id)).map(product);
    },

    async overview(applicant, applicationId) {
      const view = await partners.getForApplicant(applicant, applicationId);
      let refusal: SoftwareOverview['refusal'] = null;
      try {
        activePartner(view);
      } catch (e) {
        const err = e as { code: string; message: string };
        refusal = { code: err.code, message: err.message };
      }
      const records = view.partner ? await repo.listSoftwareForPartner(view.partner.id) : [];
      const products = await Promise.all(
        records.map(async (r) => {
          const issued = await repo.listStatements(r.id);
          return { ...product(r), statementsIssued: issued.length, lastIssuedAt: issued[0]?.issuedAt ?? null };
        }),
      );
      return {
        application: { id: view.id, name: view.profile?.legalName || 'Application', state: view.state },
        partner: view.partner,
        refusal,
        products,
      };
    },

    async declare(applicant, applicationId, input) {
      const before = activePartner(await partners.getForApplicant(applicant, applicationId));
      const d = await parseDeclaration(input, before.allowedRoles);
      return tx.run(async () => {
        // Again inside the transaction: the partner may have been suspended while the keys were checked.
        const partner = activePartner(await partners.getForApplicant(applicant, applicationId));
        const beyond = d.roles.filter((r) => !partner.allowedRoles.includes(r));
        if (beyond.length) {
          throw new InputError('The software product could not be declared: see the marked fields.', [
            { path: 'roles', message: `${beyond.join(', ')} ${beyond.length === 1 ? 'is' : 'are'} not among your approved roles (${partner.allowedRoles.join(', ')}).` },
          ]);
        }
        if ((await repo.countActiveForPartner(partner.id)) >= SOFTWARE_LIMITS.activePerPartner) throw softwareLimit(SOFTWARE_LIMITS.activePerPartner);
        const r: SoftwareRecord = {
          id: randomBytes(16).toString('base64url'),
          partnerId: partner.id,
          applicationId,
          orgId: partner.organizationIdentifier,
          name: d.name,
          redirectUris: d.redirectUris,
          roles: d.roles,
          jwks: d.jwks,
          jwksUri: d.jwksUri,
          status: 'active',
          createdAt: now().toISOString(),
          createdBy: applicant.id,
          revokedAt: null,
          revokedBy: null,
        };
        await repo.insertSoftware(r);
        await record(applicant, 'software.declared', r.id, {
          applicationId,
          partnerId: partner.id,
          orgId: r.orgId,
          name: r.name,
          roles: r.roles,
          redirectUris: r.redirectUris,
          keys: r.jwks ? { kids: r.jwks.keys.map((k) => k.kid) } : { jwksUri: r.jwksUri },
        });
        return product(r);
      });
    },

    async statement(applicant, applicationId, softwareId) {
      const view = await partners.getForApplicant(applicant, applicationId);
      const found = await ownProduct(view, softwareId);
      const partner = activePartner(view);
      if (found.status !== 'active') throw softwareRevoked();
      const issuedAt = now();
      const jti = randomUUID();
      // Signing is CPU work only; done before the transaction, which re-checks what may have changed.
      const jwt = await directory.sign({
        iss: directory.issuer,
        iat: Math.floor(issuedAt.getTime() / 1000),
        jti,
        software_id: found.id,
        software_client_id: found.id,
        software_client_name: found.name,
        software_version: '1.0',
        software_mode: 'Live',
        software_roles: found.roles.map((r) => STATEMENT_ROLES[r]),
        software_redirect_uris: found.redirectUris,
        ...(found.jwks ? { software_jwks: found.jwks } : { software_jwks_endpoint: found.jwksUri }),
        org_id: found.orgId,
        org_name: partner.legalName,
        org_status: 'Active',
      });
      const kid = String(decodeProtectedHeader(jwt).kid ?? '');
      await tx.run(async () => {
        const current = await partners.getForApplicant(applicant, applicationId);
        activePartner(current);
        if ((await ownProduct(current, softwareId)).status !== 'active') throw softwareRevoked();
        await repo.insertStatement({ jti, softwareId: found.id, kid, issuedAt: issuedAt.toISOString(), issuedBy: applicant.id });
        await record(applicant, 'software.statement.issued', found.id, { applicationId, partnerId: partner.id, jti, kid, orgId: found.orgId });
      });
      return { jwt, fileName: `ssa-${found.id}.jwt` };
    },

    async revoke(applicant, applicationId, softwareId) {
      const view = await partners.getForApplicant(applicant, applicationId);
      const found = await ownProduct(view, softwareId);
      if (found.status !== 'active') throw softwareRevoked();
      return tx.run(async () => {
        const at = now().toISOString();
        if (!(await repo.revokeSoftware(found.id, at, applicant.id))) throw softwareRevoked();
        await record(applicant, 'software.revoked', found.id, { applicationId, partnerId: found.partnerId, name: found.name });
        return { ...product(found), status: 'revoked' as const };
      });
    },

    async getSoftware(softwareId) {
      if (typeof softwareId !== 'string' || !SOFTWARE_ID.test(softwareId)) return null;
      const r = await repo.getSoftware(softwareId);
      return r ? product(r) : null;
    },
  };
}
