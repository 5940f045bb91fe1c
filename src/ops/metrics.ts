/**
 * Prometheus metrics, on a registry of our own (served by the ops listener only, src/ops/server.ts).
 *
 *   portal_http_requests_total{listener,route,method,status,client}   every request, counted when it ends
 *   portal_http_request_duration_seconds{listener,route,method,client} its latency
 *   portal_tokens_issued_total{grant_type}                             access tokens, from oidc-provider's events
 *   portal_registrations_total{outcome}                                client registrations, from audit events
 *   portal_certificate_validations_total{finding}                      certificate reports, from audit events
 *   portal_monitor_actions_total{action}                               the lifecycle monitor's actions, from audit events
 *   portal_consents{state}                                             consents by state, counted at scrape time
 *   plus prom-client's default process metrics (portal_process_*, portal_nodejs_*)
 *
 * Label values are bounded on purpose (docs/operations.md): `route` is a pattern of the route table (the Express
 * route, or an inventory pattern for requests no route answered), `(static)`, or `(unmatched)`, never the URL;
 * `method` is one of a fixed list or `OTHER`; `status` is the numeric code or `aborted`; `client` is an OAuth
 * client id only when a bound token was accepted (so bounded by the registered clients), else `-`; the event
 * labels come from fixed lists, anything else is `other`.
 */
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import type Provider from 'oidc-provider';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuditEvent } from '../audit/service.js';
import { CONSENT_STATUSES } from '../consent/types.js';
import { FINDING_CODES } from '../eidas/findings.js';
import { ACTION_KINDS } from '../monitor/types.js';
import { listApp, RouteMatcher, type ListenerName } from './inventory.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const FINDINGS: ReadonlySet<string> = new Set(FINDING_CODES);
const MONITOR_ACTIONS: ReadonlySet<string> = new Set(ACTION_KINDS);
const GRANT_TYPES = ['client_credentials', 'authorization_code', 'refresh_token', 'other'] as const;
const REGISTRATION_OUTCOMES: Readonly<Record<string, string>> = {
  'oauth.client.registered': 'registered',
  'oauth.client.updated': 'updated',
  'oauth.client.deleted': 'deleted',
  'oauth.registration.refused': 'refused',
};
export const UNMATCHED_ROUTE = '(unmatched)';
export const STATIC_ROUTE = '(static)';

