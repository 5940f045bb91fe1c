/**
 * Metrics and probes on the ops listener of a whole running portal: real requests on both listeners (a client
 * registered over mutual TLS, a bound token, API calls, refusals, 404s), then `/metrics` parsed by a strict line
 * parser of the text exposition format; label sets stay bounded; audit events feed the event counters through
 * `audit.onRecorded`; `/livez` and `/readyz`, and nothing else, on the ops listener only.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { createHealthService } from '../../src/health/service.js';
import { createOpsServer, readiness } from '../../src/ops/server.js';
import { close, listen, readTlsMaterial } from '../../src/server/listeners.js';
import { openDatabase } from '../../src/store/database.js';
import { startOpsPortal, type OpsHarness } from './harness.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
}

/** The Prometheus text format (0.0.4), strictly: any line that is not HELP, TYPE or a well-formed sample fails. */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const lines = text.slice(0, -1).split('\n');
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1}: ${line}`;
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([^ ]+) (.*)$/.exec(line);
      assert.ok(m, `bad comment, ${where}`);
      assert.match(m[2]!, NAME, where);
      if (m[1] === 'TYPE') {
        assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]!), where);
        assert.ok(!types.has(m[2]!), `TYPE twice, ${where}`);
        types.set(m[2]!, m[3]!);
      } else {
        assert.ok(!helps.has(m[2]!), `HELP twice, ${where}`);
        helps.add(m[2]!);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([^ ]+)$/.exec(line);
    assert.ok(m, `bad sample, ${where}`);
    const labels: Record<string, string> = {};
    if (m[3] !== undefined && m[3] !== '') {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/gy;
      let pos = 0;
      while (pos < m[3].length) {
        re.lastIndex = pos;
        const l = re.exec(m[3]);
        assert.ok(l, `bad labels, ${where}`);
        assert.ok(!(l[1]! in labels), `label twice, ${where}`);
        labels[l[1]!] = l[2]!.replace(/\\(["\\n])/g, (_x, c: string) => (c === 'n' ? '\n' : c));
        pos = re.lastIndex;
      }
    }
    // Values are Go ParseFloat floats: Inf and NaN in any letter case (prom-client writes `Nan`).
    const raw = m[4]!;
    const special = /^([+-]?)inf$/i.exec(raw);
    const value = special ? (special[1] === '-' ? -Infinity : Infinity) : /^nan$/i.test(raw) ? NaN : Number(raw);
    assert.ok(/^nan$/i.test(raw) || (raw !== '' && !Number.isNaN(value)), `bad value, ${where}`);
    const family = m[1]!.replace(/_(bucket|sum|count)$/, '');
    assert.ok(types.has(m[1]!) || types.get(family) === 'histogram' || types.get(family) === 'summary', `sample without TYPE, ${where}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { types, samples };
}

