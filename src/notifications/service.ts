/**
 * The notifications area: the outbox other areas write to (`enqueue`, inside their transaction), and the
 * partner's webhook endpoint with its delivery history (the webhook page). Delivery is the worker's
 * (worker.ts), outside any transaction.
 *
 * - A notification is one event; it fans out to one delivery per e-mail recipient and one per webhook
 *   endpoint (at most one active per partner). The webhook body is built and stored at enqueue time, so the
 *   bytes signed and sent on every retry are the same.
 * - The page's methods take the ApplicationView the router loaded through `partners.getForApplicant`, which
 *   already answered "not found" for anyone else's application.
 * - Every endpoint change and its audit event share one `tx.run`.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AuditService } from '../audit/service.js';
import { addressRefusal } from '../eidas/revocation/fetcher.js';
import { InputError, NotFoundError } from '../errors.js';
import type { ActorRef, ApplicationView, PartnerView } from '../partners/types.js';
import type { Db } from '../store/database.js';
import { createSqliteNotificationsRepository } from '../store/sqlite/notifications.js';
import type { Transactor } from '../store/transaction.js';
import { invalidRequest, noWebhook, partnerNotApproved, testTooSoon } from './errors.js';
import type { NotificationsRepository } from './repository.js';
import {
  NOTIFICATION_EVENTS,
  type DeliveryView,
  type Notifier,
  type NotificationRequest,
  type WebhookBody,
  type WebhookEndpointView,
  type WebhookOverview,
} from './types.js';

export const NOTIFICATION_LIMITS = {
  urlMax: 500,
  recipientsMax: 10,
  subjectMax: 200,
  textMax: 20_000,
  dataMaxBytes: 16 * 1024,
  dedupeKeyMax: 300,
  historyShown: 50,
} as const;

/** The form fields of the webhook page. */
export const WEBHOOK_FIELDS = ['url'] as const;

export interface NotificationsService extends Notifier {
  /** What the webhook page shows; `partner_not_approved` (409) when the application has no partner yet. */
  overview(view: ApplicationView): Promise<WebhookOverview>;
  /** Registers (or replaces) the partner's webhook URL. InputError (`url`) on bad input; nothing stored then. */
  registerWebhook(actor: ActorRef, view: ApplicationView, input: unknown): Promise<WebhookEndpointView>;
  /**
   * Queues a `webhook.test` event to the partner's endpoint, at most one a minute: `notifications.no_webhook`
   * (409) without an endpoint, `notifications.test_too_soon` (429) for a second one in the same minute.
   */
  sendTestEvent(actor: ActorRef, view: ApplicationView): Promise<WebhookEndpointView>;
  /** Removes the active endpoint `endpointId`; NotFoundError when it is not this partner's active one. */
  removeWebhook(actor: ActorRef, view: ApplicationView, endpointId: string): Promise<WebhookEndpointView>;
  /** Newest first. */
  deliveriesForPartner(partnerId: string, limit?: number): Promise<DeliveryView[]>;
  deliveriesForNotification(notificationId: string): Promise<DeliveryView[]>;
  getDelivery(id: string): Promise<DeliveryView | null>;
}

export interface NotificationsServiceDeps {
  db: Db;
  tx: Transactor;
  audit: AuditService;
  /** URL rules: loopback and private hosts are accepted outside production only. */
  env: 'development' | 'test' | 'production';
  /** False when no mailer exists (production without SMTP_URL): e-mail deliveries are then not queued. */
  emailEnabled: boolean;
  now?: () => Date;
  repository?: NotificationsRepository;
}

// --- input rules ------------------------------------------------------------------------------------

const SECRET_KEY = /pass(word|phrase)|secret|token|private_?key|totp|otp$|authorization|cookie/i;

function redact(value: unknown, depth = 0): unknown {
  if (depth > 16) return '[too deep]';
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1);
  return out;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const requestSchema = z.object({
  event: z.enum(NOTIFICATION_EVENTS),
  partnerId: z.string().min(1).max(100).nullable(),
  email: z
    .object({
      to: z.array(z.email().max(254)).min(1).max(NOTIFICATION_LIMITS.recipientsMax),
      subject: z.string().min(1).max(NOTIFICATION_LIMITS.subjectMax).refine((s) => !CONTROL.test(s), 'control characters in the subject'),
      text: z.string().min(1).max(NOTIFICATION_LIMITS.textMax),
    })
    .optional(),
  data: z.record(z.string(), z.unknown()),
  dedupeKey: z.string().min(1).max(NOTIFICATION_LIMITS.dedupeKeyMax).optional(),
});

