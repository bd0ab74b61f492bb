/**
 * Version ranges as advisories write them (host/advisories/versions.ts): vers ranges by the vers
 * algorithm, the free-text shapes of CISA's advisories, and everything else refused with a reason —
 * never matched by guessing.
 */
import { describe, expect, it } from 'vitest';
import { compareVersions, inRange, parseRange, type VersionRange } from '../../host/advisories/versions.js';

const range = (text: string): VersionRange => {
  const r = parseRange(text);
  if (!r.ok) throw new Error(`"${text}" not understood: ${r.reason}`);
  return r.range;
};
const check = (text: string, yes: readonly string[], no: readonly string[]) => {
  const r = range(text);
  for (const v of yes) expect(inRange(v, r), `${v} in ${text}`).toBe(true);
  for (const v of no) expect(inRange(v, r), `${v} not in ${text}`).toBe(false);
};

describe('versions', () => {
  it('compare segment by segment: numbers as numbers, a missing segment as 0, a leading v dropped', () => {
    expect(compareVersions('9.33.1', '9.4')).toBeGreaterThan(0);
    expect(compareVersions('1.2', '1.2.0')).toBe(0);
    expect(compareVersions('v8.1', '8.1')).toBe(0);
    expect(compareVersions('C.00.04', 'C.00.10')).toBeLessThan(0);
    expect(compareVersions('012U000040', '012U000061')).toBeLessThan(0);
    expect(compareVersions('R8.0.3', 'R8.0.2')).toBeGreaterThan(0);
  });
});

describe('vers ranges', () => {
  it('reads the vers examples: bounds as intervals, equals and not-equals first, * for every version', () => {
    check('vers:generic/>=1.0.0|<2.0.0', ['1.0.0', '1.9.9'], ['0.9', '2.0.0']);
    check('vers:npm/1.2.3|>=2.0.0|<5.0.0', ['1.2.3', '2.0.0', '4.9'], ['1.2.4', '5.0.0', '1.9']);
    check('vers:pypi/0.0.0|0.0.1|0.0.2|0.0.3|1.0|2.0pre1', ['0.0.2', '1.0'], ['3.0']);
    check('vers:generic/<=9.33.1', ['9.33.1', '1.0'], ['9.33.2', '12.1.3']);
    check('vers:generic/!=2.0', ['1.0', '3.0'], ['2.0']);
    check('vers:all/*', ['1', 'anything'], []);
    check('vers:generic/>=2.0|<3.0|>=4.0|<5.0', ['2.5', '4.5'], ['3.5', '5.5', '1.0']);
  });

  it('refuses a vers range it cannot read, with the reason', () => {
    for (const bad of ['vers:generic/', 'vers:generic/>=', 'vers:generic/>= some text', 'vers:/>1']) expect(parseRange(bad).ok, bad).toBe(false);
  });
});

describe('free-text ranges as CISA writes them', () => {
  it('reads comparators, pairs, "and below", "prior to", N.x and lists of versions', () => {
    check('<= 9.33.1', ['9.33.1', '9.19.2'], ['9.34', '12.1.3']);
    check('<=12.1.3', ['12.1.3', '9.33.1'], ['12.1.4']);
    check('>= 1.1 | <= 1.3.2', ['1.1', '1.3.2', '1.2'], ['1.0', '1.3.3']);
    check('2.3.6 and  below', ['2.3.6', '2.0'], ['2.3.7']);
    check('versions prior to 9.33.1', ['9.33.0'], ['9.33.1']);
    check('4.X | 5.X', ['4.0', '4.9.1', '5.2'], ['3.9', '6.0', '45.0']);
    check('1.10 | 1.11 | 1.13 | 1.14', ['1.11', '1.14.0'], ['1.12', '1.1']);
    check('< 3.x', ['2.9'], ['3.0', '3.5']);
    check('All versions', ['0.1'], []);
    check('< 012U000040', ['012U000039'], ['012U000040']);
  });

  it('reports every other text as not understood (never a guess): dates, prose, build notes, part numbers', () => {
    for (const text of ['< august 28', 'distributed < april 1, 2018', '<8/30/2024', '<May 2018', 'Rev J-M', '1.3.1 Build 13', '<= 1.54 (integrated into GE MobileLink)', 'A10 < A11', '<= K', '2nd Edition', '', 'v6.x (with Wireless Battery Modules v9 | v11)', '<= 3.x']) {
      const r = parseRange(text);
      expect(r.ok, JSON.stringify(text)).toBe(false);
      if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
    }
  });

  it('a device version that is not a version is "cannot tell", not "not affected"', () => {
    expect(inRange('unknown build', range('<= 9.33.1'))).toBeUndefined();
    expect(inRange('', range('4.X'))).toBeUndefined();
  });
});
