/**
 * Liveness and readiness. `/health` answers JSON for probes and a small page for people; `/health/live`
 * says the process serves requests; `/health/ready` says its dependencies (database, trust profile) work.
 */
import { Router } from 'express';
import type { HealthService } from './service.js';
import { policy } from '../ops/policy.js';

export function healthRouter(health: HealthService): Router {
  const router = Router();
  router.get('/health/live', policy({ auth: 'none', returns: 'liveness: { status: ok }' }), (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json({ status: 'ok' });
  });
  router.get('/health/ready', policy({ auth: 'none', returns: 'readiness: database and trust profile checks, 503 when one fails' }), (_req, res) => {
    const report = health.report();
    res.setHeader('Cache-Control', 'no-store');
    res.status(report.status === 'ok' ? 200 : 503).json(report);
  });
  router.get('/health', policy({ auth: 'none', returns: 'the status page (HTML) or the health report (JSON)' }), (req, res) => {
    const report = health.report();
    res.setHeader('Cache-Control', 'no-store');
    res.status(report.status === 'ok' ? 200 : 503);
    if (req.accepts(['json', 'html']) === 'html') res.render('health/index', { health: report });
    else res.json(report);
  });
  return router;
}
