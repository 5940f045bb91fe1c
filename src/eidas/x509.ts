/**
 * The one import point for @peculiar/x509. Its tsyringe container needs the reflect-metadata polyfill
 * loaded first, and the crypto provider must be node's WebCrypto.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// The project compiles without the DOM lib; node's WebCrypto is what the library expects at run time.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509 };
