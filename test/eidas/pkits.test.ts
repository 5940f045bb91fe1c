/**
 * NIST PKITS (Public Key Interoperability Test Suite, 2011 edition) against validatePath().
 *
 * The certificates and CRLs come from Debian's python3-cryptography-vectors package (or PKITS_DIR).
 * Each row names the test as PKITS does, the certificates it uses (CA certificates, then the end entity)
 * and its CRLs (TrustAnchorRootCRL is always added); the trust anchor is TrustAnchorRootCertificate. The
 * CA certificates are given as an unordered pool and the path builder has to find the path. The expected
 * result is the Valid/Invalid prefix of the test name; the few tests named without one (policy section)
 * carry the result PKITS gives for the default settings (initial-policy-set any-policy, all initial
 * flags false), the only settings validatePath() has.
 *
 * A test listed in KNOWN_GAPS is a known non-conformance: it asserts the result is still the wrong one,
 * so that fixing it makes the test fail until it is removed from the list.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TrustAnchor, validatePath } from '../../src/eidas/chain/index.js';
import { pemAnchor } from '../../src/eidas/trust/index.js';

const PKITS_DIR =
  process.env.PKITS_DIR ?? '/usr/lib/python3/dist-packages/cryptography_vectors/x509/PKITS_data';
/** Inside every PKITS certificate's validity (2010-01-01 to 2030-12-31), after every CRL's thisUpdate. */
const AT = new Date('2020-06-15T12:00:00Z');

type Row = [id: string, name: string, certs: string, crls: string, expected?: boolean];

