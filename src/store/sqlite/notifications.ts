/**
 * better-sqlite3 implementation of the notifications repository (src/notifications/repository.ts,
 * migrations/0013_notifications.sql). Prepared statements only. Times are ISO 8601 UTC strings of one width
 * (`Date.toISOString()`), so comparing them as text orders them in time.
 */
import type {
  ClaimedDelivery,
  EndpointRecord,
  NotificationsRepository,
} from '../../notifications/repository.js';
import type { DeliveryChannel, DeliveryStatus, DeliveryView, NotificationEvent } from '../../notifications/types.js';
import type { Db } from '../database.js';

interface DeliveryRow {
  id: string;
  notification_id: string;
  event: string;
  partner_id: string | null;
  channel: string;
  target: string;
  status: string;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  last_status: number | null;
  response_excerpt: string | null;
  created_at: string;
  last_attempt_at: string | null;
  delivered_at: string | null;
}

interface ClaimRow {
  id: string;
  notification_id: string;
  event: string;
  partner_id: string | null;
  channel: string;
  target: string;
  endpoint_id: string | null;
  endpoint_active: number | null;
  payload: string;
  attempts: number;
}

interface EndpointRow {
  id: string;
  partner_id: string;
  url: string;
  active: number;
  created_at: string;
  created_by: string;
  removed_at: string | null;
  removed_by: string | null;
}

interface NotificationRow {
  id: string;
  event: string;
  partner_id: string | null;
  occurred_at: string;
  dedupe_key: string | null;
  data: string;
}

function deliveryFromRow(r: DeliveryRow): DeliveryView {
  return {
    id: r.id,
    notificationId: r.notification_id,
    event: r.event as NotificationEvent,
    partnerId: r.partner_id,
    channel: r.channel as DeliveryChannel,
    target: r.target,
    status: r.status as DeliveryStatus,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    lastStatus: r.last_status,
    responseExcerpt: r.response_excerpt,
    createdAt: r.created_at,
    lastAttemptAt: r.last_attempt_at,
    deliveredAt: r.delivered_at,
  };
}

function endpointFromRow(r: EndpointRow): EndpointRecord {
  return {
    id: r.id,
    partnerId: r.partner_id,
    url: r.url,
    active: r.active === 1,
    createdAt: r.created_at,
    createdBy: r.created_by,
    removedAt: r.removed_at,
    removedBy: r.removed_by,
  };
}

const DELIVERY_COLUMNS = `d.id, d.notification_id, n.event, n.partner_id, d.channel, d.target, d.status, d.attempts,
  d.next_attempt_at, d.last_error, d.last_status, d.response_excerpt, d.created_at, d.last_attempt_at, d.delivered_at`;

