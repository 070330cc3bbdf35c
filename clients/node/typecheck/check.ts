// index.d.ts against the code: the implementation's types are inferred from its JavaScript (allowJs), the
// declared ones come from index.d.ts through the package name. A member or export that one side has and
// the other lacks, a declared type the code does not satisfy, or a field writable on one side and
// read-only on the other is a compile error here. Members starting with `_` are private by convention.
import * as decl from 'switchboard-client';
import * as implClient from '../src/client.js';
import * as implErrors from '../src/errors.js';
import * as implFraming from '../src/framing.js';
import * as implSocketPath from '../src/socketpath.js';

type Public<K> = K extends `_${string}` ? never : K;
type IfEquals<X, Y, A, B> = (<T>() => T extends X ? 1 : 2) extends (<T>() => T extends Y ? 1 : 2) ? A : B;
type WritableKeys<T> = { [P in keyof T]-?: IfEquals<{ [Q in P]: T[P] }, { -readonly [Q in P]: T[P] }, P, never> }[keyof T];
// Resolves to true when A and B are the same set of keys; otherwise to the keys that differ.
type SameKeys<A, B> = [Exclude<A, B> | Exclude<B, A>] extends [never] ? true : { onlyInCode: Exclude<A, B>; onlyDeclared: Exclude<B, A> };

// The public members of each class: the same names, and the same ones writable.
type Compare<Impl, Decl> = [
  SameKeys<Public<keyof Impl>, Public<keyof Decl>>,
  SameKeys<Public<WritableKeys<Impl>>, Public<WritableKeys<Decl>>>,
];
export const client: Compare<implClient.Client, decl.Client> = [true, true];
export const stream: Compare<implClient.StreamCall, decl.StreamCall> = [true, true];
export const subscription: Compare<implClient.Subscription, decl.Subscription> = [true, true];
export const registration: Compare<implClient.ServiceRegistration, decl.ServiceRegistration> = [true, true];

// What the code builds satisfies what is declared.
declare const c: implClient.Client;
export const asDeclared: decl.Client = c;
declare const s: implClient.StreamCall;
export const streamAsDeclared: decl.StreamCall = s;
declare const sub: implClient.Subscription;
export const subAsDeclared: decl.Subscription = sub;

// The module's exports: index.js re-exports these modules; every export declared, none invented.
type Exports = typeof implClient & typeof implErrors & typeof implFraming & typeof implSocketPath;
type IndexExports = Extract<keyof Exports,
  | 'connect' | 'Client' | 'StreamCall' | 'Subscription' | 'ServiceRegistration' | 'subjectMatches'
  | keyof typeof implErrors
  | 'resolveSocketPath' | 'checkSocketPath' | 'UnsafeSocketPathError'
  | 'FrameType' | 'Format' | 'FrameDecoder' | 'FramingError' | 'encodeFrame' | 'encodeBody' | 'decodeBody'
  | 'PROTOCOL_VERSION' | 'HEADER_SIZE' | 'DEFAULT_MAX_PAYLOAD'> | 'msgpack';
export const exportsMatch: SameKeys<IndexExports, keyof typeof decl> = true;

// Each error class of the code is the declared one.
export const errors: { [K in keyof typeof implErrors & keyof typeof decl]: (typeof decl)[K] } = implErrors;
export const framing: Pick<typeof decl, 'FrameType' | 'Format' | 'encodeFrame' | 'decodeBody'> = implFraming;
