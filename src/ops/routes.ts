/**
 * The ops area's staff pages, on the public listener:
 *
 *   GET /staff/inventory                     every route of both listeners with its policy (HTML)
 *   GET /staff/inventory.json                the same as JSON
 *   GET /staff/partners/:id/activity         one partner's API calls per day, errors, last seen, anomaly flags
 *
 * Staff only (an applicant or customer gets 403 auth.forbidden). Read-only, so GETs without CSRF.
 */
import { Router, type Request, type Response } from 'express';
import type Provider from 'oidc-provider';
import { requireStaff } from '../http/middleware/auth.js';
import { noStore, param } from '../partners/routes.js';
import { formatDate } from '../partners/view-models.js';
import { ANOMALY, type ActivityReport, type ActivityService } from './activity.js';
import { buildInventory, LISTENERS, type InventoryApps, type InventoryEntry } from './inventory.js';
import { AUTHENTICATIONS, policy } from './policy.js';

const STAFF_ROLES = ['reviewer', 'approver', 'admin'];

const LISTENER_TEXT = {
  public: 'Public listener (pages, OAuth front channel)',
  mtls: 'Mutual-TLS listener (OAuth back channel, bank APIs)',
} as const;

const AUTH_TEXT: Record<string, string> = {
  none: 'none',
  'sign-in-step': 'sign-in in progress',
  'session:applicant': 'applicant session',
  'session:staff': 'staff session',
  'session:customer': 'customer session',
  'session:any': 'any signed-in user',
  interaction: 'OAuth interaction (customer signs in on the page)',
  'mtls+bound-token': 'certificate-bound access token over mutual TLS',
  'mtls-client-auth': 'client authentication by QWAC (tls_client_auth)',
  'mtls+qwac': 'QWAC over mutual TLS, with a software statement (or the regulated fast lane)',
  'registration-access-token': 'registration access token over mutual TLS',
};

export interface InventoryRouterDeps {
  apps: () => InventoryApps;
  /** The authorization server once started (its endpoints are listed then); null or throwing before. */
  provider: () => Provider | null;
}

function currentProvider(get: () => Provider | null): Provider | null {
  try {
    return get();
  } catch {
    return null;
  }
}

function entryView(e: InventoryEntry) {
  return {
    method: e.method,
    path: e.path,
    auth: e.authentication,
    authText: AUTH_TEXT[e.authentication] ?? e.authentication,
    roles: e.roles.join(', '),
    scopes: e.scopes.join(' '),
    consent: e.consent ?? '',
    binding: e.tokenBinding,
    returns: e.returns,
    source: e.source,
  };
}

export function inventoryRouter(deps: InventoryRouterDeps): Router {
  const router = Router();
  const staffOnly = requireStaff();
  const build = () => buildInventory({ apps: deps.apps(), provider: currentProvider(deps.provider) });

  router.get(
    '/staff/inventory.json',
    policy({ auth: 'session:staff', returns: 'the API inventory as JSON: every route of both listeners with its policy' }),
    staffOnly,
    noStore,
    (_req: Request, res: Response) => {
      const inv = build();
      res.json({ generatedAt: new Date().toISOString(), providerListed: inv.providerListed, entries: inv.entries, undeclared: inv.undeclared });
    },
  );

  router.get(
    '/staff/inventory',
    policy({ auth: 'session:staff', returns: 'the API inventory page: every route of both listeners with its policy' }),
    staffOnly,
    noStore,
    (_req: Request, res: Response) => {
      const inv = build();
      res.render('staff/inventory', {
        title: 'API inventory',
        providerListed: inv.providerListed,
        listeners: LISTENERS.map((l) => ({
          id: l,
          text: LISTENER_TEXT[l],
          entries: inv.entries.filter((e) => e.listener === l).map(entryView),
        })),
        undeclared: inv.undeclared,
        totals: {
          routes: inv.entries.length,
          byAuth: AUTHENTICATIONS.map((a) => ({ auth: a, text: AUTH_TEXT[a] ?? a, n: inv.entries.filter((e) => e.authentication === a).length })).filter(
            (x) => x.n > 0,
          ),
        },
      });
    },
  );
  return router;
}

const percent = (r: number) => `${(r * 100).toFixed(r > 0 && r < 0.1 ? 1 : 0)} %`;

function activityView(r: ActivityReport) {
  const max = Math.max(1, ...r.days.map((d) => d.calls));
  return {
    partner: r.partner,
    now: formatDate(r.now),
    lastSeen: r.lastSeen ? formatDate(r.lastSeen) : 'never',
    today: r.today,
    baselineMean: r.baselineMean.toFixed(1),
    lastHour: r.lastHour,
    revokedConsentRecent: r.revokedConsentRecent,
    flags: r.flags,
    // Newest first; the bar is a width in percent of the busiest day (CSS only, no script).
    days: [...r.days].reverse().map((d) => ({
      day: d.day,
      calls: d.calls,
      clientErrors: d.clientErrors,
      serverErrors: d.serverErrors,
      authRefusals: d.authRefusals,
      errorRate: d.calls ? percent(d.errorRate) : '—',
      bar: Math.round((d.calls / max) * 100),
    })),
    routes: r.routes.map((x) => ({ method: x.method, route: x.key, calls: x.calls, clientErrors: x.clientErrors, serverErrors: x.serverErrors, errorRate: percent(x.errorRate), lastAt: formatDate(x.lastAt) })),
    clients: r.clients.map((x) => ({ client: x.key === '-' ? 'refused before a token was accepted' : x.key, calls: x.calls, errorRate: percent(x.errorRate), lastAt: formatDate(x.lastAt) })),
    rules: [
      `Spike: today's calls above ${ANOMALY.spikeFactor} × the partner's mean of the ${ANOMALY.baselineDays} days before, and above ${ANOMALY.spikeMinCalls}.`,
      `Burst of refusals: more than ${ANOMALY.burstMaxRefusals} answers 401/403 in the last hour, or more than ${ANOMALY.burstMaxShare * 100} % of the hour's calls (from ${ANOMALY.burstMinCalls} calls).`,
      `Revoked consents: any call in the last ${ANOMALY.revokedWindowHours} hours refused because the customer's consent was revoked or expired.`,
    ],
  };
}

export function activityRouter(deps: { activity: ActivityService }): Router {
  const router = Router();
  router.get(
    '/staff/partners/:id/activity',
    policy({
      auth: 'session:staff',
      roles: STAFF_ROLES,
      returns: "one partner's API calls per day, error rates, last seen, by route and client, anomaly flags",
    }),
    requireStaff('reviewer', 'approver', 'admin'),
    noStore,
    async (req: Request, res: Response) => {
      const report = await deps.activity.report(param(req, 'id'));
      if (req.accepts(['html', 'json']) === 'json') {
        res.json(report);
        return;
      }
      res.render('staff/activity', { title: `API activity: ${report.partner.legalName}`, a: activityView(report) });
    },
  );
  return router;
}
