/**
 * npm run bench:portal — the portal's hot write and read paths, each with a ratio against a baseline
 * measured in the same run (absolute rates on these shared machines are noise; the ratios are the figures).
 *
 *  audit.record   one hash-chained audit event in its own transaction (mutex, head read, canonical JSON,
 *                 SHA-256, insert) vs a plain INSERT of the same columns in its own transaction
 *  audit.verify   walking the chain (re-hashing every event) vs SHA-256 over the same stored rows
 *  score          scoring a complete PIS questionnaire vs a JSON round trip of the same answers
 *  login          the password step of a sign-in (lookup, throttle bookkeeping, scrypt, audit) vs scrypt
 *                 alone with the same parameters: the login path should cost little beyond the KDF
 *
 * Options: --seconds N per measurement (default 1), --rounds N (default 3, median reported).
 */
import { createHash, randomBytes, scrypt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createAccountsService } from '../../src/accounts/service.js';
import { CURRENT_PARAMS } from '../../src/accounts/passwords.js';
import { createAuditService } from '../../src/audit/service.js';
import { createLogger } from '../../src/logger.js';
import { loadQuestionnaire, scoreQuestionnaire, type Answers, type EvidenceState } from '../../src/questionnaire/service.js';
import { openDatabase } from '../../src/store/database.js';
import { createTransactor } from '../../src/store/transaction.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '1' }, rounds: { type: 'string', default: '3' } } });
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);