export function createSqliteNotificationsRepository(db: Db): NotificationsRepository {
  const insertNotification = db.prepare(`INSERT INTO notifications (id, event, partner_id, occurred_at, dedupe_key, data)
    VALUES (@id, @event, @partner_id, @occurred_at, @dedupe_key, @data) ON CONFLICT (dedupe_key) DO NOTHING`);
  const insertDelivery = db.prepare(`INSERT INTO notification_deliveries
    (id, notification_id, channel, target, endpoint_id, payload, status, attempts, next_attempt_at, created_at)
    VALUES (@id, @notification_id, @channel, @target, @endpoint_id, @payload, 'pending', 0, @next_attempt_at, @created_at)`);
  const due = db.prepare(`SELECT d.id, d.notification_id, n.event, n.partner_id, d.channel, d.target, d.endpoint_id,
      e.active AS endpoint_active, d.payload, d.attempts
    FROM notification_deliveries d
    JOIN notifications n ON n.id = d.notification_id
    LEFT JOIN webhook_endpoints e ON e.id = d.endpoint_id
    WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= @now
      AND (d.claimed_until IS NULL OR d.claimed_until <= @now)
    ORDER BY d.next_attempt_at, d.created_at, d.id
    LIMIT @limit`);
  const claim = db.prepare('UPDATE notification_deliveries SET claim_token = @token, claimed_until = @until WHERE id = @id');
  const record = db.prepare(`UPDATE notification_deliveries SET status = @status, attempts = @attempts,
      next_attempt_at = @next_attempt_at, last_error = @last_error, last_status = @last_status,
      response_excerpt = @response_excerpt, last_attempt_at = @at,
      delivered_at = CASE WHEN @status = 'delivered' THEN @at ELSE NULL END,
      claim_token = NULL, claimed_until = NULL
    WHERE id = @id AND claim_token = @token`);
  const getDelivery = db.prepare(`SELECT ${DELIVERY_COLUMNS} FROM notification_deliveries d
    JOIN notifications n ON n.id = d.notification_id WHERE d.id = ?`);
  const forPartner = db.prepare(`SELECT ${DELIVERY_COLUMNS} FROM notification_deliveries d
    JOIN notifications n ON n.id = d.notification_id WHERE n.partner_id = ?
    ORDER BY d.created_at DESC, d.id DESC LIMIT ?`);
  const forNotification = db.prepare(`SELECT ${DELIVERY_COLUMNS} FROM notification_deliveries d
    JOIN notifications n ON n.id = d.notification_id WHERE d.notification_id = ? ORDER BY d.channel, d.target, d.id`);
  const byDedupe = db.prepare('SELECT * FROM notifications WHERE dedupe_key = ?');
  const activeEndpoint = db.prepare('SELECT * FROM webhook_endpoints WHERE partner_id = ? AND active = 1');
  const getEndpoint = db.prepare('SELECT * FROM webhook_endpoints WHERE id = ?');
  const insertEndpoint = db.prepare(`INSERT INTO webhook_endpoints (id, partner_id, url, active, created_at, created_by)
    VALUES (@id, @partner_id, @url, 1, @created_at, @created_by)`);
  const removeEndpoint = db.prepare('UPDATE webhook_endpoints SET active = 0, removed_at = ?, removed_by = ? WHERE id = ? AND active = 1');

  return {
    async insertNotification(r) {
      const info = insertNotification.run({
        id: r.id,
        event: r.event,
        partner_id: r.partnerId,
        occurred_at: r.occurredAt,
        dedupe_key: r.dedupeKey,
        data: r.data,
      });
      return info.changes === 1;
    },
    async insertDelivery(r) {
      insertDelivery.run({
        id: r.id,
        notification_id: r.notificationId,
        channel: r.channel,
        target: r.target,
        endpoint_id: r.endpointId,
        payload: r.payload,
        next_attempt_at: r.nextAttemptAt,
        created_at: r.createdAt,
      });
    },
    async claimDue({ now, limit, claimToken, leaseUntil }) {
      const rows = due.all({ now, limit }) as ClaimRow[];
      return rows.map((r): ClaimedDelivery => {
        claim.run({ token: claimToken, until: leaseUntil, id: r.id });
        return {
          id: r.id,
          notificationId: r.notification_id,
          event: r.event as NotificationEvent,
          partnerId: r.partner_id,
          channel: r.channel as DeliveryChannel,
          target: r.target,
          endpointId: r.endpoint_id,
          endpointActive: r.endpoint_active === 1,
          payload: r.payload,
          attempts: r.attempts,
          claimToken,
        };
      });
    },
    async recordAttempt(id, claimToken, a) {
      const info = record.run({
        id,
        token: claimToken,
        status: a.status,
        attempts: a.attempts,
        next_attempt_at: a.nextAttemptAt,
        last_error: a.lastError,
        last_status: a.lastStatus,
        response_excerpt: a.responseExcerpt,
        at: a.at,
      });
      return info.changes === 1;
    },
    async getDelivery(id) {
      const r = getDelivery.get(id) as DeliveryRow | undefined;
      return r ? deliveryFromRow(r) : null;
    },
    async deliveriesForPartner(partnerId, limit) {
      return (forPartner.all(partnerId, limit) as DeliveryRow[]).map(deliveryFromRow);
    },
    async deliveriesForNotification(notificationId) {
      return (forNotification.all(notificationId) as DeliveryRow[]).map(deliveryFromRow);
    },
    async getNotificationByDedupeKey(key) {
      const r = byDedupe.get(key) as NotificationRow | undefined;
      if (!r) return null;
      return { id: r.id, event: r.event as NotificationEvent, partnerId: r.partner_id, occurredAt: r.occurred_at, dedupeKey: r.dedupe_key, data: r.data };
    },
    async activeEndpoint(partnerId) {
      const r = activeEndpoint.get(partnerId) as EndpointRow | undefined;
      return r ? endpointFromRow(r) : null;
    },
    async getEndpoint(id) {
      const r = getEndpoint.get(id) as EndpointRow | undefined;
      return r ? endpointFromRow(r) : null;
    },
    async insertEndpoint(r) {
      insertEndpoint.run({ id: r.id, partner_id: r.partnerId, url: r.url, created_at: r.createdAt, created_by: r.createdBy });
    },
    async removeEndpoint(id, at, by) {
      return removeEndpoint.run(at, by, id).changes === 1;
    },
  };
}
