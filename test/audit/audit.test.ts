import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createAuditService, GENESIS_HASH, type AuditService } from '../../src/audit/service.js';
import { type Db, openDatabase } from '../../src/store/database.js';
import { createTransactor, type Transactor } from '../../src/store/transaction.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

function setup(dataDir?: string): { db: Db; tx: Transactor; audit: AuditService } {
  const db = openDatabase(dataDir ? { dataDir } : ':memory:');
  const tx = createTransactor(db);
  let t = Date.parse('2026-11-22T10:00:00Z');
  return { db, tx, audit: createAuditService({ db, tx, now: () => new Date((t += 1000)) }) };
}

const actor = { type: 'staff' as const, id: 'u1', label: 'officer@bank.test' };

describe('audit log', () => {
  it('chains each event to the previous one and verifies', async () => {
    const { audit } = setup();
    const a = await audit.record({ actor, action: 'application.submitted', subject: { type: 'application', id: 'a1' }, data: { b: 1, a: 'x' } });
    const b = await audit.record({ actor, action: 'application.approved', subject: { type: 'application', id: 'a1' } });
    assert.equal(a.seq, 1);
    assert.equal(a.prevHash, GENESIS_HASH);
    assert.equal(b.prevHash, a.hash);
    assert.match(b.hash, /^[0-9a-f]{64}$/);
    const v = await audit.verify();
    assert.deepEqual(v, { ok: true, checked: 2, firstBadSeq: null, problem: null, headHash: b.hash });
    assert.deepEqual((await audit.list({ subjectId: 'a1' })).map((e) => e.action), ['application.submitted', 'application.approved']);
  });

  it('redacts secret-looking keys before hashing and storing', async () => {
    const { audit, db } = setup();
    await audit.record({ actor, action: 'auth.login.failed', data: { email: 'x@y.test', password: 'hunter2', nested: { accessToken: 't', totp_code: '123456' } } });
    const raw = (db.prepare('SELECT data FROM audit_events').get() as { data: string }).data;
    assert.doesNotMatch(raw, /hunter2|"t"|123456/);
    assert.match(raw, /x@y\.test/);
  });

  it('refuses malformed actions and actor types without writing', async () => {
    const { audit, db } = setup();
    await assert.rejects(audit.record({ actor, action: 'Bad Action' }), /dotted/);
    await assert.rejects(audit.record({ actor: { type: 'root' as never, id: null }, action: 'a.b' }), /actor type/);
    assert.equal((db.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n, 0);
  });

  it('is append-only at the SQL level', async () => {
    const { audit, db } = setup();
    await audit.record({ actor, action: 'a.b' });
    assert.throws(() => db.prepare("UPDATE audit_events SET action = 'x.y'").run(), /append-only/);
    assert.throws(() => db.prepare('DELETE FROM audit_events').run(), /append-only/);
  });

  it('commits the event with the change, and rolls both back together', async () => {
    const { audit, db, tx } = setup();
    db.exec('CREATE TABLE things (id TEXT PRIMARY KEY)');
    await tx.run(async () => {
      db.prepare("INSERT INTO things VALUES ('ok')").run();
      await audit.record({ actor, action: 'thing.created', subject: { type: 'thing', id: 'ok' } });
    });
    await assert.rejects(
      tx.run(async () => {
        db.prepare("INSERT INTO things VALUES ('lost')").run();
        await audit.record({ actor, action: 'thing.created', subject: { type: 'thing', id: 'lost' } });
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.deepEqual(db.prepare('SELECT id FROM things').all(), [{ id: 'ok' }]);
    assert.equal((await audit.list()).length, 1);
    assert.equal((await audit.verify()).ok, true);
  });

  it('nests transactions as savepoints: an inner failure caught by the outer keeps the outer work', async () => {
    const { audit, tx } = setup();
    await tx.run(async () => {
      await audit.record({ actor, action: 'outer.one' });
      await assert.rejects(
        tx.run(async () => {
          await audit.record({ actor, action: 'inner.lost' });
          throw new Error('inner');
        }),
      );
      await audit.record({ actor, action: 'outer.two' });
    });
    assert.deepEqual((await audit.list()).map((e) => e.action), ['outer.one', 'outer.two']);
    assert.equal((await audit.verify()).ok, true);
  });

  it('keeps the chain linear under concurrent writers', async () => {
    const { audit } = setup();
    await Promise.all(Array.from({ length: 50 }, (_, i) => audit.record({ actor, action: 'load.event', data: { i } })));
    const v = await audit.verify();
    assert.equal(v.ok, true);
    assert.equal(v.checked, 50);
  });

  describe('tampering is detected', () => {
    async function tampered(edit: (db: Db) => void): Promise<{ ok: boolean; firstBadSeq: number | null; problem: string | null }> {
      const { audit, db } = setup();
      for (let i = 0; i < 5; i++) await audit.record({ actor, action: 'application.updated', subject: { type: 'application', id: 'a1' }, data: { i } });
      db.exec('DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;');
      edit(db);
      return audit.verify();
    }

    it('an edited data field', async () => {
      const v = await tampered((db) => db.prepare(`UPDATE audit_events SET data = '{"i":99}' WHERE seq = 3`).run());
      assert.deepEqual([v.ok, v.firstBadSeq], [false, 3]);
      assert.match(v.problem!, /hash mismatch/);
    });
    it('an edited actor', async () => {
      const v = await tampered((db) => db.prepare(`UPDATE audit_events SET actor_label = 'someone@else' WHERE seq = 2`).run());
      assert.deepEqual([v.ok, v.firstBadSeq], [false, 2]);
    });
    it('a deleted row', async () => {
      const v = await tampered((db) => db.prepare('DELETE FROM audit_events WHERE seq = 4').run());
      assert.deepEqual([v.ok, v.firstBadSeq], [false, 5]);
      assert.match(v.problem!, /sequence gap/);
    });
    it('a re-hashed row (the link to the next breaks)', async () => {
      const v = await tampered((db) => {
        // An attacker who recomputes the edited row's own hash still breaks the next row's link.
        db.prepare(`UPDATE audit_events SET hash = '${'a'.repeat(64)}' WHERE seq = 2`).run();
      });
      assert.equal(v.ok, false);
      assert.equal(v.firstBadSeq, 2);
    });
    it('invalid JSON in a row', async () => {
      const v = await tampered((db) => db.prepare(`UPDATE audit_events SET data = '{' WHERE seq = 1`).run());
      assert.deepEqual([v.ok, v.firstBadSeq], [false, 1]);
    });
  });

  describe('npm run audit:verify', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'audit-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
      try {
        const r = await run(process.execPath, ['--import', 'tsx', 'scripts/audit-verify.ts', ...args], { cwd: ROOT, env: { ...process.env, NODE_ENV: 'test' } });
        return { code: 0, stdout: r.stdout, stderr: r.stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    }

    it('exits 0 on an intact chain, 1 after a row is edited, and checks --expect-head', async () => {
      const { audit, db } = setup(dir);
      for (let i = 0; i < 3; i++) await audit.record({ actor, action: 'application.updated', data: { i } });
      const head = (await audit.verify()).headHash;
      db.close();
      const ok = await cli('--data-dir', dir);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, new RegExp(`OK: 3 events, head ${head}`));
      assert.equal((await cli('--data-dir', dir, '--expect-head', head)).code, 0);
      const wrongHead = await cli('--data-dir', dir, '--expect-head', 'f'.repeat(64));
      assert.equal(wrongHead.code, 1);

      const db2 = openDatabase({ dataDir: dir });
      db2.exec('DROP TRIGGER audit_events_no_update');
      db2.prepare(`UPDATE audit_events SET action = 'application.approved' WHERE seq = 2`).run();
      db2.close();
      const bad = await cli('--data-dir', dir, '--json');
      assert.equal(bad.code, 1);
      const out = JSON.parse(bad.stdout) as { ok: boolean; firstBadSeq: number };
      assert.deepEqual([out.ok, out.firstBadSeq], [false, 2]);
    });

    it('exits 2 without a database or with a bad option', async () => {
      assert.equal((await cli('--data-dir', dir)).code, 2);
      assert.equal((await cli('--bogus')).code, 2);
    });
  });
});
