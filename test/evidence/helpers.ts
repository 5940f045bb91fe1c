/**
 * A real portal for the evidence tests: the OAuth harness (dev PKI, responder, demo seed, both listeners), then
 * a life for the demo partners so that a pack has something in every part:
 *
 *   - Acme Payments (regulated, approved by policy) registers an OAuth client over mutual TLS, the monitor opens
 *     an alert about it and later resolves it (audit events, as src/monitor records them), and it is suspended
 *     automatically (decision, tokens revoked);
 *   - Nordic Insights (partner track, with evidence PDFs) is reviewed and approved by real staff accounts.
 *
 * Plus a second HTTPS app on the same services with the session stack, the sign-in routers and this area's
 * routers, as main.ts will mount them, for the page tests.
 */
import { randomUUID } from 'node:crypto';
import type https from 'node:https';
import { Router, type RequestHandler } from 'express';
import supertest from 'supertest';
import { accountsRouter, staffAuthRouter } from '../../src/accounts/routes.js';
import { createAuditSearch, type AuditSearch } from '../../src/audit/search.js';
import { createEvidenceKeys, type EvidenceKeys } from '../../src/evidence/keys.js';
import { evidenceJwksRouter, staffAuditRouter, staffEvidenceRouter } from '../../src/evidence/routes.js';
import { createEvidenceService, type EvidenceLimits, type EvidenceService } from '../../src/evidence/service.js';
import { createApp } from '../../src/http/app.js';
import { createSessionMiddleware } from '../../src/http/middleware/session.js';
import { createLogger } from '../../src/logger.js';
import type { Portal } from '../../src/main.js';
import type { ActorRef, PartnerView, StaffRole } from '../../src/partners/types.js';
import { close, createPublicServer, listen, readTlsMaterial } from '../../src/server/listeners.js';
import { createSqliteSoftwareRepository } from '../../src/store/sqlite/registration.js';
import { startOAuthPortal, type OAuthHarness } from '../oauth/harness.js';
import { type Agent, type Credentials, loginStaff, seedStaff, signUpAndEnrol } from '../helpers/web.js';

export interface EvidenceWorld {
  h: OAuthHarness;
  portal: Portal;
  keys: EvidenceKeys;
  evidence: EvidenceService;
  search: AuditSearch;
  acme: PartnerView;
  nordic: PartnerView;
  clientId: string;
  alertId: string;
  officers: { reviewer: ActorRef; approverA: ActorRef; approverB: ActorRef };
  /** The pages app (`https://127.0.0.1:port`). */
  url: string;
  agent(): Agent;
  /** A new staff member with these roles, signed in on the pages app. */
  staff(roles: StaffRole[]): Promise<Agent & { creds: Credentials & { userId: string } }>;
  /** A new applicant, signed in on the pages app. */
  applicant(): Promise<Agent>;
  /** An evidence service over the same portal with other file limits. */
  evidenceWith(limits: Partial<EvidenceLimits>): EvidenceService;
  count(sql: string, ...params: unknown[]): number;
  stop(): Promise<void>;
}

function stack(handlers: RequestHandler[]): Router {
  const router = Router();
  router.use(...handlers);
  return router;
}

async function staffActor(portal: Portal, roles: StaffRole[], name: string): Promise<ActorRef> {
  const c = await seedStaff(portal, `${name}-${randomUUID().slice(0, 8)}@bank.test`, roles);
  return { id: c.userId, kind: 'staff', label: c.email, roles, ip: '127.0.0.1' };
}