// Certificate and CRL file names without extension, space-separated.
const TABLE: Record<string, Row[]> = {
  '4.1 Signature Verification': [
    ['4.1.1', 'Valid Signatures Test1', 'GoodCACert ValidCertificatePathTest1EE', 'GoodCACRL'],
    ['4.1.2', 'Invalid CA Signature Test2', 'BadSignedCACert InvalidCASignatureTest2EE', 'BadSignedCACRL'],
    ['4.1.3', 'Invalid EE Signature Test3', 'GoodCACert InvalidEESignatureTest3EE', 'GoodCACRL'],
    ['4.1.4', 'Valid DSA Signatures Test4', 'DSACACert ValidDSASignaturesTest4EE', 'DSACACRL'],
    ['4.1.5', 'Valid DSA Parameter Inheritance Test5', 'DSACACert DSAParametersInheritedCACert ValidDSAParameterInheritanceTest5EE', 'DSACACRL DSAParametersInheritedCACRL'],
    ['4.1.6', 'Invalid DSA Signature Test6', 'DSACACert InvalidDSASignatureTest6EE', 'DSACACRL'],
  ],
  '4.2 Validity Periods': [
    ['4.2.1', 'Invalid CA notBefore Date Test1', 'BadnotBeforeDateCACert InvalidCAnotBeforeDateTest1EE', 'BadnotBeforeDateCACRL'],
    ['4.2.2', 'Invalid EE notBefore Date Test2', 'GoodCACert InvalidEEnotBeforeDateTest2EE', 'GoodCACRL'],
    ['4.2.3', 'Valid pre2000 UTC notBefore Date Test3', 'GoodCACert Validpre2000UTCnotBeforeDateTest3EE', 'GoodCACRL'],
    ['4.2.4', 'Valid GeneralizedTime notBefore Date Test4', 'GoodCACert ValidGeneralizedTimenotBeforeDateTest4EE', 'GoodCACRL'],
    ['4.2.5', 'Invalid CA notAfter Date Test5', 'BadnotAfterDateCACert InvalidCAnotAfterDateTest5EE', 'BadnotAfterDateCACRL'],
    ['4.2.6', 'Invalid EE notAfter Date Test6', 'GoodCACert InvalidEEnotAfterDateTest6EE', 'GoodCACRL'],
    ['4.2.7', 'Invalid pre2000 UTC EE notAfter Date Test7', 'GoodCACert Invalidpre2000UTCEEnotAfterDateTest7EE', 'GoodCACRL'],
    ['4.2.8', 'Valid GeneralizedTime notAfter Date Test8', 'GoodCACert ValidGeneralizedTimenotAfterDateTest8EE', 'GoodCACRL'],
  ],
  '4.3 Verifying Name Chaining': [
    ['4.3.1', 'Invalid Name Chaining EE Test1', 'GoodCACert InvalidNameChainingTest1EE', 'GoodCACRL'],
    ['4.3.2', 'Invalid Name Chaining Order Test2', 'NameOrderingCACert InvalidNameChainingOrderTest2EE', 'NameOrderCACRL'],
    ['4.3.3', 'Valid Name Chaining Whitespace Test3', 'GoodCACert ValidNameChainingWhitespaceTest3EE', 'GoodCACRL'],
    ['4.3.4', 'Valid Name Chaining Whitespace Test4', 'GoodCACert ValidNameChainingWhitespaceTest4EE', 'GoodCACRL'],
    ['4.3.5', 'Valid Name Chaining Capitalization Test5', 'GoodCACert ValidNameChainingCapitalizationTest5EE', 'GoodCACRL'],
    ['4.3.6', 'Valid Name Chaining UIDs Test6', 'UIDCACert ValidNameUIDsTest6EE', 'UIDCACRL'],
    ['4.3.7', 'Valid RFC3280 Mandatory Attribute Types Test7', 'RFC3280MandatoryAttributeTypesCACert ValidRFC3280MandatoryAttributeTypesTest7EE', 'RFC3280MandatoryAttributeTypesCACRL'],
    ['4.3.8', 'Valid RFC3280 Optional Attribute Types Test8', 'RFC3280OptionalAttributeTypesCACert ValidRFC3280OptionalAttributeTypesTest8EE', 'RFC3280OptionalAttributeTypesCACRL'],
    ['4.3.9', 'Valid UTF8String Encoded Names Test9', 'UTF8StringEncodedNamesCACert ValidUTF8StringEncodedNamesTest9EE', 'UTF8StringEncodedNamesCACRL'],
    ['4.3.10', 'Valid Rollover from PrintableString to UTF8String Test10', 'RolloverfromPrintableStringtoUTF8StringCACert ValidRolloverfromPrintableStringtoUTF8StringTest10EE', 'RolloverfromPrintableStringtoUTF8StringCACRL'],
    ['4.3.11', 'Valid UTF8String Case Insensitive Match Test11', 'UTF8StringCaseInsensitiveMatchCACert ValidUTF8StringCaseInsensitiveMatchTest11EE', 'UTF8StringCaseInsensitiveMatchCACRL'],
  ],
  '4.4 Basic Certificate Revocation Tests': [
    ['4.4.1', 'Invalid Missing CRL Test1', 'NoCRLCACert InvalidMissingCRLTest1EE', ''],
    ['4.4.2', 'Invalid Revoked CA Test2', 'GoodCACert RevokedsubCACert InvalidRevokedCATest2EE', 'GoodCACRL RevokedsubCACRL'],
    ['4.4.3', 'Invalid Revoked EE Test3', 'GoodCACert InvalidRevokedEETest3EE', 'GoodCACRL'],
    ['4.4.4', 'Invalid Bad CRL Signature Test4', 'BadCRLSignatureCACert InvalidBadCRLSignatureTest4EE', 'BadCRLSignatureCACRL'],
    ['4.4.5', 'Invalid Bad CRL Issuer Name Test5', 'BadCRLIssuerNameCACert InvalidBadCRLIssuerNameTest5EE', 'BadCRLIssuerNameCACRL'],
    ['4.4.6', 'Invalid Wrong CRL Test6', 'WrongCRLCACert InvalidWrongCRLTest6EE', 'WrongCRLCACRL'],
    ['4.4.7', 'Valid Two CRLs Test7', 'TwoCRLsCACert ValidTwoCRLsTest7EE', 'TwoCRLsCAGoodCRL TwoCRLsCABadCRL'],
    ['4.4.8', 'Invalid Unknown CRL Entry Extension Test8', 'UnknownCRLEntryExtensionCACert InvalidUnknownCRLEntryExtensionTest8EE', 'UnknownCRLEntryExtensionCACRL'],
    ['4.4.9', 'Invalid Unknown CRL Extension Test9', 'UnknownCRLExtensionCACert InvalidUnknownCRLExtensionTest9EE', 'UnknownCRLExtensionCACRL'],
    ['4.4.10', 'Invalid Unknown CRL Extension Test10', 'UnknownCRLExtensionCACert InvalidUnknownCRLExtensionTest10EE', 'UnknownCRLExtensionCACRL'],
    ['4.4.11', 'Invalid Old CRL nextUpdate Test11', 'OldCRLnextUpdateCACert InvalidOldCRLnextUpdateTest11EE', 'OldCRLnextUpdateCACRL'],
    ['4.4.12', 'Invalid pre2000 CRL nextUpdate Test12', 'pre2000CRLnextUpdateCACert Invalidpre2000CRLnextUpdateTest12EE', 'pre2000CRLnextUpdateCACRL'],
    ['4.4.13', 'Valid GeneralizedTime CRL nextUpdate Test13', 'GeneralizedTimeCRLnextUpdateCACert ValidGeneralizedTimeCRLnextUpdateTest13EE', 'GeneralizedTimeCRLnextUpdateCACRL'],
    ['4.4.14', 'Valid Negative Serial Number Test14', 'NegativeSerialNumberCACert ValidNegativeSerialNumberTest14EE', 'NegativeSerialNumberCACRL'],
    ['4.4.15', 'Invalid Negative Serial Number Test15', 'NegativeSerialNumberCACert InvalidNegativeSerialNumberTest15EE', 'NegativeSerialNumberCACRL'],
    ['4.4.16', 'Valid Long Serial Number Test16', 'LongSerialNumberCACert ValidLongSerialNumberTest16EE', 'LongSerialNumberCACRL'],
    ['4.4.17', 'Valid Long Serial Number Test17', 'LongSerialNumberCACert ValidLongSerialNumberTest17EE', 'LongSerialNumberCACRL'],
    ['4.4.18', 'Invalid Long Serial Number Test18', 'LongSerialNumberCACert InvalidLongSerialNumberTest18EE', 'LongSerialNumberCACRL'],
    ['4.4.19', 'Valid Separate Certificate and CRL Keys Test19', 'SeparateCertificateandCRLKeysCertificateSigningCACert SeparateCertificateandCRLKeysCRLSigningCert ValidSeparateCertificateandCRLKeysTest19EE', 'SeparateCertificateandCRLKeysCRL'],
    ['4.4.20', 'Invalid Separate Certificate and CRL Keys Test20', 'SeparateCertificateandCRLKeysCertificateSigningCACert SeparateCertificateandCRLKeysCRLSigningCert InvalidSeparateCertificateandCRLKeysTest20EE', 'SeparateCertificateandCRLKeysCRL'],
    ['4.4.21', 'Invalid Separate Certificate and CRL Keys Test21', 'SeparateCertificateandCRLKeysCA2CertificateSigningCACert SeparateCertificateandCRLKeysCA2CRLSigningCert InvalidSeparateCertificateandCRLKeysTest21EE', 'SeparateCertificateandCRLKeysCA2CRL'],
  ],
  '4.5 Verifying Paths with Self-Issued Certificates': [
    ['4.5.1', 'Valid Basic Self-Issued Old With New Test1', 'BasicSelfIssuedNewKeyCACert BasicSelfIssuedNewKeyOldWithNewCACert ValidBasicSelfIssuedOldWithNewTest1EE', 'BasicSelfIssuedNewKeyCACRL'],
    ['4.5.2', 'Invalid Basic Self-Issued Old With New Test2', 'BasicSelfIssuedNewKeyCACert BasicSelfIssuedNewKeyOldWithNewCACert InvalidBasicSelfIssuedOldWithNewTest2EE', 'BasicSelfIssuedNewKeyCACRL'],
    ['4.5.3', 'Valid Basic Self-Issued New With Old Test3', 'BasicSelfIssuedOldKeyCACert BasicSelfIssuedOldKeyNewWithOldCACert ValidBasicSelfIssuedNewWithOldTest3EE', 'BasicSelfIssuedOldKeyCACRL BasicSelfIssuedOldKeySelfIssuedCertCRL'],
    ['4.5.4', 'Valid Basic Self-Issued New With Old Test4', 'BasicSelfIssuedOldKeyCACert BasicSelfIssuedOldKeyNewWithOldCACert ValidBasicSelfIssuedNewWithOldTest4EE', 'BasicSelfIssuedOldKeyCACRL BasicSelfIssuedOldKeySelfIssuedCertCRL'],
    ['4.5.5', 'Invalid Basic Self-Issued New With Old Test5', 'BasicSelfIssuedOldKeyCACert BasicSelfIssuedOldKeyNewWithOldCACert InvalidBasicSelfIssuedNewWithOldTest5EE', 'BasicSelfIssuedOldKeyCACRL BasicSelfIssuedOldKeySelfIssuedCertCRL'],
    ['4.5.6', 'Valid Basic Self-Issued CRL Signing Key Test6', 'BasicSelfIssuedCRLSigningKeyCACert BasicSelfIssuedCRLSigningKeyCRLCert ValidBasicSelfIssuedCRLSigningKeyTest6EE', 'BasicSelfIssuedCRLSigningKeyCACRL BasicSelfIssuedCRLSigningKeyCRLCertCRL'],
    ['4.5.7', 'Invalid Basic Self-Issued CRL Signing Key Test7', 'BasicSelfIssuedCRLSigningKeyCACert BasicSelfIssuedCRLSigningKeyCRLCert InvalidBasicSelfIssuedCRLSigningKeyTest7EE', 'BasicSelfIssuedCRLSigningKeyCACRL BasicSelfIssuedCRLSigningKeyCRLCertCRL'],
    ['4.5.8', 'Invalid Basic Self-Issued CRL Signing Key Test8', 'BasicSelfIssuedCRLSigningKeyCACert BasicSelfIssuedCRLSigningKeyCRLCert InvalidBasicSelfIssuedCRLSigningKeyTest8EE', 'BasicSelfIssuedCRLSigningKeyCACRL BasicSelfIssuedCRLSigningKeyCRLCertCRL'],
  ],
  '4.6 Verifying Basic Constraints': [
    ['4.6.1', 'Invalid Missing basicConstraints Test1', 'MissingbasicConstraintsCACert InvalidMissingbasicConstraintsTest1EE', 'MissingbasicConstraintsCACRL'],
    ['4.6.2', 'Invalid cA False Test2', 'basicConstraintsCriticalcAFalseCACert InvalidcAFalseTest2EE', 'basicConstraintsCriticalcAFalseCACRL'],
    ['4.6.3', 'Invalid cA False Test3', 'basicConstraintsNotCriticalcAFalseCACert InvalidcAFalseTest3EE', 'basicConstraintsNotCriticalcAFalseCACRL'],
    ['4.6.4', 'Valid basicConstraints Not Critical Test4', 'basicConstraintsNotCriticalCACert ValidbasicConstraintsNotCriticalTest4EE', 'basicConstraintsNotCriticalCACRL'],
    ['4.6.5', 'Invalid pathLenConstraint Test5', 'pathLenConstraint0CACert pathLenConstraint0subCACert InvalidpathLenConstraintTest5EE', 'pathLenConstraint0CACRL pathLenConstraint0subCACRL'],
    ['4.6.6', 'Invalid pathLenConstraint Test6', 'pathLenConstraint0CACert pathLenConstraint0subCACert InvalidpathLenConstraintTest6EE', 'pathLenConstraint0CACRL pathLenConstraint0subCACRL'],
    ['4.6.7', 'Valid pathLenConstraint Test7', 'pathLenConstraint0CACert ValidpathLenConstraintTest7EE', 'pathLenConstraint0CACRL'],
    ['4.6.8', 'Valid pathLenConstraint Test8', 'pathLenConstraint0CACert ValidpathLenConstraintTest8EE', 'pathLenConstraint0CACRL'],
    ['4.6.9', 'Invalid pathLenConstraint Test9', 'pathLenConstraint6CACert pathLenConstraint6subCA0Cert pathLenConstraint6subsubCA00Cert InvalidpathLenConstraintTest9EE', 'pathLenConstraint6CACRL pathLenConstraint6subCA0CRL pathLenConstraint6subsubCA00CRL'],
    ['4.6.10', 'Invalid pathLenConstraint Test10', 'pathLenConstraint6CACert pathLenConstraint6subCA0Cert pathLenConstraint6subsubCA00Cert InvalidpathLenConstraintTest10EE', 'pathLenConstraint6CACRL pathLenConstraint6subCA0CRL pathLenConstraint6subsubCA00CRL'],
    ['4.6.11', 'Invalid pathLenConstraint Test11', 'pathLenConstraint6CACert pathLenConstraint6subCA1Cert pathLenConstraint6subsubCA11Cert pathLenConstraint6subsubsubCA11XCert InvalidpathLenConstraintTest11EE', 'pathLenConstraint6CACRL pathLenConstraint6subCA1CRL pathLenConstraint6subsubCA11CRL pathLenConstraint6subsubsubCA11XCRL'],
    ['4.6.12', 'Invalid pathLenConstraint Test12', 'pathLenConstraint6CACert pathLenConstraint6subCA1Cert pathLenConstraint6subsubCA11Cert pathLenConstraint6subsubsubCA11XCert InvalidpathLenConstraintTest12EE', 'pathLenConstraint6CACRL pathLenConstraint6subCA1CRL pathLenConstraint6subsubCA11CRL pathLenConstraint6subsubsubCA11XCRL'],
    ['4.6.13', 'Valid pathLenConstraint Test13', 'pathLenConstraint6CACert pathLenConstraint6subCA4Cert pathLenConstraint6subsubCA41Cert pathLenConstraint6subsubsubCA41XCert ValidpathLenConstraintTest13EE', 'pathLenConstraint6CACRL pathLenConstraint6subCA4CRL pathLenConstraint6subsubCA41CRL pathLenConstraint6subsubsubCA41XCRL'],
    ['4.6.14', 'Valid pathLenConstraint Test14', 'pathLenConstraint6CACert pathLenConstraint6subCA4Cert pathLenConstraint6subsubCA41Cert pathLenConstraint6subsubsubCA41XCert ValidpathLenConstraintTest14EE', 'pathLenConstraint6CACRL pathLenConstraint6subCA4CRL pathLenConstraint6subsubCA41CRL pathLenConstraint6subsubsubCA41XCRL'],
    ['4.6.15', 'Valid Self-Issued pathLenConstraint Test15', 'pathLenConstraint0CACert pathLenConstraint0SelfIssuedCACert ValidSelfIssuedpathLenConstraintTest15EE', 'pathLenConstraint0CACRL'],
    ['4.6.16', 'Invalid Self-Issued pathLenConstraint Test16', 'pathLenConstraint0CACert pathLenConstraint0SelfIssuedCACert pathLenConstraint0subCA2Cert InvalidSelfIssuedpathLenConstraintTest16EE', 'pathLenConstraint0CACRL pathLenConstraint0subCA2CRL'],
    ['4.6.17', 'Valid Self-Issued pathLenConstraint Test17', 'pathLenConstraint1CACert pathLenConstraint1SelfIssuedCACert pathLenConstraint1subCACert pathLenConstraint1SelfIssuedsubCACert ValidSelfIssuedpathLenConstraintTest17EE', 'pathLenConstraint1CACRL pathLenConstraint1subCACRL'],
  ],
  '4.7 Key Usage': [
    ['4.7.1', 'Invalid keyUsage Critical keyCertSign False Test1', 'keyUsageCriticalkeyCertSignFalseCACert InvalidkeyUsageCriticalkeyCertSignFalseTest1EE', 'keyUsageCriticalkeyCertSignFalseCACRL'],
    ['4.7.2', 'Invalid keyUsage Not Critical keyCertSign False Test2', 'keyUsageNotCriticalkeyCertSignFalseCACert InvalidkeyUsageNotCriticalkeyCertSignFalseTest2EE', 'keyUsageNotCriticalkeyCertSignFalseCACRL'],
    ['4.7.3', 'Valid keyUsage Not Critical Test3', 'keyUsageNotCriticalCACert ValidkeyUsageNotCriticalTest3EE', 'keyUsageNotCriticalCACRL'],
    ['4.7.4', 'Invalid keyUsage Critical cRLSign False Test4', 'keyUsageCriticalcRLSignFalseCACert InvalidkeyUsageCriticalcRLSignFalseTest4EE', 'keyUsageCriticalcRLSignFalseCACRL'],
    ['4.7.5', 'Invalid keyUsage Not Critical cRLSign False Test5', 'keyUsageNotCriticalcRLSignFalseCACert InvalidkeyUsageNotCriticalcRLSignFalseTest5EE', 'keyUsageNotCriticalcRLSignFalseCACRL'],
  ],
  '4.8 Certificate Policies': [
    ['4.8.1', 'All Certificates Same Policy Test1', 'GoodCACert ValidCertificatePathTest1EE', 'GoodCACRL', true],
    ['4.8.2', 'All Certificates No Policies Test2', 'NoPoliciesCACert AllCertificatesNoPoliciesTest2EE', 'NoPoliciesCACRL', true],
    ['4.8.3', 'Different Policies Test3', 'GoodCACert PoliciesP2subCACert DifferentPoliciesTest3EE', 'GoodCACRL PoliciesP2subCACRL', true],
    ['4.8.4', 'Different Policies Test4', 'GoodCACert GoodsubCACert DifferentPoliciesTest4EE', 'GoodCACRL GoodsubCACRL', false],
    ['4.8.5', 'Different Policies Test5', 'GoodCACert PoliciesP2subCA2Cert DifferentPoliciesTest5EE', 'GoodCACRL PoliciesP2subCA2CRL', false],
    ['4.8.6', 'Overlapping Policies Test6', 'PoliciesP1234CACert PoliciesP1234subCAP123Cert PoliciesP1234subsubCAP123P12Cert OverlappingPoliciesTest6EE', 'PoliciesP1234CACRL PoliciesP1234subCAP123CRL PoliciesP1234subsubCAP123P12CRL', true],
    ['4.8.7', 'Different Policies Test7', 'PoliciesP123CACert PoliciesP123subCAP12Cert PoliciesP123subsubCAP12P1Cert DifferentPoliciesTest7EE', 'PoliciesP123CACRL PoliciesP123subCAP12CRL PoliciesP123subsubCAP12P1CRL', false],
    ['4.8.8', 'Different Policies Test8', 'PoliciesP12CACert PoliciesP12subCAP1Cert PoliciesP12subsubCAP1P2Cert DifferentPoliciesTest8EE', 'PoliciesP12CACRL PoliciesP12subCAP1CRL PoliciesP12subsubCAP1P2CRL', false],
    ['4.8.9', 'Different Policies Test9', 'PoliciesP123CACert PoliciesP123subCAP12Cert PoliciesP123subsubCAP12P2Cert PoliciesP123subsubsubCAP12P2P1Cert DifferentPoliciesTest9EE', 'PoliciesP123CACRL PoliciesP123subCAP12CRL PoliciesP123subsubCAP2P2CRL PoliciesP123subsubsubCAP12P2P1CRL', false],
    ['4.8.10', 'All Certificates Same Policies Test10', 'PoliciesP12CACert AllCertificatesSamePoliciesTest10EE', 'PoliciesP12CACRL', true],
    ['4.8.11', 'All Certificates AnyPolicy Test11', 'anyPolicyCACert AllCertificatesanyPolicyTest11EE', 'anyPolicyCACRL', true],
    ['4.8.12', 'Different Policies Test12', 'PoliciesP3CACert DifferentPoliciesTest12EE', 'PoliciesP3CACRL', false],
    ['4.8.13', 'All Certificates Same Policies Test13', 'PoliciesP123CACert AllCertificatesSamePoliciesTest13EE', 'PoliciesP123CACRL', true],
    ['4.8.14', 'AnyPolicy Test14', 'anyPolicyCACert AnyPolicyTest14EE', 'anyPolicyCACRL', true],
    ['4.8.15', 'User Notice Qualifier Test15', 'UserNoticeQualifierTest15EE', '', true],
    ['4.8.16', 'User Notice Qualifier Test16', 'GoodCACert UserNoticeQualifierTest16EE', 'GoodCACRL', true],
    ['4.8.17', 'User Notice Qualifier Test17', 'GoodCACert UserNoticeQualifierTest17EE', 'GoodCACRL', true],
    ['4.8.18', 'User Notice Qualifier Test18', 'PoliciesP12CACert UserNoticeQualifierTest18EE', 'PoliciesP12CACRL', true],
    ['4.8.19', 'User Notice Qualifier Test19', 'UserNoticeQualifierTest19EE', '', true],
    ['4.8.20', 'CPS Pointer Qualifier Test20', 'GoodCACert CPSPointerQualifierTest20EE', 'GoodCACRL', true],
  ],
  '4.9 Require Explicit Policy': [
    ['4.9.1', 'Valid RequireExplicitPolicy Test1', 'requireExplicitPolicy10CACert requireExplicitPolicy10subCACert requireExplicitPolicy10subsubCACert requireExplicitPolicy10subsubsubCACert ValidrequireExplicitPolicyTest1EE', 'requireExplicitPolicy10CACRL requireExplicitPolicy10subCACRL requireExplicitPolicy10subsubCACRL requireExplicitPolicy10subsubsubCACRL'],
    ['4.9.2', 'Valid RequireExplicitPolicy Test2', 'requireExplicitPolicy5CACert requireExplicitPolicy5subCACert requireExplicitPolicy5subsubCACert requireExplicitPolicy5subsubsubCACert ValidrequireExplicitPolicyTest2EE', 'requireExplicitPolicy5CACRL requireExplicitPolicy5subCACRL requireExplicitPolicy5subsubCACRL requireExplicitPolicy5subsubsubCACRL'],
    ['4.9.3', 'Invalid RequireExplicitPolicy Test3', 'requireExplicitPolicy4CACert requireExplicitPolicy4subCACert requireExplicitPolicy4subsubCACert requireExplicitPolicy4subsubsubCACert InvalidrequireExplicitPolicyTest3EE', 'requireExplicitPolicy4CACRL requireExplicitPolicy4subCACRL requireExplicitPolicy4subsubCACRL requireExplicitPolicy4subsubsubCACRL'],
    ['4.9.4', 'Valid RequireExplicitPolicy Test4', 'requireExplicitPolicy0CACert requireExplicitPolicy0subCACert requireExplicitPolicy0subsubCACert requireExplicitPolicy0subsubsubCACert ValidrequireExplicitPolicyTest4EE', 'requireExplicitPolicy0CACRL requireExplicitPolicy0subCACRL requireExplicitPolicy0subsubCACRL requireExplicitPolicy0subsubsubCACRL'],
    ['4.9.5', 'Invalid RequireExplicitPolicy Test5', 'requireExplicitPolicy7CACert requireExplicitPolicy7subCARE2Cert requireExplicitPolicy7subsubCARE2RE4Cert requireExplicitPolicy7subsubsubCARE2RE4Cert InvalidrequireExplicitPolicyTest5EE', 'requireExplicitPolicy7CACRL requireExplicitPolicy7subCARE2CRL requireExplicitPolicy7subsubCARE2RE4CRL requireExplicitPolicy7subsubsubCARE2RE4CRL'],
    ['4.9.6', 'Valid Self-Issued requireExplicitPolicy Test6', 'requireExplicitPolicy2CACert requireExplicitPolicy2SelfIssuedCACert ValidSelfIssuedrequireExplicitPolicyTest6EE', 'requireExplicitPolicy2CACRL'],
    ['4.9.7', 'Invalid Self-Issued requireExplicitPolicy Test7', 'requireExplicitPolicy2CACert requireExplicitPolicy2SelfIssuedCACert requireExplicitPolicy2subCACert InvalidSelfIssuedrequireExplicitPolicyTest7EE', 'requireExplicitPolicy2CACRL requireExplicitPolicy2subCACRL'],
    ['4.9.8', 'Invalid Self-Issued requireExplicitPolicy Test8', 'requireExplicitPolicy2CACert requireExplicitPolicy2SelfIssuedCACert requireExplicitPolicy2subCACert requireExplicitPolicy2SelfIssuedsubCACert InvalidSelfIssuedrequireExplicitPolicyTest8EE', 'requireExplicitPolicy2CACRL requireExplicitPolicy2subCACRL'],
  ],
  '4.10 Policy Mappings': [
    ['4.10.1', 'Valid Policy Mapping Test1', 'Mapping1to2CACert ValidPolicyMappingTest1EE', 'Mapping1to2CACRL'],
    ['4.10.2', 'Invalid Policy Mapping Test2', 'Mapping1to2CACert InvalidPolicyMappingTest2EE', 'Mapping1to2CACRL'],
    ['4.10.3', 'Valid Policy Mapping Test3', 'P12Mapping1to3CACert P12Mapping1to3subCACert P12Mapping1to3subsubCACert ValidPolicyMappingTest3EE', 'P12Mapping1to3CACRL P12Mapping1to3subCACRL P12Mapping1to3subsubCACRL'],
    ['4.10.4', 'Invalid Policy Mapping Test4', 'P12Mapping1to3CACert P12Mapping1to3subCACert P12Mapping1to3subsubCACert InvalidPolicyMappingTest4EE', 'P12Mapping1to3CACRL P12Mapping1to3subCACRL P12Mapping1to3subsubCACRL'],
    ['4.10.5', 'Valid Policy Mapping Test5', 'P1Mapping1to234CACert P1Mapping1to234subCACert ValidPolicyMappingTest5EE', 'P1Mapping1to234CACRL P1Mapping1to234subCACRL'],
    ['4.10.6', 'Valid Policy Mapping Test6', 'P1Mapping1to234CACert P1Mapping1to234subCACert ValidPolicyMappingTest6EE', 'P1Mapping1to234CACRL P1Mapping1to234subCACRL'],
    ['4.10.7', 'Invalid Mapping From anyPolicy Test7', 'MappingFromanyPolicyCACert InvalidMappingFromanyPolicyTest7EE', 'MappingFromanyPolicyCACRL'],
    ['4.10.8', 'Invalid Mapping To anyPolicy Test8', 'MappingToanyPolicyCACert InvalidMappingToanyPolicyTest8EE', 'MappingToanyPolicyCACRL'],
    ['4.10.9', 'Valid Policy Mapping Test9', 'PanyPolicyMapping1to2CACert ValidPolicyMappingTest9EE', 'PanyPolicyMapping1to2CACRL'],
    ['4.10.10', 'Invalid Policy Mapping Test10', 'GoodCACert GoodsubCAPanyPolicyMapping1to2CACert InvalidPolicyMappingTest10EE', 'GoodCACRL GoodsubCAPanyPolicyMapping1to2CACRL'],
    ['4.10.11', 'Valid Policy Mapping Test11', 'GoodCACert GoodsubCAPanyPolicyMapping1to2CACert ValidPolicyMappingTest11EE', 'GoodCACRL GoodsubCAPanyPolicyMapping1to2CACRL'],
    ['4.10.12', 'Valid Policy Mapping Test12', 'P12Mapping1to3CACert ValidPolicyMappingTest12EE', 'P12Mapping1to3CACRL'],
    ['4.10.13', 'Valid Policy Mapping Test13', 'P1anyPolicyMapping1to2CACert ValidPolicyMappingTest13EE', 'P1anyPolicyMapping1to2CACRL'],
    ['4.10.14', 'Valid Policy Mapping Test14', 'P1anyPolicyMapping1to2CACert ValidPolicyMappingTest14EE', 'P1anyPolicyMapping1to2CACRL'],
  ],
  '4.11 Inhibit Policy Mapping': [
    ['4.11.1', 'Invalid inhibitPolicyMapping Test1', 'inhibitPolicyMapping0CACert inhibitPolicyMapping0subCACert InvalidinhibitPolicyMappingTest1EE', 'inhibitPolicyMapping0CACRL inhibitPolicyMapping0subCACRL'],
    ['4.11.2', 'Valid inhibitPolicyMapping Test2', 'inhibitPolicyMapping1P12CACert inhibitPolicyMapping1P12subCACert ValidinhibitPolicyMappingTest2EE', 'inhibitPolicyMapping1P12CACRL inhibitPolicyMapping1P12subCACRL'],
    ['4.11.3', 'Invalid inhibitPolicyMapping Test3', 'inhibitPolicyMapping1P12CACert inhibitPolicyMapping1P12subCACert inhibitPolicyMapping1P12subsubCACert InvalidinhibitPolicyMappingTest3EE', 'inhibitPolicyMapping1P12CACRL inhibitPolicyMapping1P12subCACRL inhibitPolicyMapping1P12subsubCACRL'],
    ['4.11.4', 'Valid inhibitPolicyMapping Test4', 'inhibitPolicyMapping1P12CACert inhibitPolicyMapping1P12subCACert inhibitPolicyMapping1P12subsubCACert ValidinhibitPolicyMappingTest4EE', 'inhibitPolicyMapping1P12CACRL inhibitPolicyMapping1P12subCACRL inhibitPolicyMapping1P12subsubCACRL'],
    ['4.11.5', 'Invalid inhibitPolicyMapping Test5', 'inhibitPolicyMapping5CACert inhibitPolicyMapping5subCACert inhibitPolicyMapping5subsubCACert inhibitPolicyMapping5subsubsubCACert InvalidinhibitPolicyMappingTest5EE', 'inhibitPolicyMapping5CACRL inhibitPolicyMapping5subCACRL inhibitPolicyMapping5subsubCACRL inhibitPolicyMapping5subsubsubCACRL'],
    ['4.11.6', 'Invalid inhibitPolicyMapping Test6', 'inhibitPolicyMapping1P12CACert inhibitPolicyMapping1P12subCAIPM5Cert inhibitPolicyMapping1P12subsubCAIPM5Cert InvalidinhibitPolicyMappingTest6EE', 'inhibitPolicyMapping1P12CACRL inhibitPolicyMapping1P12subCAIPM5CRL inhibitPolicyMapping1P12subsubCAIPM5CRL'],
    ['4.11.7', 'Valid Self-Issued inhibitPolicyMapping Test7', 'inhibitPolicyMapping1P1CACert inhibitPolicyMapping1P1SelfIssuedCACert inhibitPolicyMapping1P1subCACert ValidSelfIssuedinhibitPolicyMappingTest7EE', 'inhibitPolicyMapping1P1CACRL inhibitPolicyMapping1P1subCACRL'],
    ['4.11.8', 'Invalid Self-Issued inhibitPolicyMapping Test8', 'inhibitPolicyMapping1P1CACert inhibitPolicyMapping1P1SelfIssuedCACert inhibitPolicyMapping1P1subCACert inhibitPolicyMapping1P1subsubCACert InvalidSelfIssuedinhibitPolicyMappingTest8EE', 'inhibitPolicyMapping1P1CACRL inhibitPolicyMapping1P1subCACRL inhibitPolicyMapping1P1subsubCACRL'],
    ['4.11.9', 'Invalid Self-Issued inhibitPolicyMapping Test9', 'inhibitPolicyMapping1P1CACert inhibitPolicyMapping1P1SelfIssuedCACert inhibitPolicyMapping1P1subCACert inhibitPolicyMapping1P1subsubCACert InvalidSelfIssuedinhibitPolicyMappingTest9EE', 'inhibitPolicyMapping1P1CACRL inhibitPolicyMapping1P1subCACRL inhibitPolicyMapping1P1subsubCACRL'],
    ['4.11.10', 'Invalid Self-Issued inhibitPolicyMapping Test10', 'inhibitPolicyMapping1P1CACert inhibitPolicyMapping1P1SelfIssuedCACert inhibitPolicyMapping1P1subCACert inhibitPolicyMapping1P1SelfIssuedsubCACert InvalidSelfIssuedinhibitPolicyMappingTest10EE', 'inhibitPolicyMapping1P1CACRL inhibitPolicyMapping1P1subCACRL'],
    ['4.11.11', 'Invalid Self-Issued inhibitPolicyMapping Test11', 'inhibitPolicyMapping1P1CACert inhibitPolicyMapping1P1SelfIssuedCACert inhibitPolicyMapping1P1subCACert inhibitPolicyMapping1P1SelfIssuedsubCACert InvalidSelfIssuedinhibitPolicyMappingTest11EE', 'inhibitPolicyMapping1P1CACRL inhibitPolicyMapping1P1subCACRL'],
  ],
  '4.12 Inhibit Any Policy': [
    ['4.12.1', 'Invalid inhibitAnyPolicy Test1', 'inhibitAnyPolicy0CACert InvalidinhibitAnyPolicyTest1EE', 'inhibitAnyPolicy0CACRL'],
    ['4.12.2', 'Valid inhibitAnyPolicy Test2', 'inhibitAnyPolicy0CACert ValidinhibitAnyPolicyTest2EE', 'inhibitAnyPolicy0CACRL'],
    ['4.12.3', 'inhibitAnyPolicy Test3', 'inhibitAnyPolicy1CACert inhibitAnyPolicy1subCA1Cert inhibitAnyPolicyTest3EE', 'inhibitAnyPolicy1CACRL inhibitAnyPolicy1subCA1CRL', true],
    ['4.12.4', 'Invalid inhibitAnyPolicy Test4', 'inhibitAnyPolicy1CACert inhibitAnyPolicy1subCA1Cert InvalidinhibitAnyPolicyTest4EE', 'inhibitAnyPolicy1CACRL inhibitAnyPolicy1subCA1CRL'],
    ['4.12.5', 'Invalid inhibitAnyPolicy Test5', 'inhibitAnyPolicy5CACert inhibitAnyPolicy5subCACert inhibitAnyPolicy5subsubCACert InvalidinhibitAnyPolicyTest5EE', 'inhibitAnyPolicy5CACRL inhibitAnyPolicy5subCACRL inhibitAnyPolicy5subsubCACRL'],
    ['4.12.6', 'Invalid inhibitAnyPolicy Test6', 'inhibitAnyPolicy1CACert inhibitAnyPolicy1subCAIAP5Cert InvalidinhibitAnyPolicyTest6EE', 'inhibitAnyPolicy1CACRL inhibitAnyPolicy1subCAIAP5CRL'],
    ['4.12.7', 'Valid Self-Issued inhibitAnyPolicy Test7', 'inhibitAnyPolicy1CACert inhibitAnyPolicy1SelfIssuedCACert inhibitAnyPolicy1subCA2Cert ValidSelfIssuedinhibitAnyPolicyTest7EE', 'inhibitAnyPolicy1CACRL inhibitAnyPolicy1subCA2CRL'],
    ['4.12.8', 'Invalid Self-Issued inhibitAnyPolicy Test8', 'inhibitAnyPolicy1CACert inhibitAnyPolicy1SelfIssuedCACert inhibitAnyPolicy1subCA2Cert inhibitAnyPolicy1subsubCA2Cert InvalidSelfIssuedinhibitAnyPolicyTest8EE', 'inhibitAnyPolicy1CACRL inhibitAnyPolicy1subCA2CRL inhibitAnyPolicy1subsubCA2CRL'],
    ['4.12.9', 'Valid Self-Issued inhibitAnyPolicy Test9', 'inhibitAnyPolicy1CACert inhibitAnyPolicy1SelfIssuedCACert inhibitAnyPolicy1subCA2Cert inhibitAnyPolicy1SelfIssuedsubCA2Cert ValidSelfIssuedinhibitAnyPolicyTest9EE', 'inhibitAnyPolicy1CACRL inhibitAnyPolicy1subCA2CRL'],
    ['4.12.10', 'Invalid Self-Issued inhibitAnyPolicy Test10', 'inhibitAnyPolicy1CACert inhibitAnyPolicy1SelfIssuedCACert inhibitAnyPolicy1subCA2Cert InvalidSelfIssuedinhibitAnyPolicyTest10EE', 'inhibitAnyPolicy1CACRL inhibitAnyPolicy1subCA2CRL'],
  ],
  '4.13 Name Constraints': [
    ['4.13.1', 'Valid DN nameConstraints Test1', 'nameConstraintsDN1CACert ValidDNnameConstraintsTest1EE', 'nameConstraintsDN1CACRL'],
    ['4.13.2', 'Invalid DN nameConstraints Test2', 'nameConstraintsDN1CACert InvalidDNnameConstraintsTest2EE', 'nameConstraintsDN1CACRL'],
    ['4.13.3', 'Invalid DN nameConstraints Test3', 'nameConstraintsDN1CACert InvalidDNnameConstraintsTest3EE', 'nameConstraintsDN1CACRL'],
    ['4.13.4', 'Valid DN nameConstraints Test4', 'nameConstraintsDN1CACert ValidDNnameConstraintsTest4EE', 'nameConstraintsDN1CACRL'],
    ['4.13.5', 'Valid DN nameConstraints Test5', 'nameConstraintsDN2CACert ValidDNnameConstraintsTest5EE', 'nameConstraintsDN2CACRL'],
    ['4.13.6', 'Valid DN nameConstraints Test6', 'nameConstraintsDN3CACert ValidDNnameConstraintsTest6EE', 'nameConstraintsDN3CACRL'],
    ['4.13.7', 'Invalid DN nameConstraints Test7', 'nameConstraintsDN3CACert InvalidDNnameConstraintsTest7EE', 'nameConstraintsDN3CACRL'],
    ['4.13.8', 'Invalid DN nameConstraints Test8', 'nameConstraintsDN4CACert InvalidDNnameConstraintsTest8EE', 'nameConstraintsDN4CACRL'],
    ['4.13.9', 'Invalid DN nameConstraints Test9', 'nameConstraintsDN4CACert InvalidDNnameConstraintsTest9EE', 'nameConstraintsDN4CACRL'],
    ['4.13.10', 'Invalid DN nameConstraints Test10', 'nameConstraintsDN5CACert InvalidDNnameConstraintsTest10EE', 'nameConstraintsDN5CACRL'],
    ['4.13.11', 'Valid DN nameConstraints Test11', 'nameConstraintsDN5CACert ValidDNnameConstraintsTest11EE', 'nameConstraintsDN5CACRL'],
    ['4.13.12', 'Invalid DN nameConstraints Test12', 'nameConstraintsDN1CACert nameConstraintsDN1subCA1Cert InvalidDNnameConstraintsTest12EE', 'nameConstraintsDN1CACRL nameConstraintsDN1subCA1CRL'],
    ['4.13.13', 'Invalid DN nameConstraints Test13', 'nameConstraintsDN1CACert nameConstraintsDN1subCA2Cert InvalidDNnameConstraintsTest13EE', 'nameConstraintsDN1CACRL nameConstraintsDN1subCA2CRL'],
    ['4.13.14', 'Valid DN nameConstraints Test14', 'nameConstraintsDN1CACert nameConstraintsDN1subCA2Cert ValidDNnameConstraintsTest14EE', 'nameConstraintsDN1CACRL nameConstraintsDN1subCA2CRL'],
    ['4.13.15', 'Invalid DN nameConstraints Test15', 'nameConstraintsDN3CACert nameConstraintsDN3subCA1Cert InvalidDNnameConstraintsTest15EE', 'nameConstraintsDN3CACRL nameConstraintsDN3subCA1CRL'],
    ['4.13.16', 'Invalid DN nameConstraints Test16', 'nameConstraintsDN3CACert nameConstraintsDN3subCA1Cert InvalidDNnameConstraintsTest16EE', 'nameConstraintsDN3CACRL nameConstraintsDN3subCA1CRL'],
    ['4.13.17', 'Invalid DN nameConstraints Test17', 'nameConstraintsDN3CACert nameConstraintsDN3subCA2Cert InvalidDNnameConstraintsTest17EE', 'nameConstraintsDN3CACRL nameConstraintsDN3subCA2CRL'],
    ['4.13.18', 'Valid DN nameConstraints Test18', 'nameConstraintsDN3CACert nameConstraintsDN3subCA2Cert ValidDNnameConstraintsTest18EE', 'nameConstraintsDN3CACRL nameConstraintsDN3subCA2CRL'],
    ['4.13.19', 'Valid Self-Issued DN nameConstraints Test19', 'nameConstraintsDN1CACert nameConstraintsDN1SelfIssuedCACert ValidDNnameConstraintsTest19EE', 'nameConstraintsDN1CACRL'],
    ['4.13.20', 'Invalid Self-Issued DN nameConstraints Test20', 'nameConstraintsDN1CACert InvalidDNnameConstraintsTest20EE', 'nameConstraintsDN1CACRL'],
    ['4.13.21', 'Valid RFC822 nameConstraints Test21', 'nameConstraintsRFC822CA1Cert ValidRFC822nameConstraintsTest21EE', 'nameConstraintsRFC822CA1CRL'],
    ['4.13.22', 'Invalid RFC822 nameConstraints Test22', 'nameConstraintsRFC822CA1Cert InvalidRFC822nameConstraintsTest22EE', 'nameConstraintsRFC822CA1CRL'],
    ['4.13.23', 'Valid RFC822 nameConstraints Test23', 'nameConstraintsRFC822CA2Cert ValidRFC822nameConstraintsTest23EE', 'nameConstraintsRFC822CA2CRL'],
    ['4.13.24', 'Invalid RFC822 nameConstraints Test24', 'nameConstraintsRFC822CA2Cert InvalidRFC822nameConstraintsTest24EE', 'nameConstraintsRFC822CA2CRL'],
    ['4.13.25', 'Valid RFC822 nameConstraints Test25', 'nameConstraintsRFC822CA3Cert ValidRFC822nameConstraintsTest25EE', 'nameConstraintsRFC822CA3CRL'],
    ['4.13.26', 'Invalid RFC822 nameConstraints Test26', 'nameConstraintsRFC822CA3Cert InvalidRFC822nameConstraintsTest26EE', 'nameConstraintsRFC822CA3CRL'],
    ['4.13.27', 'Valid DN and RFC822 nameConstraints Test27', 'nameConstraintsDN1CACert nameConstraintsDN1subCA3Cert ValidDNandRFC822nameConstraintsTest27EE', 'nameConstraintsDN1CACRL nameConstraintsDN1subCA3CRL'],
    ['4.13.28', 'Invalid DN and RFC822 nameConstraints Test28', 'nameConstraintsDN1CACert nameConstraintsDN1subCA3Cert InvalidDNandRFC822nameConstraintsTest28EE', 'nameConstraintsDN1CACRL nameConstraintsDN1subCA3CRL'],
    ['4.13.29', 'Invalid DN and RFC822 nameConstraints Test29', 'nameConstraintsDN1CACert nameConstraintsDN1subCA3Cert InvalidDNandRFC822nameConstraintsTest29EE', 'nameConstraintsDN1CACRL nameConstraintsDN1subCA3CRL'],
    ['4.13.30', 'Valid DNS nameConstraints Test30', 'nameConstraintsDNS1CACert ValidDNSnameConstraintsTest30EE', 'nameConstraintsDNS1CACRL'],
    ['4.13.31', 'Invalid DNS nameConstraints Test31', 'nameConstraintsDNS1CACert InvalidDNSnameConstraintsTest31EE', 'nameConstraintsDNS1CACRL'],
    ['4.13.32', 'Valid DNS nameConstraints Test32', 'nameConstraintsDNS2CACert ValidDNSnameConstraintsTest32EE', 'nameConstraintsDNS2CACRL'],
    ['4.13.33', 'Invalid DNS nameConstraints Test33', 'nameConstraintsDNS2CACert InvalidDNSnameConstraintsTest33EE', 'nameConstraintsDNS2CACRL'],
    ['4.13.34', 'Valid URI nameConstraints Test34', 'nameConstraintsURI1CACert ValidURInameConstraintsTest34EE', 'nameConstraintsURI1CACRL'],
    ['4.13.35', 'Invalid URI nameConstraints Test35', 'nameConstraintsURI1CACert InvalidURInameConstraintsTest35EE', 'nameConstraintsURI1CACRL'],
    ['4.13.36', 'Valid URI nameConstraints Test36', 'nameConstraintsURI2CACert ValidURInameConstraintsTest36EE', 'nameConstraintsURI2CACRL'],
    ['4.13.37', 'Invalid URI nameConstraints Test37', 'nameConstraintsURI2CACert InvalidURInameConstraintsTest37EE', 'nameConstraintsURI2CACRL'],
    ['4.13.38', 'Invalid DNS nameConstraints Test38', 'nameConstraintsDNS1CACert InvalidDNSnameConstraintsTest38EE', 'nameConstraintsDNS1CACRL'],
  ],
  '4.14 Distribution Points': [
    ['4.14.1', 'Valid distributionPoint Test1', 'distributionPoint1CACert ValiddistributionPointTest1EE', 'distributionPoint1CACRL'],
    ['4.14.2', 'Invalid distributionPoint Test2', 'distributionPoint1CACert InvaliddistributionPointTest2EE', 'distributionPoint1CACRL'],
    ['4.14.3', 'Invalid distributionPoint Test3', 'distributionPoint1CACert InvaliddistributionPointTest3EE', 'distributionPoint1CACRL'],
    ['4.14.4', 'Valid distributionPoint Test4', 'distributionPoint1CACert ValiddistributionPointTest4EE', 'distributionPoint1CACRL'],
    ['4.14.5', 'Valid distributionPoint Test5', 'distributionPoint2CACert ValiddistributionPointTest5EE', 'distributionPoint2CACRL'],
    ['4.14.6', 'Invalid distributionPoint Test6', 'distributionPoint2CACert InvaliddistributionPointTest6EE', 'distributionPoint2CACRL'],
    ['4.14.7', 'Valid distributionPoint Test7', 'distributionPoint2CACert ValiddistributionPointTest7EE', 'distributionPoint2CACRL'],
    ['4.14.8', 'Invalid distributionPoint Test8', 'distributionPoint2CACert InvaliddistributionPointTest8EE', 'distributionPoint2CACRL'],
    ['4.14.9', 'Invalid distributionPoint Test9', 'distributionPoint2CACert InvaliddistributionPointTest9EE', 'distributionPoint2CACRL'],
    ['4.14.10', 'Valid No issuingDistributionPoint Test10', 'NoissuingDistributionPointCACert ValidNoissuingDistributionPointTest10EE', 'NoissuingDistributionPointCACRL'],
    ['4.14.11', 'Invalid onlyContainsUserCerts CRL Test11', 'onlyContainsUserCertsCACert InvalidonlyContainsUserCertsTest11EE', 'onlyContainsUserCertsCACRL'],
    ['4.14.12', 'Invalid onlyContainsCACerts CRL Test12', 'onlyContainsCACertsCACert InvalidonlyContainsCACertsTest12EE', 'onlyContainsCACertsCACRL'],
    ['4.14.13', 'Valid onlyContainsCACerts CRL Test13', 'onlyContainsCACertsCACert ValidonlyContainsCACertsTest13EE', 'onlyContainsCACertsCACRL'],
    ['4.14.14', 'Invalid onlyContainsAttributeCerts Test14', 'onlyContainsAttributeCertsCACert InvalidonlyContainsAttributeCertsTest14EE', 'onlyContainsAttributeCertsCACRL'],
    ['4.14.15', 'Invalid onlySomeReasons Test15', 'onlySomeReasonsCA1Cert InvalidonlySomeReasonsTest15EE', 'onlySomeReasonsCA1compromiseCRL onlySomeReasonsCA1otherreasonsCRL'],
    ['4.14.16', 'Invalid onlySomeReasons Test16', 'onlySomeReasonsCA1Cert InvalidonlySomeReasonsTest16EE', 'onlySomeReasonsCA1compromiseCRL onlySomeReasonsCA1otherreasonsCRL'],
    ['4.14.17', 'Invalid onlySomeReasons Test17', 'onlySomeReasonsCA2Cert InvalidonlySomeReasonsTest17EE', 'onlySomeReasonsCA2CRL1 onlySomeReasonsCA2CRL2'],
    ['4.14.18', 'Valid onlySomeReasons Test18', 'onlySomeReasonsCA3Cert ValidonlySomeReasonsTest18EE', 'onlySomeReasonsCA3compromiseCRL onlySomeReasonsCA3otherreasonsCRL'],
    ['4.14.19', 'Valid onlySomeReasons Test19', 'onlySomeReasonsCA4Cert ValidonlySomeReasonsTest19EE', 'onlySomeReasonsCA4compromiseCRL onlySomeReasonsCA4otherreasonsCRL'],
    ['4.14.20', 'Invalid onlySomeReasons Test20', 'onlySomeReasonsCA4Cert InvalidonlySomeReasonsTest20EE', 'onlySomeReasonsCA4compromiseCRL onlySomeReasonsCA4otherreasonsCRL'],
    ['4.14.21', 'Invalid onlySomeReasons Test21', 'onlySomeReasonsCA4Cert InvalidonlySomeReasonsTest21EE', 'onlySomeReasonsCA4compromiseCRL onlySomeReasonsCA4otherreasonsCRL'],
    ['4.14.22', 'Valid IDP with indirectCRL Test22', 'indirectCRLCA1Cert ValidIDPwithindirectCRLTest22EE', 'indirectCRLCA1CRL'],
    ['4.14.23', 'Invalid IDP with indirectCRL Test23', 'indirectCRLCA1Cert InvalidIDPwithindirectCRLTest23EE', 'indirectCRLCA1CRL'],
    ['4.14.24', 'Valid IDP with indirectCRL Test24', 'indirectCRLCA2Cert indirectCRLCA1Cert ValidIDPwithindirectCRLTest24EE', 'indirectCRLCA1CRL'],
    ['4.14.25', 'Valid IDP with indirectCRL Test25', 'indirectCRLCA2Cert indirectCRLCA1Cert ValidIDPwithindirectCRLTest25EE', 'indirectCRLCA1CRL'],
    ['4.14.26', 'Invalid IDP with indirectCRL Test26', 'indirectCRLCA2Cert indirectCRLCA1Cert InvalidIDPwithindirectCRLTest26EE', 'indirectCRLCA1CRL'],
    ['4.14.27', 'Invalid cRLIssuer Test27', 'indirectCRLCA2Cert GoodCACert InvalidcRLIssuerTest27EE', 'GoodCACRL'],
    ['4.14.28', 'Valid cRLIssuer Test28', 'indirectCRLCA3Cert indirectCRLCA3cRLIssuerCert ValidcRLIssuerTest28EE', 'indirectCRLCA3CRL indirectCRLCA3cRLIssuerCRL'],
    ['4.14.29', 'Valid cRLIssuer Test29', 'indirectCRLCA3Cert indirectCRLCA3cRLIssuerCert ValidcRLIssuerTest29EE', 'indirectCRLCA3CRL indirectCRLCA3cRLIssuerCRL'],
    ['4.14.30', 'Valid cRLIssuer Test30', 'indirectCRLCA4Cert indirectCRLCA4cRLIssuerCert ValidcRLIssuerTest30EE', 'indirectCRLCA4cRLIssuerCRL'],
    ['4.14.31', 'Invalid cRLIssuer Test31', 'indirectCRLCA5Cert indirectCRLCA6Cert InvalidcRLIssuerTest31EE', 'indirectCRLCA5CRL'],
    ['4.14.32', 'Invalid cRLIssuer Test32', 'indirectCRLCA5Cert indirectCRLCA6Cert InvalidcRLIssuerTest32EE', 'indirectCRLCA5CRL'],
    ['4.14.33', 'Valid cRLIssuer Test33', 'indirectCRLCA5Cert indirectCRLCA6Cert ValidcRLIssuerTest33EE', 'indirectCRLCA5CRL'],
    ['4.14.34', 'Invalid cRLIssuer Test34', 'indirectCRLCA5Cert InvalidcRLIssuerTest34EE', 'indirectCRLCA5CRL'],
    ['4.14.35', 'Invalid cRLIssuer Test35', 'indirectCRLCA5Cert InvalidcRLIssuerTest35EE', 'indirectCRLCA5CRL'],
  ],
  '4.15 Delta-CRLs': [
    ['4.15.1', 'Invalid deltaCRLIndicator No Base Test1', 'deltaCRLIndicatorNoBaseCACert InvaliddeltaCRLIndicatorNoBaseTest1EE', 'deltaCRLIndicatorNoBaseCACRL'],
    ['4.15.2', 'Valid delta-CRL Test2', 'deltaCRLCA1Cert ValiddeltaCRLTest2EE', 'deltaCRLCA1CRL deltaCRLCA1deltaCRL'],
    ['4.15.3', 'Invalid delta-CRL Test3', 'deltaCRLCA1Cert InvaliddeltaCRLTest3EE', 'deltaCRLCA1CRL deltaCRLCA1deltaCRL'],
    ['4.15.4', 'Invalid delta-CRL Test4', 'deltaCRLCA1Cert InvaliddeltaCRLTest4EE', 'deltaCRLCA1CRL deltaCRLCA1deltaCRL'],
    ['4.15.5', 'Valid delta-CRL Test5', 'deltaCRLCA1Cert ValiddeltaCRLTest5EE', 'deltaCRLCA1CRL deltaCRLCA1deltaCRL'],
    ['4.15.6', 'Invalid delta-CRL Test6', 'deltaCRLCA1Cert InvaliddeltaCRLTest6EE', 'deltaCRLCA1CRL deltaCRLCA1deltaCRL'],
    ['4.15.7', 'Valid delta-CRL Test7', 'deltaCRLCA1Cert ValiddeltaCRLTest7EE', 'deltaCRLCA1CRL deltaCRLCA1deltaCRL'],
    ['4.15.8', 'Valid delta-CRL Test8', 'deltaCRLCA2Cert ValiddeltaCRLTest8EE', 'deltaCRLCA2CRL deltaCRLCA2deltaCRL'],
    ['4.15.9', 'Invalid delta-CRL Test9', 'deltaCRLCA2Cert InvaliddeltaCRLTest9EE', 'deltaCRLCA2CRL deltaCRLCA2deltaCRL'],
    ['4.15.10', 'Invalid delta-CRL Test10', 'deltaCRLCA3Cert InvaliddeltaCRLTest10EE', 'deltaCRLCA3CRL deltaCRLCA3deltaCRL'],
  ],
  '4.16 Private Certificate Extensions': [
    ['4.16.1', 'Valid Unknown Not Critical Certificate Extension Test1', 'ValidUnknownNotCriticalCertificateExtensionTest1EE', ''],
    ['4.16.2', 'Invalid Unknown Critical Certificate Extension Test2', 'InvalidUnknownCriticalCertificateExtensionTest2EE', ''],
  ],
};