/** Why a webhook URL is refused (shown next to the field), or null. */
export function webhookUrlProblem(raw: string, env: NotificationsServiceDeps['env']): string | null {
  const url = raw.trim();
  if (url === '') return 'Enter the https URL of your webhook receiver.';
  if (url.length > NOTIFICATION_LIMITS.urlMax) return `The URL is longer than ${NOTIFICATION_LIMITS.urlMax} characters.`;
  if (/\s/.test(url) || CONTROL.test(url)) return 'The URL must not contain spaces or control characters.';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'The URL is not a valid address.';
  }
  if (u.protocol !== 'https:') return 'The URL must start with https://.';
  if (u.username !== '' || u.password !== '' || /^https:\/\/[^/?#]*@/i.test(url)) return 'The URL must not contain a user name or password.';
  if (url.includes('#')) return 'The URL must not have a fragment (#…).';
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === '') return 'The URL has no host name.';
  const prod = env === 'production';
  if (z.ipv4().safeParse(host).success || z.ipv6().safeParse(host).success) {
    const why = addressRefusal(host, !prod);
    if (why) return `The URL points at a ${why}: use a public address.`;
  } else if (host === 'localhost' || host.endsWith('.localhost')) {
    if (prod) return 'The URL points at this machine (localhost): use a public address.';
  } else if (prod && !host.includes('.')) {
    return 'The URL needs a fully qualified host name.';
  }
  return null;
}

const registerSchema = z.object({ url: z.string().max(100_000) });

/** The approved partner behind an application (webhooks need one), or partner_not_approved. */
function partnerOf(view: ApplicationView): PartnerView {
  if (!view.partner || (view.state !== 'approved' && view.state !== 'conditionally_approved')) throw partnerNotApproved();
  return view.partner;
}

function endpointView(e: WebhookEndpointView): WebhookEndpointView {
  return { id: e.id, partnerId: e.partnerId, url: e.url, active: e.active, createdAt: e.createdAt, createdBy: e.createdBy, removedAt: e.removedAt };
}

// --- the service ------------------------------------------------------------------------------------

