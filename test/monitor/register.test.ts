/**
 * The monitor and the NCA register source: a withdrawal suspends, a service code removed narrows the roles,
 * a name change or a re-authorisation opens a task only, and a source that is missing or garbage suspends
 * nothing and raises an alert (the previous register is kept).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PartnerRolesChange } from '../../src/partners/types.js';
import { ACME_CODE, monitorHarness, setProperty, type MonitorHarness } from './helpers.js';

describe('monitor: NCA register', function () {
  this.timeout(60_000);
  let h: MonitorHarness;
  afterEach(() => h?.close());

  const withdraw = (hh: MonitorHarness) =>
    hh.writeRegister((e) => setProperty(e.get(ACME_CODE)!, 'ENT_AUT', ['2019-03-01', '2026-11-30']));

  it('a withdrawal in the register source suspends with REGISTER_WITHDRAWN, with the entry before and after as evidence', async () => {
    h = await monitorHarness();
    await h.monitor.runOnce();
    withdraw(h);
    const r = await h.monitor.runOnce();
    assert.equal(r.status, 'ok', r.error ?? '');
    assert.equal(r.summary?.register.imported, true);
    assert.deepEqual(r.actions.map((a) => [a.kind, a.reasonCode]), [['register_import', null], ['suspend', 'REGISTER_WITHDRAWN']]);
    const partner = (await h.service.getPartner(h.acme.id))!;
    assert.equal(partner.status, 'suspended');
    assert.equal(partner.statusReasonCode, 'REGISTER_WITHDRAWN');
    assert.match(partner.statusReason!, /^The NCA register \(snapshot of \d{4}-\d{2}-\d{2}, lifecycle monitor: .+register\.json\) shows the authorisation of Acme Payments GmbH \(DE-BAFIN 152645\) withdrawn on 2026-11-30\./);
    const ev = (await h.audit.list({ action: 'monitor.suspend' }))[0]!;
    const reg = (ev.data.evidence as { register: { before: { authorisation: { status: string } }; after: { authorisation: { status: string; dates: string[] } } } }).register;
    assert.equal(reg.before.authorisation.status, 'authorised');
    assert.equal(reg.after.authorisation.status, 'withdrawn');
    assert.deepEqual(reg.after.authorisation.dates, ['2019-03-01', '2026-11-30']);
    assert.equal(h.notices.filter((n) => n.event === 'client.suspended').length, 1);

    // The same file again: not re-imported, nothing new.
    const before = h.state();
    const again = await h.monitor.runOnce();
    assert.deepEqual(again.actions, []);
    assert.equal(again.summary?.register.imported, false);
    assert.deepEqual({ ...h.state(), monitor_runs: 0, audit_events: 0 }, { ...before, monitor_runs: 0, audit_events: 0 });
  });

  it('a withdrawal already in the register at the first pass suspends too (the state counts, not only the change)', async () => {
    h = await monitorHarness();
    withdraw(h);
    const r = await h.monitor.runOnce();
    assert.deepEqual(r.actions.map((a) => a.kind), ['register_import', 'suspend']);
    assert.equal((await h.service.getPartner(h.acme.id))?.statusReasonCode, 'REGISTER_WITHDRAWN');
  });

  it('PS_070 removed narrows the partner to AIS (audited, listeners told, partner told); nothing is suspended', async () => {
    h = await monitorHarness();
    const changes: PartnerRolesChange[] = [];
    h.service.onPartnerRolesChange((c) => {
      changes.push(c);
    });
    assert.deepEqual(h.acme.allowedRoles, ['AIS', 'PIS']);
    h.writeRegister((e) => {
      e.get(ACME_CODE)!.Services = [{ DE: ['PS_03C', 'PS_080'] }, { AT: ['PS_070', 'PS_080'] }];
    });
    const r = await h.monitor.runOnce();
    assert.equal(r.status, 'ok', r.error ?? '');
    const partner = (await h.service.getPartner(h.acme.id))!;
    assert.equal(partner.status, 'active');
    assert.deepEqual(partner.allowedRoles, ['AIS']);
    assert.deepEqual(
      changes.map((c) => [c.partnerId, c.previous, c.allowedRoles, c.removed, c.actor.label]),
      [[h.acme.id, ['AIS', 'PIS'], ['AIS'], ['PIS'], 'lifecycle monitor']],
    );
    const narrowed = (await h.audit.list({ action: 'partner.roles.narrowed' }))[0]!;
    assert.deepEqual(narrowed.data.removed, ['PIS']);
    assert.match(String(narrowed.data.text), /no longer lists payment initiation \(PIS\) services \(PS_070\) for Acme Payments GmbH in DE\./);
    assert.ok((narrowed.data.evidence as { register: unknown }).register, 'the register entries are the evidence');
    assert.deepEqual(r.actions.map((a) => a.kind), ['register_import', 'narrow_roles']);
    const told = h.notices.find((n) => n.event === 'partner.roles_narrowed')!;
    assert.deepEqual(told.data.removed, ['PIS']);
    assert.deepEqual(told.email?.to, ['business@fintech.test', 'technical@fintech.test']);

    await h.monitor.runOnce();
    assert.equal(h.count('audit_events', "action = 'partner.roles.narrowed'"), 1);
  });

  it('a name change opens one review task and blocks nothing', async () => {
    h = await monitorHarness();
    h.writeRegister((e) => setProperty(e.get(ACME_CODE)!, 'ENT_NAM', 'Acme Holdings GmbH'));
    const r = await h.monitor.runOnce();
    assert.deepEqual(r.actions.map((a) => a.kind), ['register_import', 'task']);
    const task = h.db.prepare('SELECT kind, partner_id AS partnerId, title, detail, state FROM monitor_tasks').get();
    assert.deepEqual(task, {
      kind: 'register_name_change',
      partnerId: h.acme.id,
      title: 'Name changed in the register',
      detail: 'The register now names DE-BAFIN 152645 "Acme Holdings GmbH" (was "Acme Payments GmbH"). Check for a merger or a new owner; nothing was blocked.',
      state: 'open',
    });
    const partner = (await h.service.getPartner(h.acme.id))!;
    assert.equal(partner.status, 'active');
    assert.deepEqual(partner.allowedRoles, ['AIS', 'PIS']);
    await h.monitor.runOnce();
    assert.equal(h.count('monitor_tasks'), 1);
  });

  it('re-authorised after a withdrawal: a task offers reinstatement, nothing is reinstated automatically', async () => {
    h = await monitorHarness();
    withdraw(h);
    await h.monitor.runOnce();
    h.writeRegister((e) => setProperty(e.get(ACME_CODE)!, 'ENT_AUT', ['2019-03-01', '2026-11-30', '2026-12-02']));
    const r = await h.monitor.runOnce();
    assert.deepEqual(r.actions.map((a) => a.kind), ['register_import', 'task']);
    assert.equal((await h.service.getPartner(h.acme.id))?.status, 'suspended');
    const task = h.db.prepare('SELECT kind, detail FROM monitor_tasks').get() as { kind: string; detail: string };
    assert.equal(task.kind, 'reinstatement_offer');
    assert.match(task.detail, /authorised again since 2026-12-02\. Reinstatement may be proposed on this page \(two officers\)\./);
  });

  it('an organisation gone from the register opens a task and blocks nothing', async () => {
    h = await monitorHarness();
    h.writeRegister((_, list) => list.filter((x) => x.EntityCode !== ACME_CODE));
    const r = await h.monitor.runOnce();
    assert.deepEqual(r.actions.map((a) => a.kind), ['register_import', 'task']);
    assert.equal(h.db.prepare('SELECT kind FROM monitor_tasks').pluck().get(), 'register_entry_missing');
    assert.equal((await h.service.getPartner(h.acme.id))?.status, 'active');
  });

  for (const [name, setup] of [
    ['missing', (hh: MonitorHarness) => path.join(path.dirname(hh.sourceFile), 'no-such-register.json')],
    [
      'garbage',
      (hh: MonitorHarness) => {
        writeFileSync(hh.sourceFile, '{"not": "a register"');
        return hh.sourceFile;
      },
    ],
    [
      'the wrong shape',
      (hh: MonitorHarness) => {
        writeFileSync(hh.sourceFile, JSON.stringify({ entities: [] }));
        return hh.sourceFile;
      },
    ],
  ] as const) {
    it(`a register source that is ${name} suspends nothing and raises an alert; the previous register is kept`, async () => {
      h = await monitorHarness();
      await h.monitor.runOnce();
      const snapshot = (await h.register.status()).snapshot;
      const source = setup(h);
      const monitor = h.newMonitor({ source });
      const before = h.state();
      const r = await monitor.runOnce();
      assert.equal(r.status, 'ok', r.error ?? '');
      assert.deepEqual(r.actions, []);
      assert.equal(r.summary?.register.imported, false);
      assert.ok(r.summary?.register.error);
      assert.deepEqual(r.alerts.map((a) => [a.kind, a.key]), [['register_source', source]]);
      assert.match(r.alerts[0]!.detail, /^The register source could not be used: .+ The previous register is kept and no partner was suspended because of it\.$/);
      assert.deepEqual((await h.register.status()).snapshot, snapshot);
      assert.equal((await h.service.getPartner(h.acme.id))?.status, 'active');
      const after = h.state();
      // One run, one alert and its audit event, nothing else.
      assert.deepEqual(
        { ...after, monitor_runs: 0, monitor_alerts: 0, audit_events: 0, alerts: [] },
        { ...before, monitor_runs: 0, monitor_alerts: 0, audit_events: 0, alerts: [] },
      );
      assert.equal((after.audit_events as number) - (before.audit_events as number), 2, 'monitor.alert.opened and monitor.run.completed');
    });
  }

  it('a source that comes back closes the alert, and a withdrawal it then shows is acted on', async () => {
    h = await monitorHarness();
    writeFileSync(h.sourceFile, 'garbage');
    const first = await h.monitor.runOnce();
    assert.deepEqual(first.alerts.map((a) => a.kind), ['register_source']);
    withdraw(h);
    const second = await h.monitor.runOnce();
    assert.equal(second.summary?.alertsClosed, 1);
    assert.equal((await h.service.getPartner(h.acme.id))?.statusReasonCode, 'REGISTER_WITHDRAWN');
  });

  it('without a source it diffs the register last imported by hand', async () => {
    h = await monitorHarness({ source: null });
    await h.monitor.runOnce();
    withdraw(h);
    await h.register.importSnapshot(readFileSync(h.sourceFile), { source: 'by hand', actor: { type: 'system', id: null, label: 'test' } });
    const r = await h.monitor.runOnce();
    assert.equal(r.summary?.register.source, null);
    assert.deepEqual(r.actions.map((a) => [a.kind, a.reasonCode]), [['suspend', 'REGISTER_WITHDRAWN']]);
  });
});
