/**
 * The notifications area assembled from the configuration, for main.ts: the webhook keys (created on first
 * start), the mailer (SMTP or the .eml file sink), the service (the outbox and the webhook page) and the
 * worker. The caller starts the worker when `config.notifications.intervalMs` is not 0 and stops it first
 * on shutdown.
 */
import type { AuditService } from '../audit/service.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';
import type { Transactor } from '../store/transaction.js';
import { createWebhookKeys, type WebhookKeys } from './keys.js';
import { createMailer, type Mailer } from './mailer.js';
import { createNotificationsService, type NotificationsService } from './service.js';
import { createNotificationWorker, type NotificationWorker } from './worker.js';

export interface NotificationsArea {
  service: NotificationsService;
  keys: WebhookKeys;
  mailer: Mailer | null;
  worker: NotificationWorker;
}

export async function createNotificationsArea(deps: {
  config: Pick<Config, 'env' | 'dataDir' | 'notifications'>;
  db: Db;
  tx: Transactor;
  audit: AuditService;
  logger: Logger;
  now?: () => Date;
  /** Extra CA certificates (PEM) webhook receivers may use, e.g. the dev root outside production. */
  webhookCa?: string | Buffer;
}): Promise<NotificationsArea> {
  const { config, db, tx, audit, logger } = deps;
  const keys = await createWebhookKeys({ dataDir: config.dataDir, ...(deps.now ? { now: deps.now } : {}) });
  const mailer = createMailer({
    smtpUrl: config.notifications.smtpUrl,
    off: config.notifications.emailOff,
    from: config.notifications.mailFrom,
    dataDir: config.dataDir,
    env: config.env,
  });
  if (!mailer) logger.warn(`notifications: ${config.notifications.emailOff ? 'SMTP_URL=off' : 'SMTP_URL is not set'}: no e-mail is sent (webhooks still are)`);
  else if (mailer.kind === 'file') logger.info({ dir: `${config.dataDir}/mail` }, 'notifications: e-mail is written to files (no SMTP_URL)');
  const service = createNotificationsService({ db, tx, audit, env: config.env, emailEnabled: mailer !== null, ...(deps.now ? { now: deps.now } : {}) });
  const worker = createNotificationWorker({
    db,
    tx,
    keys,
    mailer,
    logger,
    env: config.env,
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.webhookCa ? { webhookCa: deps.webhookCa } : {}),
  });
  return { service, keys, mailer, worker };
}