export function createNotificationsService(deps: NotificationsServiceDeps): NotificationsService {
  const { tx, audit, env, emailEnabled } = deps;
  const repo = deps.repository ?? createSqliteNotificationsRepository(deps.db);
  const now = deps.now ?? (() => new Date());

  function record(actor: ActorRef, action: string, partnerId: string, data: Record<string, unknown>) {
    return audit.record({
      actor: { type: actor.kind, id: actor.id, label: actor.label },
      action,
      subject: { type: 'partner', id: partnerId },
      data,
      ip: actor.ip ?? null,
    });
  }

  const service: NotificationsService = {
    async enqueue(req: NotificationRequest) {
      const parsed = requestSchema.safeParse(req);
      if (!parsed.success) {
        throw invalidRequest(parsed.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; '));
      }
      const r = parsed.data;
      const data = redact(r.data) as Record<string, unknown>;
      const dataJson = JSON.stringify(data);
      if (Buffer.byteLength(dataJson, 'utf8') > NOTIFICATION_LIMITS.dataMaxBytes) {
        throw invalidRequest(`data is larger than ${NOTIFICATION_LIMITS.dataMaxBytes} bytes`);
      }
      return tx.run(async () => {
        const at = now().toISOString();
        const notificationId = randomUUID();
        const fresh = await repo.insertNotification({
          id: notificationId,
          event: r.event,
          partnerId: r.partnerId,
          occurredAt: at,
          dedupeKey: r.dedupeKey ?? null,
          data: dataJson,
        });
        if (!fresh) return { queued: false };
        let deliveries = 0;
        if (r.partnerId !== null) {
          const endpoint = await repo.activeEndpoint(r.partnerId);
          if (endpoint) {
            const id = randomUUID();
            const body: WebhookBody = { id, event: r.event, occurred_at: at, partner_id: r.partnerId, data };
            await repo.insertDelivery({
              id,
              notificationId,
              channel: 'webhook',
              target: endpoint.url,
              endpointId: endpoint.id,
              payload: JSON.stringify(body),
              createdAt: at,
              nextAttemptAt: at,
            });
            deliveries += 1;
          }
        }
        if (r.email && emailEnabled) {
          const recipients = [...new Set(r.email.to.map((a) => a.trim().toLowerCase()))];
          for (const to of recipients) {
            await repo.insertDelivery({
              id: randomUUID(),
              notificationId,
              channel: 'email',
              target: to,
              endpointId: null,
              payload: JSON.stringify({ subject: r.email.subject, text: r.email.text }),
              createdAt: at,
              nextAttemptAt: at,
            });
            deliveries += 1;
          }
        }
        return { queued: deliveries > 0 };
      });
    },

    async overview(view) {
      const partner = partnerOf(view);
      const endpoint = await repo.activeEndpoint(partner.id);
      return {
        application: { id: view.id, name: view.profile?.legalName || partner.legalName },
        partner: { id: partner.id, legalName: partner.legalName, status: partner.status },
        endpoint: endpoint ? endpointView(endpoint) : null,
        deliveries: await repo.deliveriesForPartner(partner.id, NOTIFICATION_LIMITS.historyShown),
      };
    },

    async registerWebhook(actor, view, input) {
      const partner = partnerOf(view);
      const shape = registerSchema.safeParse(input);
      const url = shape.success ? shape.data.url.trim() : '';
      const problem = shape.success ? webhookUrlProblem(url, env) : 'Enter the https URL of your webhook receiver.';
      if (problem) throw new InputError('The webhook URL could not be registered.', [{ path: 'url', message: problem }]);
      return tx.run(async () => {
        const at = now().toISOString();
        const previous = await repo.activeEndpoint(partner.id);
        if (previous) await repo.removeEndpoint(previous.id, at, actor.id);
        const id = randomUUID();
        await repo.insertEndpoint({ id, partnerId: partner.id, url, createdAt: at, createdBy: actor.id });
        await record(actor, 'notifications.webhook.registered', partner.id, {
          applicationId: view.id,
          endpointId: id,
          url,
          replaced: previous ? { endpointId: previous.id, url: previous.url } : null,
        });
        return { id, partnerId: partner.id, url, active: true, createdAt: at, createdBy: actor.id, removedAt: null };
      });
    },

    async removeWebhook(actor, view, endpointId) {
      const partner = partnerOf(view);
      return tx.run(async () => {
        const e = typeof endpointId === 'string' && endpointId.length <= 100 ? await repo.getEndpoint(endpointId) : null;
        if (!e || e.partnerId !== partner.id || !e.active) throw new NotFoundError('No such webhook endpoint.');
        const at = now().toISOString();
        await repo.removeEndpoint(e.id, at, actor.id);
        await record(actor, 'notifications.webhook.removed', partner.id, { applicationId: view.id, endpointId: e.id, url: e.url });
        return endpointView({ ...e, active: false, removedAt: at });
      });
    },

    deliveriesForPartner(partnerId, limit = NOTIFICATION_LIMITS.historyShown) {
      return repo.deliveriesForPartner(partnerId, Math.max(1, Math.min(500, limit)));
    },
    deliveriesForNotification: (id) => repo.deliveriesForNotification(id),
    getDelivery: (id) => repo.getDelivery(id),

    async sendTestEvent(actor, view) {
      const partner = partnerOf(view);
      return tx.run(async () => {
        const endpoint = await repo.activeEndpoint(partner.id);
        if (!endpoint) throw noWebhook();
        const at = now();
        // One a minute per partner: the dedupe key is the minute, so a second click in it queues nothing.
        const { queued } = await service.enqueue({
          event: 'webhook.test',
          partnerId: partner.id,
          data: { message: 'A test event sent from the partner portal. No action is needed.', requested_at: at.toISOString() },
          dedupeKey: `webhook.test:${partner.id}:${Math.floor(at.getTime() / 60_000)}`,
        });
        if (!queued) throw testTooSoon();
        await record(actor, 'notifications.webhook.test_sent', partner.id, { applicationId: view.id, endpointId: endpoint.id, url: endpoint.url });
        return endpointView(endpoint);
      });
    },
  };
  return service;
}