/**
 * Known non-conformances, by test id, with the reason. Each is asserted to still give the wrong result.
 */
const KNOWN_GAPS: Record<string, string> = {};

function expectedOf(row: Row): boolean {
  if (row[4] !== undefined) return row[4];
  if (row[1].startsWith('Valid')) return true;
  if (row[1].startsWith('Invalid')) return false;
  throw new Error(`no expected result for ${row[0]}`);
}

const available = existsSync(join(PKITS_DIR, 'certs', 'TrustAnchorRootCertificate.crt'));
const fileCache = new Map<string, Uint8Array>();
function load(kind: 'certs' | 'crls', name: string): Uint8Array {
  const p = join(PKITS_DIR, kind, `${name}.${kind === 'certs' ? 'crt' : 'crl'}`);
  let b = fileCache.get(p);
  if (!b) {
    b = new Uint8Array(readFileSync(p));
    fileCache.set(p, b);
  }
  return b;
}

const tally = new Map<string, { pass: number; total: number; gaps: string[] }>();

describe('NIST PKITS conformance (validatePath)', function () {
  this.timeout(60_000);
  let anchor: TrustAnchor;

  before(function () {
    if (!available) {
      // Pending, not failed: the vectors come from a system package (python3-cryptography-vectors).
      this.skip();
    }
    const der = load('certs', 'TrustAnchorRootCertificate');
    anchor = pemAnchor(der, 'pem:TrustAnchorRootCertificate.crt');
  });

  after(() => {
    if (tally.size === 0) return;
    let pass = 0;
    let total = 0;
    const lines: string[] = [];
    for (const [section, t] of tally) {
      pass += t.pass;
      total += t.total;
      const gaps = t.gaps.length > 0 ? `  known gaps: ${t.gaps.join(', ')}` : '';
      lines.push(`  ${section.padEnd(52)} ${String(t.pass).padStart(3)}/${String(t.total).padEnd(3)} ${((100 * t.pass) / t.total).toFixed(0).padStart(3)}%${gaps}`);
    }
    const core = [...tally].filter(([s]) => /^4\.([1-7]|13) /.test(s));
    const corePass = core.reduce((a, [, t]) => a + t.pass, 0);
    const coreTotal = core.reduce((a, [, t]) => a + t.total, 0);
    console.log(`\n  PKITS pass rate per section:\n${lines.join('\n')}`);
    console.log(`  sections 4.1-4.7 + 4.13: ${corePass}/${coreTotal} (${((100 * corePass) / coreTotal).toFixed(1)}%)`);
    console.log(`  all sections:            ${pass}/${total} (${((100 * pass) / total).toFixed(1)}%)\n`);
  });

  for (const [section, rows] of Object.entries(TABLE)) {
    describe(section, () => {
      for (const row of rows) {
        const [id, name, certs, crls] = row;
        const expected = expectedOf(row);
        const gap = KNOWN_GAPS[id];
        it(`${id} ${name}${gap ? ` (known gap: ${gap})` : ''}`, async () => {
          const names = certs.split(' ');
          const eeName = names[names.length - 1] ?? '';
          const leaf = load('certs', eeName);
          const intermediates = names.slice(0, -1).map((n) => load('certs', n));
          const crlList = ['TrustAnchorRootCRL', ...crls.split(' ').filter((c) => c !== '')].map((c) => load('crls', c));
          const result = await validatePath({ leaf, intermediates, anchors: [anchor], at: AT, crls: crlList });
          const errors = result.findings.filter((f) => f.severity === 'error');
          const valid = errors.length === 0 && result.path.length > 0;
          const t = tally.get(section) ?? { pass: 0, total: 0, gaps: [] };
          t.total++;
          if (valid === expected) t.pass++;
          if (gap) t.gaps.push(id);
          tally.set(section, t);
          const detail = errors.map((f) => `${f.code}: ${f.message}`).join('\n') || '(no errors)';
          // PKITS_VERBOSE=1 prints why each test failed validation, to check Invalid tests fail for their reason.
          if (process.env.PKITS_VERBOSE) console.log(`      ${id}: ${errors.map((f) => `${f.code}@${f.certIndex}`).join(' ') || 'valid'}`);
          if (gap) assert.notEqual(valid, expected, `${id} now conforms: remove it from KNOWN_GAPS`);
          else assert.equal(valid, expected, `expected ${expected ? 'valid' : 'invalid'}, got:\n${detail}`);
        });
      }
    });
  }
});
