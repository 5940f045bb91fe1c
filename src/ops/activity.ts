/**
 * Per-partner API activity: every call to a bank API on the mutual-TLS listener (routes whose policy is
 * `mtls+bound-token`) is counted by partner, client, route pattern, status and refusal reason, per minute.
 *
 * Recording is cheap: the recorder adds one to an in-memory map when the response finishes, and writes the map
 * in one transaction every `flushMs` (default 5 s) or once `maxPending` combinations wait (docs/operations.md
 * has the measurement against one INSERT per call). A crash loses at most the unflushed seconds.
 *
 * Attribution: the bound token's client and partner when the token guard accepted the call; otherwise (a
 * refused token) the partner whose organizationIdentifier the presented client certificate names, with client
 * `-`. A call neither names is not counted here (the metrics still count it).
 *
 * Anomaly flags, from the partner's own history (thresholds in ANOMALY):
 *   spike            today's calls > 3 × the mean of the 7 days before (days without calls count as 0) and > 50
 *   auth_burst       in the last hour, more than 20 answers 401/403, or more than 30 % of at least 10 calls
 *   revoked_consent  in the last 24 hours, calls refused because the consent was revoked or expired
 *                    (403 consent.revoked/consent.expired, or 401 because the grant behind the token was revoked)
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import { presentedCertificate } from '../oauth/client-certificate.js';
import type { PartnersService } from '../partners/types.js';
import type { Transactor } from '../store/transaction.js';
import { policyOf } from './policy.js';
import { REVOKED_CONSENT_REASONS, type ActivityBreakdown, type ActivityCount, type ActivityRepository } from './repository.js';

export const ANOMALY = {
  spikeFactor: 3,
  spikeMinCalls: 50,
  baselineDays: 7,
  burstMaxRefusals: 20,
  burstMaxShare: 0.3,
  /** Below this many calls in the hour the share rule does not apply (one refused call is not a burst). */
  burstMinCalls: 10,
  revokedWindowHours: 24,
} as const;

/** How long activity rows are kept (the page shows 30 days; the baseline needs 7). */
export const RETENTION_DAYS = 35;
export const PAGE_DAYS = 30;

const REASON = /^[a-z][a-z0-9_.]{0,63}$/i;

export function minuteOf(d: Date): string {
  return d.toISOString().slice(0, 16);
}

