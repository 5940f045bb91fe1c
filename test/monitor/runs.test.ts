/**
 * Passes as units: never two at once (in this process they share one; another process's recent pass holds a
 * lease), a failure is recorded and raised rather than thrown away, one partner's failure does not stop the
 * others, and the in-process scheduler runs passes, chained, until stopped.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { monitorHarness, type MonitorHarness } from './helpers.js';

describe('monitor: passes and the scheduler', function () {
  this.timeout(60_000);
  let h: MonitorHarness;
  afterEach(() => h?.close());

  it('two calls in one process share one pass', async () => {
    h = await monitorHarness();
    const [a, b] = await Promise.all([h.monitor.runOnce(), h.monitor.runOnce()]);
    assert.equal(a.id, b.id);
    assert.equal(h.count('monitor_runs'), 1);
    const c = await h.monitor.runOnce();
    assert.notEqual(c.id, a.id);
  });

  it('a recent pass of another process holds the lease: monitor.busy (409), nothing recorded; a stale one is abandoned', async () => {
    h = await monitorHarness();
    const other = randomUUID();
    const startedAt = new Date(h.clock.now.getTime() - 5 * 60_000).toISOString();
    h.db.prepare("INSERT INTO monitor_runs (id, trigger, started_at, status, summary) VALUES (?, 'cli', ?, 'running', '{}')").run(other, startedAt);
    const before = h.state();
    await assert.rejects(h.monitor.runOnce(), { code: 'monitor.busy', status: 409 });
    assert.deepEqual(h.state(), before);

    h.db.prepare('UPDATE monitor_runs SET started_at = ? WHERE id = ?').run(new Date(h.clock.now.getTime() - 31 * 60_000).toISOString(), other);
    const r = await h.monitor.runOnce();
    assert.equal(r.status, 'ok');
    assert.deepEqual(h.db.prepare('SELECT status, error FROM monitor_runs WHERE id = ?').get(other), {
      status: 'abandoned',
      error: 'The process running this pass stopped before it finished.',
    });
  });

  it('a pass that fails is recorded as failed with a run_failed alert and its audit event, and returned, not thrown', async () => {
    h = await monitorHarness();
    const failing = h.newMonitor({
      partners: {
        ...h.service,
        monitoredPartners: async () => {
          throw new Error('database disk image is malformed');
        },
      },
    });
    const r = await failing.runOnce({ trigger: 'cli' });
    assert.equal(r.status, 'failed');
    assert.equal(r.error, 'Failed during partners: database disk image is malformed');
    assert.ok(r.finishedAt);
    assert.deepEqual(r.alerts.map((a) => [a.kind, a.state]), [['run_failed', 'open']]);
    assert.equal(h.count('audit_events', "action = 'monitor.run.failed'"), 1);
    assert.equal(h.count('monitor_runs', "status = 'running'"), 0, 'the lease is released');
    // The next good pass closes the alert.
    const ok = await h.monitor.runOnce();
    assert.equal(ok.summary?.alertsClosed, 1);
  });

  it('one partner that cannot be checked raises action_failed; the pass goes on and the next retries', async () => {
    h = await monitorHarness();
    let calls = 0;
    const flaky = h.newMonitor({
      eidas: {
        validate: async (...args) => {
          calls++;
          if (calls === 1) throw new Error('socket hang up');
          return h.monitorEidas.validate(...args);
        },
      },
    });
    const r = await flaky.runOnce();
    assert.equal(r.status, 'ok');
    assert.deepEqual(r.alerts.map((a) => [a.kind, a.key]), [['action_failed', `partner:${h.acme.id}`]]);
    assert.equal(r.summary?.partnersChecked, 0);
    assert.equal(h.count('monitor_register_baselines'), 0, 'nothing of that partner was half-applied');
    const again = await flaky.runOnce();
    assert.equal(again.summary?.partnersChecked, 1);
    assert.equal(again.summary?.alertsClosed, 1);
  });

  it('a notification outbox that throws does not undo a suspension: it raises an alert', async () => {
    h = await monitorHarness({
      notify: async () => {
        throw new Error('outbox full');
      },
    });
    h.responder.revoke(h.acmeDev.qwac.cert.serialNumber, 'keyCompromise');
    h.monitorEidas.clearCaches();
    const r = await h.monitor.runOnce();
    assert.equal((await h.service.getPartner(h.acme.id))?.statusReasonCode, 'CERTIFICATE_REVOKED');
    assert.deepEqual(r.actions.map((a) => a.kind), ['suspend']);
    assert.deepEqual(r.alerts.map((a) => a.kind), ['action_failed']);
    assert.match(r.alerts[0]!.detail, /^The client\.suspended notification could not be queued: outbox full\.$/);
  });

  it('the scheduler runs passes one after the other until stopped', async () => {
    h = await monitorHarness();
    const monitor = h.newMonitor({ firstRunDelayMs: 1 });
    monitor.start(30);
    monitor.start(30); // a second start does not add a second schedule
    for (let i = 0; i < 100 && h.count('monitor_runs', "status = 'ok'") < 3; i++) await sleep(50);
    await monitor.stop();
    const n = h.count('monitor_runs');
    assert.ok(n >= 3, `${n} passes`);
    assert.equal(h.count('monitor_runs', "trigger = 'scheduler' AND status = 'ok'"), n);
    await sleep(150);
    assert.equal(h.count('monitor_runs'), n, 'no pass after stop');
    assert.throws(() => monitor.start(0), RangeError);
  });

  it('a scheduled pass that cannot start (busy) is logged and the schedule goes on', async () => {
    h = await monitorHarness();
    h.db
      .prepare("INSERT INTO monitor_runs (id, trigger, started_at, status, summary) VALUES (?, 'cli', ?, 'running', '{}')")
      .run(randomUUID(), h.clock.now.toISOString());
    const monitor = h.newMonitor({ firstRunDelayMs: 1 });
    monitor.start(20);
    await sleep(200);
    await monitor.stop();
    assert.equal(h.count('monitor_runs'), 1, 'only the other process\'s pass');
    h.db.prepare("UPDATE monitor_runs SET status = 'ok'").run();
    monitor.start(20);
    for (let i = 0; i < 100 && h.count('monitor_runs') < 2; i++) await sleep(20);
    await monitor.stop();
    assert.ok(h.count('monitor_runs', "trigger = 'scheduler'") >= 1);
  });
});
