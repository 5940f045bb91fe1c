/**
 * ETSI TS 119 495 §5.1 PSD2 QCStatement (statementId 0.4.0.19495.2):
 *
 *   PSD2QcType ::= SEQUENCE { rolesOfPSP RolesOfPSP, nCAName NCAName, nCAId NCAId }
 *   RolesOfPSP ::= SEQUENCE OF RoleOfPSP
 *   RoleOfPSP  ::= SEQUENCE { roleOfPspOid RoleOfPspOid, roleOfPspName RoleOfPspName }
 *   RoleOfPspOid  ::= OBJECT IDENTIFIER
 *   RoleOfPspName ::= UTF8String (SIZE(1..256))
 *   NCAName ::= UTF8String (SIZE (1..256))
 *   NCAId   ::= UTF8String (SIZE (1..256))
 *
 * @peculiar/asn1-x509-qualified-etsi covers EN 319 412-5 but not TS 119 495, hence these classes.
 * They are used both to write the statement (dev PKI) and to read it (profile checks).
 */
import { AsnArray, AsnProp, AsnPropTypes, AsnType, AsnTypeTypes } from '@peculiar/asn1-schema';

@AsnType({ type: AsnTypeTypes.Sequence })
export class RoleOfPSP {
  @AsnProp({ type: AsnPropTypes.ObjectIdentifier })
  roleOfPspOid = '';

  @AsnProp({ type: AsnPropTypes.Utf8String })
  roleOfPspName = '';

  constructor(params: Partial<RoleOfPSP> = {}) {
    Object.assign(this, params);
  }
}

@AsnType({ type: AsnTypeTypes.Sequence, itemType: RoleOfPSP })
export class RolesOfPSP extends AsnArray<RoleOfPSP> {
  constructor(items?: RoleOfPSP[]) {
    super(items);
    Object.setPrototypeOf(this, RolesOfPSP.prototype);
  }
}

@AsnType({ type: AsnTypeTypes.Sequence })
export class PSD2QcType {
  @AsnProp({ type: RolesOfPSP })
  rolesOfPSP = new RolesOfPSP();

  @AsnProp({ type: AsnPropTypes.Utf8String })
  nCAName = '';

  @AsnProp({ type: AsnPropTypes.Utf8String })
  nCAId = '';

  constructor(params: Partial<PSD2QcType> = {}) {
    Object.assign(this, params);
  }
}
