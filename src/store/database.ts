/**
 * The embedded store: better-sqlite3 in WAL mode. Migrations are numbered SQL files applied in order, each
 * in its own transaction, recorded in schema_migrations. Areas reach the database through their repository
 * interfaces (async, so PostgreSQL can implement them later), never through each other's tables.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

export type Db = Database.Database;

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
const MIGRATION_FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => MIGRATION_FILE.test(f))
    .sort()
    .map((f) => ({
      version: Number(MIGRATION_FILE.exec(f)![1]),
      name: f,
      sql: readFileSync(path.join(dir, f), 'utf8'),
    }));
}

/** Opens (creating when needed) the database file under dataDir, or `:memory:` for tests. */
export function openDatabase(location: { dataDir: string } | ':memory:'): Db {
  let file = ':memory:';
  if (location !== ':memory:') {
    mkdirSync(location.dataDir, { recursive: true, mode: 0o700 });
    file = path.join(location.dataDir, 'portal.sqlite');
  }
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // WAL makes NORMAL durable against application crashes; only a power loss can lose the last commit.
  db.pragma('synchronous = NORMAL');
  migrate(db);
  return db;
}

export function migrate(db: Db, migrations = listMigrations()): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const applied = new Set(
    db
      .prepare('SELECT version FROM schema_migrations')
      .all()
      .map((r) => (r as { version: number }).version),
  );
  const done: number[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of migrations) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, new Date().toISOString());
    })();
    done.push(m.version);
  }
  return done;
}

/** Readiness probe: the database answers a trivial query. */
export function databaseHealthy(db: Db): boolean {
  try {
    return (db.prepare('SELECT 1 AS ok').get() as { ok: number }).ok === 1;
  } catch {
    return false;
  }
}
