/**
 * The ops area composed: metrics (fed by requests, audit events and oidc-provider's events), the per-partner
 * activity recorder and its page, and the API inventory page. The ops listener itself is `createOpsServer`
 * (src/ops/server.ts); start-up wires it with `readiness`. docs/operations.md has the wiring and the reasons.
 */
import type { Router } from 'express';
import type Provider from 'oidc-provider';
import type { AuditService } from '../audit/service.js';
import type { Logger } from '../logger.js';
import type { PartnersService } from '../partners/types.js';
import type { Db } from '../store/database.js';
import { createConsentCounter, createSqliteActivityRepository } from '../store/sqlite/activity.js';
import type { Transactor } from '../store/transaction.js';
import { createActivityRecorder, createActivityService, type ActivityRecorder, type ActivityService } from './activity.js';
import type { InventoryApps } from './inventory.js';
import { createMetrics, instrumentProvider, type PortalMetrics } from './metrics.js';
import { activityRouter, inventoryRouter } from './routes.js';

export interface OpsAreaDeps {
  db: Db;
  tx: Transactor;
  audit: Pick<AuditService, 'onRecorded'>;
  partners: Pick<PartnersService, 'getPartner' | 'partnerForOrganization'>;
  /** The authorization server; throws (or returns null) until started. */
  provider: () => Provider | null;
  logger?: Logger;
  now?: () => Date;
  /** Activity flush period (ms), default 5000. */
  activityFlushMs?: number;
  /** prom-client's process metrics, default on. */
  defaultMetrics?: boolean;
}

export interface OpsArea {
  metrics: PortalMetrics;
  recorder: ActivityRecorder;
  activity: ActivityService;
  /** `/staff/inventory`, `/staff/inventory.json` (public app, after the session stack). */
  inventoryRouter(apps: () => InventoryApps): Router;
  /** `/staff/partners/:id/activity` (public app, after the session stack). */
  activityRouter(): Router;
  /** After `oauth.start`: counts the provider's tokens; starts the activity flush timer. */
  start(provider: Provider): void;
  /** Flushes the activity counts and detaches from the audit log and the provider. */
  stop(): Promise<void>;
}

export function createOpsArea(deps: OpsAreaDeps): OpsArea {
  const metrics = createMetrics({
    consentCounts: createConsentCounter(deps.db),
    provider: deps.provider,
    ...(deps.defaultMetrics === undefined ? {} : { defaultMetrics: deps.defaultMetrics }),
  });
  const detachAudit = deps.audit.onRecorded((event) => metrics.observeAudit(event));
  const repo = createSqliteActivityRepository(deps.db);
  const recorder = createActivityRecorder({
    repo,
    tx: deps.tx,
    partners: deps.partners,
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.activityFlushMs === undefined ? {} : { flushMs: deps.activityFlushMs }),
  });
  const activity = createActivityService({ repo, partners: deps.partners, recorder, ...(deps.now ? { now: deps.now } : {}) });
  let detachProvider: (() => void) | null = null;
  return {
    metrics,
    recorder,
    activity,
    inventoryRouter: (apps) => inventoryRouter({ apps, provider: deps.provider }),
    activityRouter: () => activityRouter({ activity }),
    start(provider) {
      detachProvider?.();
      detachProvider = instrumentProvider(provider, metrics);
      recorder.start();
    },
    async stop() {
      detachProvider?.();
      detachProvider = null;
      detachAudit();
      await recorder.stop();
    },
  };
}
