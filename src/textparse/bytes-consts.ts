/**
 * The ASCII bytes the exposition parsers dispatch on, defined once so the parsers cannot drift.
 * Parsers destructure this into module-level `const`s rather than importing named constants:
 * V8 folds a local `const` into the hot byte loops but reloads an imported binding on every use
 * (measured ~30% slower on a byte-scanning loop, Node 26).
 */
export const ASCII = Object.freeze({
  NUL: 0x00,
  TAB: 0x09,
  NL: 0x0a,
  SP: 0x20,
  QUOTE: 0x22,
  HASH: 0x23,
  COMMA: 0x2c,
  EQ: 0x3d,
  BSLASH: 0x5c,
  LBRACE: 0x7b,
  RBRACE: 0x7d,
  /**
   * Not a byte: what a read past the end of a buffer (undefined) stands for, as in
   * `TABLE[b[i] ?? PAST_END]`. The 256-entry byte-class tables have no such entry, so it is in no class.
   */
  PAST_END: 256,
} as const);
