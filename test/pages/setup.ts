/**
 * The partner pages on real parts, composed as main.ts will: the web harness (HTTPS, SQLite, sessions,
 * CSRF, accounts), the register with the dev snapshot imported, the eIDAS engine on the shared dev PKI, the
 * partners service, and the applicant and staff routers. Plus small page helpers for the route tests.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { DevPki } from '../../src/devpki/generate.js';
import { applicantRouter } from '../../src/partners/routes.js';
import { createPartnersService } from '../../src/partners/service.js';
import { staffApplicationsRouter } from '../../src/partners/staff-routes.js';
import type { ActorRef, PartnersService, StaffRole, UploadedFile } from '../../src/partners/types.js';
import { createRegisterService, DEV_REGISTER_FILE, type RegisterService } from '../../src/register/service.js';
import { sharedPki, snapshot } from '../partners/helpers.js';
import { type Agent, csrfFrom, startWebApp, type WebApp } from '../helpers/web.js';

export interface PagesApp {
  web: WebApp;
  partners: PartnersService;
  register: RegisterService;
  pki: DevPki;
}

export async function startPages(): Promise<PagesApp> {
  const { pki, eidas } = await sharedPki();
  let partners: PartnersService | null = null;
  let register: RegisterService | null = null;
  const web = await startWebApp({
    extraRouters: (ctx) => {
      register = createRegisterService({ db: ctx.db, tx: ctx.tx, audit: ctx.audit, now: ctx.now });
      partners = createPartnersService({
        db: ctx.db,
        tx: ctx.tx,
        audit: ctx.audit,
        eidas,
        register,
        dataDir: ctx.dataDir,
        logger: ctx.logger,
        now: ctx.now,
      });
      return [applicantRouter({ partners }), staffApplicationsRouter({ partners })];
    },
  });
  assert.ok(partners && register);
  await (register as RegisterService).importSnapshot(readFileSync(DEV_REGISTER_FILE), {
    source: 'dev-eba-register.json',
    actor: { type: 'system', id: null, label: 'test' },
  });
  return { web, partners: partners as PartnersService, register: register as RegisterService, pki };
}

export function page(agent: Agent, path: string) {
  return agent.get(path).set('Accept', 'text/html');
}

/** A urlencoded POST with the page's token (`csrf: null` leaves it out, a string replaces it). */
export function post(agent: Agent, path: string, token: string | null, fields: Record<string, string | string[]> = {}) {
  return agent
    .post(path)
    .type('form')
    .set('Accept', 'text/html')
    .send(token === null ? fields : { _csrf: token, ...fields });
}

/** A multipart upload in field `file`, with the token (or none) and extra fields. */
export function upload(
  agent: Agent,
  path: string,
  token: string | null,
  file: { bytes: Buffer; name: string; type?: string },
  fields: Record<string, string> = {},
) {
  let req = agent.post(path).set('Accept', 'text/html');
  if (token !== null) req = req.field('_csrf', token);
  for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
  return req.attach('file', file.bytes, { filename: file.name, contentType: file.type ?? 'application/octet-stream' });
}

/** Every POST form on the page carries the session's CSRF token. Returns the token and the number of forms. */
export function assertCsrfInEveryForm(html: string): { token: string; forms: number } {
  const token = csrfFrom(html);
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)].filter((m) => /method="post"/i.test(m[1] ?? ''));
  for (const m of forms) {
    assert.ok(
      (m[2] ?? '').includes(`name="_csrf" value="${token}"`),
      `a POST form without the CSRF token: <form${m[1]}>`,
    );
  }
  return { token, forms: forms.length };
}

export function userId(web: WebApp, kind: 'applicant' | 'staff', email: string): string {
  const row = web.db.prepare('SELECT id FROM users WHERE kind = ? AND email = ?').get(kind, email) as { id: string } | undefined;
  assert.ok(row, `no ${kind} ${email}`);
  return row.id;
}

export function applicantActor(web: WebApp, email: string): ActorRef {
  return { id: userId(web, 'applicant', email), kind: 'applicant', label: email, roles: [], ip: '127.0.0.1' };
}

export function staffActor(web: WebApp, email: string, roles: StaffRole[]): ActorRef {
  return { id: userId(web, 'staff', email), kind: 'staff', label: email, roles, ip: '127.0.0.1' };
}

export function asUpload(f: UploadedFile): { bytes: Buffer; name: string; type: string } {
  return { bytes: f.bytes, name: f.originalName, type: f.mediaType };
}

/** Row counts of the partners tables and the audit log, plus the applications' state: equal means unchanged. */
export function dbState(web: WebApp): Record<string, unknown> {
  const out = snapshot(web.db);
  out.partnerRows = web.db.prepare('SELECT id, status FROM partners ORDER BY id').all();
  return out;
}

export function appState(web: WebApp, id: string): string {
  return (web.db.prepare('SELECT state FROM applications WHERE id = ?').get(id) as { state: string }).state;
}
