import test from 'ava';
import { compileAnchoredRe2, compileRe2Detailed, RegexTranslationError, SCRIPT_NAMES } from '../../src/relabel/re2.ts';

/**
 * [RE2 source, strings it must match, strings it must not match]. Expectations were checked
 * against Go's regexp through `promtool check service-discovery` (2.42), adjusted for head's
 * `(?s:` wrapping (2.42 used `(?:`, so `.` did not match "\n" there).
 */
const matchTable: [string, string[], string[]][] = [
  ['(.*)', ['', 'abc', 'a\nb'], []],
  ['', [''], ['a']],
  ['f|o', ['f', 'o'], ['foo', '']],
  ['.*o.*', ['foo', 'o'], ['abc']],
  ['a.b', ['axb', 'a\nb'], ['ab']],
  ['(?-s:a.b)', ['axb'], ['a\nb']],
  ['.', ['😀', 'é', '\n'], ['', 'ab']],
  ['..', ['ab'], ['😀']],
  ['\\w+', ['AbC_1'], ['a b', 'é', 'ſ']],
  ['(?i)\\w+', ['AbC_1', 'ſ', 'K'], ['é']],
  ['(?i)\\W', ['-', 'é'], ['a', 'ſ', 'K']],
  ['(?i)[^\\W]', ['a', 'ſ', 'K'], ['-']],
  ['\\d+', ['123'], ['١٢']],
  ['\\s', [' ', '\t', '\n', '\f', '\r'], ['\v', '\u00a0', '\u2028']],
  ['\\S+', ['a\v'], ['a b']],
  ['[[:alpha:]]+', ['abcXYZ'], ['é', 'a1']],
  ['[[:^alpha:]]+', ['12 3', 'é'], ['a']],
  ['(?i)[[:^lower:]]', ['-'], ['a', 'A', 'K', 'k', 'ſ']],
  ['[[:space:]]', ['\v'], ['\u00a0']],
  ['[[:word:][:punct:]]+', ['a_b!'], ['a b']],
  ['\\pL+', ['Ωμέγα', 'abc'], ['a1']],
  ['\\PL', ['1', '😀'], ['a']],
  ['(?i)\\PL', ['1'], ['a', 'ͅ', 'ι']],
  ['\\p{Greek}+', ['Ωμέγα'], ['abc']],
  ['\\p{Lu}\\p{Ll}+', ['Straße'], ['straße']],
  ['(?i)\\p{Lu}+', ['abc', 'ABC'], ['123']],
  ['\\p{^Greek}', ['a'], ['Ω']],
  ['\\P{^Greek}', ['Ω'], ['a']],
  ['\\p{Letter}\\p{greek}', ['aΩ'], ['a1']],
  ['\\p{Any}', ['\n'], ['']],
  ['(?i)straße', ['STRAßE', 'straße'], ['STRASSE']],
  ['(?i)K', ['k', 'K', '\u212a'], ['x']],
  ['(?i)ſ', ['s', 'S', 'ſ'], ['x']],
  ['(?i)[k-m]+', ['KLM', '\u212a'], ['n']],
  ['(?i)[^k]', ['x'], ['k', 'K', '\u212a']],
  ['[^a]', ['b', '\n', '😀'], ['a']],
  ['(?m)^b$', ['b'], ['a\nb']],
  ['(?m:a$)\\n(b)', ['a\nb'], ['ab']],
  ['\\bfoo\\b.*', ['foo bar', 'foo'], ['foobar']],
  ['(?i)\\bfoo\\B.*', ['FOOx'], ['foo', 'foo x']],
  ['\\Qa.b\\E', ['a.b'], ['axb']],
  ['x{2,3}', ['xx', 'xxx'], ['x', 'xxxx']],
  ['x{2}', ['xx'], ['xxx']],
  ['x{2,}', ['xxxx'], ['x']],
  ['a{,3}', ['a{,3}'], ['aaa']],
  ['a{01}', ['a{01}'], ['a']],
  ['[]a]+', [']a'], ['b']],
  ['[a-c-e]+', ['abc-e'], ['d']],
  ['[a-]+', ['a-'], ['b']],
  ['\\x{41}\\x42\\101\\0', ['ABA\0'], []],
  ['\\a\\f\\t\\n\\r\\v', ['\x07\f\t\n\r\v'], []],
  ['\\.\\*\\ ', ['.* '], []],
  ['a\\z', ['a'], ['a\n']],
  ['\\Aa', ['a'], []],
  ['^*a', ['a'], []],
  ['(a)|b', ['a', 'b'], ['ab']],
  ['(?:(a)|b)+', ['ab', 'bab'], ['c']],
  ['(?U)(a+)(a*)', ['aaa'], []],
  ['é+', ['éé'], ['e']],
  ['(?i)É', ['é'], ['e']],
  ['(?i)Σ', ['σ', 'ς', 'Σ'], []],
  // Not fully anchored when the wrapper's parentheses are closed by the pattern itself.
  ['a)|(b', ['a', 'ax', 'xxb', 'a\nb'], ['xa', 'xb\n']],
];

