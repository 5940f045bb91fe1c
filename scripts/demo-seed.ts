/**
 * npm run demo:seed — fills an empty development database with demo staff, applicants and partners, and
 * prints how to log in. `npm start` does the same by itself on an empty data directory in development.
 * Exit 0 seeded, 1 refused (users exist, or production), 2 configuration error.
 */
import { ConfigError, loadConfig } from '../src/config.js';
import { formatCredentials, seedDemo } from '../src/demo/seed.js';
import { createLogger } from '../src/logger.js';
import { createServices, hasUsers } from '../src/main.js';

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (config.env === 'production') {
    process.stderr.write('demo:seed is refused in production: it creates accounts with printed credentials.\n');
    return 1;
  }
  const services = await createServices(config, createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel }));
  try {
    if (hasUsers(services.db)) {
      process.stderr.write(`The database in ${config.dataDir} already has users: demo:seed only fills an empty one.\n`);
      return 1;
    }
    const result = await seedDemo({
      accounts: services.accounts,
      partners: services.partners,
      software: services.software,
      certsDir: config.certsDir,
      hasUsers: () => hasUsers(services.db),
    });
    const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    process.stdout.write(formatCredentials(result, `https://${host}:${config.port}`));
    return 0;
  } finally {
    services.db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`demo:seed failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
