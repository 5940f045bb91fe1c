/**
 * npm run register:import -- FILE [--data-dir DIR]
 *
 * Replaces the register mirror with an EBA PSD2 register download (JSON). FILE `dev` is the synthetic
 * development register shipped with the project. Exit 0 imported, 1 file refused (the previous register is
 * left as it was), 2 usage error.
 */
import { statSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createAuditService } from '../src/audit/service.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { AppError } from '../src/errors.js';
import { MAX_REGISTER_BYTES } from '../src/register/eba.js';
import { createRegisterService, DEV_REGISTER_FILE } from '../src/register/service.js';
import { openDatabase } from '../src/store/database.js';
import { createTransactor } from '../src/store/transaction.js';

const USAGE = `Usage: npm run register:import -- FILE [--data-dir DIR]

Replaces the local copy of the EBA PSD2 register with FILE, a register download in the EBA JSON shape
(https://euclid.eba.europa.eu/register/ → download, unzipped). FILE "dev" loads the synthetic development
register shipped with the project.

Options:
  --data-dir DIR   database directory (default: DATA_DIR, else ./data)
  -h, --help       this text

Exit status: 0 imported, 1 file refused (the previous register is kept), 2 usage error.`;

class UsageError extends Error {}
class RefusedError extends Error {}

function username(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

async function run(argv: string[]): Promise<number> {
  let values: { 'data-dir'?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length ? 'Give exactly one FILE.' : 'No register file given.');
  const arg = positionals[0]!;
  const file = arg === 'dev' ? DEV_REGISTER_FILE : path.resolve(arg);

  const config = loadConfig();
  const dataDir = values['data-dir'] ? path.resolve(values['data-dir']) : config.dataDir;

  let content: Buffer;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new RefusedError(`${arg} is not a file.`);
    // Refuse before reading: the cap is what bounds this process's memory.
    if (st.size > MAX_REGISTER_BYTES) {
      throw new RefusedError(
        `${arg} is ${(st.size / 1048576).toFixed(1)} MB; the import accepts at most ${MAX_REGISTER_BYTES / 1048576} MB.`,
      );
    }
    content = readFileSync(file);
  } catch (err) {
    if (err instanceof RefusedError) throw err;
    throw new RefusedError(`Cannot read ${arg}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }

  const db = openDatabase({ dataDir });
  try {
    const tx = createTransactor(db);
    const audit = createAuditService({ db, tx });
    const register = createRegisterService({ db, tx, audit });
    const started = Date.now();
    let result;
    try {
      result = await register.importSnapshot(content, {
        source: arg === 'dev' ? 'dev-eba-register.json (synthetic)' : path.basename(file),
        actor: { type: 'system', id: null, label: `register:import by ${username()}` },
      });
    } catch (err) {
      if (err instanceof AppError && err.status < 500) {
        throw new RefusedError(`${err.message}${err.detail ? ` (${err.detail})` : ''} The previous register is unchanged.`);
      }
      throw err;
    }
    const lines = [
      `Imported ${arg === 'dev' ? 'the synthetic dev register' : arg} into ${dataDir}`,
      `  snapshot  ${result.id} at ${result.importedAt}`,
      `  sha256    ${result.sha256}`,
      `  entities  ${result.entityCount}`,
      `  skipped   ${result.skippedCount}`,
      ...Object.entries(result.skippedByReason)
        .sort((a, b) => b[1] - a[1])
        .map(([reason, n]) => `    ${String(n).padStart(7)}  ${reason}`),
      `  took      ${((Date.now() - started) / 1000).toFixed(1)} s`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    db.close();
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`register:import: ${err.message}\n\n${err instanceof UsageError ? USAGE : ''}\n`);
      process.exitCode = 2;
      return;
    }
    if (err instanceof RefusedError) {
      process.stderr.write(`register:import: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`register:import: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
