/**
 * npm run bench:mtls — the mutual-TLS listener on loopback, with ratios against a floor measured in the same run
 * (absolute rates on these shared machines are noise; the ratios are the figures):
 *
 *  floor  a bare Node HTTPS server with the mutual-TLS listener's TLS set-up (same certificate and key,
 *         requestCert, rejectUnauthorized false, no session tickets) answering a fixed JSON body (the bytes the
 *         protected API answers). It does no HTTP routing, no certificate reading or checking, no token work:
 *         it is the cost of TLS + Node's HTTP server alone, i.e. an upper bound nothing real can reach.
 *  token  POST /oauth/token, client_credentials, tls_client_auth (an opaque token, written to SQLite each time)
 *  api    GET /api/v1/connection with one certificate-bound JWT obtained up front
 *
 * each with keep-alive (connections reused) and with a new TLS handshake per request (Connection: close, no
 * client session cache, and the server issues no tickets: every request is a full handshake presenting the
 * client certificate; the server-side handshake count is printed to show it).
 *
 * The servers (portal, floor) run on the main thread; the load generator runs in a worker thread (its own
 * event loop, so on 2 cores server and client each get one): a closed loop of --connections concurrent requests
 * (a minimal HTTP/1.1 client over node:tls) for --seconds, after a warm-up. In every round each subject is
 * measured next to a floor measurement of its own (order alternating by round: these machines' speed drifts),
 * and its ratios are taken against that one. Each row: median req/s and p99 latency over --rounds, the median
 * ratio to the floor, the median ratio of requests per busy server second (server event-loop utilisation),
 * which is the fair one when the load generator is the limit (with new handshakes the client signs with its
 * RSA key as the server does, so one client thread can barely keep up with the floor), and how busy each side
 * was.
 *
 * Targets (issue 4): api >= 0.60x the floor with keep-alive, >= 0.85x with new handshakes; token >= 0.30x.
 * A target is met when both ratios reach it.
 *
 * Options: --seconds N (default 1), --rounds N (default 5), --connections N (default 8);
 *          --quick (or BENCH_QUICK=1): a test mode, a fixed 24 requests per measurement over 4 connections, 1 round;
 *          --breakdown: diagnostic rows: the portal's Express stack answering the same JSON (express), the same
 *          behind the portal's certificate-context middleware (+cert), and the token endpoint and the API's checks
 *          without Express (tok-bare, api-bare: the certificate context, then oidc-provider's handler or the token
 *          guard's checks, on a bare HTTPS server; see startWithoutExpress);
 *          --only api,token and --mode keep-alive|'new handshake': a subset (the floor is always measured),
 *          e.g. under node --cpu-prof.
 */
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { connect as tlsConnect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';

type Mode = 'keep-alive' | 'new handshake';

interface OpenJob {
  type: 'open';
  origin: string;
  tls: { ca: string; cert: string; key: string; servername: string };
}
interface RunJob {
  type: 'run';
  path: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** true: Connection: close, a new connection (and TLS handshake) per request. */
  reset: boolean;
  concurrency: number;
  /** Stop after this many requests in total, or after this long. */
  count?: number;
  durationMs?: number;
}
type Job = OpenJob | RunJob | { type: 'close' };

interface RunResult {
  requests: number;
  elapsedMs: number;
  p50: number;
  p99: number;
  /** Fraction of the worker's time its event loop was busy. */
  clientBusy: number;
  failures: string[];
}

// ------------------------------------------------------------------------------------------------------------
// The load generator (worker thread)
// ------------------------------------------------------------------------------------------------------------

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * A minimal HTTP/1.1 client over TLS: the request bytes are built once, the answer is read as far as its
 * length says. Far cheaper per request than a general client, so that on 2 cores the load generator is not
 * what limits the floor (its event loop busy time is printed to check).
 */
interface Answer {
  status: number;
  body: string;
}

function requestBytes(job: RunJob, host: string): Buffer {
  const body = job.body === undefined ? null : Buffer.from(job.body);
  const head = [`${job.method} ${job.path} HTTP/1.1`, `host: ${host}`];
  for (const [k, v] of Object.entries(job.headers)) head.push(`${k}: ${v}`);
  if (body) head.push(`content-length: ${body.length}`);
  head.push(`connection: ${job.reset ? 'close' : 'keep-alive'}`);
  const bytes = Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1');
  return body ? Buffer.concat([bytes, body]) : bytes;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CHUNKED_END = Buffer.from('0\r\n\r\n');

/** How many bytes the answer in `buf` takes once complete, or -1 while more is needed. */
function answerLength(buf: Buffer): number {
  const headEnd = buf.indexOf(CRLFCRLF);
  if (headEnd < 0) return -1;
  const head = buf.toString('latin1', 0, headEnd).toLowerCase();
  const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
  if (length) {
    const total = headEnd + 4 + Number(length[1]);
    return buf.length >= total ? total : -1;
  }
  if (/\r\ntransfer-encoding:\s*chunked/.test(head)) {
    const at = buf.indexOf(CHUNKED_END, headEnd + 4);
    return at >= 0 && (at === headEnd + 4 || buf[at - 1] === 0x0a) ? at + CHUNKED_END.length : -1;
  }
  return headEnd + 4;
}

function parseAnswer(buf: Buffer, length: number): Answer {
  const headEnd = buf.indexOf(CRLFCRLF);
  const status = Number(buf.toString('latin1', 9, 12));
  return { status, body: buf.toString('utf8', headEnd + 4, length) };
}

/** One connection; `exchange` writes a request and resolves with its answer. */
class Connection {
  private buf: Buffer = Buffer.alloc(0);
  private pending: { resolve: (a: Answer) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(readonly socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      const n = answerLength(this.buf);
      if (n < 0 || !this.pending) return;
      const answer = parseAnswer(this.buf, n);
      this.buf = this.buf.subarray(n);
      const p = this.pending;
      this.pending = null;
      p.resolve(answer);
    });
    const fail = (err: Error) => {
      this.failure = err;
      const p = this.pending;
      this.pending = null;
      p?.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed before the answer was complete')));
  }

  exchange(bytes: Buffer): Promise<Answer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(bytes);
    });
  }
}

