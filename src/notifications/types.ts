/**
 * The notifications area's public contract: what other areas hand to the outbox (`Notifier.enqueue`, inside
 * their own `tx.run`, so that the notice commits or rolls back with the change it describes), and what the
 * partner's webhook page and the worker report. Delivery happens later, outside any transaction
 * (worker.ts); see docs/notifications.md.
 */

export const NOTIFICATION_EVENTS = [
  'application.status_changed',
  'client.suspended',
  'client.reinstated',
  'certificate.expiring',
  'consent.revoked',
  // To the bank's customer (e-mail only, no partner webhook): a consent receipt (src/notifications/receipts.ts).
  'consent.receipt',
  // The partner asked for a test delivery from its webhook page.
  'webhook.test',
  // Sent by the lifecycle monitor when a register service code is withdrawn (src/monitor).
  'partner.roles_narrowed',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

export interface NotificationRequest {
  event: NotificationEvent;
  /** Webhooks go to this partner's registered URL (if any). */
  partnerId: string | null;
  email?: { to: string[]; subject: string; text: string };
  /** The webhook payload's `data` (no secrets, no tokens: keys that look like secrets are redacted). */
  data: Record<string, unknown>;
  /** Same key twice → one notification (e.g. expiry notice per cert+threshold). */
  dedupeKey?: string;
}

/**
 * Call inside the caller's `tx.run` (a nested run becomes a savepoint; outside one it opens its own).
 * `queued` is false for a repeated dedupeKey, and when there was nobody to deliver to (no e-mail, no webhook).
 */
export interface Notifier {
  enqueue(req: NotificationRequest): Promise<{ queued: boolean }>;
}

export const DELIVERY_CHANNELS = ['email', 'webhook'] as const;
export type DeliveryChannel = (typeof DELIVERY_CHANNELS)[number];

/**
 * pending: never tried; failed: tried, retried at nextAttemptAt; delivered; dead: given up (attempts used up,
 * or a refusal that retrying cannot fix, such as a URL that points at a private address in production).
 */
export const DELIVERY_STATUSES = ['pending', 'failed', 'delivered', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** One delivery as the partner's page and the tests read it (never the raw row; no payload). */
export interface DeliveryView {
  id: string;
  notificationId: string;
  event: NotificationEvent;
  partnerId: string | null;
  channel: DeliveryChannel;
  /** The webhook URL, or the e-mail address. */
  target: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  /** Safe words: `HTTP 500`, `no answer within 5000 ms`, never a stack or a credential. */
  lastError: string | null;
  /** HTTP status of the last webhook answer. */
  lastStatus: number | null;
  /** At most 200 printable characters of the last answer's body. */
  responseExcerpt: string | null;
  createdAt: string;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
}

export interface WebhookEndpointView {
  id: string;
  partnerId: string;
  url: string;
  active: boolean;
  createdAt: string;
  createdBy: string;
  removedAt: string | null;
}

/** The webhook page of one approved partner. */
export interface WebhookOverview {
  application: { id: string; name: string };
  partner: { id: string; legalName: string; status: 'active' | 'suspended' };
  endpoint: WebhookEndpointView | null;
  deliveries: DeliveryView[];
}

/** The JSON body of every webhook POST (also what verifyWebhook returns, parsed). */
export interface WebhookBody {
  /** The delivery id (also `X-Portal-Delivery`): the same on every retry, so receivers can drop duplicates. */
  id: string;
  event: NotificationEvent;
  /** When the event happened (ISO 8601, UTC). */
  occurred_at: string;
  partner_id: string | null;
  data: Record<string, unknown>;
}
