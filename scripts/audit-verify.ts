/**
 * npm run --silent audit:verify -- [--data-dir DIR] [--expect-head HASH] [--json]
 *
 * Walks the audit log's hash chain. Exit 0 when intact, 1 when any row was edited, removed or reordered
 * (or the head differs from --expect-head), 2 for usage errors or a missing database.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../src/config.js';
import { createAuditService } from '../src/audit/service.js';
import { openDatabase } from '../src/store/database.js';
import { createTransactor } from '../src/store/transaction.js';

const USAGE = `Usage: npm run --silent audit:verify -- [--data-dir DIR] [--expect-head HASH] [--json]

Checks that the audit log's hash chain is intact.
  --data-dir DIR       data directory holding portal.sqlite (default: DATA_DIR)
  --expect-head HASH   also require the newest event's hash to be HASH (detects a cut-off tail)
  --json               print the result as JSON

Exit status: 0 intact, 1 tampered, 2 usage error or no database.`;

async function main(argv: string[]): Promise<number> {
  let values: { 'data-dir'?: string; 'expect-head'?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'data-dir': { type: 'string' },
        'expect-head': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let dataDir = values['data-dir'];
  if (!dataDir) {
    try {
      dataDir = loadConfig().dataDir;
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`${err.message}\n`);
        return 2;
      }
      throw err;
    }
  }
  if (!existsSync(path.join(dataDir, 'portal.sqlite'))) {
    process.stderr.write(`No database at ${path.join(dataDir, 'portal.sqlite')}\n`);
    return 2;
  }
  const db = openDatabase({ dataDir });
  try {
    const result = await createAuditService({ db, tx: createTransactor(db) }).verify();
    const expected = values['expect-head'];
    const headOk = !expected || expected === result.headHash;
    const ok = result.ok && headOk;
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ...result, ok, expectedHead: expected ?? null })}\n`);
    } else if (!result.ok) {
      process.stdout.write(`TAMPERED: event ${result.firstBadSeq}: ${result.problem} (${result.checked} events verified before it)\n`);
    } else if (!headOk) {
      process.stdout.write(`TAMPERED: chain intact over ${result.checked} events, but the head is ${result.headHash}, not ${expected}\n`);
    } else {
      process.stdout.write(`OK: ${result.checked} events, head ${result.headHash}\n`);
    }
    return ok ? 0 : 1;
  } finally {
    db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`audit:verify failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
