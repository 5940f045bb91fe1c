/**
 * Object identifiers used by the eIDAS engine, each with the standard that defines it.
 * Names follow the standards' own ASN.1 names where there is one.
 */

/** RFC 3739 / RFC 5280: the qcStatements certificate extension. */
export const id_pe_qcStatements = '1.3.6.1.5.5.7.1.3';

/** ETSI EN 319 412-5 §4: QC statements. */
export const id_etsi_qcs_QcCompliance = '0.4.0.1862.1.1';
export const id_etsi_qcs_QcLimitValue = '0.4.0.1862.1.2';
export const id_etsi_qcs_QcRetentionPeriod = '0.4.0.1862.1.3';
export const id_etsi_qcs_QcSSCD = '0.4.0.1862.1.4';
export const id_etsi_qcs_QcPDS = '0.4.0.1862.1.5';
export const id_etsi_qcs_QcType = '0.4.0.1862.1.6';
export const id_etsi_qct_esign = '0.4.0.1862.1.6.1';
export const id_etsi_qct_eseal = '0.4.0.1862.1.6.2';
export const id_etsi_qct_web = '0.4.0.1862.1.6.3';
export const id_etsi_qcs_QcCClegislation = '0.4.0.1862.1.7';

/** RFC 3739 §3.2.6: pkixQCSyntax-v2 (semantics information). */
export const id_qcs_pkixQCSyntax_v1 = '1.3.6.1.5.5.7.11.1';
export const id_qcs_pkixQCSyntax_v2 = '1.3.6.1.5.5.7.11.2';
/** ETSI EN 319 412-1 §5.1: semantics identifiers. */
export const id_etsi_qcs_semanticsId_Natural = '0.4.0.194121.1.1';
export const id_etsi_qcs_semanticsId_Legal = '0.4.0.194121.1.2';
export const id_etsi_qcs_semanticsId_eIDASNatural = '0.4.0.194121.1.3';
export const id_etsi_qcs_semanticsId_eIDASLegal = '0.4.0.194121.1.4';

/** ETSI TS 119 495 §5.1: the PSD2 QCStatement and role OIDs. */
export const id_etsi_psd2_qcStatement = '0.4.0.19495.2';
export const id_psd2_roles = '0.4.0.19495.1';
export const id_psd2_role_psp_as = '0.4.0.19495.1.1';
export const id_psd2_role_psp_pi = '0.4.0.19495.1.2';
export const id_psd2_role_psp_ai = '0.4.0.19495.1.3';
export const id_psd2_role_psp_ic = '0.4.0.19495.1.4';
/** TS 119 495 v1.8.1 additions (non-PSD2 roles). */
export const id_psd2_role_psp_cb = '0.4.0.19495.1.5';
export const id_psd2_role_psp_pa = '0.4.0.19495.1.6';

/** X.520 / EN 319 412-1 §5.1.4: organizationIdentifier attribute. */
export const id_at_organizationIdentifier = '2.5.4.97';
/** CA/Browser Forum: cabfOrganizationIdentifier extension. */
export const id_cabf_organizationIdentifier = '2.23.140.3.1';

/** ETSI EN 319 411-2 §5.3: qualified certificate policies. */
export const qcp_natural = '0.4.0.194112.1.0';
export const qcp_legal = '0.4.0.194112.1.1';
export const qcp_natural_qscd = '0.4.0.194112.1.2';
export const qcp_legal_qscd = '0.4.0.194112.1.3';
export const qcp_web = '0.4.0.194112.1.4';
export const qncp_web = '0.4.0.194112.1.5';
export const qncp_web_gen = '0.4.0.194112.1.6';
/** ETSI TS 119 495 §6.1 OVR-6.1-3: QCP-w-psd2. */
export const qcp_web_psd2 = '0.4.0.19495.3.1';
/** ETSI EN 319 411-1: non-qualified policies. */
export const ncp = '0.4.0.2042.1.1';
export const ncp_plus = '0.4.0.2042.1.2';
export const lcp = '0.4.0.2042.1.3';
export const evcp = '0.4.0.2042.1.4';
export const dvcp = '0.4.0.2042.1.6';
export const ovcp = '0.4.0.2042.1.7';
export const ivcp = '0.4.0.2042.1.8';
/** CA/Browser Forum policy identifiers. */
export const cabf_ev = '2.23.140.1.1';
export const cabf_dv = '2.23.140.1.2.1';
export const cabf_ov = '2.23.140.1.2.2';
export const cabf_iv = '2.23.140.1.2.3';
export const anyPolicy = '2.5.29.32.0';

/** RFC 5280 extension OIDs. */
export const id_ce_subjectKeyIdentifier = '2.5.29.14';
export const id_ce_keyUsage = '2.5.29.15';
export const id_ce_subjectAltName = '2.5.29.17';
export const id_ce_basicConstraints = '2.5.29.19';
export const id_ce_nameConstraints = '2.5.29.30';
export const id_ce_cRLDistributionPoints = '2.5.29.31';
export const id_ce_certificatePolicies = '2.5.29.32';
export const id_ce_policyMappings = '2.5.29.33';
export const id_ce_authorityKeyIdentifier = '2.5.29.35';
export const id_ce_policyConstraints = '2.5.29.36';
export const id_ce_extKeyUsage = '2.5.29.37';
export const id_ce_inhibitAnyPolicy = '2.5.29.54';
export const id_pe_authorityInfoAccess = '1.3.6.1.5.5.7.1.1';
export const id_ad_ocsp = '1.3.6.1.5.5.7.48.1';
export const id_ad_caIssuers = '1.3.6.1.5.5.7.48.2';

/** RFC 5280 §4.2.1.12 extended key usages. */
export const id_kp_serverAuth = '1.3.6.1.5.5.7.3.1';
export const id_kp_clientAuth = '1.3.6.1.5.5.7.3.2';
export const id_kp_emailProtection = '1.3.6.1.5.5.7.3.4';
export const id_kp_OCSPSigning = '1.3.6.1.5.5.7.3.9';
export const anyExtendedKeyUsage = '2.5.29.37.0';
/** Microsoft document signing, seen in real QSealCs. */
export const ms_documentSigning = '1.3.6.1.4.1.311.10.3.12';

/** RFC 6962 §3.1: the CT poison extension that marks a pre-certificate. */
export const ct_precert_poison = '1.3.6.1.4.1.11129.2.4.3';