for (const [src, yes, no] of matchTable) {
  test(`re2 ${JSON.stringify(src)}`, (t) => {
    const re = compileAnchoredRe2(src);
    for (const s of yes) t.true(re.test(s), `should match ${JSON.stringify(s)} (js: ${re.source})`);
    for (const s of no) t.false(re.test(s), `should not match ${JSON.stringify(s)} (js: ${re.source})`);
  });
}

/** Submatches as Go reports them (checked with promtool), "" for a group that did not take part. */
const groupTable: [string, string, string[]][] = [
  ['(a|ab)(c|bcd)(d*)', 'abcd', ['a', 'bcd', '']],
  ['(?U)(a+)(a*)', 'aaa', ['a', 'aa']],
  ['(a+?)(a*)', 'aaa', ['a', 'aa']],
  ['(a*)+', 'aa', ['aa']],
  ['(a|)+b', 'aab', ['a']],
  ['(|a)+', 'aa', ['a']],
  ['(a*)*', 'aa', ['aa']],
  ['(x)?(.*)', 'y', ['', 'y']],
  ['(?P<host>[^:]+):(\\d+)', 'h:80', ['h', '80']],
  ['(?<n>a)(?<n>b)', 'ab', ['a', 'b']],
  ['(?P<1x>a)', 'a', ['a']],
];

for (const [src, input, groups] of groupTable) {
  test(`re2 groups ${JSON.stringify(src)} on ${JSON.stringify(input)}`, (t) => {
    const m = compileAnchoredRe2(src).exec(input);
    t.not(m, null);
    t.deepEqual(
      [...(m as RegExpExecArray)].slice(1).map((x) => x ?? ''),
      groups,
    );
  });
}

test('group names follow Go (duplicates and digit-leading names kept)', (t) => {
  t.deepEqual(compileRe2Detailed('(?P<a>x)(y)(?<a>z)(?P<1x>w)').groupNames, ['', 'a', '', 'a', '1x']);
});

