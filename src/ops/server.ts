/**
 * The ops listener: HTTPS with the portal's own certificate, bound to OPS_HOST (default 127.0.0.1) on OPS_PORT
 * (default 3445), serving exactly three paths and nothing else:
 *
 *   GET /metrics   Prometheus text exposition (src/ops/metrics.ts)
 *   GET /livez     the process serves requests (always 200 while it does)
 *   GET /readyz    200 when the database answers, both listeners listen, the signing keys are loaded and the
 *                  authorization server is started (plus the health service's checks); 503 with the failing
 *                  checks otherwise
 *
 * It is a listener of its own, not a path on the public or mutual-TLS ones, because those face customers and
 * partners: metrics name routes, clients and volumes, which are nobody's business outside the bank. On
 * loopback by default, it is reachable by a local scraper or a sidecar only; exposing it is a deliberate
 * OPS_HOST change behind the bank's network controls (docs/operations.md).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { HealthCheck, HealthService } from '../health/service.js';
import type { TlsMaterial } from '../server/listeners.js';
import type { PortalMetrics } from './metrics.js';

export interface ReadinessReport {
  status: 'ok' | 'fail';
  checks: HealthCheck[];
}

export interface ReadinessDeps {
  health: Pick<HealthService, 'report'>;
  /** The portal's listeners: ready once both listen. */
  listeners: () => { public: { listening: boolean } | null; mtls: { listening: boolean } | null };
  /** How many token-signing keys are loaded. */
  signingKeys: () => number;
  /** True once the authorization server is built (after listen). */
  providerStarted: () => boolean;
}

/** Readiness: the health service's checks (database, trust profile) and the ops-specific ones. */
export function readiness(deps: ReadinessDeps): () => ReadinessReport {
  return () => {
    const checks: HealthCheck[] = [];
    try {
      checks.push(...deps.health.report().checks);
    } catch (err) {
      checks.push({ name: 'Health', status: 'fail', detail: `the health report failed: ${err instanceof Error ? err.message : String(err)}` });
    }
    const l = deps.listeners();
    for (const [name, server] of [['Public listener', l.public], ['Mutual-TLS listener', l.mtls]] as const) {
      const up = server?.listening === true;
      checks.push({ name, status: up ? 'ok' : 'fail', detail: up ? 'listening' : 'not listening' });
    }
    let keys: number;
    try {
      keys = deps.signingKeys();
    } catch {
      keys = 0;
    }
    checks.push({ name: 'Signing keys', status: keys > 0 ? 'ok' : 'fail', detail: `${keys} token-signing key(s) loaded` });
    const started = (() => {
      try {
        return deps.providerStarted();
      } catch {
        return false;
      }
    })();
    checks.push({ name: 'Authorization server', status: started ? 'ok' : 'fail', detail: started ? 'started' : 'not started yet' });
    return { status: checks.every((c) => c.status === 'ok') ? 'ok' : 'fail', checks };
  };
}

export interface OpsServerDeps {
  tls: TlsMaterial;
  metrics: Pick<PortalMetrics, 'text' | 'contentType'>;
  ready: () => ReadinessReport;
}

function send(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...extra,
  });
  res.end(body);
}

const json = (res: ServerResponse, status: number, value: unknown, extra?: Record<string, string>) =>
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), extra);

/** The ops HTTPS server (not listening yet: `listen(server, config.ops.port, config.ops.host)`). */
export function createOpsServer(deps: OpsServerDeps): https.Server {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' && path !== '/livez' && path !== '/readyz') {
      json(res, 404, { status: 404, code: 'not_found' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      json(res, 405, { status: 405, code: 'method_not_allowed' }, { Allow: 'GET, HEAD' });
      return;
    }
    if (path === '/livez') {
      json(res, 200, { status: 'ok' });
      return;
    }
    if (path === '/readyz') {
      const report = deps.ready();
      json(res, report.status === 'ok' ? 200 : 503, report);
      return;
    }
    deps.metrics.text().then(
      (text) => send(res, 200, deps.metrics.contentType, text),
      () => json(res, 500, { status: 500, code: 'internal' }),
    );
  };
  return https.createServer(
    { cert: deps.tls.cert, key: deps.tls.key, minVersion: 'TLSv1.2', headersTimeout: 10_000, requestTimeout: 15_000, keepAliveTimeout: 5_000, maxHeaderSize: 8 * 1024 },
    handler,
  );
}
