import assert from 'node:assert/strict';
import { expectCodes, messageOf, qwacSpec } from './helpers.js';

describe('profile: subject (EN 319 412-3 §4.2.1)', () => {
  it('C=Germany is subject.country-invalid', async () => {
    const r = await expectCodes({ ...qwacSpec(), subject: 'CN=api.tpp.example, O=Example TPP GmbH, 2.5.4.97=PSDDE-BAFIN-123456, C=Germany' }, ['subject.country-invalid']);
    assert.match(messageOf(r, 'subject.country-invalid'), /"Germany" is not a two-letter ISO 3166-1 code/);
  });

  it('a two-letter code that is not ISO 3166-1 (UK, EU) is subject.country-invalid', async () => {
    await expectCodes({ ...qwacSpec(), subject: 'CN=a.example, O=X, 2.5.4.97=PSDDE-BAFIN-123456, C=UK' }, ['subject.country-invalid']);
  });

  it('no countryName is subject.country-invalid', async () => {
    const r = await expectCodes({ ...qwacSpec(), subject: 'CN=a.example, O=X, 2.5.4.97=PSDDE-BAFIN-123456' }, ['subject.country-invalid']);
    assert.match(messageOf(r, 'subject.country-invalid'), /no countryName/);
  });

  it('no organizationName is subject.organization-missing', async () => {
    await expectCodes({ ...qwacSpec(), subject: 'CN=a.example, 2.5.4.97=PSDDE-BAFIN-123456, C=DE' }, ['subject.organization-missing']);
  });
});
