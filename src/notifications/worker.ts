/**
 * The outbox worker: each `tick` delivers the deliveries that are due, a batch at a time.
 *
 * Never inside a transaction while talking to the network: due rows are claimed (leased) in one short
 * `tx.run`, sent outside it, and each result is recorded in another. A lease that ends (a crash mid-send)
 * makes the row due again, so delivery is at least once: receivers drop duplicates by the delivery id.
 *
 * Failures retry with exponential backoff and jitter (30 s, 2 min, 10 min, 1 h, 6 h, each plus up to 20 %),
 * then the delivery is dead. A refusal that retrying cannot fix (a URL or address the SSRF rules refuse, an
 * endpoint removed since) is dead at once. What is kept of an attempt is safe words, the HTTP status and a
 * short printable excerpt of the answer, never more.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';
import { createSqliteNotificationsRepository } from '../store/sqlite/notifications.js';
import type { Transactor } from '../store/transaction.js';
import { createWebhookFetch, WebhookSendError, type WebhookFetch } from './http.js';
import type { WebhookKeys } from './keys.js';
import { safeMailError, type Mailer } from './mailer.js';
import type { AttemptResult, ClaimedDelivery, NotificationsRepository } from './repository.js';

/** Delay after the 1st, 2nd, … failed attempt; one more failure after the last one is final. */
export const RETRY_DELAYS_MS = [30_000, 120_000, 600_000, 3_600_000, 21_600_000] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
/** Up to this fraction is added to each delay, so that receivers that failed together are not retried together. */
export const RETRY_JITTER = 0.2;

export const WORKER_DEFAULTS = {
  batchSize: 20,
  timeoutMs: 5000,
  /** Bytes of a webhook answer read at all. */
  maxResponseBytes: 4096,
  excerptChars: 200,
  /** How long a claimed row is held; longer than one send can take. */
  leaseMs: 60_000,
} as const;

export interface TickResult {
  claimed: number;
  delivered: number;
  failed: number;
  dead: number;
}

export interface NotificationWorker {
  /** Delivers what is due now (at most one batch). Ticks never overlap: a second call waits for the first. */
  tick(): Promise<TickResult>;
  /** Ticks every `intervalMs` (the timer does not keep the process alive). */
  start(intervalMs: number): void;
  /** Stops the timer and waits for a running tick. */
  stop(): Promise<void>;
  /**
   * Adds a step each tick runs before delivering: another area's outbox handing its messages to this one (the
   * consent receipts). A step that fails is logged and does not stop the deliveries.
   */
  feed(step: () => Promise<unknown>): void;
}

export interface NotificationWorkerDeps {
  db: Db;
  tx: Transactor;
  keys: WebhookKeys;
  /** Null: e-mail deliveries (none are queued without a mailer) would be dead with a clear error. */
  mailer: Mailer | null;
  logger: Logger;
  /** Loopback and private addresses may be webhook targets outside production only. */
  env: 'development' | 'test' | 'production';
  now?: () => Date;
  /** The webhook transport; default the SSRF-guarded HTTPS client (http.ts). */
  fetch?: WebhookFetch;
  /** Extra CA certificates (PEM) the default transport trusts, e.g. the dev root in development. */
  webhookCa?: string | Buffer;
  /** [0, 1) source for the jitter; default Math.random. */
  random?: () => number;
  batchSize?: number;
  timeoutMs?: number;
  repository?: NotificationsRepository;
}

/** When attempt number `attempts` (1-based) failed: the next attempt's time, or null when none is left. */
export function nextAttemptAfter(attempts: number, at: Date, random: () => number): Date | null {
  const base = RETRY_DELAYS_MS[attempts - 1];
  if (base === undefined) return null;
  return new Date(at.getTime() + Math.round(base * (1 + RETRY_JITTER * Math.min(Math.max(random(), 0), 1))));
}

