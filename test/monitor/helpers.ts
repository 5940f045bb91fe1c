/**
 * The monitor on real parts: a dev PKI of its own with its OCSP/CRL responder (tests revoke certificates and
 * take the responder down, so they must not share it), the eIDAS engine on it, the partners harness (SQLite,
 * audit, register with the dev snapshot) with Acme Payments approved on the regulated track, a register source
 * file tests rewrite, and a notifications outbox stand-in that records what it is given (the notifications area
 * is injected: its contract is `Notify`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.js';
import type { DevPartner, DevPki } from '../../src/devpki/generate.js';
import { createEidasService, type EidasService } from '../../src/eidas/service.js';
import { createLogger } from '../../src/logger.js';
import { createMonitor, type MonitorDeps } from '../../src/monitor/service.js';
import type { MonitorService, Notify, NotifyRequest } from '../../src/monitor/types.js';
import type { ApplicationView, PartnerView } from '../../src/partners/types.js';
import { DEV_REGISTER_FILE } from '../../src/register/service.js';
import { devPkiWithResponder, type Responder } from '../helpers/devpki.js';
import { acmeProfile, applicant, harness, partnerCert, type Harness } from '../partners/helpers.js';

export const ACME_CODE = 'DE_BAFIN!152645';
const silent = createLogger({ level: 'silent' });

export interface MonitorHarness extends Harness {
  ownPki: DevPki;
  responder: Responder;
  /** The engine the partners service and (unless `revocation: 'off'`) the monitor use: revocation hard-fail. */
  monitorEidas: EidasService;
  monitor: MonitorService;
  notices: NotifyRequest[];
  sourceFile: string;
  acme: PartnerView;
  acmeApp: ApplicationView;
  acmeDev: DevPartner;
  /**
   * Rewrites the register source file from the dev register, changed by `edit` (entities by EntityCode); an
   * array `edit` returns replaces the entity list.
   */
  writeRegister(edit: (entities: Map<string, EbaEntity>, list: EbaEntity[]) => EbaEntity[] | void): void;
  /** A monitor on the same parts with other options. */
  newMonitor(over?: Partial<MonitorDeps>): MonitorService;
  /** Moves the services' clock (audit, partners, monitor) to this many days before (negative: after) Acme's QWAC notAfter. */
  daysBeforeExpiry(days: number): void;
  count(table: string, where?: string, ...params: unknown[]): number;
  /** Every monitor table, the partner rows, decisions and the audit log: equal means nothing changed. */
  state(): Record<string, unknown>;
}

export interface EbaEntity {
  CA_OwnerID: string;
  EntityCode: string;
  EntityType: string;
  Properties: Record<string, string | string[]>[];
  Services?: Record<string, string[]>[];
}

export function setProperty(e: EbaEntity, key: string, value: string | string[]): void {
  const p = e.Properties.find((x) => key in x);
  if (p) p[key] = value;
  else e.Properties.push({ [key]: value });
}

const MONITOR_TABLES = [
  'monitor_runs',
  'monitor_actions',
  'monitor_alerts',
  'monitor_tasks',
  'monitor_notices',
  'monitor_register_baselines',
  'monitor_reinstatements',
];

export async function monitorHarness(
  opts: { revocation?: 'hard-fail' | 'off'; source?: string | null; notify?: Notify } = {},
): Promise<MonitorHarness> {
  const { pki, responder, trust } = await devPkiWithResponder();
  const dir = mkdtempSync(path.join(tmpdir(), 'monitor-'));
  const engine = async (policy: 'hard-fail' | 'off') =>
    createEidasService({
      config: loadConfig(
        {
          NODE_ENV: 'test',
          DATA_DIR: path.join(dir, 'unused-data'),
          CERTS_DIR: path.join(dir, 'unused-certs'),
          REVOCATION_POLICY: policy,
          REVOCATION_ALLOW_PRIVATE_NETWORKS: 'true',
          REVOCATION_TIMEOUT_MS: '1000',
        },
        dir,
      ),
      logger: silent,
      trust,
    });
  const eidas = await engine('hard-fail');
  const monitorEidas = opts.revocation === 'off' ? await engine('off') : eidas;
  const h = await harness({ deps: { eidas } });

  const who = applicant();
  const created = await h.service.createApplication(who);
  await h.service.saveProfile(who, created.id, acmeProfile());
  await h.service.uploadCertificate(who, created.id, 'qwac', partnerCert(pki, 'acme-payments', 'qwac'));
  await h.service.uploadCertificate(who, created.id, 'qseal', partnerCert(pki, 'acme-payments', 'qseal'));
  const acmeApp = await h.service.submit(who, created.id);
  assert.equal(acmeApp.state, 'approved', JSON.stringify(acmeApp.autoApproval));
  const acme = acmeApp.partner!;

  const sourceFile = path.join(dir, 'register.json');
  writeFileSync(sourceFile, readFileSync(DEV_REGISTER_FILE));
  const notices: NotifyRequest[] = [];
  const notify: Notify =
    opts.notify ??
    (async (req) => {
      notices.push(structuredClone(req));
      return { queued: true };
    });
  const newMonitor = (over: Partial<MonitorDeps> = {}) =>
    createMonitor({
      db: h.db,
      tx: h.tx,
      audit: h.audit,
      eidas: monitorEidas,
      partners: h.service,
      register: h.register,
      notify,
      source: opts.source === undefined ? sourceFile : opts.source,
      logger: silent,
      now: () => h.clock.now,
      ...over,
    });
  const monitor = newMonitor();
  const acmeDev = pki.partners.find((p) => p.slug === 'acme-payments')!;
  const count = (table: string, where = '1 = 1', ...params: unknown[]) =>
    (h.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).get(...params) as { n: number }).n;
  const closeBase = h.close;

  return {
    ...h,
    ownPki: pki,
    responder,
    monitorEidas,
    monitor,
    notices,
    sourceFile,
    acme,
    acmeApp,
    acmeDev,
    writeRegister(edit) {
      const doc = JSON.parse(readFileSync(DEV_REGISTER_FILE, 'utf8')) as [unknown[], EbaEntity[]];
      const byCode = new Map(doc[1].map((e) => [e.EntityCode, e]));
      doc[1] = edit(byCode, doc[1]) ?? doc[1];
      writeFileSync(sourceFile, JSON.stringify(doc));
    },
    newMonitor,
    daysBeforeExpiry(days) {
      h.clock.now = new Date(acmeDev.qwac.cert.notAfter.getTime() - days * 86_400_000);
    },
    count,
    state() {
      const out: Record<string, unknown> = {};
      for (const t of [...MONITOR_TABLES, 'decisions', 'audit_events', 'register_snapshots']) out[t] = count(t);
      out.partners = h.db.prepare('SELECT id, status, allowed_roles, status_reason_code FROM partners ORDER BY id').all();
      out.alerts = h.db.prepare('SELECT kind, key, state, seen_count FROM monitor_alerts ORDER BY kind, key').all();
      out.proposals = h.db.prepare('SELECT id, state FROM monitor_reinstatements ORDER BY id').all();
      out.tasks = h.db.prepare('SELECT id, state FROM monitor_tasks ORDER BY id').all();
      return out;
    },
    close() {
      closeBase();
      void responder.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
