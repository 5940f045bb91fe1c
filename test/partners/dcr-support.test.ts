/**
 * What client registration and the token side need from the partners area: partner look-ups (by id, by
 * organizationIdentifier), status-change listeners inside the change's transaction, automatic suspension,
 * and the regulated fast lane (a valid QWAC of an authorised organisation creates an approved partner
 * without a portal application). Real SQLite, the real eIDAS engine on the dev PKI, the dev register.
 */
import assert from 'node:assert/strict';
import { AppError } from '../../src/errors.js';
import { FAST_LANE_APPLICANT, FAST_LANE_POLICY_VERSION, FastLaneRefusedError } from '../../src/partners/service.js';
import type { ActorRef, ApplicationView, FastLaneInput, PartnerStatusChange, RequestedRole } from '../../src/partners/types.js';
import { applicationPage, listRows, partnerRows } from '../../src/partners/view-models.js';
import { errorCodeFrom, loginStaff, seedStaff, signUpAndEnrol } from '../helpers/web.js';
import { page, startPages } from '../pages/setup.js';
import {
  acmeProfile,
  APPROVER_A,
  APPROVER_B,
  applicant,
  auditActions,
  auditHead,
  badCert,
  count,
  harness,
  partnerCert,
  presentedQwac,
  REVIEWER,
  sharedPki,
  snapshot,
  type Harness,
} from './helpers.js';

const ACME_OI = 'PSDDE-BAFIN-152645';

/** An EBA-shaped register holding Acme as given (synthetic), plus Nordic Insights as in the dev register. */
function register(acme: { aut: string[]; services: Record<string, string[]>[] } | null): Buffer {
  const entity = (code: string, owner: string, ref: string, type: string, name: string, country: string, aut: string[], services: Record<string, string[]>[]) => ({
    CA_OwnerID: owner,
    EntityCode: code,
    EntityType: type,
    Properties: [{ ENT_NAT_REF_COD: ref }, { ENT_NAM: name }, { ENT_COU_RES: country }, { ENT_AUT: aut }],
    Services: services,
  });
  const entities = [entity('SE_FINA!44059', 'SE_FINA', '44059', 'PSD_AISP', 'Nordic Insights AB', 'SE', ['2020-05-12'], [{ SE: ['PS_080'] }])];
  if (acme) entities.push(entity('DE_BAFIN!152645', 'DE_BAFIN', '152645', 'PSD_PI', 'Acme Payments GmbH', 'DE', acme.aut, acme.services));
  return Buffer.from(JSON.stringify([[{ Disclaimer: 'synthetic test register' }], entities]));
}

/** An Acme portal application approved by the regulated auto-approval. */
async function approvedAcme(h: Harness, who: ActorRef = applicant()): Promise<ApplicationView> {
  const app = await h.service.createApplication(who);
  await h.service.saveProfile(who, app.id, acmeProfile());
  await h.service.uploadCertificate(who, app.id, 'qwac', partnerCert(h.pki, 'acme-payments', 'qwac'));
  await h.service.uploadCertificate(who, app.id, 'qseal', partnerCert(h.pki, 'acme-payments', 'qseal'));
  const view = await h.service.submit(who, app.id);
  assert.equal(view.state, 'approved', JSON.stringify(view.autoApproval));
  assert.ok(view.partner);
  return view;
}

async function acmeFastLane(h: Harness, roles: RequestedRole[] = ['AIS', 'PIS']): Promise<FastLaneInput> {
  return { qwac: await presentedQwac(h.eidas, partnerCert(h.pki, 'acme-payments', 'qwac')), requestedRoles: roles, ip: '203.0.113.5' };
}

