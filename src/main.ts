/**
 * Start-up: config → logger → dev PKI (development only, when missing) → store → services → listeners.
 * `startPortal` is also what the tests call, with ports 0 and a temporary data directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type https from 'node:https';
import { accountsRouter, customerRouter, staffAdminRouter, staffAuthRouter } from './accounts/routes.js';
import { consentCentreRouter } from './consent/centre.js';
import { type AccountsService, createAccountsService } from './accounts/service.js';
import { type AuditService, createAuditService } from './audit/service.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { formatCredentials, seedDemo } from './demo/seed.js';
import { ensureDevPki } from './devpki/index.js';
import { mtlsCertificateRouter } from './eidas/routes.js';
import { createEidasService, type EidasService } from './eidas/service.js';
import { healthRouter } from './health/routes.js';
import { createHealthService } from './health/service.js';
import { createApp } from './http/app.js';
import { homeRouter } from './http/home.js';
import { createSessionMiddleware } from './http/middleware/session.js';
import { createLogger, type Logger } from './logger.js';
import { applicantRouter } from './partners/routes.js';
import { createPartnersService } from './partners/service.js';
import { staffApplicationsRouter } from './partners/staff-routes.js';
import type { PartnersService } from './partners/types.js';
import { createRegisterService, DEV_REGISTER_FILE, type RegisterService } from './register/service.js';
import { close, createMtlsServer, createPublicServer, listen, readTlsMaterial } from './server/listeners.js';
import { type Db, openDatabase } from './store/database.js';
import { bankingRouter } from './banking/routes.js';
import { createBankingService, type BankingService } from './banking/service.js';
import { consentOf, createConsentGuard } from './consent/guard.js';
import { consentApiRouter } from './consent/routes.js';
import { createConsentService, type ConsentService } from './consent/service.js';
import { interactionRouter } from './oauth/interactions.js';
import { createAuditSearch, type AuditSearch } from './audit/search.js';
import { createEvidenceKeys } from './evidence/keys.js';
import { evidenceJwksRouter, staffAuditRouter, staffEvidenceRouter } from './evidence/routes.js';
import { createEvidenceService, type EvidenceService } from './evidence/service.js';
import { monitorRouter } from './monitor/routes.js';
import { createMonitor, MONITOR_SOURCE } from './monitor/service.js';
import type { MonitorService } from './monitor/types.js';
import { createNotificationsArea, type NotificationsArea } from './notifications/area.js';
import { notifyApplicationStatusChange, notifyConsentRevoked, partnerStatusListener } from './notifications/hooks.js';
import { relayConsentReceipts } from './notifications/receipts.js';
import { staffDeliveriesRouter, webhookKeysRouter, webhooksRouter } from './notifications/routes.js';
import { createSqliteSoftwareRepository } from './store/sqlite/registration.js';
import { createOAuthArea, type OAuthArea } from './oauth/area.js';
import { staffClientsRouter } from './oauth/staff-routes.js';
import { createDirectory, DIRECTORY_ISSUER, type Directory } from './registration/directory.js';
import { createRegistrationEvaluator, type RegistrationEvaluator } from './registration/evaluate.js';
import { directoryRouter, softwareRouter } from './registration/routes.js';
import { createSoftwareService, type SoftwareService } from './registration/software.js';
import { createSqliteRegistrationJtiStore } from './store/sqlite/registration-jti.js';
import { withDevSecrets } from './store/dev-secrets.js';
import { createTransactor, type Transactor } from './store/transaction.js';
import { Router, type RequestHandler } from 'express';
import { createOpsArea, type OpsArea } from './ops/area.js';
import { createOpsServer, readiness } from './ops/server.js';

function stack(handlers: RequestHandler[]): Router {
  const router = Router();
  router.use(...handlers);
  return router;
}

/** The areas' services over one store: what the listeners, the CLIs and the demo seed share. */
export interface Services {
  config: Config & { dataKey: Buffer };
  db: Db;
  tx: Transactor;
  audit: AuditService;
  eidas: EidasService;
  register: RegisterService;
  accounts: AccountsService;
  partners: PartnersService;
  oauth: OAuthArea;
  directory: Directory;
  software: SoftwareService;
  registration: RegistrationEvaluator;
  banking: BankingService;
  consents: ConsentService;
  notifications: NotificationsArea;
  monitor: MonitorService;
  evidence: EvidenceService;
  auditSearch: AuditSearch;
}

