/**
 * Four eyes for a partner the system suspended: one officer proposes, a different approver approves (or
 * declines); the single-officer path is refused. Also the partners-area methods the monitor uses, with their
 * bad input (each refusal changes nothing).
 */
import assert from 'node:assert/strict';
import type { ActorRef } from '../../src/partners/types.js';
import { APPROVER_A, APPROVER_B, REVIEWER, applicant, staff } from '../partners/helpers.js';
import { ACME_CODE, monitorHarness, setProperty, type MonitorHarness } from './helpers.js';

const ADMIN = staff('adam', ['admin']);

async function suspendedByMonitor(): Promise<MonitorHarness> {
  const h = await monitorHarness();
  h.writeRegister((e) => setProperty(e.get(ACME_CODE)!, 'ENT_AUT', ['2019-03-01', '2026-11-30']));
  await h.monitor.runOnce();
  assert.equal((await h.service.getPartner(h.acme.id))?.statusReasonCode, 'REGISTER_WITHDRAWN');
  return h;
}

describe('monitor: reinstatement with four eyes', function () {
  this.timeout(60_000);
  let h: MonitorHarness;
  afterEach(() => h?.close());

  it('one officer proposes, a different approver approves: the partner is active, both are on record', async () => {
    h = await suspendedByMonitor();
    const overview = await h.monitor.overview(REVIEWER);
    assert.deepEqual(
      overview.suspended.map((s) => [s.partnerId, s.reasonCode, s.suspendedBy, s.proposal]),
      [[h.acme.id, 'REGISTER_WITHDRAWN', 'lifecycle monitor', null]],
    );
    const proposal = await h.monitor.proposeReinstatement(REVIEWER, h.acme.id, { text: 'NCA confirms the withdrawal was an error.' });
    assert.equal(proposal.state, 'proposed');
    assert.deepEqual(proposal.proposedBy, { id: REVIEWER.id, label: REVIEWER.label });
    assert.equal((await h.monitor.overview(APPROVER_A)).suspended[0]!.proposal?.id, proposal.id);
    // Still suspended until the second officer acts.
    assert.equal((await h.service.getPartner(h.acme.id))?.status, 'suspended');

    const approved = await h.monitor.approveReinstatement(APPROVER_A, proposal.id, { text: 'Checked the NCA letter.' });
    assert.equal(approved.state, 'approved');
    assert.deepEqual(approved.decidedBy, { id: APPROVER_A.id, label: APPROVER_A.label });
    const partner = (await h.service.getPartner(h.acme.id))!;
    assert.equal(partner.status, 'active');
    const view = await h.service.getForStaff(REVIEWER, h.acmeApp.id);
    const d = view.decisions.at(-1)!;
    assert.equal(d.kind, 'reinstate');
    assert.deepEqual(d.actor, { type: 'staff', id: APPROVER_A.id, label: APPROVER_A.label });
    assert.equal(d.text, 'Checked the NCA letter.');
    const ev = (await h.audit.list({ action: 'partner.reinstated' }))[0]!;
    assert.deepEqual(ev.data.fourEyes, {
      proposedBy: { id: REVIEWER.id, label: REVIEWER.label },
      proposedAt: proposal.proposedAt,
      proposal: 'NCA confirms the withdrawal was an error.',
    });
    assert.equal(h.count('audit_events', "action IN ('monitor.reinstatement.proposed', 'monitor.reinstatement.approved')"), 2);
    assert.deepEqual((await h.monitor.overview(REVIEWER)).suspended, []);
    assert.equal((await h.audit.verify()).ok, true);
  });

  it('the proposer cannot approve or decline, a reviewer cannot approve, one officer cannot reinstate alone: nothing changes', async () => {
    h = await suspendedByMonitor();
    const proposal = await h.monitor.proposeReinstatement(APPROVER_A, h.acme.id, { text: 'Fine now.' });
    const before = h.state();
    await assert.rejects(h.monitor.approveReinstatement(APPROVER_A, proposal.id, { text: 'Me again.' }), { code: 'monitor.four_eyes', status: 403 });
    await assert.rejects(h.monitor.declineReinstatement(APPROVER_A, proposal.id, { text: 'Me again.' }), { code: 'monitor.four_eyes', status: 403 });
    await assert.rejects(h.monitor.approveReinstatement(REVIEWER, proposal.id, { text: 'I review.' }), { code: 'monitor.role_required', status: 403 });
    await assert.rejects(h.monitor.approveReinstatement(ADMIN, proposal.id, { text: 'I administer.' }), { code: 'monitor.role_required', status: 403 });
    await assert.rejects(h.monitor.approveReinstatement(applicant() as ActorRef, proposal.id, { text: 'x' }), { code: 'monitor.role_required', status: 403 });
    await assert.rejects(h.service.reinstatePartner(APPROVER_B, h.acme.id, { text: 'Alone.' }), { code: 'partners.second_officer_required', status: 409 });
    await assert.rejects(h.monitor.proposeReinstatement(REVIEWER, h.acme.id, { text: 'Another.' }), { code: 'monitor.proposal_exists', status: 409 });
    await assert.rejects(h.monitor.approveReinstatement(APPROVER_B, proposal.id, { text: '   ' }), { code: 'input.invalid', status: 400 });
    await assert.rejects(h.monitor.approveReinstatement(APPROVER_B, proposal.id, { text: 'x'.repeat(2001) }), { code: 'input.invalid', status: 400 });
    await assert.rejects(h.monitor.approveReinstatement(APPROVER_B, 'no-such-proposal', { text: 'x' }), { code: 'not_found', status: 404 });
    assert.deepEqual(h.state(), before);
    assert.equal((await h.service.getPartner(h.acme.id))?.status, 'suspended');

    // Declined by a second approver: still suspended, the proposal closed, a new one may be made.
    const declined = await h.monitor.declineReinstatement(APPROVER_B, proposal.id, { text: 'Wait for the NCA letter.' });
    assert.equal(declined.state, 'declined');
    await assert.rejects(h.monitor.approveReinstatement(APPROVER_B, proposal.id, { text: 'Changed my mind.' }), { code: 'monitor.proposal_closed', status: 409 });
    assert.equal((await h.service.getPartner(h.acme.id))?.status, 'suspended');
    const next = await h.monitor.proposeReinstatement(REVIEWER, h.acme.id, { text: 'The letter came.' });
    assert.equal(next.state, 'proposed');
  });

  it('proposing is for partners the system suspended, by reviewers or approvers, with a reason', async () => {
    h = await monitorHarness();
    const before = h.state();
    await assert.rejects(h.monitor.proposeReinstatement(REVIEWER, h.acme.id, { text: 'Active anyway.' }), { code: 'monitor.not_suspended_automatically', status: 409 });
    await assert.rejects(h.monitor.proposeReinstatement(REVIEWER, 'no-such-partner', { text: 'x' }), { code: 'not_found', status: 404 });
    await assert.rejects(h.monitor.proposeReinstatement(ADMIN, h.acme.id, { text: 'x' }), { code: 'monitor.role_required', status: 403 });
    await assert.rejects(h.monitor.proposeReinstatement(REVIEWER, h.acme.id, { text: '' }), { code: 'input.invalid', status: 400 });
    await assert.rejects(h.monitor.overview(applicant() as ActorRef), { code: 'monitor.role_required', status: 403 });
    // An officer's suspension is reinstated from the partners page by one approver, as before.
    await h.service.suspendPartner(APPROVER_A, h.acme.id, { reasonCode: 'FRAUD_GROUNDS', text: 'Evidence of fraud.' });
    await assert.rejects(h.monitor.proposeReinstatement(REVIEWER, h.acme.id, { text: 'x' }), { code: 'monitor.not_suspended_automatically', status: 409 });
    assert.equal((await h.service.reinstatePartner(APPROVER_B, h.acme.id, { text: 'Cleared.' })).status, 'active');
    assert.equal(h.count('monitor_reinstatements'), before.monitor_reinstatements);
  });

  it('partners.reinstateWithSecondApproval checks both officers itself', async () => {
    h = await suspendedByMonitor();
    const at = new Date().toISOString();
    const before = h.state();
    const p = (by: ActorRef, text = 'Proposed.') => ({ by, text, at });
    await assert.rejects(h.service.reinstateWithSecondApproval(p(APPROVER_A), APPROVER_A, h.acme.id, { text: 'x' }), { code: 'partners.four_eyes', status: 403 });
    await assert.rejects(h.service.reinstateWithSecondApproval(p(applicant() as ActorRef), APPROVER_A, h.acme.id, { text: 'x' }), { code: 'partners.staff_only', status: 403 });
    await assert.rejects(h.service.reinstateWithSecondApproval(p(ADMIN), APPROVER_A, h.acme.id, { text: 'x' }), { code: 'partners.role_required', status: 403 });
    await assert.rejects(h.service.reinstateWithSecondApproval(p(REVIEWER), REVIEWER, h.acme.id, { text: 'x' }), { code: 'partners.role_required', status: 403 });
    await assert.rejects(h.service.reinstateWithSecondApproval(p(REVIEWER, ''), APPROVER_A, h.acme.id, { text: 'x' }), { code: 'input.invalid', status: 400 });
    await assert.rejects(h.service.reinstateWithSecondApproval(p(REVIEWER), APPROVER_A, h.acme.id, { text: '' }), { code: 'input.invalid', status: 400 });
    await assert.rejects(h.service.reinstateWithSecondApproval(p(REVIEWER), APPROVER_A, 'no-such-partner', { text: 'x' }), { code: 'not_found', status: 404 });
    assert.deepEqual(h.state(), before);
  });

  it('partners.narrowAllowedRoles refuses bad input and unknown partners, changing nothing', async () => {
    h = await monitorHarness();
    const before = h.state();
    const ok = { remove: ['PIS' as const], text: 'PS_070 withdrawn.', source: 'lifecycle monitor' };
    await assert.rejects(h.service.narrowAllowedRoles(h.acme.id, { ...ok, remove: [] }), { code: 'input.invalid', status: 400 });
    await assert.rejects(h.service.narrowAllowedRoles(h.acme.id, { ...ok, remove: ['PIS', 'XYZ'] as never }), { code: 'input.invalid', status: 400 });
    await assert.rejects(h.service.narrowAllowedRoles(h.acme.id, { ...ok, remove: 'PIS' as never }), { code: 'input.invalid', status: 400 });
    await assert.rejects(h.service.narrowAllowedRoles(h.acme.id, { ...ok, text: ' ' }), { code: 'input.invalid', status: 400 });
    await assert.rejects(h.service.narrowAllowedRoles(h.acme.id, { ...ok, source: '' }), { code: 'input.invalid', status: 400 });
    await assert.rejects(h.service.narrowAllowedRoles('no-such-partner', ok), { code: 'not_found', status: 404 });
    // A role the partner does not hold: nothing to do, nothing recorded.
    const same = await h.service.narrowAllowedRoles(h.acme.id, { ...ok, remove: ['CBPII'] });
    assert.deepEqual(same.allowedRoles, ['AIS', 'PIS']);
    assert.deepEqual(h.state(), before);
  });

  it('review tasks are marked reviewed once, with what the officer checked', async () => {
    h = await monitorHarness();
    h.writeRegister((e) => setProperty(e.get(ACME_CODE)!, 'ENT_NAM', 'Acme Holdings GmbH'));
    await h.monitor.runOnce();
    const [task] = (await h.monitor.overview(REVIEWER)).tasks;
    assert.ok(task);
    const before = h.state();
    await assert.rejects(h.monitor.resolveTask(REVIEWER, task.id, { text: '' }), { code: 'input.invalid', status: 400 });
    await assert.rejects(h.monitor.resolveTask(ADMIN, task.id, { text: 'x' }), { code: 'monitor.role_required', status: 403 });
    await assert.rejects(h.monitor.resolveTask(REVIEWER, 'nope', { text: 'x' }), { code: 'not_found', status: 404 });
    assert.deepEqual(h.state(), before);
    const done = await h.monitor.resolveTask(REVIEWER, task.id, { text: 'Renamed after a merger; same licence.' });
    assert.equal(done.state, 'done');
    assert.equal(done.resolvedBy, REVIEWER.label);
    await assert.rejects(h.monitor.resolveTask(APPROVER_A, task.id, { text: 'Again.' }), { code: 'monitor.task_closed', status: 409 });
  });
});