/** The fast lane refuses with exactly these failed checks, and writes nothing. */
async function assertRefused(h: Harness, input: FastLaneInput, failed: string[], message?: RegExp): Promise<void> {
  const before = snapshot(h.db);
  const head = auditHead(h.db);
  await assert.rejects(h.service.registerRegulatedPartner(input), (e: unknown) => {
    assert.ok(e instanceof FastLaneRefusedError, String(e));
    assert.ok(e instanceof AppError);
    assert.equal(e.code, 'partners.fast_lane_refused');
    assert.equal(e.status, 403);
    assert.deepEqual(
      e.failed.map((c) => c.name),
      failed,
      e.message,
    );
    assert.match(e.message, /^The portal cannot approve this organisation automatically: /);
    assert.match(e.message, /Apply in the partner portal instead\.$/);
    for (const c of e.failed) assert.ok(e.message.includes(c.message), `${c.name} is in the message`);
    if (message) assert.match(e.message, message);
    return true;
  });
  assert.deepEqual(snapshot(h.db), before);
  assert.equal(auditHead(h.db), head);
}

describe('partners: what client registration needs', function () {
  this.timeout(60_000);
  let h: Harness;
  afterEach(() => h?.close());

  describe('look-ups', () => {
    it('getPartner and partnerForOrganization find the partner; unknown, empty, oversized or differently cased → null', async () => {
      h = await harness();
      const view = await approvedAcme(h);
      const partner = view.partner!;
      assert.equal(partner.origin, 'portal');
      assert.deepEqual(await h.service.getPartner(partner.id), partner);
      assert.deepEqual(await h.service.partnerForOrganization(ACME_OI), partner);

      assert.equal(await h.service.getPartner('00000000-0000-4000-8000-000000000000'), null);
      assert.equal(await h.service.getPartner(''), null);
      assert.equal(await h.service.getPartner('x'.repeat(101)), null);
      assert.equal(await h.service.getPartner(42 as unknown as string), null);
      assert.equal(await h.service.partnerForOrganization('PSDSE-FINA-44059'), null);
      // Exact comparison of the raw identifier: no case folding, no trimming, no prefix matching.
      assert.equal(await h.service.partnerForOrganization(ACME_OI.toLowerCase()), null);
      assert.equal(await h.service.partnerForOrganization(` ${ACME_OI}`), null);
      assert.equal(await h.service.partnerForOrganization('PSDDE-BAFIN-15264'), null);
      assert.equal(await h.service.partnerForOrganization(''), null);
      assert.equal(await h.service.partnerForOrganization('P'.repeat(201)), null);
    });

    it('partnerForOrganization answers the most recently approved partner when the organisation applied again', async () => {
      h = await harness();
      const first = await approvedAcme(h, applicant(1));
      h.clock.now = new Date(h.clock.now.getTime() + 60_000);
      const second = await approvedAcme(h, applicant(2));
      assert.notEqual(first.partner!.id, second.partner!.id);
      assert.equal((await h.service.partnerForOrganization(ACME_OI))?.id, second.partner!.id);
      // Both stay reachable by id.
      assert.equal((await h.service.getPartner(first.partner!.id))?.id, first.partner!.id);
    });

    it('the look-up by organisation uses its index', async () => {
      h = await harness();
      const plan = h.db
        .prepare(
          'EXPLAIN QUERY PLAN SELECT p.*, a.origin AS origin FROM partners p JOIN applications a ON a.id = p.application_id WHERE p.organization_identifier = ? ORDER BY p.approved_at DESC, p.rowid DESC LIMIT 1',
        )
        .all(ACME_OI) as { detail: string }[];
      assert.ok(plan.some((r) => /partners_organization/.test(r.detail)), JSON.stringify(plan));
    });
  });

  describe('status-change listeners', () => {
    it('are awaited inside the transaction, after the row is written, with the change; unsubscribe stops them', async () => {
      h = await harness();
      const partner = (await approvedAcme(h)).partner!;
      const seen: { change: PartnerStatusChange; inTx: boolean; status: string | undefined; lastAction: string | undefined }[] = [];
      const unsubscribe = h.service.onPartnerStatusChange(async (change) => {
        seen.push({
          change,
          inTx: h.tx.active(),
          status: (await h.service.getPartner(change.partnerId))?.status,
          lastAction: auditActions(h.db).at(-1),
        });
      });

      await h.service.suspendPartner(APPROVER_A, partner.id, { reasonCode: 'FRAUD_GROUNDS', text: 'Evidence of fraud.' });
      await h.service.reinstatePartner(APPROVER_A, partner.id, { text: 'Cleared.' });
      assert.deepEqual(seen, [
        {
          change: {
            partnerId: partner.id,
            status: 'suspended',
            previous: 'active',
            reasonCode: 'FRAUD_GROUNDS',
            actor: { type: 'staff', id: APPROVER_A.id, label: APPROVER_A.label },
          },
          inTx: true,
          status: 'suspended',
          lastAction: 'partner.suspended',
        },
        {
          change: {
            partnerId: partner.id,
            status: 'active',
            previous: 'suspended',
            reasonCode: null,
            actor: { type: 'staff', id: APPROVER_A.id, label: APPROVER_A.label },
          },
          inTx: true,
          status: 'active',
          lastAction: 'partner.reinstated',
        },
      ]);

      unsubscribe();
      unsubscribe(); // twice is harmless
      await h.service.suspendPartner(APPROVER_A, partner.id, { reasonCode: 'OTHER', text: 'Again.' });
      assert.equal(seen.length, 2);
    });

    it('what a listener writes commits with the change', async () => {
      h = await harness();
      const partner = (await approvedAcme(h)).partner!;
      h.service.onPartnerStatusChange(async (change) => {
        await h.audit.record({ actor: change.actor, action: 'oauth.partner_grants.revoked', subject: { type: 'partner', id: change.partnerId } });
      });
      const head = auditHead(h.db);
      await h.service.suspendPartner(APPROVER_A, partner.id, { reasonCode: 'FRAUD_GROUNDS', text: 'Evidence of fraud.' });
      assert.deepEqual(auditActions(h.db, head), ['partner.suspended', 'oauth.partner_grants.revoked']);
      assert.equal((await h.audit.verify()).ok, true);
    });

    it('a listener that throws rolls the whole change back: still active, no decision, no audit event (its own writes included)', async () => {
      h = await harness();
      const partner = (await approvedAcme(h)).partner!;
      let calls = 0;
      h.service.onPartnerStatusChange(async (change) => {
        calls++;
        await h.audit.record({ actor: change.actor, action: 'oauth.partner_grants.revoked', subject: { type: 'partner', id: change.partnerId } });
        throw new Error('grant store unavailable');
      });
      const before = snapshot(h.db);
      const head = auditHead(h.db);
      const decisions = count(h.db, 'decisions');
      await assert.rejects(
        h.service.suspendPartner(APPROVER_A, partner.id, { reasonCode: 'FRAUD_GROUNDS', text: 'Evidence of fraud.' }),
        /grant store unavailable/,
      );
      assert.equal(calls, 1);
      assert.equal((await h.service.getPartner(partner.id))?.status, 'active');
      assert.equal((await h.service.getPartner(partner.id))?.statusReasonCode, null);
      assert.equal(count(h.db, 'decisions'), decisions);
      assert.equal(auditHead(h.db), head);
      assert.deepEqual(snapshot(h.db), before);
      // The automatic path rolls back the same way.
      await assert.rejects(
        h.service.suspendPartnerAutomatically(partner.id, { reasonCode: 'CERTIFICATE_REVOKED', text: 'OCSP: revoked.', source: 'certificate monitor' }),
        /grant store unavailable/,
      );
      assert.equal((await h.service.getPartner(partner.id))?.status, 'active');
      assert.deepEqual(snapshot(h.db), before);
      assert.equal((await h.audit.verify()).ok, true);
    });
  });

  describe('automatic suspension', () => {
    it('suspends as the system with a SUSPENSION_REASONS code, records decision and audit, and is idempotent', async () => {
      h = await harness();
      const view = await approvedAcme(h);
      const partner = view.partner!;
      const changes: PartnerStatusChange[] = [];
      h.service.onPartnerStatusChange((c) => {
        changes.push(c);
      });
      const head = auditHead(h.db);
      const suspended = await h.service.suspendPartnerAutomatically(partner.id, {
        reasonCode: 'CERTIFICATE_REVOKED',
        text: 'The QWAC was reported revoked by OCSP.',
        source: 'certificate monitor',
      });
      assert.equal(suspended.status, 'suspended');
      assert.equal(suspended.statusReasonCode, 'CERTIFICATE_REVOKED');
      assert.equal(suspended.statusReason, 'The QWAC was reported revoked by OCSP.');
      const system = { type: 'system', id: null, label: 'certificate monitor' } as const;
      assert.deepEqual(changes, [{ partnerId: partner.id, status: 'suspended', previous: 'active', reasonCode: 'CERTIFICATE_REVOKED', actor: system }]);
      assert.deepEqual(auditActions(h.db, head), ['partner.suspended']);
      const ev = (await h.audit.list({ action: 'partner.suspended' }))[0]!;
      assert.deepEqual(ev.actor, system);
      assert.deepEqual(ev.subject, { type: 'partner', id: partner.id });
      assert.deepEqual(ev.data, { applicationId: view.id, reasonCode: 'CERTIFICATE_REVOKED', automatic: true, source: 'certificate monitor' });
      const staffView = await h.service.getForStaff(REVIEWER, view.id);
      const d = staffView.decisions.at(-1)!;
      assert.equal(d.kind, 'suspend');
      assert.deepEqual(d.actor, system);
      assert.equal(d.reasonCode, 'CERTIFICATE_REVOKED');
      assert.equal(staffView.partner?.status, 'suspended');

      // Again: unchanged, nothing recorded, no listener call.
      const before = snapshot(h.db);
      const again = await h.service.suspendPartnerAutomatically(partner.id, {
        reasonCode: 'REGISTER_WITHDRAWN',
        text: 'Another monitor.',
        source: 'register monitor',
      });
      assert.deepEqual(again, suspended);
      assert.deepEqual(snapshot(h.db), before);
      assert.equal(changes.length, 1);

      // The staff path keeps its rule (suspending a suspended partner is an illegal step). One officer cannot bring
      // back a partner the system suspended (four eyes: reinstateWithSecondApproval, tested in test/monitor).
      await assert.rejects(h.service.suspendPartner(APPROVER_A, partner.id, { reasonCode: 'OTHER', text: 'x' }), {
        code: 'partners.illegal_transition',
        status: 409,
      });
      await assert.rejects(h.service.reinstatePartner(APPROVER_A, partner.id, { text: 'New QWAC checked.' }), {
        code: 'partners.second_officer_required',
        status: 409,
      });
      const proposal = { by: APPROVER_B, text: 'New QWAC checked.', at: new Date().toISOString() };
      assert.equal((await h.service.reinstateWithSecondApproval(proposal, APPROVER_A, partner.id, { text: 'Agreed.' })).status, 'active');
      assert.equal((await h.audit.verify()).ok, true);
    });

    it('refuses an unknown reason code, an empty text or source (400), and an unknown partner (404), changing nothing', async () => {
      h = await harness();
      const partner = (await approvedAcme(h)).partner!;
      const before = snapshot(h.db);
      const ok = { reasonCode: 'CERTIFICATE_REVOKED', text: 'Revoked.', source: 'certificate monitor' };
      await assert.rejects(h.service.suspendPartnerAutomatically(partner.id, { ...ok, reasonCode: 'CERT_GONE' }), { code: 'input.invalid', status: 400 });
      await assert.rejects(h.service.suspendPartnerAutomatically(partner.id, { ...ok, text: '  ' }), { code: 'input.invalid', status: 400 });
      await assert.rejects(h.service.suspendPartnerAutomatically(partner.id, { ...ok, source: '' }), { code: 'input.invalid', status: 400 });
      await assert.rejects(h.service.suspendPartnerAutomatically(partner.id, { ...ok, source: 's'.repeat(201) }), { code: 'input.invalid', status: 400 });
      await assert.rejects(h.service.suspendPartnerAutomatically('no-such-partner', ok), { code: 'not_found', status: 404 });
      assert.deepEqual(snapshot(h.db), before);
      assert.equal((await h.service.getPartner(partner.id))?.status, 'active');
    });
  });

  describe('regulated fast lane', () => {
    it('creates an approved regulated application and its partner by policy, in one transaction, visible to officers', async () => {
      h = await harness();
      const input = await acmeFastLane(h);
      assert.equal(input.qwac.report.verdict, 'pass', JSON.stringify(input.qwac.report.findings));
      const head = auditHead(h.db);
      const partner = await h.service.registerRegulatedPartner(input);
      assert.equal(partner.status, 'active');
      assert.equal(partner.origin, 'registration_fast_lane');
      assert.equal(partner.legalName, 'Acme Payments GmbH');
      assert.deepEqual(partner.allowedRoles, ['AIS', 'PIS']);
      assert.equal(partner.organizationIdentifier, ACME_OI);
      assert.equal(partner.qwacSha256, input.qwac.report.sha256);
      assert.deepEqual(await h.service.partnerForOrganization(ACME_OI), partner);
      assert.deepEqual(await h.service.getPartner(partner.id), partner);

      assert.deepEqual(auditActions(h.db, head), [
        'application.submitted',
        'application.auto_approved',
        'partner.created',
        'partner.fast_lane.created',
      ]);
      const created = (await h.audit.list({ action: 'partner.fast_lane.created' }))[0]!;
      assert.deepEqual(created.actor, { type: 'system', id: null, label: `policy ${FAST_LANE_POLICY_VERSION}` });
      assert.equal(created.ip, '203.0.113.5');
      assert.equal(created.data.organizationIdentifier, ACME_OI);
      assert.equal((await h.audit.verify()).ok, true);

      const row = h.db.prepare('SELECT applicant_id, applicant_email, origin, state, track, legal_name, profile FROM applications WHERE id = ?').get(partner.applicationId);
      assert.deepEqual(row, {
        applicant_id: FAST_LANE_APPLICANT.id,
        applicant_email: 'registered by API (fast lane)',
        origin: 'registration_fast_lane',
        state: 'approved',
        track: 'regulated',
        legal_name: 'Acme Payments GmbH',
        profile: null,
      });

      const view = await h.service.getForStaff(REVIEWER, partner.applicationId);
      assert.equal(view.origin, 'registration_fast_lane');
      assert.equal(view.state, 'approved');
      assert.equal(view.track, 'regulated');
      assert.equal(view.profile, null, 'nobody declared a profile');
      assert.deepEqual(view.fastLane, {
        legalName: 'Acme Payments GmbH',
        country: 'DE',
        ncaId: 'DE-BAFIN',
        authorisationNumber: '152645',
        organizationIdentifier: ACME_OI,
        requestedRoles: ['AIS', 'PIS'],
        contacts: null,
        ip: '203.0.113.5',
        registeredAt: h.clock.now.toISOString(),
      });
      assert.equal(view.certificates.qwac?.sha256, input.qwac.report.sha256);
      assert.equal(view.certificates.qwac?.report.verdict, 'pass');
      assert.equal(view.certificates.qseal, null);
      assert.equal(view.register?.status, 'match');
      assert.equal(view.autoApproval?.passed, true);
      assert.equal(view.autoApproval?.policyVersion, 'regulated-fast-lane/2026.1');
      assert.deepEqual(
        view.autoApproval?.checks.map((c) => [c.name, c.ok]),
        [
          ['roles_requested', true],
          ['certificate_present', true],
          ['certificate_pass', true],
          ['certificate_qwac', true],
          ['organization_identifier_psd', true],
          ['organisation_name', true],
          ['certificate_roles_cover', true],
          ['register_authorised', true],
          ['services_cover_roles', true],
        ],
      );
      assert.deepEqual(
        view.timeline.map((t) => [t.from, t.to, t.actor.type, t.actor.label]),
        [
          [null, 'submitted', 'system', 'client registration (fast lane)'],
          ['submitted', 'approved', 'system', 'policy regulated-fast-lane/2026.1'],
        ],
      );
      assert.match(view.timeline[0]!.text!, /fast lane.*PSDDE-BAFIN-152645.*203\.0\.113\.5/);
      assert.equal(view.decisions.length, 1);
      assert.equal(view.decisions[0]!.kind, 'auto_approve');
      assert.equal(view.decisions[0]!.policyVersion, 'regulated-fast-lane/2026.1');
      assert.deepEqual(view.decisions[0]!.actor, { type: 'system', id: null, label: 'policy regulated-fast-lane/2026.1' });
      assert.deepEqual(view.blockers, []);
      assert.equal(view.nextAction.holder, 'none');
      assert.equal(view.partner?.id, partner.id);

      // Officers: in the queue and the partners list, marked as the fast lane's.
      const queue = await h.service.queue(REVIEWER, {});
      const item = queue.find((i) => i.id === partner.applicationId);
      assert.equal(item?.origin, 'registration_fast_lane');
      assert.equal(item?.legalName, 'Acme Payments GmbH');
      assert.equal(item?.applicantEmail, 'registered by API (fast lane)');
      assert.equal(listRows(queue, 'staff').find((r) => r.id === partner.applicationId)?.originBadge?.text, 'Fast lane');
      const rows = partnerRows(await h.service.listPartners(REVIEWER));
      assert.equal(rows.length, 1);
      assert.match(rows[0]!.originText, /^Fast lane/);
      assert.equal(rows[0]!.organizationIdentifierText, ACME_OI);
      const page = applicationPage(view, 'staff');
      assert.equal(page.name, 'Acme Payments GmbH');
      assert.equal(page.fastLane?.notProvided, 'Not provided: registered through the fast lane');
    });

    it('a second call, and a call for an organisation that already has a partner, return that partner and write nothing', async () => {
      h = await harness();
      const input = await acmeFastLane(h);
      const first = await h.service.registerRegulatedPartner(input);
      const before = snapshot(h.db);
      assert.deepEqual(await h.service.registerRegulatedPartner(input), first);
      assert.deepEqual(await h.service.registerRegulatedPartner({ ...input, requestedRoles: ['AIS'], ip: null }), first);
      assert.deepEqual(snapshot(h.db), before);
      assert.equal(count(h.db, 'partners'), 1);
    });

    it('returns the partner of an approved portal application instead of creating a second one', async () => {
      h = await harness();
      const portal = (await approvedAcme(h)).partner!;
      const before = snapshot(h.db);
      const got = await h.service.registerRegulatedPartner(await acmeFastLane(h));
      assert.deepEqual(got, portal);
      assert.equal(got.origin, 'portal');
      assert.deepEqual(snapshot(h.db), before);
    });

    it('no applicant can see, list or change a fast-lane application, not even one whose id is the fast-lane owner id', async () => {
      h = await harness();
      const partner = await h.service.registerRegulatedPartner(await acmeFastLane(h));
      const id = partner.applicationId;
      const owner: ActorRef = { id: FAST_LANE_APPLICANT.id, kind: 'applicant', label: FAST_LANE_APPLICANT.email, roles: [] };
      const before = snapshot(h.db);
      for (const who of [owner, applicant(1), applicant(2)]) {
        await assert.rejects(h.service.getForApplicant(who, id), { code: 'not_found', status: 404 });
        await assert.rejects(h.service.saveProfile(who, id, acmeProfile()), { code: 'not_found', status: 404 });
        await assert.rejects(h.service.uploadCertificate(who, id, 'qseal', partnerCert(h.pki, 'acme-payments', 'qseal')), {
          code: 'not_found',
          status: 404,
        });
        await assert.rejects(h.service.withdraw(who, id, 'mine now'), { code: 'not_found', status: 404 });
        await assert.rejects(h.service.evidenceFile(who, id, 'x'), { code: 'not_found', status: 404 });
        assert.deepEqual(await h.service.listForApplicant(who.id), []);
      }
      assert.deepEqual(snapshot(h.db), before);
    });

    it('officer pages (real HTTPS): partners list with origin and organizationIdentifier, queue and application page marked; applicants get 404', async () => {
      const app = await startPages();
      try {
        const input: FastLaneInput = {
          qwac: await presentedQwac((await sharedPki()).eidas, partnerCert(app.pki, 'acme-payments', 'qwac')),
          requestedRoles: ['AIS', 'PIS'],
          ip: '203.0.113.5',
        };
        const partner = await app.partners.registerRegulatedPartner(input);
        const rita = app.web.agent();
        await loginStaff(rita, await seedStaff(app.web, 'rita@bank.test', ['reviewer']));

        const list = await page(rita, '/staff/partners');
        assert.equal(list.status, 200);
        const card = list.text.slice(list.text.indexOf(`id="partner-${partner.id}"`));
        assert.match(card, /Acme Payments GmbH/);
        assert.match(card, /<span class="badge badge-info badge-origin-fast-lane">Fast lane<\/span>/);
        assert.match(card, /<dd class="partner-origin">Fast lane: registered by API with a QWAC, no portal application<\/dd>/);
        assert.match(card, /<code class="partner-oi">PSDDE-BAFIN-152645<\/code>/);

        const queue = await page(rita, '/staff/applications');
        assert.equal(queue.status, 200);
        assert.match(queue.text, new RegExp(`href="/staff/applications/${partner.applicationId}">Acme Payments GmbH</a> <span class="badge badge-info badge-origin-fast-lane">Fast lane</span>`));
        assert.match(queue.text, /registered by API \(fast lane\)/);

        const show = await page(rita, `/staff/applications/${partner.applicationId}`);
        assert.equal(show.status, 200);
        assert.match(show.text, /<dd id="origin">Fast lane: registered by API with a QWAC, no portal application<\/dd>/);
        assert.match(show.text, /None: registered by API \(fast lane\)/);
        assert.match(show.text, /Business contact<\/dt><dd class="muted">Not provided: registered through the fast lane<\/dd>/);
        assert.match(show.text, /Security contact<\/dt><dd class="muted">Not provided: registered through the fast lane<\/dd>/);
        assert.match(show.text, /<code>PSDDE-BAFIN-152645<\/code>/);
        assert.match(show.text, /Fast-lane checks \(regulated track, at client registration\)/);
        assert.match(show.text, /regulated-fast-lane\/2026\.1/);
        assert.doesNotMatch(show.text, /undefined|\[object Object\]/);

        const alice = app.web.agent();
        await signUpAndEnrol(alice, 'alice@fintech.test');
        const denied = await page(alice, `/applications/${partner.applicationId}`);
        assert.equal(denied.status, 404);
        assert.equal(errorCodeFrom(denied.text), 'not_found');
        const mine = await page(alice, '/applications');
        assert.doesNotMatch(mine.text, /Acme Payments GmbH/);
      } finally {
        app.web.close();
      }
    });

    describe('refusals (partners.fast_lane_refused, 403, nothing written)', () => {
      it('an organisation that is not in the register', async () => {
        h = await harness({ registerFile: register(null) });
        await assertRefused(h, await acmeFastLane(h), ['register_authorised', 'services_cover_roles'], /No entity with authorisation number "152645" under DE-BAFIN/);
      });

      it('a withdrawn authorisation', async () => {
        h = await harness({ registerFile: register({ aut: ['2019-03-01', '2025-06-30'], services: [{ DE: ['PS_070', 'PS_080'] }] }) });
        await assertRefused(h, await acmeFastLane(h), ['register_authorised'], /withdrawn/);
      });

      it('no register snapshot loaded', async () => {
        h = await harness({ registerFile: null });
        await assertRefused(h, await acmeFastLane(h), ['register_authorised', 'services_cover_roles']);
      });

      it('a requested service the register does not list (PIS)', async () => {
        h = await harness({ registerFile: register({ aut: ['2019-03-01'], services: [{ DE: ['PS_080'] }] }) });
        await assertRefused(h, await acmeFastLane(h), ['services_cover_roles'], /PIS|PS_070|payment initiation/);
      });

      it('roles the certificate does not carry (Nordic Insights holds PSP_AI only, asks for PIS too)', async () => {
        h = await harness();
        const input: FastLaneInput = {
          qwac: await presentedQwac(h.eidas, partnerCert(h.pki, 'nordic-insights', 'qwac')),
          requestedRoles: ['AIS', 'PIS'],
        };
        assert.equal(input.qwac.report.verdict, 'pass');
        await assertRefused(h, input, ['certificate_roles_cover', 'services_cover_roles'], /PSP_PI \(PIS\)/);
      });

      it('CBPII: not in the certificate, and the register cannot confirm it', async () => {
        h = await harness();
        await assertRefused(h, await acmeFastLane(h, ['CBPII']), ['certificate_roles_cover', 'services_cover_roles'], /PSP_IC \(CBPII\)/);
      });

      it('an expired certificate', async () => {
        h = await harness();
        const qwac = await presentedQwac(h.eidas, badCert(h.pki, 'expired'));
        assert.equal(qwac.report.verdict, 'fail');
        // The bad certificates name Broken Fintech GmbH (DE-BAFIN 999001), registered under another name.
        await assertRefused(h, { qwac, requestedRoles: ['AIS'] }, ['certificate_pass', 'register_authorised'], /does not pass validation: .*expired/);
      });

      it('a certificate from the rogue CA', async () => {
        h = await harness();
        const qwac = await presentedQwac(h.eidas, badCert(h.pki, 'rogue-ca'));
        assert.equal(qwac.report.verdict, 'fail');
        await assertRefused(h, { qwac, requestedRoles: ['AIS'] }, ['certificate_pass', 'register_authorised'], /not a trust anchor/);
      });

      it('a failing certificate is refused even when a partner already holds its organisation', async () => {
        h = await harness();
        const valid = await acmeFastLane(h);
        await h.service.registerRegulatedPartner(valid);
        // Acme's certificate with a failing verdict (as if it had expired since): no partner is handed out.
        const failing = { ...valid.qwac.report, verdict: 'fail' as const };
        await assertRefused(h, { ...valid, qwac: { ders: valid.qwac.ders, report: failing } }, ['certificate_pass']);
      });

      it('a QSealC instead of a QWAC', async () => {
        h = await harness();
        const qwac = await presentedQwac(h.eidas, partnerCert(h.pki, 'acme-payments', 'qseal'));
        await assertRefused(h, { qwac, requestedRoles: ['AIS'] }, ['certificate_pass', 'certificate_qwac'], /QSealC, not a QWAC/);
      });

      it('a certificate without a PSD2 organizationIdentifier', async () => {
        h = await harness();
        const qwac = await presentedQwac(h.eidas, badCert(h.pki, 'bad-organization-identifier'));
        const failed = await h.service.registerRegulatedPartner({ qwac, requestedRoles: ['AIS'] }).then(
          () => assert.fail('accepted'),
          (e: unknown) => (e as FastLaneRefusedError).failed.map((c) => c.name),
        );
        assert.ok(failed.includes('organization_identifier_psd'), failed.join());
        await assertRefused(h, { qwac, requestedRoles: ['AIS'] }, failed, /no PSD2 organizationIdentifier/);
      });

      it('a report that does not describe the presented certificate, no certificate, no or unknown roles', async () => {
        h = await harness();
        const acme = await acmeFastLane(h);
        const nordic = await presentedQwac(h.eidas, partnerCert(h.pki, 'nordic-insights', 'qwac'));
        await assertRefused(h, { ...acme, qwac: { ders: nordic.ders, report: acme.qwac.report } }, ['certificate_present']);
        await assertRefused(h, { ...acme, qwac: { ders: [], report: acme.qwac.report } }, ['certificate_present']);
        await assertRefused(h, { ...acme, requestedRoles: [] }, ['roles_requested', 'certificate_roles_cover']);
        await assertRefused(h, { ...acme, requestedRoles: ['AIS', 'XYZ' as RequestedRole] }, ['roles_requested', 'certificate_roles_cover']);
      });
    });
  });
});
