/** `npm run register:import`: the CLI run as a user runs it, with DATA_DIR in a temp dir. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../src/store/database.js';
import { doc, pi } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('register:import CLI', function () {
  this.timeout(120_000);
  let dir: string;
  let dataDir: string;
  const file = (name: string) => path.join(dir, name);

  function importer(args: string[], env: Record<string, string> = {}) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/register-import.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'development', DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  function stored() {
    const db = openDatabase({ dataDir });
    try {
      const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
      return {
        snapshots: n('SELECT count(*) AS n FROM register_snapshots'),
        entities: n('SELECT count(*) AS n FROM register_entities'),
        imports: n("SELECT count(*) AS n FROM audit_events WHERE action = 'register.imported'"),
        sha256: (db.prepare('SELECT sha256 FROM register_snapshots ORDER BY rowid DESC LIMIT 1').get() as { sha256: string } | undefined)
          ?.sha256,
      };
    } finally {
      db.close();
    }
  }

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'register-cli-'));
    dataDir = path.join(dir, 'data');
    writeFileSync(file('small.json'), doc([pi('900001', ['2019-01-01']), pi('900002', ['2019-01-01', '2020-01-01']), { CA_OwnerID: 'DE_BAFIN' }]));
    writeFileSync(file('garbage.json'), 'not a register');
    writeFileSync(file('object.json'), '{"EntityCode": "DE_BAFIN!1"}');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('imports the dev register into DATA_DIR and prints a summary (exit 0)', () => {
    const r = importer(['dev']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Imported the synthetic dev register/);
    assert.match(r.stdout, /entities\s+12\n/);
    assert.match(r.stdout, /skipped\s+0\n/);
    const s = stored();
    assert.match(r.stdout, new RegExp(`sha256\\s+${s.sha256}`));
    assert.deepEqual({ ...s, sha256: undefined }, { snapshots: 1, entities: 12, imports: 1, sha256: undefined });
  });

  it('replaces it with a file and lists skipped entities by reason (--data-dir wins over DATA_DIR)', () => {
    const other = path.join(dir, 'other');
    const r = importer([file('small.json'), '--data-dir', other]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /entities\s+2\n/);
    assert.match(r.stdout, /skipped\s+1\n\s+1\s+EntityCode missing/);
    const db = openDatabase({ dataDir: other });
    assert.equal((db.prepare('SELECT count(*) AS n FROM register_entities').get() as { n: number }).n, 2);
    db.close();
    assert.equal(stored().entities, 12);
  });

  for (const [name, args, pattern] of [
    ['garbage', ['garbage.json'], /not valid JSON.*previous register is unchanged/],
    ['a JSON object', ['object.json'], /top level is not an array/],
    ['a missing file', ['missing.json'], /Cannot read .*ENOENT/],
    ['a directory', ['.'], /is not a file/],
  ] as const) {
    it(`refuses ${name} on stderr with exit 1, keeping the previous register`, () => {
      const before = stored();
      const r = importer(args.map((a) => (a === '.' ? dir : file(a))));
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, pattern);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.deepEqual(stored(), before);
    });
  }

  it('prints usage with exit 2 without a file, with two files or an unknown option', () => {
    for (const args of [[], ['a.json', 'b.json'], ['--frobnicate', 'dev']]) {
      const r = importer(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /Usage: npm run register:import -- FILE/);
    }
    const help = importer(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit status: 0 imported, 1 file refused/);
  });
});
