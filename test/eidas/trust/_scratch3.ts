import { readFileSync } from 'node:fs';
import { parseTrustedList } from '../../../src/eidas/trust/tl.js';
const tl = parseTrustedList(readFileSync('/work/shared/fixtures/trusted-lists/tl-be-sn43.xml'), { at: new Date('2019-09-15T00:00:00Z') });
for (const a of tl.anchors) console.log(a.status, JSON.stringify(a.qualifiers), a.source, '|', a.subject.slice(0, 60));
console.log(tl.warnings);