interface Target {
  host: string;
  port: number;
  servername: string;
  context: SecureContext;
}

function connect(t: Target): Promise<Connection> {
  return new Promise((resolve, reject) => {
    // No session given and none cached: every connection is a full handshake presenting the certificate.
    const socket = tlsConnect({ host: t.host, port: t.port, servername: t.servername, secureContext: t.context });
    socket.setNoDelay(true);
    const conn = new Connection(socket);
    socket.once('secureConnect', () => resolve(conn));
    socket.once('error', reject);
  });
}

async function runLoad(target: Target, pool: Connection[], job: RunJob): Promise<RunResult> {
  const bytes = requestBytes(job, target.servername);
  const latencies: number[] = [];
  const failures: string[] = [];
  let issued = 0;
  const start = performance.now();
  const end = job.durationMs === undefined ? Infinity : start + job.durationMs;
  const limit = job.count ?? Infinity;
  let last = start;
  const elu0 = performance.eventLoopUtilization();
  const loop = async (slot: number) => {
    while (issued < limit && performance.now() < end && failures.length === 0) {
      issued++;
      const t0 = performance.now();
      try {
        let conn: Connection;
        if (job.reset) conn = await connect(target);
        else conn = pool[slot] ??= await connect(target);
        const answer = await conn.exchange(bytes);
        if (job.reset) conn.socket.destroy();
        if (answer.status !== 200) failures.push(`${answer.status} ${answer.body.slice(0, 200)}`);
      } catch (err) {
        failures.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
      }
      last = performance.now();
      latencies.push(last - t0);
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, (_, i) => loop(i)));
  const elu = performance.eventLoopUtilization(elu0);
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    elapsedMs: last - start,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    clientBusy: elu.utilization,
    failures: failures.slice(0, 3),
  };
}

