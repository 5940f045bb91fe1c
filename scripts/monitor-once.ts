/**
 * npm run monitor:once [-- --json]
 *
 * One pass of the lifecycle monitor against DATA_DIR, for cron instead of (or next to) the in-process
 * scheduler: re-reads REGISTER_SOURCE, re-validates every active partner's certificates with revocation, acts,
 * and prints what it did. Exit 0 when the pass ran (alerts included), 1 when it failed or another pass is
 * running, 2 for usage or configuration errors. Logs go to stderr, the summary to stdout.
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError, loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createServices, type Services } from '../src/main.js';
import { createMonitor } from '../src/monitor/service.js';
import type { MonitorRunReport, MonitorService, Notify } from '../src/monitor/types.js';
import { formatRunReport } from '../src/monitor/view-models.js';

const USAGE = `Usage: npm run monitor:once [-- --json]

Runs one pass of the lifecycle monitor against DATA_DIR (see docs/monitor.md) and prints a summary.

Options:
  --json       print the run report as JSON
  -h, --help   this text

Exit status: 0 the pass ran (even with alerts), 1 it failed or another pass is running, 2 usage error.`;

class UsageError extends Error {}

/**
 * The portal's own monitor when start-up wires one (services.monitor), else one built here with the
 * notifications outbox when present. Either way suspensions go through the same partners service and its
 * listeners (tokens revoked), as in the server.
 */
function monitorOf(services: Services, logger: ReturnType<typeof createLogger>): MonitorService {
  // Read loosely: the scheduler and the notifications outbox are wired into Services by main.ts.
  const wired = services as Services & { monitor?: MonitorService; notifications?: { enqueue: Notify } };
  if (wired.monitor) return wired.monitor;
  const outbox = wired.notifications;
  const notify: Notify = outbox
    ? (req) => outbox.enqueue(req)
    : async (req) => {
        logger.warn({ event: req.event, partnerId: req.partnerId }, 'notifications are not wired: notice not queued');
        return { queued: false };
      };
  return createMonitor({
    db: services.db,
    tx: services.tx,
    audit: services.audit,
    eidas: services.eidas,
    partners: services.partners,
    register: services.register,
    notify,
    source: services.config.monitor.registerSource,
    logger,
  });
}

async function run(argv: string[]): Promise<number> {
  let values: { json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, strict: true, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, destination: pino.destination(2) });
  const services = await createServices(config, logger);
  let report: MonitorRunReport;
  try {
    report = await monitorOf(services, logger).runOnce({ trigger: 'cli' });
  } finally {
    services.db.close();
  }
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatRunReport(report)}\n`);
  return report.status === 'ok' ? 0 : 1;
}

// process.exit: pooled keep-alive connections to OCSP responders would otherwise hold the process open.
run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`monitor:once: ${err.message}\n\n${err instanceof UsageError ? USAGE : ''}\n`);
      process.exit(2);
    }
    process.stderr.write(`monitor:once: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
