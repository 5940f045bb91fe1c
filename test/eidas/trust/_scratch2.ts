import { readFileSync } from 'node:fs';
import { parseTrustedList, parseLotl } from '../../../src/eidas/trust/tl.js';
const dir = '/work/shared/fixtures/trusted-lists/';
for (const [f, at] of [['tl-cz-sn77.xml','2019-09-15'],['tl-el-sn42.xml','2019-09-15'],['tl-lu-sn37.xml','2019-09-15'],['tl-be-sn43.xml','2019-09-15'],['tl-fi-sn49-2024.xml','2024-12-01'],['eu-lotl-sn248.xml','2019-09-15']] as const) {
  const t0 = Date.now();
  const tl = parseTrustedList(readFileSync(dir + f), { at: new Date(at + 'T00:00:00Z') });
  const g = tl.anchors.filter(a => a.status === 'granted');
  const svc = (pred: (a: typeof g[0]) => boolean) => new Set(g.filter(pred).map(a => a.source)).size;
  console.log(f, tl.territory, tl.sequenceNumber, tl.issued.toISOString(), tl.nextUpdate?.toISOString(), 'anchors', tl.anchors.length, 'grantedSvc', svc(() => true), 'web', svc(a => a.qualifiers!.web), 'eseal', svc(a => a.qualifiers!.eseal), tl.warnings.length, Date.now() - t0, 'ms');
  if (tl.pointers) console.log(tl.pointers.length, new Set(tl.pointers.map(p => p.territory)).size, tl.pointers.reduce((n, p) => n + p.signers.length, 0));
}
