/**
 * The monitor and certificates: expiry notices on an injected clock (time travel), revocation at the local OCSP
 * responder, expiry, and a responder that is down (an alert, never a suspension).
 */
import assert from 'node:assert/strict';
import type { PartnerStatusChange } from '../../src/partners/types.js';
import { renewedPartnerCertificate } from '../helpers/devpki.js';
import { applicant, file } from '../partners/helpers.js';
import { monitorHarness, type MonitorHarness } from './helpers.js';

const TECH = 'technical@fintech.test';
const SEC = 'security@fintech.test';

describe('monitor: certificates', function () {
  this.timeout(60_000);
  let h: MonitorHarness;
  afterEach(() => h?.close());

  it('a clean pass acts on nothing, records the run and the register baseline, and raises no alert', async () => {
    h = await monitorHarness();
    const r = await h.monitor.runOnce();
    assert.equal(r.status, 'ok', r.error ?? '');
    assert.equal(r.trigger, 'manual');
    assert.deepEqual(r.actions, []);
    assert.deepEqual(r.alerts, []);
    assert.equal(r.summary?.partnersChecked, 1);
    assert.equal(r.summary?.certificatesChecked, 2);
    assert.deepEqual(r.summary?.register, { source: h.sourceFile, imported: false, snapshotId: r.summary?.register.snapshotId, error: null });
    assert.ok(r.summary?.register.snapshotId);
    assert.equal(h.count('monitor_register_baselines', 'partner_id = ?', h.acme.id), 1);
    assert.equal((await h.service.getPartner(h.acme.id))?.status, 'active');
    assert.deepEqual(h.notices, []);
    assert.equal(h.count('audit_events', "action = 'monitor.run.completed'"), 1);
    assert.equal((await h.audit.verify()).ok, true);
  });

  it('sends expiry notices at 60, 30, 14, 7 and 1 days, each exactly once per certificate across passes (time travel)', async () => {
    h = await monitorHarness({ revocation: 'off' });
    const qwacSha = h.acmeApp.certificates.qwac!.sha256;
    const qsealSha = h.acmeApp.certificates.qseal!.sha256;
    const sent = () => h.notices.filter((n) => n.event === 'certificate.expiring').map((n) => `${String(n.data.sha256).slice(0, 8)}:${n.data.thresholdDays}`);
    const expected: string[] = [];
    // Days before notAfter at each pass, and the threshold due then (null: none).
    const passes: [number, number | null][] = [
      [90, null],
      [61, null],
      [59.5, 60],
      [59, null],
      [45, null],
      [30, 30],
      [29, null],
      [13.9, 14],
      [13, null],
      [6.99, 7],
      [6, null],
      [0.5, 1],
      [0.4, null],
    ];
    for (const [days, due] of passes) {
      h.daysBeforeExpiry(days);
      const r = await h.monitor.runOnce();
      assert.equal(r.status, 'ok', r.error ?? '');
      if (due !== null) expected.push(`${qwacSha.slice(0, 8)}:${due}`, `${qsealSha.slice(0, 8)}:${due}`);
      assert.deepEqual(sent().sort(), [...expected].sort(), `after the pass at ${days} days`);
      assert.equal(r.actions.filter((a) => a.kind === 'expiry_notice').length, due === null ? 0 : 2, `actions at ${days} days`);
    }
    assert.equal(h.count('monitor_notices'), 10);
    assert.equal((await h.service.getPartner(h.acme.id))?.status, 'active');

    const sixty = h.notices.find((n) => n.event === 'certificate.expiring' && n.data.thresholdDays === 60 && n.data.kind === 'qwac')!;
    assert.equal(sixty.partnerId, h.acme.id);
    assert.equal(sixty.dedupeKey, `certificate.expiring:${qwacSha}:60`);
    assert.deepEqual(sixty.email?.to, [TECH, SEC]);
    assert.match(sixty.email!.subject, /^Your QWAC expires within 60 days \(Acme Payments GmbH\)$/);
    assert.match(sixty.email!.text, new RegExp(`expires on ${h.acmeDev.qwac.cert.notAfter.toISOString().slice(0, 10)}`));
    assert.match(sixty.email!.text, /suspends your organisation’s API clients automatically/);
    assert.match(sixty.email!.text, /upload it in the partner portal \(your application’s Certificates page, “Renew this certificate”\)/);
    // Each notice is an audited action carrying the certificate it is about.
    const ev = (await h.audit.list({ action: 'monitor.expiry_notice' })).find((e) => (e.data.evidence as { thresholdDays: number }).thresholdDays === 1)!;
    assert.ok(ev);
    assert.deepEqual(ev.actor, { type: 'system', id: null, label: 'lifecycle monitor' });
    // Revocation checking is off for this engine: one alert, seen by every pass, never a new one.
    const alerts = h.db.prepare('SELECT kind, state, seen_count FROM monitor_alerts').all();
    assert.deepEqual(alerts, [{ kind: 'revocation_not_checked', state: 'open', seen_count: passes.length }]);
  });

  it('after a gap only the most urgent notice goes; a past threshold is never sent late', async () => {
    h = await monitorHarness({ revocation: 'off' });
    h.daysBeforeExpiry(5);
    await h.monitor.runOnce();
    assert.deepEqual(
      h.notices.map((n) => n.data.thresholdDays),
      [7, 7],
    );
    h.daysBeforeExpiry(4);
    await h.monitor.runOnce();
    assert.equal(h.notices.length, 2);
    h.daysBeforeExpiry(0.9);
    await h.monitor.runOnce();
    assert.deepEqual(
      h.notices.map((n) => n.data.thresholdDays),
      [7, 7, 1, 1],
    );
  });

  it('after the partner renewed its QWAC and QSealC, the old ones expiring suspends nothing: the monitor checks the renewed ones', async () => {
    h = await monitorHarness({ revocation: 'off' });
    const who = applicant();
    for (const kind of ['qwac', 'qseal'] as const) {
      const renewed = await renewedPartnerCertificate(h.ownPki, 'acme-payments', kind);
      await h.service.renewCertificate(who, h.acmeApp.id, kind, file(renewed.pem, `${kind}.pem`));
    }
    h.daysBeforeExpiry(-0.5);
    const r = await h.monitor.runOnce();
    assert.equal(r.status, 'ok', r.error ?? '');
    assert.deepEqual(r.actions, []);
    assert.equal(r.summary?.certificatesChecked, 2);
    assert.equal((await h.service.getPartner(h.acme.id))?.status, 'active');
    assert.deepEqual(h.notices, []);
  });

  it('an expired approved QWAC suspends the partner with CERTIFICATE_EXPIRED; the expired QSealC opens a task', async () => {
    h = await monitorHarness({ revocation: 'off' });
    const changes: PartnerStatusChange[] = [];
    h.service.onPartnerStatusChange((c) => {
      changes.push(c);
    });
    h.daysBeforeExpiry(-0.5);
    const r = await h.monitor.runOnce();
    assert.equal(r.status, 'ok', r.error ?? '');
    const partner = (await h.service.getPartner(h.acme.id))!;
    assert.equal(partner.status, 'suspended');
    assert.equal(partner.statusReasonCode, 'CERTIFICATE_EXPIRED');
    const serial = h.acmeDev.qwac.cert.serialNumber;
    assert.match(partner.statusReason!, new RegExp(`^Your approved QWAC \\(serial ${serial}, issued by .+\\) expired on \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2} UTC; checked by the bank’s certificate monitor on`));
    assert.deepEqual(changes.map((c) => [c.status, c.reasonCode, c.actor.label]), [['suspended', 'CERTIFICATE_EXPIRED', 'lifecycle monitor']]);
    assert.deepEqual(r.actions.map((a) => [a.kind, a.reasonCode]), [['suspend', 'CERTIFICATE_EXPIRED'], ['task', null]]);
    const task = h.db.prepare('SELECT kind, title FROM monitor_tasks').get();
    assert.deepEqual(task, { kind: 'certificate_problem', title: 'QSealC expired' });
    const told = h.notices.find((n) => n.event === 'client.suspended')!;
    assert.deepEqual(told.email?.to, ['business@fintech.test', TECH, SEC]);
    assert.match(told.email!.text, /Reason \(CERTIFICATE_EXPIRED\): Your approved QWAC/);

    // Again: suspended partners' certificates are not re-checked and nothing is repeated.
    const before = h.state();
    const again = await h.monitor.runOnce();
    assert.deepEqual(again.actions, []);
    const after = h.state();
    assert.equal((after.monitor_runs as number) - (before.monitor_runs as number), 1);
    assert.deepEqual({ ...after, monitor_runs: 0, audit_events: 0 }, { ...before, monitor_runs: 0, audit_events: 0 });
  });

  it('a QWAC revoked at the OCSP responder suspends the partner with CERTIFICATE_REVOKED and audits the report', async () => {
    h = await monitorHarness();
    const changes: PartnerStatusChange[] = [];
    h.service.onPartnerStatusChange((c) => {
      changes.push(c);
    });
    await h.monitor.runOnce();
    h.responder.revoke(h.acmeDev.qwac.cert.serialNumber, 'keyCompromise');
    h.monitorEidas.clearCaches();
    const r = await h.monitor.runOnce();
    assert.equal(r.status, 'ok', r.error ?? '');
    const partner = (await h.service.getPartner(h.acme.id))!;
    assert.equal(partner.status, 'suspended');
    assert.equal(partner.statusReasonCode, 'CERTIFICATE_REVOKED');
    assert.match(partner.statusReason!, /^Your approved QWAC \(serial [0-9a-f]+, issued by .+\) was revoked on .+ UTC \(reason: keyCompromise\) according to its issuer’s OCSP responder; checked by the bank’s certificate monitor/);
    assert.equal(changes.length, 1);
    const action = r.actions.find((a) => a.kind === 'suspend')!;
    const cert = (action.evidence as { certificate: Record<string, unknown> }).certificate;
    assert.equal(cert.kind, 'qwac');
    assert.equal(cert.sha256, h.acme.qwacSha256);
    assert.deepEqual((cert.revocation as Record<string, unknown>).status, 'revoked');
    assert.equal((cert.revocation as Record<string, unknown>).source, 'ocsp');
    // The partners area's own record of the suspension, and the monitor's with the evidence, in one chain.
    const suspended = (await h.audit.list({ action: 'partner.suspended' }))[0]!;
    assert.deepEqual(suspended.data, { applicationId: h.acmeApp.id, reasonCode: 'CERTIFICATE_REVOKED', automatic: true, source: 'lifecycle monitor' });
    const mon = (await h.audit.list({ action: 'monitor.suspend' }))[0]!;
    assert.equal((mon.data.evidence as { certificate: { serialNumber: string } }).certificate.serialNumber, h.acmeDev.qwac.cert.serialNumber);
    assert.equal((await h.audit.verify()).ok, true);
  });

  it('a revoked QSealC opens a review task and suspends nothing', async () => {
    h = await monitorHarness();
    h.responder.revoke(h.acmeDev.qseal.cert.serialNumber, 'superseded');
    // Stands in for the OCSP answers cached at submission reaching their nextUpdate.
    h.monitorEidas.clearCaches();
    const r = await h.monitor.runOnce();
    assert.equal((await h.service.getPartner(h.acme.id))?.status, 'active');
    assert.deepEqual(r.actions.map((a) => a.kind), ['task']);
    assert.equal(h.count('monitor_tasks', "kind = 'certificate_problem' AND state = 'open'"), 1);
    await h.monitor.runOnce();
    assert.equal(h.count('monitor_tasks'), 1, 'the same problem opens one task');
  });

  it('a responder that is down suspends nothing: an alert per certificate, seen again, closed when it answers again', async () => {
    h = await monitorHarness();
    h.responder.setDown(true);
    // Even a revocation cannot be seen while the responder is down: no suspension on missing information.
    h.responder.revoke(h.acmeDev.qwac.cert.serialNumber, 'keyCompromise');
    h.monitorEidas.clearCaches();
    const first = await h.monitor.runOnce();
    assert.equal(first.status, 'ok', first.error ?? '');
    assert.equal((await h.service.getPartner(h.acme.id))?.status, 'active');
    assert.deepEqual(first.actions, []);
    assert.deepEqual(first.alerts.map((a) => [a.kind, a.key, a.partnerId, a.seenCount]).sort(), [
      ['revocation_unavailable', h.acmeApp.certificates.qseal!.sha256, h.acme.id, 1],
      ['revocation_unavailable', h.acmeApp.certificates.qwac!.sha256, h.acme.id, 1],
    ].sort());
    assert.match(first.alerts[0]!.detail, /could not be obtained: .+ The partner stays active\.$/);
    assert.equal(first.summary?.alertsOpened, 2);

    h.monitorEidas.clearCaches();
    const second = await h.monitor.runOnce();
    assert.deepEqual(second.alerts.map((a) => a.seenCount), [2, 2]);
    assert.equal(second.summary?.alertsOpened, 0);
    assert.equal(h.count('monitor_alerts'), 2);
    assert.equal(h.count('audit_events', "action = 'partner.suspended'"), 0);

    // Back up: the alerts close, and what the responder now says is acted on.
    h.responder.setDown(false);
    h.monitorEidas.clearCaches();
    const third = await h.monitor.runOnce();
    assert.equal(third.summary?.alertsClosed, 2);
    assert.equal(h.count('monitor_alerts', "state = 'open'"), 0);
    assert.equal((await h.service.getPartner(h.acme.id))?.statusReasonCode, 'CERTIFICATE_REVOKED');
  });
});