async function rate(fn: () => unknown | Promise<unknown>, budget = seconds): Promise<number> {
  for (let i = 0; i < 3; i++) await fn();
  let n = 0;
  const start = performance.now();
  const end = start + budget * 1000;
  while (performance.now() < end) {
    await fn();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Baseline and subject measured alternately, `rounds` times each; medians. */
async function pair(baseline: () => unknown, subject: () => unknown, budget?: number): Promise<[number, number]> {
  const b: number[] = [];
  const s: number[] = [];
  for (let i = 0; i < rounds; i++) {
    b.push(await rate(baseline, budget));
    s.push(await rate(subject, budget));
  }
  return [median(b), median(s)];
}

function line(label: string, base: number, subject: number, what: string): string {
  return `${label.padEnd(14)} ${subject.toFixed(0).padStart(8)} /s   baseline ${base.toFixed(0).padStart(8)} /s   ${(base / subject).toFixed(2)}x the baseline's cost (${what})`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-portal-'));
  const out: string[] = [];
  try {
    const db = openDatabase({ dataDir: dir });
    const tx = createTransactor(db);
    const audit = createAuditService({ db, tx });
    const logger = createLogger({ level: 'silent' });

    // --- audit.record vs plain insert ----------------------------------------------------------------
    db.exec(`CREATE TABLE bench_plain (seq INTEGER PRIMARY KEY, id TEXT, at TEXT, actor_type TEXT, actor_id TEXT, actor_label TEXT,
      action TEXT, subject_type TEXT, subject_id TEXT, data TEXT, ip TEXT, prev_hash TEXT, hash TEXT)`);
    const plain = db.prepare(`INSERT INTO bench_plain (id, at, actor_type, actor_id, actor_label, action, subject_type, subject_id, data, ip, prev_hash, hash)
      VALUES (?, ?, 'staff', 'u1', 'officer@bank.test', 'application.updated', 'application', 'a1', ?, '127.0.0.1', ?, ?)`);
    const data = { state: 'under_review', items: 3, note: 'benchmark' };
    const [plainRate, recordRate] = await pair(
      () => {
        db.exec('BEGIN IMMEDIATE');
        plain.run(randomBytes(16).toString('hex'), new Date().toISOString(), JSON.stringify(data), 'x'.repeat(64), 'y'.repeat(64));
        db.exec('COMMIT');
      },
      () =>
        audit.record({
          actor: { type: 'staff', id: 'u1', label: 'officer@bank.test' },
          action: 'application.updated',
          subject: { type: 'application', id: 'a1' },
          data,
          ip: '127.0.0.1',
        }),
    );
    out.push(line('audit.record', plainRate, recordRate, 'plain INSERT, one transaction each'));

    // --- audit.verify vs hashing the rows ------------------------------------------------------------
    const events = (db.prepare('SELECT count(*) AS n FROM audit_events').get() as { n: number }).n;
    const rows = db.prepare('SELECT * FROM audit_events ORDER BY seq').all() as Record<string, unknown>[];
    const [hashRate, verifyRate] = await pair(
      () => {
        for (const r of rows) createHash('sha256').update(JSON.stringify(r)).digest('hex');
      },
      async () => {
        const v = await audit.verify();
        if (!v.ok) throw new Error('chain broken during the benchmark');
      },
    );
    out.push(line('audit.verify', hashRate * events, verifyRate * events, `events/s over ${events} events vs SHA-256 of each row`));

    // --- questionnaire scoring ----------------------------------------------------------------------
    const q = loadQuestionnaire();
    const ctx = { track: 'partner' as const, roles: ['AIS' as const, 'PIS' as const] };
    const answers: Answers = {
      'q.iso27001': 'covers_api', 'q.soc2': 'clean', 'q.hosts_data': true, 'q.encryption': ['at_rest_aes256', 'tls12'],
      'q.data_location': 'eea_uk', 'q.retention_days': 30, 'q.pentest': true, 'q.pentest_date': '2026-06-01',
      'q.patch_critical_days': 7, 'q.sdlc_controls': ['code_review', 'dependency_scanning', 'secrets_scanning'],
      'q.redirect_protection': ['exact_match', 'pkce', 'par'], 'q.mfa_staff': true, 'q.access_review': 'quarterly',
      'q.env_separation': 'separate_no_real_data', 'q.key_storage': 'hsm', 'q.token_storage': 'encrypted_scoped',
      'q.uses_tsp': false, 'q.log_retention_months': 12, 'q.monitoring': 'always', 'q.ir_plan': 'tested_12m',
      'q.incident_notify_hours': 24, 'q.continuity': 'tested_12m', 'q.fraud_controls': ['payee_check', 'velocity_limits', 'anomaly_detection'],
    };
    const evidence: Record<string, EvidenceState> = { 'q.iso27001': 'provided', 'q.pentest_date': 'verified' };
    const now = new Date('2026-11-22T00:00:00Z');
    const [copyRate, scoreRate] = await pair(
      () => JSON.parse(JSON.stringify(answers)),
      () => scoreQuestionnaire(q, ctx, answers, evidence, { now }),
    );
    out.push(line('score', copyRate, scoreRate, `JSON round trip of the ${Object.keys(answers).length} answers`));

    // --- login password step vs scrypt alone ---------------------------------------------------------
    const accounts = createAccountsService({ db, tx, audit, dataKey: randomBytes(32), logger });
    const pw = 'correct horse battery staple';
    await accounts.seedApplicant({ email: 'bench@fintech.test', displayName: 'Bench', password: pw });
    const salt = randomBytes(16);
    const params = { ...CURRENT_PARAMS, maxmem: 256 * CURRENT_PARAMS.N * CURRENT_PARAMS.r + 1024 * 1024 };
    const [kdfRate, loginRate] = await pair(
      () => new Promise<void>((resolve, reject) => scrypt(pw, salt, 32, params, (err) => (err ? reject(err) : resolve()))),
      () => accounts.verifyPassword('applicant', 'bench@fintech.test', pw, '127.0.0.1'),
      Math.max(seconds, 2),
    );
    out.push(line('login', kdfRate, loginRate, `scrypt N=${CURRENT_PARAMS.N} r=${CURRENT_PARAMS.r} p=${CURRENT_PARAMS.p} alone`));
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`bench:portal  node ${process.version}, ${rounds} rounds, median\n${out.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