export async function createServices(baseConfig: Config, logger: Logger): Promise<Services> {
  if (baseConfig.env !== 'production' && !existsSync(path.join(baseConfig.certsDir, 'pki.json'))) {
    logger.warn({ certsDir: baseConfig.certsDir }, 'dev PKI missing: generating it (development only)');
    await ensureDevPki(baseConfig.certsDir, { responderBaseUrl: baseConfig.pkiResponderUrl });
  }
  const config = withDevSecrets(baseConfig);
  if (baseConfig.sessionSecretEphemeral) {
    logger.info({ file: path.join(config.dataDir, '.dev-secrets.json') }, 'development secrets kept in the data directory');
  }
  const db = openDatabase({ dataDir: config.dataDir });
  const tx = createTransactor(db);
  const audit = createAuditService({ db, tx });
  const eidas = await createEidasService({ config, logger });
  const register = createRegisterService({ db, tx, audit });
  if (config.env !== 'production' && (await register.status()).snapshot === null) {
    // Development only: the synthetic register that matches the dev PKI's partners (docs/register.md).
    await register.importSnapshot(readFileSync(DEV_REGISTER_FILE), {
      source: 'dev register (synthetic, shipped with the project)',
      actor: { type: 'system', id: null, label: 'start-up (development)' },
    });
    logger.info('dev register imported');
  }
  const accounts = createAccountsService({ db, tx, audit, dataKey: config.dataKey, logger });
  const partners = createPartnersService({ db, tx, audit, eidas, register, dataDir: config.dataDir, logger });
  const oauth = await createOAuthArea({
    db,
    tx,
    audit,
    eidas,
    partners,
    logger,
    dataDir: config.dataDir,
    cookieSecret: config.sessionSecret,
    accessTokenTtl: config.oauth.accessTokenTtl,
    customers: accounts,
    proxy: config.proxy,
    externalUrls: { publicUrl: config.publicUrl, mtlsUrl: config.mtlsUrl },
  });
  // Suspension stops the partner's clients at once: their tokens and grants go in the same transaction.
  partners.onPartnerStatusChange(async (change) => {
    if (change.status === 'suspended') await oauth.service.revokePartnerTokens(change.partnerId);
  });
  const banking = createBankingService({ db, tx, audit });
  const consents = createConsentService({
    db,
    tx,
    audit,
    accounts: banking,
    partners,
    clients: oauth.service,
    authorisationWindowMs: config.consent.authorisationWindowMs,
  });
  oauth.useConsents(consents);
  // A consent that ends takes its grant with it: refresh tokens stop, and the API refuses its access tokens.
  consents.onStatusChange(async (change) => {
    if ((change.to === 'revoked' || change.to === 'expired') && change.consent.grantId) {
      await oauth.service.revokeGrant(change.consent.grantId, `the consent was ${change.to} (${change.channel})`);
    }
  });
  const directory = await createDirectory({ dataDir: config.dataDir, issuer: DIRECTORY_ISSUER });
  const software = createSoftwareService({ db, tx, audit, partners, directory });
  const registration = createRegistrationEvaluator({
    directory,
    software,
    partners,
    clients: oauth.service,
    eidas,
    jtis: createSqliteRegistrationJtiStore(db, tx),
    audience: oauth.issuer,
    ssaMaxAgeDays: config.oauth.ssaMaxAgeDays,
  });
  const notifications = await createNotificationsArea({
    config,
    db,
    tx,
    audit,
    logger,
    // Development webhooks may point at a receiver with a dev-PKI certificate.
    ...(config.env === 'production' ? {} : devRootCa(config.certsDir)),
  });
  const notices = { portalUrl: config.publicUrl ?? undefined };
  // The customers' consent receipts go out by e-mail through the same outbox, relayed before each delivery tick.
  notifications.worker.feed(() =>
    relayConsentReceipts({ consents, customers: accounts, notifier: notifications.service, tx, portalUrl: notices.portalUrl }),
  );
  const statusNotice = partnerStatusListener(notifications.service, partners, notices);
  partners.onPartnerStatusChange(async (change) => {
    // The monitor sends its own suspension notice, with the evidence (serial, source, register entry).
    if (change.actor.type === 'system' && change.actor.label === MONITOR_SOURCE) return;
    await statusNotice(change);
  });
  partners.onApplicationStatusChange(async (change) => {
    await notifyApplicationStatusChange(notifications.service, change, notices);
  });
  consents.onStatusChange(async (change) => {
    await notifyConsentRevoked(notifications.service, change);
  });
  const monitor = createMonitor({
    db,
    tx,
    audit,
    eidas,
    partners,
    register,
    notify: (req) => notifications.service.enqueue(req),
    source: config.monitor.registerSource,
    logger,
  });
  const evidence = createEvidenceService({
    db,
    tx,
    audit,
    partners,
    clients: oauth.service,
    software: createSqliteSoftwareRepository(db),
    keys: createEvidenceKeys({ dataDir: config.dataDir }),
  });
  const auditSearch = createAuditSearch({ db, audit, selectionFor: (id) => evidence.selectionFor(id) });
  return {
    config,
    db,
    tx,
    audit,
    eidas,
    register,
    accounts,
    partners,
    oauth,
    directory,
    software,
    registration,
    banking,
    consents,
    notifications,
    monitor,
    evidence,
    auditSearch,
  };
}

