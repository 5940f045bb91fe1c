/**
 * Start-up: config → logger → dev PKI (development only, when missing) → store → services → listeners.
 * `startPortal` is also what the tests call, with ports 0 and a temporary data directory.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type https from 'node:https';
import { type Config, ConfigError, loadConfig } from './config.js';
import { ensureDevPki } from './devpki/index.js';
import { mtlsCertificateRouter } from './eidas/routes.js';
import { createEidasService, type EidasService } from './eidas/service.js';
import { healthRouter } from './health/routes.js';
import { createHealthService } from './health/service.js';
import { createApp } from './http/app.js';
import { createLogger, type Logger } from './logger.js';
import { close, createMtlsServer, createPublicServer, listen, readTlsMaterial } from './server/listeners.js';
import { type Db, openDatabase } from './store/database.js';

export interface Portal {
  config: Config;
  db: Db;
  eidas: EidasService;
  publicPort: number;
  mtlsPort: number;
  servers: https.Server[];
  stop(): Promise<void>;
}

export async function startPortal(config: Config, logger: Logger): Promise<Portal> {
  if (config.env !== 'production' && !existsSync(path.join(config.certsDir, 'pki.json'))) {
    logger.warn({ certsDir: config.certsDir }, 'dev PKI missing: generating it (development only)');
    await ensureDevPki(config.certsDir, { responderBaseUrl: config.pkiResponderUrl });
  }
  if (config.sessionSecretEphemeral) {
    logger.warn('SESSION_SECRET not set: using a random secret for this run (sessions end at restart)');
  }
  const db = openDatabase({ dataDir: config.dataDir });
  const eidas = await createEidasService({ config, logger });
  const tls = readTlsMaterial(config.tls);

  let mtlsPort = 0;
  const health = createHealthService({ config, db, eidas, mtlsPort: () => mtlsPort });
  const publicApp = createApp({ logger, routers: [healthRouter(health)] });
  const mtlsApp = createApp({ logger, routers: [healthRouter(health), mtlsCertificateRouter(eidas)] });
  const publicServer = createPublicServer(tls, publicApp);
  const mtlsServer = createMtlsServer(tls, mtlsApp);
  const publicPort = await listen(publicServer, config.port, config.host);
  mtlsPort = await listen(mtlsServer, config.mtlsPort, config.host);
  logger.info(
    { url: `https://${hostForUrl(config.host)}:${publicPort}/`, mtls: `https://${hostForUrl(config.host)}:${mtlsPort}/` },
    'portal listening',
  );
  return {
    config,
    db,
    eidas,
    publicPort,
    mtlsPort,
    servers: [publicServer, mtlsServer],
    async stop() {
      await Promise.all([close(publicServer), close(mtlsServer)]);
      db.close();
    },
  };
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee the configuration table in README.md.\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel });
  const portal = await startPortal(config, logger);
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    portal.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((err) => {
    process.stderr.write(`Start-up failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
