/**
 * npm run --silent evidence:pack -- <partnerId|orgId> [--out FILE] [--data-dir DIR]
 *
 * Exports one partner's signed evidence pack from the portal's database (DATA_DIR), as an officer's download
 * from /staff/partners/ID/evidence does, and records the export in the audit log (actor: this operator).
 * Exit 0 written, 1 no such partner or the export failed, 2 usage error, bad configuration or no database.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError, loadConfig } from '../src/config.js';
import { createEvidenceKeys } from '../src/evidence/keys.js';
import { createEvidenceService } from '../src/evidence/service.js';
import { NotFoundError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { createServices } from '../src/main.js';
import { createSqliteSoftwareRepository } from '../src/store/sqlite/registration.js';

const USAGE = `Usage: npm run --silent evidence:pack -- <partnerId|orgId> [--out FILE] [--data-dir DIR]

Writes the partner's signed evidence pack (one JSON file, mode 0600: it holds personal data) and records the
export in the audit log. Check it with: npm run evidence:verify -- FILE --jwks https://PORTAL/evidence/jwks.json
  <partnerId|orgId>  the partner's id, or its organizationIdentifier (e.g. PSDDE-BAFIN-152645)
  --out FILE         where to write (default: ./evidence-pack-<name>-<time>.json); never overwritten
  --data-dir DIR     data directory holding portal.sqlite (default: DATA_DIR)

Exit status: 0 written, 1 no such partner or the export failed, 2 usage error or no database.`;

class UsageError extends Error {}

function operatorLabel(): string {
  let who = 'unknown user';
  try {
    who = `${userInfo().username}@${hostname()}`;
  } catch {
    // Containers without a passwd entry: the label still says it was the CLI.
  }
  return `evidence:pack CLI (${who})`;
}

async function run(argv: string[]): Promise<number> {
  let values: { out?: string; 'data-dir'?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: { out: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1 || !positionals[0]) throw new UsageError('give exactly one partner id or organizationIdentifier');
  const ref = positionals[0];
  const config = loadConfig(values['data-dir'] ? { ...process.env, DATA_DIR: values['data-dir'] } : process.env);
  const dbFile = path.join(config.dataDir, 'portal.sqlite');
  if (!existsSync(dbFile)) throw new UsageError(`no database at ${dbFile}`);
  if (values.out && existsSync(values.out)) throw new UsageError(`${values.out} exists: choose another --out`);
  const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, destination: pino.destination(2) });
  const services = await createServices(config, logger);
  try {
    const evidence = createEvidenceService({
      db: services.db,
      tx: services.tx,
      audit: services.audit,
      partners: services.partners,
      clients: services.oauth.service,
      software: createSqliteSoftwareRepository(services.db),
      keys: createEvidenceKeys({ dataDir: config.dataDir }),
    });
    let pack;
    try {
      pack = await evidence.exportPack({ kind: 'operator', label: operatorLabel() }, ref);
    } catch (err) {
      if (err instanceof NotFoundError) {
        process.stderr.write(`evidence:pack: no partner with id or organizationIdentifier ${JSON.stringify(ref)}\n`);
        return 1;
      }
      throw err;
    }
    const out = values.out ?? path.resolve(pack.fileName);
    writeFileSync(out, pack.bytes, { mode: 0o600, flag: 'wx' });
    const m = pack.manifest;
    process.stdout.write(
      [
        `Wrote ${out}`,
        `  pack ${m.packId} of ${m.subject.legalName} (partner ${m.subject.partnerId})`,
        `  ${m.parts.length} parts, ${m.audit.events} audit events (chain head ${m.audit.chainHead.seq}), ${m.evidenceFiles.included} evidence files included, ${m.evidenceFiles.hashOnly} by hash only`,
        `  manifest SHA-256 ${pack.manifestSha256}`,
        `  signed by evidence key ${m.key.thumbprint} (ES256; published at /evidence/jwks.json)`,
        '',
      ].join('\n'),
    );
    return 0;
  } finally {
    services.db.close();
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`evidence:pack: ${err.message}\n\n${err instanceof UsageError ? USAGE : ''}\n`);
      process.exit(2);
    }
    process.stderr.write(`evidence:pack: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