/** Error text as Go prints it (checked with promtool 2.42; head wraps with `(?s:` instead of `(?:`). */
const rejects: [string, string][] = [
  ['a**', 'invalid nested repetition operator: `**`'],
  ['a*?+', 'invalid nested repetition operator: `*?+`'],
  ['a{2}{3}', 'invalid nested repetition operator: `{2}{3}`'],
  ['*a', 'missing argument to repetition operator: `*`'],
  ['a|*', 'missing argument to repetition operator: `*`'],
  ['(a', 'missing closing ): `^(?s:(a)$`'],
  ['\\Qab', 'missing closing ): `^(?s:\\Qab)$`'],
  ['a\\', 'missing closing ): `^(?s:a\\)$`'],
  ['a)', 'unexpected ): `^(?s:a))$`'],
  ['x{2,1}', 'invalid repeat count: `{2,1}`'],
  ['x{1001}', 'invalid repeat count: `{1001}`'],
  ['(x{500}){3}', 'invalid repeat count: `{3}`'],
  ['\\1', 'invalid escape sequence: `\\1`'],
  ['\\8', 'invalid escape sequence: `\\8`'],
  ['\\C', 'invalid escape sequence: `\\C`'],
  ['\\Z', 'invalid escape sequence: `\\Z`'],
  ['\\xZZ', 'invalid escape sequence: `\\xZZ`'],
  ['\\x{110000}', 'invalid escape sequence: `\\x{110000`'],
  ['\\x{}', 'invalid escape sequence: `\\x{}`'],
  ['[\\b]', 'invalid escape sequence: `\\b`'],
  ['[a-\\d]', 'invalid escape sequence: `\\d`'],
  ['(?=a)', 'invalid or unsupported Perl syntax: `(?=`'],
  ['(?!a)', 'invalid or unsupported Perl syntax: `(?!`'],
  ['(?x)', 'invalid or unsupported Perl syntax: `(?x`'],
  ['(?i-)', 'invalid or unsupported Perl syntax: `(?i-)`'],
  ['(?P=a)', 'invalid or unsupported Perl syntax: `(?P`'],
  ['(?<=a)b', 'invalid named capture: `(?<=a)b)$`'],
  ['(?P<a-b>x)', 'invalid named capture: `(?P<a-b>`'],
  ['(?P<>x)', 'invalid named capture: `(?P<>`'],
  ['(?P<é>x)', 'invalid named capture: `(?P<é>`'],
  ['[z-a]', 'invalid character class range: `z-a`'],
  ['[[:foo:]]', 'invalid character class range: `[:foo:]`'],
  ['\\p{Foo}', 'invalid character class range: `\\p{Foo}`'],
  ['\\pX', 'invalid character class range: `\\pX`'],
  ['[abc', 'missing closing ]: `[abc)$`'],
  ['[^]', 'missing closing ]: `[^])$`'],
];

for (const [src, msg] of rejects) {
  test(`re2 rejects ${JSON.stringify(src)}`, (t) => {
    const err = t.throws(() => compileAnchoredRe2(src), { instanceOf: RegexTranslationError });
    t.is(err.message, `error parsing regexp: ${msg}`);
    t.is(err.code, 'OUTPOST_RELABEL_REGEX_INVALID');
  });
}

test('re2 accepts forms Go accepts that JS spells differently or not at all', (t) => {
  for (const src of ['(?)', '(?i)', '()', 'x{1000}', '(?i:a)(?-i:b)', '(?sm-iU:.)', '(?P<n>a)(?P<n>b)', 'a(?i)*']) {
    t.notThrows(() => compileAnchoredRe2(src), src);
  }
});

test('every Unicode script and general category name translates', (t) => {
  for (const name of SCRIPT_NAMES) t.notThrows(() => compileAnchoredRe2(`\\p{${name}}`), name);
  for (const name of [
    'C',
    'Cc',
    'Cn',
    'LC',
    'Lc',
    'L',
    'Lu',
    'Nd',
    'digit',
    'Cased_Letter',
    'private use',
    'ASCII',
    'Assigned',
    'Any',
  ]) {
    t.notThrows(() => compileAnchoredRe2(`\\p{${name}}`), name);
  }
  t.true(compileAnchoredRe2('\\p{Old_Italic}').test('\u{10300}'));
  t.true(compileAnchoredRe2('\\p{ascii}').test('~'));
  t.false(compileAnchoredRe2('\\p{Assigned}').test('\u{0378}'));
});

test('translation keeps flags scoped to their group', (t) => {
  const re = compileAnchoredRe2('(a(?i)b|c)d');
  t.true(re.test('aBd'));
  t.true(re.test('Cd'));
  t.false(re.test('aBD'));
});