export function dayOf(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** The refusal code of an error body: `{ error }` (OAuth, consent guard) or `{ code }` (problem details). */
export function reasonOf(status: number, body: unknown, guardCheck?: unknown): string {
  if (status < 400 || body === null || typeof body !== 'object') return '';
  // The token guard names its failed check (src/oauth/guard.ts): grant.active means the grant behind the token
  // was revoked (a revoked or expired consent, a replayed code).
  if (status === 401 && guardCheck === 'grant.active') return 'token.grant_revoked';
  const b = body as { error?: unknown; code?: unknown };
  const code = typeof b.error === 'string' ? b.error : typeof b.code === 'string' ? b.code : '';
  return REASON.test(code) ? code : code === '' ? '' : 'other';
}

export interface ActivityRecorder {
  /** Mount on the mutual-TLS app, before the routes. */
  middleware: RequestHandler;
  /** Writes what waits (the page calls it before reading). */
  flush(): Promise<void>;
  /** Periodic flushing (timer unref'd). */
  start(): void;
  /** Stops the timer and flushes. */
  stop(): Promise<void>;
  /** Combinations waiting to be written. */
  pending(): number;
}

export interface ActivityRecorderDeps {
  repo: ActivityRepository;
  tx: Transactor;
  partners: Pick<PartnersService, 'partnerForOrganization'>;
  logger?: Logger;
  now?: () => Date;
  flushMs?: number;
  maxPending?: number;
}

export function createActivityRecorder(deps: ActivityRecorderDeps): ActivityRecorder {
  const now = deps.now ?? (() => new Date());
  const flushMs = deps.flushMs ?? 5000;
  const maxPending = deps.maxPending ?? 500;
  let waiting = new Map<string, ActivityCount>();
  let flushing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  let lastPrune = 0;
  // organizationIdentifier → partner id, for refused calls; a minute is fresh enough for attribution.
  const orgs = new Map<string, { partnerId: string | null; at: number }>();

  async function partnerOfOrg(org: string): Promise<string | null> {
    const hit = orgs.get(org);
    if (hit && Date.now() - hit.at < 60_000) return hit.partnerId;
    const partner = await deps.partners.partnerForOrganization(org);
    if (orgs.size >= 1000) orgs.clear();
    orgs.set(org, { partnerId: partner?.id ?? null, at: Date.now() });
    return partner?.id ?? null;
  }

  function count(c: Omit<ActivityCount, 'calls'>): void {
    const key = [c.partnerId, c.minute, c.clientId, c.method, c.route, c.status, c.reason].join('\u0000');
    const hit = waiting.get(key);
    if (hit) {
      hit.calls += 1;
      if (c.lastAt > hit.lastAt) hit.lastAt = c.lastAt;
    } else {
      waiting.set(key, { ...c, calls: 1 });
    }
    if (waiting.size >= maxPending) void flush();
  }

  function flush(): Promise<void> {
    flushing = flushing.then(async () => {
      if (waiting.size === 0) return;
      const batch = [...waiting.values()];
      waiting = new Map();
      const at = now();
      try {
        await deps.tx.run(async () => {
          await deps.repo.add(batch);
          if (at.getTime() - lastPrune > 3_600_000) {
            lastPrune = at.getTime();
            await deps.repo.prune(minuteOf(new Date(at.getTime() - RETENTION_DAYS * 86_400_000)));
          }
        });
      } catch (err) {
        // Counts are not worth failing requests for; put them back for the next try.
        deps.logger?.warn({ err }, 'API activity not written; retrying with the next flush');
        for (const c of batch) {
          const key = [c.partnerId, c.minute, c.clientId, c.method, c.route, c.status, c.reason].join('\u0000');
          const hit = waiting.get(key);
          if (hit) hit.calls += c.calls;
          else waiting.set(key, c);
        }
      }
    });
    return flushing;
  }

  const middleware: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    let reason = '';
    const json = res.json.bind(res);
    res.json = (body: unknown) => {
      if (res.statusCode >= 400) reason = reasonOf(res.statusCode, body, res.locals.oauthRefusal);
      return json(body);
    };
    res.once('finish', () => {
      const route = req.route as { path?: unknown; stack?: { handle: unknown }[] } | undefined;
      if (!route || policyOf(route.stack?.[0]?.handle)?.auth !== 'mtls+bound-token') return;
      const at = now();
      const oauth = res.locals.oauth as { clientId?: string; partnerId?: string } | undefined;
      const base = {
        minute: minuteOf(at),
        method: req.method,
        route: `${req.baseUrl ?? ''}${String(route.path)}`.slice(0, 200),
        status: res.statusCode,
        reason: reason.slice(0, 64),
        lastAt: at.toISOString(),
      };
      if (oauth?.partnerId && oauth.clientId) {
        count({ ...base, partnerId: oauth.partnerId, clientId: oauth.clientId });
        return;
      }
      const org = presentedCertificate(req)?.report.organizationIdentifier?.raw;
      if (!org) return;
      partnerOfOrg(org).then(
        (partnerId) => {
          if (partnerId) count({ ...base, partnerId, clientId: '-' });
        },
        (err: unknown) => deps.logger?.warn({ err }, 'API activity: partner lookup failed'),
      );
    });
    next();
  };

  return {
    middleware,
    flush,
    start() {
      if (timer) return;
      timer = setInterval(() => void flush(), flushMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await flush();
    },
    pending: () => waiting.size,
  };
}

// --- the report -----------------------------------------------------------------------------------------

export interface AnomalyFlag {
  kind: 'spike' | 'auth_burst' | 'revoked_consent';
  text: string;
}

export interface AnomalyFacts {
  today: number;
  /** Calls on each of the baseline days before today (missing days count as 0). */
  baseline: number[];
  lastHour: { calls: number; authRefusals: number };
  revokedConsentRecent: number;
}

/** The flags a partner's facts raise (pure: tested with made-up facts and through the page). */
export function anomalyFlags(f: AnomalyFacts): AnomalyFlag[] {
  const flags: AnomalyFlag[] = [];
  const mean = f.baseline.reduce((a, b) => a + b, 0) / ANOMALY.baselineDays;
  if (f.today > ANOMALY.spikeMinCalls && f.today > ANOMALY.spikeFactor * mean) {
    flags.push({
      kind: 'spike',
      text: `${f.today} calls today, against a mean of ${mean.toFixed(1)} a day over the ${ANOMALY.baselineDays} days before (more than ${ANOMALY.spikeFactor} times, and more than ${ANOMALY.spikeMinCalls}).`,
    });
  }
  const { calls, authRefusals } = f.lastHour;
  const share = calls > 0 ? authRefusals / calls : 0;
  if (authRefusals > ANOMALY.burstMaxRefusals || (calls >= ANOMALY.burstMinCalls && share > ANOMALY.burstMaxShare)) {
    flags.push({
      kind: 'auth_burst',
      text: `${authRefusals} of ${calls} calls in the last hour were refused with 401 or 403 (${Math.round(share * 100)} %).`,
    });
  }
  if (f.revokedConsentRecent > 0) {
    flags.push({
      kind: 'revoked_consent',
      text: `${f.revokedConsentRecent} call(s) in the last ${ANOMALY.revokedWindowHours} hours used a consent the customer revoked or that expired.`,
    });
  }
  return flags;
}

export interface ActivityReport {
  partner: { id: string; legalName: string; status: string; organizationIdentifier: string | null };
  now: string;
  lastSeen: string | null;
  days: { day: string; calls: number; clientErrors: number; serverErrors: number; authRefusals: number; errorRate: number }[];
  today: number;
  baselineMean: number;
  lastHour: { calls: number; authRefusals: number; revokedConsent: number };
  revokedConsentRecent: number;
  routes: (ActivityBreakdown & { errorRate: number })[];
  clients: (ActivityBreakdown & { errorRate: number })[];
  flags: AnomalyFlag[];
}

export interface ActivityService {
  report(partnerId: string): Promise<ActivityReport>;
}

export function createActivityService(deps: {
  repo: ActivityRepository;
  partners: Pick<PartnersService, 'getPartner'>;
  /** Flushed before reading, so the page includes the last seconds. */
  recorder?: Pick<ActivityRecorder, 'flush'>;
  now?: () => Date;
}): ActivityService {
  const now = deps.now ?? (() => new Date());
  const rate = (b: { calls: number; clientErrors: number; serverErrors: number }) => (b.calls > 0 ? (b.clientErrors + b.serverErrors) / b.calls : 0);
  return {
    async report(partnerId) {
      const partner = await deps.partners.getPartner(partnerId);
      if (!partner) throw new NotFoundError('No such partner.');
      await deps.recorder?.flush();
      const at = now();
      const ms = at.getTime();
      const dayStart = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
      const dayAt = (offset: number) => dayOf(new Date(dayStart - offset * 86_400_000));
      const from = dayAt(PAGE_DAYS - 1);
      const rows = new Map((await deps.repo.daily(partnerId, from)).map((d) => [d.day, d]));
      const days = Array.from({ length: PAGE_DAYS }, (_, i) => {
        const day = dayAt(PAGE_DAYS - 1 - i);
        const d = rows.get(day) ?? { day, calls: 0, clientErrors: 0, serverErrors: 0, authRefusals: 0 };
        return { ...d, errorRate: rate(d) };
      });
      const today = rows.get(dayAt(0))?.calls ?? 0;
      const baseline = Array.from({ length: ANOMALY.baselineDays }, (_, i) => rows.get(dayAt(i + 1))?.calls ?? 0);
      // The last 60 minutes: this minute and the 59 before it.
      const lastHour = await deps.repo.window(partnerId, minuteOf(new Date(ms - 59 * 60_000)));
      const recent = await deps.repo.window(partnerId, minuteOf(new Date(ms - ANOMALY.revokedWindowHours * 3_600_000 + 60_000)));
      const week = minuteOf(new Date(dayStart - (ANOMALY.baselineDays - 1) * 86_400_000));
      const [routes, clients, lastSeen] = await Promise.all([
        deps.repo.byRoute(partnerId, week),
        deps.repo.byClient(partnerId, week),
        deps.repo.lastSeen(partnerId),
      ]);
      return {
        partner: { id: partner.id, legalName: partner.legalName, status: partner.status, organizationIdentifier: partner.organizationIdentifier ?? null },
        now: at.toISOString(),
        lastSeen,
        days,
        today,
        baselineMean: baseline.reduce((a, b) => a + b, 0) / ANOMALY.baselineDays,
        lastHour,
        revokedConsentRecent: recent.revokedConsent,
        routes: routes.map((r) => ({ ...r, errorRate: rate(r) })),
        clients: clients.map((c) => ({ ...c, errorRate: rate(c) })),
        flags: anomalyFlags({ today, baseline, lastHour, revokedConsentRecent: recent.revokedConsent }),
      };
    },
  };
}

export { REVOKED_CONSENT_REASONS };