export async function startEvidenceWorld(): Promise<EvidenceWorld> {
  const h = await startOAuthPortal();
  let server: https.Server | null = null;
  try {
    const portal = h.portal;
    const { db, tx, audit, partners } = portal;

    // Acme registers a client over mutual TLS (the real DCR path, audited by the OAuth adapter).
    const reg = await h.request(h.client('acme-payments'), 'POST', `${h.mtlsUrl}/oauth/register`, {
      body: await h.signedRequest(),
      headers: { 'content-type': 'application/jwt' },
    });
    if (reg.status !== 201) throw new Error(`client registration failed: ${reg.status} ${reg.text}`);
    const clientId = String(reg.json.client_id);
    const acme = (await partners.partnerForOrganization('PSDDE-BAFIN-152645'))!;

    // Nordic's partner-track application, reviewed and approved by real staff accounts (four eyes if it needs them).
    const officers = {
      reviewer: await staffActor(portal, ['reviewer'], 'rita'),
      approverA: await staffActor(portal, ['reviewer', 'approver'], 'anna'),
      approverB: await staffActor(portal, ['reviewer', 'approver'], 'bert'),
    };
    const pendingId = (db.prepare("SELECT id FROM applications WHERE state = 'submitted' AND track = 'partner'").get() as { id: string }).id;
    await partners.startReview(officers.reviewer, pendingId);
    let view = await partners.approve(officers.approverA, pendingId, { text: 'Controls adequate for AIS.' });
    if (view.state === 'awaiting_second_approval') view = await partners.secondApprove(officers.approverB, pendingId, { text: 'Agreed.' });
    const nordic = view.partner!;

    // What the lifecycle monitor records (src/monitor/service.ts): an alert naming the partner in its data, and
    // a later event that names only the alert; then an automatic suspension.
    const alertId = randomUUID();
    const monitor = { type: 'system' as const, id: null, label: 'lifecycle monitor' };
    await audit.record({
      actor: monitor,
      action: 'monitor.alert.opened',
      subject: { type: 'monitor_alert', id: alertId },
      data: { runId: 'run-1', kind: 'ocsp_unavailable', key: 'ocsp', partnerId: acme.id, detail: 'responder did not answer' },
    });
    await audit.record({ actor: monitor, action: 'monitor.alert.resolved', subject: { type: 'monitor_alert', id: alertId }, data: { runId: 'run-2' } });
    await partners.suspendPartnerAutomatically(acme.id, { reasonCode: 'CERTIFICATE_REVOKED', text: 'The QWAC was found revoked.', source: 'lifecycle monitor' });

    const keys = createEvidenceKeys({ dataDir: portal.config.dataDir });
    const build = (limits?: Partial<EvidenceLimits>) =>
      createEvidenceService({
        db,
        tx,
        audit,
        partners,
        clients: portal.oauth.service,
        software: createSqliteSoftwareRepository(db),
        keys,
        ...(limits ? { limits } : {}),
      });
    const evidence = build();
    const search = createAuditSearch({ db, audit, selectionFor: (id) => evidence.selectionFor(id) });

    const session = createSessionMiddleware({ db, tx, accounts: portal.accounts, config: portal.config });
    const app = createApp({
      logger: createLogger({ level: 'silent' }),
      routers: [
        evidenceJwksRouter({ evidence }),
        stack(session),
        accountsRouter({ accounts: portal.accounts }),
        staffAuthRouter({ accounts: portal.accounts }),
        staffEvidenceRouter({ evidence }),
        staffAuditRouter({ search }),
      ],
    });
    server = createPublicServer(readTlsMaterial(portal.config.tls), app);
    const port = await listen(server, 0, '127.0.0.1');
    const url = `https://127.0.0.1:${port}`;
    const agent = () => supertest.agent(url, { ca: h.ca });
    const srv = server;
    return {
      h,
      portal,
      keys,
      evidence,
      search,
      acme: (await partners.getPartner(acme.id))!,
      nordic,
      clientId,
      alertId,
      officers,
      url,
      agent,
      async staff(roles) {
        const creds = await seedStaff(portal, `${roles.join('-') || 'staff'}-${randomUUID().slice(0, 8)}@bank.test`, roles);
        const a = agent();
        await loginStaff(a, creds);
        return Object.assign(a, { creds });
      },
      async applicant() {
        const a = agent();
        await signUpAndEnrol(a, `applicant-${randomUUID().slice(0, 8)}@example.test`);
        return a;
      },
      evidenceWith: (limits) => build(limits),
      count: (sql, ...params) => (db.prepare(sql).get(...params) as { n: number }).n,
      async stop() {
        await close(srv);
        await h.stop();
      },
    };
  } catch (err) {
    if (server) await close(server);
    await h.stop();
    throw err;
  }
}

/** A pack document as an object, for tampering (the JSON the verifier reads). */
export type PackJson = {
  format: string;
  manifest: string;
  signature: string;
  key: { jwk: Record<string, unknown>; thumbprint: string };
  parts: { name: string; mediaType: string; encoding: 'utf8' | 'base64'; content: string }[];
};

export function parsePack(bytes: Buffer | string): PackJson {
  return JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8')) as PackJson;
}

export function serialise(doc: PackJson): Buffer {
  return Buffer.from(JSON.stringify(doc));
}
