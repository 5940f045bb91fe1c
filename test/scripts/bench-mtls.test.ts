/**
 * `npm run bench:mtls` in its quick mode, as a child process: it starts its own portal and floor, and prints the
 * six rows (floor, token endpoint, protected API; keep-alive and new handshake) with numeric figures and
 * ratios. Times and ratio targets are never asserted (they depend on the machine); what is asserted is that
 * the harness measures what it says: with new handshakes every request was a full TLS handshake seen by the
 * server (none resumed), with keep-alive none was.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const QUICK_REQUESTS = 24;
const QUICK_CONNECTIONS = 4;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function bench(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench/mtls.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const NUM = String.raw`(\d+(?:\.\d+)?)`;
const ROW = new RegExp(
  String.raw`^(floor|token|api|express|\+cert|tok-bare|api-bare)\s+(keep-alive|new handshake)\s+${NUM} req/s\s+p99\s+${NUM} ms\s+${NUM}x(?: the floor \(target >= ${NUM}: (met|NOT met)\))?` +
    String.raw`\s+\[per busy server second ${NUM}x; busy: server ${NUM}%, client ${NUM}%; handshakes: (\d+) full, (\d+) resumed, (\d+) requests\]$`,
);

interface Row {
  name: string;
  mode: string;
  rate: number;
  p99: number;
  ratio: number;
  target: number | null;
  full: number;
  resumed: number;
  requests: number;
}

function rows(stdout: string): Row[] {
  const out: Row[] = [];
  for (const line of stdout.split('\n')) {
    const m = ROW.exec(line);
    if (!m) continue;
    out.push({
      name: m[1]!,
      mode: m[2]!,
      rate: Number(m[3]),
      p99: Number(m[4]),
      ratio: Number(m[5]),
      target: m[6] === undefined ? null : Number(m[6]),
      full: Number(m[11]),
      resumed: Number(m[12]),
      requests: Number(m[13]),
    });
  }
  return out;
}

describe('scripts: npm run bench:mtls', function () {
  this.timeout(180_000);

  for (const [how, args, env] of [
    ['--quick', ['--quick'], {}],
    ['BENCH_QUICK=1', [], { BENCH_QUICK: '1' }],
  ] as const) {
    it(`quick mode (${how}): six rows with numeric figures and ratios; new handshakes are full handshakes, keep-alive reuses`, async () => {
      const run = await bench([...args], env);
      assert.equal(run.code, 0, run.stderr);
      const lines = run.stdout.split('\n');
      assert.match(lines[0]!, new RegExp(`^bench:mtls  node v\\d+\\.\\d+\\.\\d+, \\d+ cores, ${QUICK_CONNECTIONS} connections, quick mode: ${QUICK_REQUESTS} requests per measurement, 1 round, loopback, TLSv1\\.[23]`));
      const got = rows(run.stdout);
      assert.deepEqual(
        got.map((r) => `${r.name} ${r.mode}`),
        ['floor keep-alive', 'token keep-alive', 'api keep-alive', 'floor new handshake', 'token new handshake', 'api new handshake'],
        run.stdout,
      );
      for (const r of got) {
        const what = `${r.name} ${r.mode}`;
        assert.ok(r.rate > 0 && Number.isFinite(r.rate), `${what}: req/s`);
        assert.ok(r.p99 > 0 && Number.isFinite(r.p99), `${what}: p99`);
        assert.ok(r.ratio > 0 && Number.isFinite(r.ratio), `${what}: ratio`);
        // The floor is measured next to each of the two subjects.
        assert.equal(r.requests, r.name === 'floor' ? 2 * QUICK_REQUESTS : QUICK_REQUESTS, `${what}: requests measured`);
        assert.equal(r.resumed, 0, `${what}: no TLS session was resumed`);
        if (r.mode === 'new handshake') assert.equal(r.full, r.requests, `${what}: one full handshake per request`);
        else assert.equal(r.full, 0, `${what}: keep-alive measured on the warm-up's connections`);
        if (r.name === 'floor') {
          assert.equal(r.ratio, 1, what);
          assert.equal(r.target, null, what);
        }
      }
      // The targets printed are the (never whether they are met: that depends on the machine).
      assert.deepEqual(
        got.filter((r) => r.name !== 'floor').map((r) => r.target),
        [0.3, 0.6, 0.3, 0.85],
      );
    });
  }

  it('--breakdown adds the diagnostic rows (the Express stack, with the certificate context, and both hot paths without Express), each answered 200', async () => {
    const run = await bench(['--quick', '--breakdown', '--mode', 'keep-alive']);
    assert.equal(run.code, 0, run.stderr);
    const got = rows(run.stdout);
    const subjects = ['express', '+cert', 'token', 'api', 'tok-bare', 'api-bare'];
    assert.deepEqual(
      got.map((r) => r.name),
      ['floor', ...subjects],
      run.stdout,
    );
    for (const r of got) {
      // The bench stops on any answer but 200, so every row's requests were answered as the portal answers them.
      assert.equal(r.requests, r.name === 'floor' ? subjects.length * QUICK_REQUESTS : QUICK_REQUESTS, r.name);
      assert.equal(r.target, r.name === 'token' ? 0.3 : r.name === 'api' ? 0.6 : null, r.name);
    }
  });

  it('refuses an unknown --mode with exit 1 and says why', async () => {
    const run = await bench(['--quick', '--mode', 'pipelined']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /--mode is 'keep-alive' or 'new handshake'/);
    assert.equal(run.stdout, '');
  });
});
