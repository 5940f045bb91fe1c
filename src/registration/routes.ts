/**
 * The registration area's portal routes: the applicant's software page (declare, download a statement,
 * revoke) and the directory's public keys.
 *
 * Thin: the form is read as strings, the service decides (ownership, partner status, every input rule).
 * Input errors re-render the page with the user's input and a message next to each field; the refusals that
 * do not depend on the input (409) re-render it with the reason; "not found" goes to the error handler.
 * CSRF is the global check (urlencoded forms).
 */
import { type Request, type Response, Router } from 'express';
import { AppError, InputError } from '../errors.js';
import { actorFrom, requireApplicant } from '../http/middleware/auth.js';
import { setFlash } from '../http/middleware/session.js';
import { body, fieldErrors, noStore, param } from '../partners/routes.js';
import { fieldAnchor, formatDate, partnerBadge, stateBadge } from '../partners/view-models.js';
import type { Directory } from './directory.js';
import { SOFTWARE_FIELDS, SOFTWARE_LIMITS, STATEMENT_ROLES, type SoftwareOverview, type SoftwareService } from './software.js';
import { policy } from '../ops/policy.js';

/** `GET /directory/jwks.json`: the public keys that verify this portal's software statements. */
export function directoryRouter(directory: Pick<Directory, 'publicJwks'>): Router {
  const router = Router();
  router.get('/directory/jwks.json', policy({ auth: 'none', returns: "the directory's public keys that verify software statements (JWK Set)" }), (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.setHeader('Content-Type', 'application/jwk-set+json');
    // A Buffer, so that Express adds no charset parameter to the JWK Set media type.
    res.send(Buffer.from(JSON.stringify(directory.publicJwks())));
  });
  return router;
}

/** What the declaration form prints back. */
interface SoftwareForm {
  name: string;
  redirectUris: string;
  roles: string[];
  jwks: string;
  jwksUri: string;
}

const EMPTY_FORM: SoftwareForm = { name: '', redirectUris: '', roles: [], jwks: '', jwksUri: '' };

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** The posted form, type-checked to strings (the service owns the rules). */
function formFrom(raw: Record<string, unknown>): SoftwareForm {
  const r = raw.roles;
  return {
    name: str(raw.name),
    redirectUris: Array.isArray(raw.redirectUris) ? raw.redirectUris.filter((x) => typeof x === 'string').join('\n') : str(raw.redirectUris),
    roles: (Array.isArray(r) ? r : [r]).filter((x): x is string => typeof x === 'string'),
    jwks: str(raw.jwks),
    jwksUri: str(raw.jwksUri),
  };
}

const ROLE_TEXT: Record<string, string> = {
  AIS: 'AIS — account information',
  PIS: 'PIS — payment initiation',
  CBPII: 'CBPII — confirmation of funds',
};

function productViews(base: string, products: SoftwareOverview['products']) {
  return products.map((p) => ({
    id: p.id,
    name: p.name,
    active: p.status === 'active',
    badge: p.status === 'active' ? { cls: 'badge badge-active', text: 'Active' } : { cls: 'badge badge-withdrawn', text: 'Revoked' },
    roles: p.roles.map((r) => `${r} (${STATEMENT_ROLES[r]})`).join(', '),
    redirectUris: p.redirectUris,
    keys: p.jwks
      ? { kind: 'jwks' as const, text: p.jwks.keys.map((k) => `${String(k.kid)} (${String(k.kty)}${k.use ? `, ${String(k.use)}` : ''})`).join(', ') }
      : { kind: 'uri' as const, text: p.jwksUri ?? '' },
    createdAt: formatDate(p.createdAt),
    statementsIssued: p.statementsIssued,
    lastIssuedAt: formatDate(p.lastIssuedAt),
    download: `${base}/software/${encodeURIComponent(p.id)}/statement.jwt`,
    revoke: `${base}/software/${encodeURIComponent(p.id)}/revoke`,
  }));
}

export function softwareRouter(deps: { software: SoftwareService; directoryJwksPath?: string }): Router {
  const { software } = deps;
  const jwksPath = deps.directoryJwksPath ?? '/directory/jwks.json';
  const router = Router();
  router.use('/applications/:id/software', requireApplicant, noStore);

  const render = async (
    req: Request,
    res: Response,
    id: string,
    opts: { form?: SoftwareForm; errors?: Record<string, string>; error?: { code: string; message: string } | null; status?: number } = {},
  ) => {
    const o = await software.overview(actorFrom(req), id);
    const base = `/applications/${o.application.id}`;
    res.status(opts.status ?? 200).render('registration/software', {
      title: 'Software products',
      app: { id: o.application.id, base, name: o.application.name, state: o.application.state, badge: stateBadge(o.application.state) },
      partner: o.partner ? { badge: partnerBadge(o.partner.status), allowedRoles: o.partner.allowedRoles, orgId: o.partner.organizationIdentifier } : null,
      refusal: o.refusal,
      products: productViews(base, o.products),
      form: opts.form ?? { ...EMPTY_FORM, roles: o.partner ? [...o.partner.allowedRoles] : [] },
      errors: opts.errors ?? {},
      error: opts.error ?? null,
      roleText: ROLE_TEXT,
      anchor: fieldAnchor,
      limits: SOFTWARE_LIMITS,
      jwksPath,
    });
  };

  router.get('/applications/:id/software', policy({ auth: 'session:applicant', returns: "the applicant's software products and statements page" }), async (req, res) => {
    await render(req, res, param(req, 'id'));
  });

  router.post('/applications/:id/software', policy({ auth: 'session:applicant', returns: 'declares a software product; redirect (or the form with its errors)' }), async (req, res) => {
    const id = param(req, 'id');
    const form = formFrom(body(req));
    try {
      const p = await software.declare(actorFrom(req), id, form);
      setFlash(req, 'ok', `Software product “${p.name}” declared. Download its software statement below.`);
      res.redirect(303, `/applications/${id}/software#software-${p.id}`);
    } catch (err) {
      if (err instanceof InputError) {
        await render(req, res, id, { form, errors: fieldErrors(err, SOFTWARE_FIELDS), status: 400 });
        return;
      }
      if (err instanceof AppError && err.status === 409) {
        await render(req, res, id, { form, error: { code: err.code, message: err.message }, status: 409 });
        return;
      }
      throw err;
    }
  });

  router.get('/applications/:id/software/:softwareId/statement.jwt', policy({ auth: 'session:applicant', returns: 'a signed software statement (application/jwt download)' }), async (req, res) => {
    const { jwt, fileName } = await software.statement(actorFrom(req), param(req, 'id'), param(req, 'softwareId'));
    res.attachment(fileName);
    // After attachment(), which guesses a type from the name.
    res.setHeader('Content-Type', 'application/jwt');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.send(Buffer.from(jwt, 'ascii'));
  });

  router.post('/applications/:id/software/:softwareId/revoke', policy({ auth: 'session:applicant', returns: 'revokes a software product; redirect' }), async (req, res) => {
    const id = param(req, 'id');
    try {
      const p = await software.revoke(actorFrom(req), id, param(req, 'softwareId'));
      setFlash(req, 'ok', `Software product “${p.name}” revoked: its statements can no longer register clients.`);
    } catch (err) {
      if (!(err instanceof AppError) || err.status !== 409) throw err;
      await render(req, res, id, { error: { code: err.code, message: err.message }, status: 409 });
      return;
    }
    res.redirect(303, `/applications/${id}/software`);
  });

  return router;
}