export interface PortalMetrics {
  readonly registry: Registry;
  /** Counts and times every request of one listener's app: mount it first in the app's stack. */
  requestMetrics(listener: ListenerName): RequestHandler;
  /** Feeds the event counters from one audit event (subscribe with `audit.onRecorded`). */
  observeAudit(event: Pick<AuditEvent, 'action' | 'data'>): void;
  /** One access token issued, by grant type (see `instrumentProvider`). */
  tokenIssued(grantType: string): void;
  /** The exposition text (what GET /metrics answers). */
  text(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsDeps {
  /** Consents by status, read-only, at scrape time (src/store/sqlite/activity.ts `consentCounts`). */
  consentCounts: () => Record<string, number>;
  /** The authorization server once started: its endpoints become route patterns for requests it answers. */
  provider?: () => Provider | null;
  /** prom-client's process metrics (default on). */
  defaultMetrics?: boolean;
}

interface MatcherCacheEntry {
  matcher: RouteMatcher;
  withProvider: boolean;
}

export function createMetrics(deps: MetricsDeps): PortalMetrics {
  const registry = new Registry();
  if (deps.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'portal_' });

  const requests = new Counter({
    name: 'portal_http_requests_total',
    help: 'HTTP requests by listener, route pattern, method, status and OAuth client (bound-token API calls only, else -).',
    labelNames: ['listener', 'route', 'method', 'status', 'client'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'portal_http_request_duration_seconds',
    help: 'HTTP request latency by listener, route pattern, method and OAuth client.',
    labelNames: ['listener', 'route', 'method', 'client'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const tokens = new Counter({
    name: 'portal_tokens_issued_total',
    help: 'Access tokens issued by the authorization server, by grant type.',
    labelNames: ['grant_type'] as const,
    registers: [registry],
  });
  const registrations = new Counter({
    name: 'portal_registrations_total',
    help: 'Dynamic client registration outcomes (registered, updated, deleted, refused).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const validations = new Counter({
    name: 'portal_certificate_validations_total',
    help: 'Audited certificate validations by error finding (none: no error finding); one per finding.',
    labelNames: ['finding'] as const,
    registers: [registry],
  });
  const monitorActions = new Counter({
    name: 'portal_monitor_actions_total',
    help: 'Actions of the lifecycle monitor (alert: an alert opened).',
    labelNames: ['action'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'portal_consents',
    help: 'Consents by state, counted at scrape time.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const counts = deps.consentCounts();
      for (const state of CONSENT_STATUSES) this.set({ state }, counts[state] ?? 0);
    },
  });
  // Known series start at zero, so that rate() and absent() work from the first scrape.
  for (const g of GRANT_TYPES) tokens.inc({ grant_type: g }, 0);
  for (const o of Object.values(REGISTRATION_OUTCOMES)) registrations.inc({ outcome: o }, 0);
  for (const a of [...ACTION_KINDS, 'alert']) monitorActions.inc({ action: a }, 0);

  const matchers = new WeakMap<Express, MatcherCacheEntry>();
  const currentProvider = (): Provider | null => {
    try {
      return deps.provider?.() ?? null;
    } catch {
      return null; // not started yet
    }
  };
  /** The app's route patterns, rebuilt once when the provider starts (its endpoints join then). */
  function matcherFor(app: Express, listener: ListenerName): RouteMatcher {
    const provider = currentProvider();
    const cached = matchers.get(app);
    if (cached && (cached.withProvider || !provider)) return cached.matcher;
    const { entries, undeclared } = listApp(app, listener, provider);
    const matcher = new RouteMatcher([...entries, ...undeclared]);
    matchers.set(app, { matcher, withProvider: provider !== null });
    return matcher;
  }

  function routeLabel(req: Request, listener: ListenerName, method: string): string {
    const route = req.route as { path?: unknown } | undefined;
    // The common case: a route of a router mounted at the root; its pattern is the label as it is.
    if (route && typeof route.path === 'string' && (req.baseUrl ?? '') === '') return route.path;
    const path = (req.originalUrl ?? req.url ?? '/').split('?')[0]!;
    if (path.startsWith('/static/')) return STATIC_ROUTE;
    if (!req.app) return UNMATCHED_ROUTE;
    try {
      return matcherFor(req.app as Express, listener).match(method, path) ?? UNMATCHED_ROUTE;
    } catch {
      return UNMATCHED_ROUTE;
    }
  }

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),

    requestMetrics(listener) {
      return (req: Request, res: Response, next: NextFunction) => {
        const started = process.hrtime.bigint();
        res.once('close', () => {
          const method = METHODS.has(req.method) ? req.method : 'OTHER';
          const route = routeLabel(req, listener, method);
          const status = res.writableFinished ? String(res.statusCode) : 'aborted';
          const oauth = res.locals.oauth as { clientId?: unknown } | undefined;
          const client = listener === 'mtls' && typeof oauth?.clientId === 'string' ? oauth.clientId : '-';
          requests.inc({ listener, route, method, status, client });
          duration.observe({ listener, route, method, client }, Number(process.hrtime.bigint() - started) / 1e9);
        });
        next();
      };
    },

    observeAudit(event) {
      const outcome = REGISTRATION_OUTCOMES[event.action];
      if (outcome) registrations.inc({ outcome });
      if (event.action.startsWith('monitor.')) {
        const kind = event.action.slice('monitor.'.length);
        if (MONITOR_ACTIONS.has(kind)) monitorActions.inc({ action: kind });
        else if (event.action === 'monitor.alert.opened') monitorActions.inc({ action: 'alert' });
      }
      // Any event carrying a certificate report's verdict and error findings (application.certificate.uploaded).
      const data = event.data as Record<string, unknown>;
      if ((data.verdict === 'pass' || data.verdict === 'fail') && Array.isArray(data.findings)) {
        const codes = data.findings.filter((f): f is string => typeof f === 'string');
        if (codes.length === 0) validations.inc({ finding: 'none' });
        for (const code of new Set(codes)) validations.inc({ finding: FINDINGS.has(code) ? code : 'other' });
      }
    },

    tokenIssued(grantType) {
      tokens.inc({ grant_type: (GRANT_TYPES as readonly string[]).includes(grantType) ? grantType : 'other' });
    },
  };
}

/** The grant an access token came from: oidc-provider keeps it in `gty` ("authorization_code refresh_token" after a refresh). */
function grantOf(token: { gty?: unknown }): string {
  const gty = typeof token.gty === 'string' ? token.gty.split(' ') : [];
  if (gty.includes('refresh_token')) return 'refresh_token';
  return gty[0] ?? 'other';
}

/**
 * Counts access tokens as oidc-provider issues them: opaque ones emit `*.saved`, JWTs (for the API audience)
 * `*.issued`. Returns the function that detaches the listeners.
 */
export function instrumentProvider(provider: Provider, metrics: Pick<PortalMetrics, 'tokenIssued'>): () => void {
  const onAccess = (token: { gty?: unknown }) => metrics.tokenIssued(grantOf(token));
  const onClient = () => metrics.tokenIssued('client_credentials');
  const events: [string, (...args: never[]) => void][] = [
    ['access_token.saved', onAccess],
    ['access_token.issued', onAccess],
    ['client_credentials.saved', onClient],
    ['client_credentials.issued', onClient],
  ];
  const emitter = provider as unknown as { on(e: string, f: (...a: never[]) => void): void; off(e: string, f: (...a: never[]) => void): void };
  for (const [event, fn] of events) emitter.on(event, fn);
  return () => {
    for (const [event, fn] of events) emitter.off(event, fn);
  };
}
