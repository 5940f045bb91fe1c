/**
 * The evidence area's routes:
 *
 *   GET  /evidence/jwks.json                 public: the keys that sign evidence packs, for verifiers to pin
 *   GET  /staff/partners/:id/evidence        staff: what the partner's pack holds, earlier exports
 *   POST /staff/partners/:id/evidence/pack   staff: download a freshly signed pack (audited with who and the hash)
 *   GET  /staff/audit                        staff: audit log search (HTML, or JSON with Accept: application/json)
 *
 * Thin: the services decide; the pack download is a POST (CSRF-checked by the session stack) because it writes
 * an audit event, and a link prefetcher must not make one.
 */
import { type Request, type Response, Router } from 'express';
import { type AuditRowView, type AuditSearch, AuditSearchError, AUDIT_PAGE_SIZE, givenFilters } from '../audit/search.js';
import { actorFrom, requireStaff } from '../http/middleware/auth.js';
import { noStore, param } from '../partners/routes.js';
import { formatBytes, formatDate } from '../partners/view-models.js';
import type { EvidenceService } from './service.js';
import { policy } from '../ops/policy.js';

/** `GET /evidence/jwks.json`: public keys only, cacheable like the directory's. */
export function evidenceJwksRouter(deps: { evidence: Pick<EvidenceService, 'publicJwks'> }): Router {
  const router = Router();
  router.get('/evidence/jwks.json', policy({ auth: 'none', returns: 'the public keys that verify evidence packs (JWK Set)' }), async (_req, res) => {
    const jwks = await deps.evidence.publicJwks();
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.setHeader('Content-Type', 'application/jwk-set+json');
    res.send(Buffer.from(JSON.stringify(jwks)));
  });
  return router;
}

export function staffEvidenceRouter(deps: { evidence: Pick<EvidenceService, 'overview' | 'exportPack'> }): Router {
  const router = Router();
  const staffOnly = requireStaff();

  router.get('/staff/partners/:id/evidence', policy({ auth: 'session:staff', returns: "what a partner's evidence pack holds, and earlier exports" }), staffOnly, noStore, async (req, res) => {
    const o = await deps.evidence.overview(actorFrom(req), param(req, 'id'));
    res.render('staff/evidence', {
      title: `Evidence pack: ${o.partner.legalName}`,
      partner: {
        id: o.partner.id,
        legalName: o.partner.legalName,
        status: o.partner.status,
        orgId: o.partner.organizationIdentifier ?? '—',
        applicationId: o.applicationId,
        applicationState: o.applicationState,
      },
      contents: [
        { what: 'Decisions (with policy versions and officers)', count: String(o.decisions) },
        { what: 'Evidence files (by SHA-256; small ones included)', count: `${o.evidence.files} (${formatBytes(o.evidence.bytes)})` },
        { what: 'OAuth clients', count: String(o.clients) },
        { what: 'Software products', count: `${o.software} (${o.statements} statements issued)` },
        { what: 'Audit events concerning the partner, monitor actions included', count: String(o.auditEvents) },
      ],
      limits: `Files up to ${formatBytes(o.limits.maxFileBytes)} each, ${formatBytes(o.limits.maxTotalBytes)} in all, are included; larger ones are listed with their SHA-256 only.`,
      keyThumbprint: o.keyThumbprint,
      exports: o.exports.map((e) => ({ at: formatDate(e.at), by: e.by, packId: e.packId, manifestSha256: e.manifestSha256, via: e.via })),
      auditLink: `/staff/audit?${new URLSearchParams({ partner: o.partner.id }).toString()}`,
    });
  });

  router.post('/staff/partners/:id/evidence/pack', policy({ auth: 'session:staff', returns: "a freshly signed evidence pack of the partner (JSON download; audited)" }), staffOnly, async (req, res) => {
    const staff = actorFrom(req);
    const pack = await deps.evidence.exportPack({ kind: 'staff', staff }, param(req, 'id'), { ip: req.ip ?? null });
    res.attachment(pack.fileName);
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Content-Length', String(pack.bytes.length));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Evidence-Pack-Id', pack.packId);
    res.setHeader('X-Evidence-Manifest-SHA256', pack.manifestSha256);
    res.end(pack.bytes);
  });

  return router;
}

/** One row as the HTML table prints it. */
function rowText(r: AuditRowView) {
  const data = JSON.stringify(r.data);
  return {
    seq: r.seq,
    at: formatDate(r.at),
    atIso: r.at,
    actor: r.actor.label ?? r.actor.id ?? '—',
    actorType: r.actor.type,
    action: r.action,
    subject: r.subject ? `${r.subject.type}:${r.subject.id}` : '—',
    data: data.length > 400 ? `${data.slice(0, 400)}…` : data,
    ip: r.ip ?? '—',
    hash: r.hash.slice(0, 12),
  };
}

function wantsJson(req: Request): boolean {
  return req.accepts(['html', 'json']) === 'json';
}

/** The form as the user typed it (strings only), to print back after a refusal. */
function formValues(raw: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['partner', 'actor', 'action', 'from', 'to', 'pageSize']) {
    const v = raw[k];
    if (typeof v === 'string') out[k] = v.slice(0, 300);
  }
  return out;
}

export function staffAuditRouter(deps: { search: AuditSearch }): Router {
  const router = Router();
  router.get('/staff/audit', policy({ auth: 'session:staff', returns: 'audit log search: events with their hash-chain fields (HTML or JSON)' }), requireStaff(), noStore, async (req: Request, res: Response) => {
    const raw = (req.query ?? {}) as Record<string, unknown>;
    let page;
    try {
      page = await deps.search.search(actorFrom(req), raw);
    } catch (err) {
      if (err instanceof AuditSearchError && !wantsJson(req)) {
        res.status(400).render('staff/audit', {
          title: 'Audit log',
          form: formValues(raw),
          error: { code: err.code, message: err.message, filter: err.filter },
          rows: [],
          nextLink: null,
          firstLink: null,
          maxPageSize: AUDIT_PAGE_SIZE.max,
        });
        return;
      }
      throw err;
    }
    const filters = givenFilters(page.query);
    const { before: _before, ...withoutCursor } = filters;
    const link = (extra: Record<string, string | number>) =>
      `/staff/audit?${new URLSearchParams(Object.entries({ ...withoutCursor, ...extra }).map(([k, v]): [string, string] => [k, String(v)])).toString()}`;
    const nextLink = page.nextBefore === null ? null : link({ before: page.nextBefore });
    if (wantsJson(req)) {
      res.json({ filters, pageSize: page.query.pageSize, rows: page.rows, nextBefore: page.nextBefore, next: nextLink });
      return;
    }
    res.render('staff/audit', {
      title: 'Audit log',
      form: formValues(raw),
      error: null,
      rows: page.rows.map(rowText),
      nextLink,
      firstLink: page.query.before === null ? null : link({}),
      maxPageSize: AUDIT_PAGE_SIZE.max,
    });
  });
  return router;
}