function worker(): void {
  let target: Target | null = null;
  let pool: Connection[] = [];
  parentPort!.on('message', (job: Job) => {
    const reply = (value: unknown) => parentPort!.postMessage(value);
    if (job.type === 'open') {
      const url = new URL(job.origin);
      target = {
        host: url.hostname,
        port: Number(url.port),
        servername: job.tls.servername,
        // One context for all connections: parsing the CA, chain and key per connection would load the client.
        context: createSecureContext({ ca: job.tls.ca, cert: job.tls.cert, key: job.tls.key }),
      };
      pool = [];
      reply({ ok: true });
    } else if (job.type === 'run') {
      runLoad(target!, pool, job).then(reply, (err: unknown) => reply({ error: String(err) }));
    } else {
      for (const c of pool) c.socket.destroy();
      pool = [];
      target = null;
      reply({ ok: true });
    }
  });
}

// ------------------------------------------------------------------------------------------------------------
// The coordinator (main thread: the servers under test live here)
// ------------------------------------------------------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '5' },
      connections: { type: 'string', default: '8' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      breakdown: { type: 'boolean', default: false },
      mode: { type: 'string' },
    },
  });
  const quick = values.quick || process.env.BENCH_QUICK === '1';
  const rounds = quick ? 1 : Number(values.rounds);
  const connections = quick ? 4 : Number(values.connections);
  const seconds = Number(values.seconds);
  const quickCount = 24;
  if (!(rounds >= 1 && connections >= 1 && seconds > 0)) throw new Error('--rounds, --connections and --seconds must be positive');

  const modes = (['keep-alive', 'new handshake'] as Mode[]).filter((m) => !values.mode || values.mode === m);
  if (modes.length === 0) throw new Error("--mode is 'keep-alive' or 'new handshake'");
  const only = values.only?.split(',');
  const known = ['token', 'api', ...(values.breakdown ? ['express', '+cert', 'tok-bare', 'api-bare'] : [])];
  if (only?.some((n) => !known.includes(n))) throw new Error(`--only takes ${known.join(', ')}`);

  const { API_PATH, TOKEN_PATH, startBenchPortal, startExpressStep, startFloor, startWithoutExpress } = await import('./mtls-setup.js');
  process.stderr.write('Starting a portal (dev PKI, OCSP responder, demo seed) and registering the demo partner...\n');
  const bench = await startBenchPortal();
  // Everything started is stopped (and the temporary folder removed) whatever happens.
  const stops: (() => Promise<unknown>)[] = [() => bench.stop()];
  const lines: string[] = [];
  try {
    const floor = await startFloor(bench.tlsFiles, bench.apiBody);
    stops.push(() => floor.stop());
    const steps = values.breakdown
      ? [
          await startExpressStep(bench.tlsFiles, bench.apiBody),
          await startExpressStep(bench.tlsFiles, bench.apiBody, [bench.portal.oauth.certificates.middleware]),
        ]
      : [];
    for (const s of steps) stops.push(() => s.stop());
    const bare = values.breakdown ? await startWithoutExpress(bench) : null;
    if (bare) stops.push(() => bare.stop());
    // tsx's loader hooks do not reach worker threads on Node 20: the worker registers them before loading this file.
    const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    const load = new Worker(boot, { eval: true, workerData: { role: 'load' } });
    stops.push(() => load.terminate());
    let crashed: Error | null = null;
    load.on('error', (err) => (crashed = err));
    const ask = <T>(job: Job): Promise<T> =>
      new Promise((resolve, reject) => {
        if (crashed) return reject(crashed);
        const onError = (err: Error) => {
          load.off('message', onMessage);
          reject(err);
        };
        const onMessage = (m: T & { error?: string }) => {
          load.off('error', onError);
          if (m.error) reject(new Error(m.error));
          else resolve(m);
        };
        load.once('message', onMessage);
        load.once('error', onError);
        load.postMessage(job);
      });

    interface Subject {
      name: 'floor' | 'express' | '+cert' | 'token' | 'api' | 'tok-bare' | 'api-bare';
      origin: string;
      handshakes: typeof floor.handshakes;
      request: Pick<RunJob, 'path' | 'method' | 'headers' | 'body'>;
    }
    const plainGet: Subject['request'] = { path: API_PATH, method: 'GET', headers: { accept: 'application/json' } };
    const targets: Subject[] = [
      { name: 'floor', origin: floor.origin, handshakes: floor.handshakes, request: plainGet },
      ...steps.map((s, i): Subject => ({ name: i === 0 ? 'express' : '+cert', origin: s.origin, handshakes: s.handshakes, request: plainGet })),
      {
        name: 'token',
        origin: bench.mtlsOrigin,
        handshakes: bench.handshakes,
        request: {
          path: TOKEN_PATH,
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: bench.tokenForm,
        },
      },
      {
        name: 'api',
        origin: bench.mtlsOrigin,
        handshakes: bench.handshakes,
        request: { path: API_PATH, method: 'GET', headers: { accept: 'application/json', authorization: `Bearer ${bench.apiToken}` } },
      },
    ];
    // --breakdown: the same two hot paths without Express (startWithoutExpress), after the portal's own rows.
    if (bare) {
      const [token, api] = targets.slice(-2) as [Subject, Subject];
      targets.push(
        { name: 'tok-bare', origin: bare.origin, handshakes: bare.handshakes, request: token.request },
        { name: 'api-bare', origin: bare.origin, handshakes: bare.handshakes, request: api.request },
      );
    }
    // --only api / --mode keep-alive: one subject or one mode (with the floor), e.g. under --cpu-prof.
    if (only) targets.splice(0, targets.length, ...targets.filter((t) => t.name === 'floor' || only.includes(t.name)));

    interface Sample {
      rate: number;
      /** Against the floor measured next to it (1 for the floor). */
      ratio: number;
      capacityRatio: number;
      p99: number;
      serverBusy: number;
      clientBusy: number;
      requests: number;
      full: number;
      resumed: number;
      protocols: string[];
    }
    const samples = new Map<string, Sample[]>();
    const key = (t: string, m: Mode) => `${t} ${m}`;

    async function measure(target: Subject, mode: Mode): Promise<Sample> {
      await ask({ type: 'open', origin: target.origin, tls: bench.tls });
      const base = { ...target.request, reset: mode === 'new handshake', concurrency: connections };
      try {
        // Warm-up: JIT, caches (certificate validation by fingerprint) and, with keep-alive, the connections.
        const warm = await ask<RunResult>({ type: 'run', ...base, ...(quick ? { count: connections * 2 } : { durationMs: 300 }) });
        if (warm.failures.length) throw new Error(`${key(target.name, mode)} warm-up failed: ${warm.failures.join('; ')}`);
        target.handshakes.reset();
        const elu0 = performance.eventLoopUtilization();
        const r = await ask<RunResult>({ type: 'run', ...base, ...(quick ? { count: quickCount } : { durationMs: seconds * 1000 }) });
        const serverBusy = performance.eventLoopUtilization(elu0).utilization;
        if (r.failures.length) throw new Error(`${key(target.name, mode)} failed: ${r.failures.join('; ')}`);
        const hs = target.handshakes.read();
        return {
          rate: r.requests / (r.elapsedMs / 1000),
          ratio: 1,
          capacityRatio: 1,
          p99: r.p99,
          serverBusy,
          clientBusy: r.clientBusy,
          requests: r.requests,
          full: hs.full,
          resumed: hs.resumed,
          protocols: hs.protocols,
        };
      } finally {
        await ask({ type: 'close' });
      }
    }

    const record = (name: string, mode: Mode, s: Sample) => {
      const list = samples.get(key(name, mode)) ?? [];
      list.push(s);
      samples.set(key(name, mode), list);
      process.stderr.write(
        `  ${key(name, mode).padEnd(20)} ${s.rate.toFixed(0).padStart(6)} req/s  p99 ${s.p99.toFixed(1).padStart(6)} ms  ` +
          `server ${(s.serverBusy * 100).toFixed(0)}% client ${(s.clientBusy * 100).toFixed(0)}% busy  ` +
          `${s.full} full + ${s.resumed} resumed handshakes / ${s.requests} requests\n`,
      );
    };
    const [floorTarget, ...subjects] = targets;
    if (!quick) {
      // A round that is not counted: the JIT needs longer than one measurement's warm-up for the portal's paths.
      process.stderr.write('Warm-up round (not counted)\n');
      for (const mode of modes) for (const target of targets) await measure(target, mode);
    }
    for (let round = 1; round <= rounds; round++) {
      process.stderr.write(`Round ${round}/${rounds}\n`);
      for (const mode of modes) {
        for (const subject of subjects) {
          // Each subject next to a floor measurement of its own, in alternating order: the machine's speed drifts.
          const floorFirst = round % 2 === 1;
          const first = await measure(floorFirst ? floorTarget! : subject, mode);
          const second = await measure(floorFirst ? subject : floorTarget!, mode);
          const [f, s] = floorFirst ? [first, second] : [second, first];
          s.ratio = s.rate / f.rate;
          s.capacityRatio = s.rate / s.serverBusy / (f.rate / f.serverBusy);
          record('floor', mode, f);
          record(subject.name, mode, s);
        }
      }
    }

    const protocols = new Set<string>();
    for (const list of samples.values()) for (const s of list) s.protocols.forEach((p) => protocols.add(p));
    const targetsFor: Record<string, number> = {
      'token keep-alive': 0.3,
      'token new handshake': 0.3,
      'api keep-alive': 0.6,
      'api new handshake': 0.85,
    };
    lines.push(
      `bench:mtls  node ${process.version}, ${os.availableParallelism()} cores, ${connections} connections, ` +
        (quick ? `quick mode: ${quickCount} requests per measurement, 1 round` : `${rounds} rounds of ${seconds}s measurements (medians)`) +
        `, loopback, ${[...protocols].join('/')}, RSA-2048 server and client certificates`,
    );
    for (const mode of modes) {
      for (const target of targets) {
        const list = samples.get(key(target.name, mode))!;
        const rate = median(list.map((s) => s.rate));
        const p99 = median(list.map((s) => s.p99));
        // Medians of the ratios to the floor measured next to each sample.
        const ratio = median(list.map((s) => s.ratio));
        const capacityRatio = median(list.map((s) => s.capacityRatio));
        const want = targetsFor[key(target.name, mode)];
        const verdict =
          want === undefined ? '' : ` the floor (target >= ${want.toFixed(2)}: ${Math.min(ratio, capacityRatio) >= want ? 'met' : 'NOT met'})`;
        const full = list.reduce((n, s) => n + s.full, 0);
        const resumed = list.reduce((n, s) => n + s.resumed, 0);
        const requests = list.reduce((n, s) => n + s.requests, 0);
        lines.push(
          `${target.name.padEnd(9)}${mode.padEnd(14)} ${rate.toFixed(0).padStart(7)} req/s  p99 ${p99.toFixed(1).padStart(6)} ms  ` +
            `${ratio.toFixed(2)}x${verdict}  [per busy server second ${capacityRatio.toFixed(2)}x; ` +
            `busy: server ${(median(list.map((s) => s.serverBusy)) * 100).toFixed(0)}%, client ${(median(list.map((s) => s.clientBusy)) * 100).toFixed(0)}%; ` +
            `handshakes: ${full} full, ${resumed} resumed, ${requests} requests]`,
        );
      }
    }
    lines.push(
      "floor: TLS and Node's HTTP server alone (same TLS options as the mutual-TLS listener; no routing, no certificate",
      "reading or checking, no token): an upper bound. Ratio: req/s over the floor's. Per busy server second: requests",
      "per second of busy server event loop over the floor's, the fair figure when the load generator is the limit",
      '(client near 100% busy). A target is met when both ratios reach it.',
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (isMainThread) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
} else if ((workerData as { role?: string } | null)?.role === 'load') {
  worker();
}