/** At most `max` printable characters of an answer (control characters and invalid UTF-8 replaced). */
export function excerpt(body: Uint8Array, max: number): string | null {
  if (body.length === 0) return null;
  // eslint-disable-next-line no-control-regex
  const text = Buffer.from(body).toString('utf8').replace(/[\u0000-\u0008\u000b-\u001f\u007f\ufffd]/g, '?').replace(/\s+/g, ' ').trim();
  if (text === '') return null;
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

type Outcome =
  | { kind: 'delivered'; status: number | null; excerpt: string | null }
  | { kind: 'retry'; error: string; status: number | null; excerpt: string | null }
  | { kind: 'dead'; error: string; status: number | null; excerpt: string | null };

export function createNotificationWorker(deps: NotificationWorkerDeps): NotificationWorker {
  const { tx, keys, mailer, logger } = deps;
  const repo = deps.repository ?? createSqliteNotificationsRepository(deps.db);
  const now = deps.now ?? (() => new Date());
  const random = deps.random ?? Math.random;
  const batchSize = deps.batchSize ?? WORKER_DEFAULTS.batchSize;
  const timeoutMs = deps.timeoutMs ?? WORKER_DEFAULTS.timeoutMs;
  const send: WebhookFetch =
    deps.fetch ?? createWebhookFetch({ allowPrivateNetworks: deps.env !== 'production', ...(deps.webhookCa ? { ca: deps.webhookCa } : {}) });

  async function deliverWebhook(d: ClaimedDelivery): Promise<Outcome> {
    if (!d.endpointActive) return { kind: 'dead', error: 'the webhook endpoint was removed', status: null, excerpt: null };
    const body = Buffer.from(d.payload, 'utf8');
    const signature = await keys.sign(body, now());
    try {
      const res = await send({
        url: d.target,
        body,
        headers: {
          'Content-Type': 'application/json',
          'X-Portal-Signature': signature,
          'X-Portal-Event': d.event,
          'X-Portal-Delivery': d.id,
        },
        timeoutMs,
        maxResponseBytes: WORKER_DEFAULTS.maxResponseBytes,
      });
      const ex = excerpt(res.body, WORKER_DEFAULTS.excerptChars);
      if (res.status >= 200 && res.status < 300) return { kind: 'delivered', status: res.status, excerpt: ex };
      const error = res.status >= 300 && res.status < 400 ? `HTTP ${res.status} (redirects are not followed)` : `HTTP ${res.status}`;
      return { kind: 'retry', error, status: res.status, excerpt: ex };
    } catch (err) {
      if (err instanceof WebhookSendError) {
        return { kind: err.permanent ? 'dead' : 'retry', error: err.message, status: null, excerpt: null };
      }
      logger.warn({ err, delivery: d.id }, 'notifications: webhook transport failed');
      return { kind: 'retry', error: 'the request failed', status: null, excerpt: null };
    }
  }

  async function deliverEmail(d: ClaimedDelivery): Promise<Outcome> {
    if (!mailer) return { kind: 'dead', error: 'e-mail is not configured (SMTP_URL)', status: null, excerpt: null };
    const { subject, text } = JSON.parse(d.payload) as { subject: string; text: string };
    try {
      await mailer.send({ id: d.id, to: d.target, subject, text, headers: { 'X-Portal-Event': d.event } });
      return { kind: 'delivered', status: null, excerpt: null };
    } catch (err) {
      logger.warn({ delivery: d.id, code: (err as { code?: unknown } | null)?.code }, 'notifications: e-mail not sent');
      return { kind: 'retry', error: safeMailError(err), status: null, excerpt: null };
    }
  }

  function resultOf(d: ClaimedDelivery, o: Outcome, at: Date): AttemptResult {
    const attempts = d.attempts + 1;
    const common = { attempts, at: at.toISOString(), lastStatus: o.status, responseExcerpt: o.excerpt };
    if (o.kind === 'delivered') return { ...common, status: 'delivered', nextAttemptAt: null, lastError: null };
    const next = o.kind === 'retry' ? nextAttemptAfter(attempts, at, random) : null;
    if (next === null) return { ...common, status: 'dead', nextAttemptAt: null, lastError: o.error };
    return { ...common, status: 'failed', nextAttemptAt: next.toISOString(), lastError: o.error };
  }

  const feeds: (() => Promise<unknown>)[] = [];

  async function runTick(): Promise<TickResult> {
    for (const step of feeds) {
      await step().catch((err: unknown) => logger.error({ err }, 'notifications: a feed step failed'));
    }
    const claimToken = randomUUID();
    const start = now();
    const claimed = await tx.run(() =>
      repo.claimDue({
        now: start.toISOString(),
        limit: batchSize,
        claimToken,
        leaseUntil: new Date(start.getTime() + WORKER_DEFAULTS.leaseMs).toISOString(),
      }),
    );
    const result: TickResult = { claimed: claimed.length, delivered: 0, failed: 0, dead: 0 };
    // One at a time: a batch is small, and a slow receiver must not hold many sockets open.
    for (const d of claimed) {
      const outcome = d.channel === 'webhook' ? await deliverWebhook(d) : await deliverEmail(d);
      const r = resultOf(d, outcome, now());
      const kept = await tx.run(() => repo.recordAttempt(d.id, claimToken, r));
      if (!kept) {
        logger.warn({ delivery: d.id }, 'notifications: lease lost before the result was recorded');
        continue;
      }
      if (r.status === 'delivered') result.delivered += 1;
      else if (r.status === 'dead') {
        result.dead += 1;
        logger.warn({ delivery: d.id, channel: d.channel, event: d.event, attempts: r.attempts, error: r.lastError }, 'notifications: delivery dead');
      } else result.failed += 1;
    }
    return result;
  }

  // Ticks run one after the other: a tick called while another runs starts when that one ends.
  let tail: Promise<unknown> = Promise.resolve();
  let pending = 0;
  let timer: NodeJS.Timeout | null = null;

  function tick(): Promise<TickResult> {
    pending += 1;
    const p = tail.then(runTick).finally(() => {
      pending -= 1;
    });
    tail = p.catch(() => undefined);
    return p;
  }

  return {
    tick,
    start(intervalMs) {
      if (timer) return;
      if (!Number.isInteger(intervalMs) || intervalMs < 1) throw new RangeError('notifications: intervalMs must be a positive integer');
      timer = setInterval(() => {
        // A tick still running is not queued behind: the next interval will find the rows.
        if (pending > 0) return;
        tick().catch((err: unknown) => logger.error({ err }, 'notifications: tick failed'));
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await tail;
    },
    feed(step) {
      feeds.push(step);
    },
  };
}