describe('ops: metrics and probes', function () {
  this.timeout(120_000);
  let h: OpsHarness;
  let clientId: string;
  let exposition: Exposition;
  let text: string;
  const random = `nope-${randomUUID()}`;

  const find = (name: string, labels: Record<string, string>) =>
    exposition.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  const value = (name: string, labels: Record<string, string>) => {
    const found = find(name, labels);
    assert.equal(found.length, 1, `${name} ${JSON.stringify(labels)}: ${found.length} series`);
    return found[0]!.value;
  };
  const scrape = async () => {
    const r = await h.opsRequest('GET', '/metrics');
    assert.equal(r.status, 200);
    text = r.text;
    exposition = parseExposition(text);
    return r;
  };

  before(async () => {
    h = await startOpsPortal();
    const acme = h.client('acme-payments');
    const plain = h.client(null);
    // Public listener: a page, and a URL nobody routes.
    assert.equal((await h.request(plain, 'GET', `${h.publicUrl}/health`)).status, 200);
    assert.equal((await h.request(plain, 'GET', `${h.publicUrl}/${random}`)).status, 404);
    // Mutual TLS: register, a token, API calls with and without it, a refused registration.
    const reg = await h.request(acme, 'POST', `${h.mtlsUrl}/oauth/register`, { body: await h.signedRequest(), headers: { 'content-type': 'application/jwt' } });
    assert.equal(reg.status, 201, reg.text);
    clientId = String(reg.json.client_id);
    const tok = await h.request(acme, 'POST', `${h.mtlsUrl}/oauth/token`, { form: { grant_type: 'client_credentials', client_id: clientId, scope: 'accounts' } });
    assert.equal(tok.status, 200, tok.text);
    const api = await h.request(acme, 'GET', `${h.mtlsUrl}/api/v1/connection`, { headers: { authorization: `Bearer ${String(tok.json.access_token)}` } });
    assert.equal(api.status, 200);
    assert.equal((await h.request(acme, 'GET', `${h.mtlsUrl}/api/v1/connection`)).status, 401);
    assert.equal((await h.request(acme, 'GET', `${h.mtlsUrl}/api/v1/accounts/acc-${random}`)).status, 401);
    const refused = await h.request(acme, 'POST', `${h.mtlsUrl}/oauth/register`, { body: 'not a jwt', headers: { 'content-type': 'application/jwt' } });
    assert.equal(refused.status, 400, refused.text);
    await scrape();
  });
  after(async () => {
    await h?.stop();
  });

  it('answers the Prometheus text format on the ops listener', async () => {
    const r = await scrape();
    assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    for (const [name, type] of [
      ['portal_http_requests_total', 'counter'],
      ['portal_http_request_duration_seconds', 'histogram'],
      ['portal_tokens_issued_total', 'counter'],
      ['portal_registrations_total', 'counter'],
      ['portal_certificate_validations_total', 'counter'],
      ['portal_monitor_actions_total', 'counter'],
      ['portal_consents', 'gauge'],
      ['portal_process_cpu_user_seconds_total', 'counter'],
      ['portal_nodejs_heap_size_total_bytes', 'gauge'],
    ] as const) {
      assert.equal(exposition.types.get(name), type, name);
    }
  });

  it('counts requests by route pattern, method, status and client: the bound token names its client', () => {
    assert.ok(value('portal_http_requests_total', { listener: 'public', route: '/health', method: 'GET', status: '200', client: '-' }) >= 1);
    assert.equal(value('portal_http_requests_total', { listener: 'mtls', route: '/api/v1/connection', method: 'GET', status: '200', client: clientId }), 1);
    assert.equal(value('portal_http_requests_total', { listener: 'mtls', route: '/api/v1/connection', method: 'GET', status: '401', client: '-' }), 1);
    // Refused by the guard inside the route: the pattern, not the account id.
    assert.equal(value('portal_http_requests_total', { listener: 'mtls', route: '/api/v1/accounts/:accountId', method: 'GET', status: '401', client: '-' }), 1);
    // Answered by oidc-provider and the registration gate: their patterns too.
    assert.equal(value('portal_http_requests_total', { listener: 'mtls', route: '/oauth/token', method: 'POST', status: '200', client: '-' }), 1);
    assert.equal(value('portal_http_requests_total', { listener: 'mtls', route: '/oauth/register', method: 'POST', status: '201', client: '-' }), 1);
    assert.equal(value('portal_http_requests_total', { listener: 'public', route: '(unmatched)', method: 'GET', status: '404', client: '-' }), 1);
    assert.equal(value('portal_http_request_duration_seconds_count', { listener: 'mtls', route: '/api/v1/connection', method: 'GET', client: clientId }), 1);
  });

  it('keeps labels bounded: a 404 on a random URL adds no route label, and no concrete URL appears', async () => {
    const routes = () => new Set(find('portal_http_requests_total', {}).map((s) => `${s.labels.listener} ${s.labels.route}`));
    const before = routes();
    for (const p of [`/${randomUUID()}`, `/nothing/${randomUUID()}/here`, `/static/${randomUUID()}.css`]) {
      assert.equal((await h.request(h.client(null), 'GET', `${h.publicUrl}${p}`)).status, 404);
    }
    assert.equal((await h.request(h.client('acme-payments'), 'GET', `${h.mtlsUrl}/api/v2/${randomUUID()}`)).status, 404);
    await scrape();
    const after = routes();
    const added = [...after].filter((r) => !before.has(r));
    // At most the one fixed label for static files and mTLS's (unmatched); never a path with an id in it.
    for (const r of added) assert.match(r, /^(public \(static\)|mtls \(unmatched\))$/);
    assert.ok(value('portal_http_requests_total', { listener: 'public', route: '(unmatched)', method: 'GET', status: '404', client: '-' }) >= 2);
    assert.doesNotMatch(text, new RegExp(random));
    assert.doesNotMatch(text, /route="[^"]*[0-9a-f]{8}-[0-9a-f]{4}-/, 'no UUID in any route label');
    for (const s of find('portal_http_requests_total', {})) {
      assert.ok(['public', 'mtls'].includes(s.labels.listener!));
      assert.ok(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'OTHER'].includes(s.labels.method!));
      assert.match(s.labels.status!, /^([1-5][0-9][0-9]|aborted)$/);
      assert.ok(s.labels.client === '-' || s.labels.client === clientId, s.labels.client);
    }
  });

  it('histograms are consistent: buckets grow and +Inf equals the count', () => {
    const counts = find('portal_http_request_duration_seconds_count', {});
    assert.ok(counts.length > 3);
    for (const c of counts) {
      const key = { listener: c.labels.listener!, route: c.labels.route!, method: c.labels.method!, client: c.labels.client! };
      const buckets = find('portal_http_request_duration_seconds_bucket', key).sort((a, b) => Number(a.labels.le === '+Inf' ? Infinity : a.labels.le) - Number(b.labels.le === '+Inf' ? Infinity : b.labels.le));
      assert.equal(buckets.length, 12);
      for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value);
      assert.equal(buckets.at(-1)!.labels.le, '+Inf');
      assert.equal(buckets.at(-1)!.value, c.value);
      assert.ok(value('portal_http_request_duration_seconds_sum', key) >= 0);
    }
  });

  it('counts tokens by grant type and registrations by outcome', () => {
    assert.equal(value('portal_tokens_issued_total', { grant_type: 'client_credentials' }), 1);
    assert.equal(value('portal_tokens_issued_total', { grant_type: 'authorization_code' }), 0);
    assert.equal(value('portal_registrations_total', { outcome: 'registered' }), 1);
    assert.equal(value('portal_registrations_total', { outcome: 'refused' }), 1);
    assert.equal(value('portal_registrations_total', { outcome: 'deleted' }), 0);
  });

  it('feeds certificate findings and monitor actions from audit events as they are recorded', async () => {
    const before = {
      expired: find('portal_certificate_validations_total', { finding: 'expired' })[0]?.value ?? 0,
      none: find('portal_certificate_validations_total', { finding: 'none' })[0]?.value ?? 0,
    };
    const system = { type: 'system' as const, id: null, label: 'test' };
    const upload = (verdict: string, findings: string[]) =>
      h.portal.audit.record({ actor: system, action: 'application.certificate.uploaded', subject: { type: 'application', id: randomUUID() }, data: { kind: 'qwac', verdict, findings } });
    await upload('fail', ['expired', 'chain.untrusted', 'expired']);
    await upload('pass', []);
    await upload('fail', ['made.up-code']);
    await h.portal.audit.record({ actor: system, action: 'monitor.suspend', subject: { type: 'partner', id: randomUUID() }, data: {} });
    await h.portal.audit.record({ actor: system, action: 'monitor.alert.opened', data: {} });
    await h.portal.audit.record({ actor: system, action: 'monitor.run.completed', data: {} });
    await scrape();
    assert.equal(value('portal_certificate_validations_total', { finding: 'expired' }), before.expired + 1, 'once per validation');
    assert.ok(value('portal_certificate_validations_total', { finding: 'chain.untrusted' }) >= 1);
    assert.equal(value('portal_certificate_validations_total', { finding: 'none' }), before.none + 1);
    assert.ok(value('portal_certificate_validations_total', { finding: 'other' }) >= 1);
    assert.equal(find('portal_certificate_validations_total', { finding: 'made.up-code' }).length, 0);
    assert.ok(value('portal_monitor_actions_total', { action: 'suspend' }) >= 1);
    assert.ok(value('portal_monitor_actions_total', { action: 'alert' }) >= 1);
    assert.equal(find('portal_monitor_actions_total', { action: 'run.completed' }).length, 0);
  });

  it('gauges consents by state at scrape time, from the consents table', async () => {
    const states = ['awaiting_authorisation', 'authorised', 'rejected', 'revoked', 'expired', 'consumed'];
    for (const state of states) {
      const n = h.count('SELECT COUNT(*) AS n FROM consents WHERE status = ?', state);
      assert.equal(value('portal_consents', { state }), n, state);
    }
  });

  it('/livez and /readyz answer; HEAD works; other paths and methods are refused', async () => {
    const live = await h.opsRequest('GET', '/livez');
    assert.equal(live.status, 200);
    assert.deepEqual(JSON.parse(live.text), { status: 'ok' });
    const ready = await h.opsRequest('GET', '/readyz');
    assert.equal(ready.status, 200, ready.text);
    const report = JSON.parse(ready.text) as { status: string; checks: { name: string; status: string }[] };
    assert.equal(report.status, 'ok');
    for (const name of ['Database', 'Public listener', 'Mutual-TLS listener', 'Signing keys', 'Authorization server']) {
      assert.equal(report.checks.find((c) => c.name === name)?.status, 'ok', name);
    }
    const head = await h.opsRequest('HEAD', '/livez');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    for (const p of ['/', '/health', '/staff/inventory', '/metrics/../livez.json', '/api/v1/connection']) {
      const r = await h.opsRequest('GET', p);
      assert.equal(r.status, 404, p);
      assert.equal(JSON.parse(r.text).code, 'not_found');
    }
    const post = await h.opsRequest('POST', '/metrics');
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });

  it('binds to loopback, and the metrics are not served on the public or mutual-TLS listener', async () => {
    assert.equal(h.portal.config.ops.host, '127.0.0.1');
    if (h.opsServer) assert.equal((h.opsServer.address() as AddressInfo).address, '127.0.0.1');
    for (const p of ['/metrics', '/readyz', '/livez']) {
      assert.equal((await h.request(h.client(null), 'GET', `${h.publicUrl}${p}`)).status, 404, `public ${p}`);
      assert.equal((await h.request(h.client('acme-payments'), 'GET', `${h.mtlsUrl}${p}`)).status, 404, `mtls ${p}`);
    }
  });

  it('/readyz is 503 naming the failing checks: a listener down, no signing keys, the database gone', async () => {
    const db = openDatabase(':memory:');
    db.close();
    const closed = https.createServer();
    const ops = createOpsServer({
      tls: readTlsMaterial(h.portal.config.tls),
      metrics: h.ops.metrics,
      ready: readiness({
        health: createHealthService({ config: h.portal.config, db, eidas: h.portal.eidas, mtlsPort: () => 0 }),
        listeners: () => ({ public: h.portal.servers[0]!, mtls: closed }),
        signingKeys: () => 0,
        providerStarted: () => {
          throw new Error('the authorization server is not started yet');
        },
      }),
    });
    const port = await listen(ops, 0, '127.0.0.1');
    try {
      const r = await h.request(h.client(null), 'GET', `https://127.0.0.1:${port}/readyz`);
      assert.equal(r.status, 503);
      const failing = (r.json.checks as { name: string; status: string }[]).filter((c) => c.status === 'fail').map((c) => c.name);
      assert.deepEqual(failing.sort(), ['Authorization server', 'Database', 'Mutual-TLS listener', 'Signing keys']);
      assert.equal(r.json.status, 'fail');
      // Liveness does not depend on them.
      assert.equal((await h.request(h.client(null), 'GET', `https://127.0.0.1:${port}/livez`)).status, 200);
    } finally {
      await close(ops);
    }
  });
});
