import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { databaseHealthy, listMigrations, migrate, openDatabase } from '../../src/store/database.js';

describe('store: SQLite database', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'portal-db-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the file in DATA_DIR in WAL mode with every migration applied', () => {
    const db = openDatabase({ dataDir: dir });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[];
    assert.deepEqual(
      versions.map((v) => v.version),
      listMigrations().map((m) => m.version),
    );
    assert.ok(databaseHealthy(db));
    db.close();
    assert.ok(statSync(path.join(dir, 'portal.sqlite')).size > 0);
  });

  it('keeps data and applies nothing twice on reopen', () => {
    const first = openDatabase({ dataDir: dir });
    const id = (first.prepare("SELECT value FROM instance_meta WHERE key = 'instance_id'").get() as { value: string }).value;
    first.close();
    const second = openDatabase({ dataDir: dir });
    assert.deepEqual(migrate(second), []);
    const again = (second.prepare("SELECT value FROM instance_meta WHERE key = 'instance_id'").get() as { value: string }).value;
    assert.equal(again, id);
    second.close();
  });

  it('rolls back a failing migration and records nothing for it', () => {
    const db = openDatabase({ dataDir: dir });
    const bad = [{ version: 9999, name: '9999_bad.sql', sql: 'CREATE TABLE t9999 (a INT); INSERT INTO missing VALUES (1);' }];
    assert.throws(() => migrate(db, bad), /no such table: missing/);
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    assert.equal(count("SELECT count(*) AS n FROM sqlite_master WHERE name = 't9999'"), 0);
    assert.equal(count('SELECT count(*) AS n FROM schema_migrations WHERE version = 9999'), 0);
    db.close();
  });

  it('reports an unhealthy database once closed', () => {
    const db = openDatabase(':memory:');
    db.close();
    assert.equal(databaseHealthy(db), false);
  });
});