function devRootCa(certsDir: string): { webhookCa?: Buffer } {
  const file = path.join(certsDir, 'ca', 'root.pem');
  return existsSync(file) ? { webhookCa: readFileSync(file) } : {};
}

export function hasUsers(db: Db): boolean {
  return db.prepare('SELECT 1 FROM users LIMIT 1').get() !== undefined;
}

export interface Portal extends Services {
  publicPort: number;
  mtlsPort: number;
  /** Metrics, the API inventory and partner activity (src/ops, docs/operations.md). */
  ops: OpsArea;
  /** The ops listener (/metrics, /livez, /readyz) on OPS_HOST. */
  opsPort: number;
  servers: https.Server[];
  stop(): Promise<void>;
}

export async function startPortal(
  baseConfig: Config,
  logger: Logger,
  opts: { onDemoSeed?: (text: string) => void } = {},
): Promise<Portal> {
  const services = await createServices(baseConfig, logger);
  const { config, db, eidas, accounts, partners } = services;
  const tls = readTlsMaterial(config.tls);
  // Seeded before listening, so that nobody sees a half-seeded portal.
  const seeded =
    config.demoSeed && !hasUsers(db)
      ? await seedDemo({
          accounts,
          partners,
          software: services.software,
          banking: services.banking,
          certsDir: config.certsDir,
          hasUsers: () => hasUsers(db),
        })
      : null;

  let mtlsPort = 0;
  const health = createHealthService({ config, db, eidas, mtlsPort: () => mtlsPort });
  const session = createSessionMiddleware({ db, tx: services.tx, accounts, config });
  const ops = createOpsArea({ db, tx: services.tx, audit: services.audit, partners, provider: () => services.oauth.provider(), logger });
  const publicApp = createApp({
    logger,
    routers: [
      // First: every request is counted and timed, whoever answers it.
      stack([ops.metrics.requestMetrics('public')]),
      // oidc-provider reads its own bodies: it goes before the session stack's body parser.
      services.oauth.publicRouter(),
      directoryRouter(services.directory),
      webhookKeysRouter(services.notifications.keys),
      evidenceJwksRouter({ evidence: services.evidence }),
      // The session stack (body parser, session, passport, CSRF, locals) runs before every page router.
      stack(session),
      homeRouter(),
      interactionRouter({
        provider: () => services.oauth.provider(),
        apiAudience: () => services.oauth.apiAudience(),
        accounts,
        consents: services.consents,
        banking: services.banking,
        partners,
        clients: services.oauth.service,
        audit: services.audit,
      }),
      healthRouter(health),
      accountsRouter({ accounts }),
      staffAuthRouter({ accounts }),
      staffAdminRouter({ accounts }),
      customerRouter({ accounts }),
      consentCentreRouter({ consents: services.consents, banking: services.banking }),
      applicantRouter({ partners }),
      softwareRouter({ software: services.software }),
      webhooksRouter({ notifications: services.notifications.service, partners }),
      staffApplicationsRouter({ partners }),
      staffDeliveriesRouter({ notifications: services.notifications.service, partners }),
      staffClientsRouter({ oauth: services.oauth.service, partners }),
      monitorRouter({ monitor: services.monitor, partners }),
      staffEvidenceRouter({ evidence: services.evidence }),
      staffAuditRouter({ search: services.auditSearch }),
      ops.inventoryRouter(() => ({ public: publicApp, mtls: mtlsApp })),
      ops.activityRouter(),
    ],
  });
  const consentGuard = createConsentGuard({ consents: services.consents });
  const mtlsApp = createApp({
    logger,
    routers: [
      // First: metrics, and the per-partner activity of the bank's APIs (it reads the route's policy when done).
      stack([ops.metrics.requestMetrics('mtls'), ops.recorder.middleware]),
      services.oauth.mtlsRouter(services.registration.evaluate),
      consentApiRouter({ requireBoundToken: services.oauth.requireBoundToken, consents: services.consents }),
      bankingRouter({
        requireBoundToken: services.oauth.requireBoundToken,
        partners,
        banking: services.banking,
        requireConsent: consentGuard.requireConsent,
        consentOf,
        markConsumed: (id, paymentId) => services.consents.markConsumed(id, paymentId),
      }),
      healthRouter(health),
      mtlsCertificateRouter(eidas),
    ],
  });
  const publicServer = createPublicServer(tls, publicApp);
  const mtlsServer = createMtlsServer(tls, mtlsApp);
  const publicPort = await listen(publicServer, config.port, config.host);
  mtlsPort = await listen(mtlsServer, config.mtlsPort, config.host);
  const baseUrl = `https://${hostForUrl(config.host)}:${publicPort}`;
  const provider = services.oauth.start({
    publicBaseUrl: config.publicUrl ?? baseUrl,
    mtlsBaseUrl: config.mtlsUrl ?? `https://${hostForUrl(config.host)}:${mtlsPort}`,
  });
  ops.start(provider);
  const opsServer = createOpsServer({
    tls,
    metrics: ops.metrics,
    ready: readiness({
      health,
      listeners: () => ({ public: publicServer, mtls: mtlsServer }),
      signingKeys: () => services.oauth.keys.keys.length,
      providerStarted: () => Boolean(services.oauth.provider()),
    }),
  });
  const opsPort = await listen(opsServer, config.ops.port, config.ops.host);
  logger.info({ metrics: `https://${hostForUrl(config.ops.host)}:${opsPort}/metrics` }, 'ops listener (metrics, probes)');
  logger.info({ url: `${baseUrl}/`, mtls: `https://${hostForUrl(config.host)}:${mtlsPort}/` }, 'portal listening');
  if (seeded) {
    logger.info('demo data seeded (credentials printed to the terminal, not logged)');
    (opts.onDemoSeed ?? ((text: string) => process.stdout.write(text)))(formatCredentials(seeded, baseUrl));
  }
  // Expired tokens, codes and sessions are refused on read already; this only keeps the table small. Consents
  // past their expiry are refused on use too; expiring them here records the event and the customer's receipt.
  const prune = () =>
    Promise.all([
      services.oauth.service.pruneExpired().then(
        (n) => n > 0 && logger.debug({ removed: n }, 'expired OAuth records pruned'),
        (err: unknown) => logger.warn({ err }, 'pruning expired OAuth records failed'),
      ),
      services.consents.expireDue().then(
        (n) => n > 0 && logger.info({ expired: n }, 'consents expired'),
        (err: unknown) => logger.warn({ err }, 'expiring consents failed'),
      ),
    ]);
  void prune();
  const pruning = setInterval(prune, 10 * 60_000);
  pruning.unref();
  if (config.monitor.intervalMs > 0) services.monitor.start(config.monitor.intervalMs);
  if (config.notifications.intervalMs > 0) services.notifications.worker.start(config.notifications.intervalMs);
  return {
    ...services,
    publicPort,
    mtlsPort,
    ops,
    opsPort,
    servers: [publicServer, mtlsServer, opsServer],
    async stop() {
      clearInterval(pruning);
      await Promise.all([close(publicServer), close(mtlsServer), close(opsServer)]);
      await ops.stop();
      await services.monitor.stop();
      await services.notifications.worker.stop();
      services.notifications.mailer?.close();
      db.close();
    },
  };
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee the configuration table in README.md.\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel });
  const portal = await startPortal(config, logger);
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    portal.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((err) => {
    process.stderr.write(`Start-up failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}

