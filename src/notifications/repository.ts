/**
 * Storage contract of the notifications area: notifications, their deliveries (the outbox) and the partners'
 * webhook endpoints. Async so that a PostgreSQL implementation fits later; the SQLite one is
 * src/store/sqlite/notifications.ts. Writes are called inside a `tx.run` of the service or the worker.
 */
import type { DeliveryChannel, DeliveryStatus, DeliveryView, NotificationEvent, WebhookEndpointView } from './types.js';

export interface NotificationRecord {
  id: string;
  event: NotificationEvent;
  partnerId: string | null;
  occurredAt: string;
  dedupeKey: string | null;
  /** JSON text of the (redacted) data. */
  data: string;
}

export interface NewDelivery {
  id: string;
  notificationId: string;
  channel: DeliveryChannel;
  target: string;
  endpointId: string | null;
  payload: string;
  createdAt: string;
  /** The first attempt is due at once. */
  nextAttemptAt: string;
}

/** A claimed delivery: what the worker needs to send it (payload included). */
export interface ClaimedDelivery {
  id: string;
  notificationId: string;
  event: NotificationEvent;
  partnerId: string | null;
  channel: DeliveryChannel;
  target: string;
  endpointId: string | null;
  /** False when the endpoint was removed after the delivery was queued. */
  endpointActive: boolean;
  payload: string;
  attempts: number;
  claimToken: string;
}

export interface AttemptResult {
  status: Exclude<DeliveryStatus, 'pending'>;
  /** The attempt number just made (attempts after it). */
  attempts: number;
  at: string;
  nextAttemptAt: string | null;
  lastError: string | null;
  lastStatus: number | null;
  responseExcerpt: string | null;
}

export interface EndpointRecord extends WebhookEndpointView {
  removedBy: string | null;
}

export interface NotificationsRepository {
  /** False when the dedupe key is taken (nothing written). */
  insertNotification(record: NotificationRecord): Promise<boolean>;
  insertDelivery(record: NewDelivery): Promise<void>;
  /**
   * Leases up to `limit` due deliveries (pending or failed, next attempt at or before `now`, no live lease),
   * oldest due first, under `claimToken` until `leaseUntil`. Call inside a transaction.
   */
  claimDue(opts: { now: string; limit: number; claimToken: string; leaseUntil: string }): Promise<ClaimedDelivery[]>;
  /** Records an attempt on a delivery still held under `claimToken`; false when the lease was lost. */
  recordAttempt(id: string, claimToken: string, result: AttemptResult): Promise<boolean>;
  getDelivery(id: string): Promise<DeliveryView | null>;
  /** Newest first. */
  deliveriesForPartner(partnerId: string, limit: number): Promise<DeliveryView[]>;
  deliveriesForNotification(notificationId: string): Promise<DeliveryView[]>;
  getNotificationByDedupeKey(key: string): Promise<NotificationRecord | null>;

  activeEndpoint(partnerId: string): Promise<EndpointRecord | null>;
  getEndpoint(id: string): Promise<EndpointRecord | null>;
  insertEndpoint(record: { id: string; partnerId: string; url: string; createdAt: string; createdBy: string }): Promise<void>;
  /** Marks an active endpoint removed; false when it was not active. */
  removeEndpoint(id: string, at: string, by: string): Promise<boolean>;
}
