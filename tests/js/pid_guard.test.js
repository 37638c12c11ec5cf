// Tests for the patient-identifiable data guard (spec §3.3), browser side.
//
// Reads the same vectors as tests/test_pid_guard.py, so the browser and the
// server must give the same answers and the same message text.
'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const MODULE_PATH = path.join(__dirname, '..', '..', 'web', 'static', 'js', 'pid-guard.js');
const VECTORS = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'vectors', 'nhs_numbers.json'), 'utf8'),
);
const guard = require(MODULE_PATH);

/** @param {string} number ten digits @returns {string[]} bare, spaced, dashed */
function formats(number) {
  const a = number.slice(0, 3);
  const b = number.slice(3, 6);
  const c = number.slice(6);
  return [number, `${a} ${b} ${c}`, `${a}-${b}-${c}`];
}

/** Valid NHS numbers from the shared vectors. */
const VALID = VECTORS.digits.filter((v) => v.valid).map((v) => v.digits);

/** What may stand between a prefix and the digits (a sample of each kind). */
const PREFIX_SEPARATORS = [
  '',
  ' ',
  '   ',
  ': ',
  ':',
  '#',
  ' - ',
  '.',
  ' no. ',
  ' No:',
  'number ',
  ' NUMBER#',
];

/** @param {string} word @returns {string[]} lower, upper and title case */
function cases(word) {
  return [word, word.toUpperCase(), word.charAt(0).toUpperCase() + word.slice(1)];
}

describe('isValidNhsNumber', () => {
  for (const vector of VECTORS.digits) {
    it(`${JSON.stringify(vector.digits)} -> ${vector.valid} (${vector.note})`, () => {
      assert.equal(guard.isValidNhsNumber(vector.digits), vector.valid);
    });
  }

  it('rejects every repeated digit, although each passes modulus 11', () => {
    for (let d = 0; d <= 9; d++) {
      assert.equal(guard.isValidNhsNumber(String(d).repeat(10)), false);
    }
  });

  it('rejects values that are not strings', () => {
    for (const value of [undefined, null, 9434765919, ['9434765919'], {}]) {
      // @ts-ignore deliberately wrong types, as an untyped caller might pass
      assert.equal(guard.isValidNhsNumber(value), false);
    }
  });
});

describe('findNhsNumber', () => {
  for (const vector of VECTORS.texts) {
    it(`${JSON.stringify(vector.text)} -> ${JSON.stringify(vector.found)} (${vector.note})`, () => {
      const found = guard.findNhsNumber(vector.text);
      assert.equal(found, vector.found);
      assert.equal(found !== null, vector.contains_nhs_number);
    });
  }

  it('finds every valid vector number embedded in text, in every format', () => {
    assert.ok(VALID.length >= 3);
    for (const number of VALID) {
      for (const written of formats(number)) {
        assert.equal(guard.findNhsNumber(`Seen ${written}, then left.`), written);
        assert.equal(guard.findNhsNumber(`abc${written}é`), written);
        assert.equal(guard.findNhsNumber(`x 1${written} x`), null);
        assert.equal(guard.findNhsNumber(`x ${written}1 x`), null);
      }
    }
  });

  it('gives the same answer when called repeatedly (no leftover regex state)', () => {
    for (let i = 0; i < 3; i++) {
      assert.equal(guard.findNhsNumber('a 943 476 5919 b'), '943 476 5919');
      assert.equal(guard.findNhsNumber('9434765918'), null);
      assert.equal(guard.findNhsNumber('1 9434765919'), '9434765919');
    }
  });

  it('returns null for values that are not strings', () => {
    for (const value of [undefined, null, 9434765919, ['9434765919'], {}]) {
      // @ts-ignore deliberately wrong types, as an untyped caller might pass
      assert.equal(guard.findNhsNumber(value), null);
    }
  });
});

describe('normalising', () => {
  it('joins digit groups with the shared separators, and reads the shared digit tables', () => {
    assert.equal(guard.SEPARATORS, VECTORS.separators);
    assert.deepEqual([...guard.DIGIT_ZEROS], VECTORS.digit_zeros);
  });

  it('maps every digit of every shared block to 0-9, and finds a number written in it', () => {
    for (const zero of VECTORS.digit_zeros) {
      let written = '';
      for (const d of '9434765919') written += String.fromCodePoint(zero + Number(d));
      assert.equal(guard.normalise(written).text, '9434765919');
      assert.equal(guard.findNhsNumber(written), written);
    }
  });

  it('finds a number split by any single shared separator', () => {
    for (const sep of VECTORS.separators) {
      const written = `943${sep}476${sep}5919`;
      assert.equal(guard.findNhsNumber(`seen ${written} today`), written);
    }
  });
});

describe('reference prefixes', () => {
  it('are the shared list, lower-case ASCII words, including "ref" and not "nhs"', () => {
    assert.deepEqual([...guard.REFERENCE_PREFIXES], VECTORS.reference_prefixes);
    assert.ok(Object.isFrozen(guard.REFERENCE_PREFIXES));
    assert.ok(guard.REFERENCE_PREFIXES.includes('ref'));
    assert.ok(!guard.REFERENCE_PREFIXES.includes('nhs'));
    for (const prefix of guard.REFERENCE_PREFIXES) {
      assert.match(prefix, /^[a-z]+$/);
    }
  });

  it('exempt a valid number directly after any prefix, any case, any allowed separator', () => {
    for (const prefix of guard.REFERENCE_PREFIXES) {
      for (const cased of cases(prefix)) {
        for (const sep of PREFIX_SEPARATORS) {
          for (const number of VALID) {
            for (const written of formats(number)) {
              for (const before of ['', 'Seen, ', '(', 'x\n', '\u201c', 'é ']) {
                const text = `${before}${cased}${sep}${written} later.`;
                assert.equal(guard.findNhsNumber(text), null, JSON.stringify(text));
              }
            }
          }
        }
      }
    }
  });

  it('never exempt wording that names an NHS number', () => {
    const wordings = ['NHS number ', 'NHS no: ', 'nhs no. ', 'NHS No '];
    for (const prefix of guard.REFERENCE_PREFIXES) {
      wordings.push(`nhs ${prefix} `, `NHS-${prefix}: `, `NHS number: ${prefix} `);
      wordings.push(`Nhs booking  ${prefix} `, `NHS no. job ${prefix}#`);
    }
    for (const wording of wordings) {
      for (const number of VALID) {
        for (const written of formats(number)) {
          for (const text of [`${wording}${written}`, `Seen, ${wording}${written}.`]) {
            assert.equal(guard.findNhsNumber(text), written, JSON.stringify(text));
          }
        }
      }
    }
  });

  it('only count as whole words', () => {
    for (const prefix of guard.REFERENCE_PREFIXES) {
      for (const glued of ['x', 'p', '_', '1', 'é', 'e\u0301', '\u{1D400}', '\u4e2d']) {
        const text = `Seen ${glued}${prefix} 943 476 5919`;
        assert.equal(guard.findNhsNumber(text), '943 476 5919', JSON.stringify(text));
      }
    }
  });

  it('exempt only the number directly after the prefix', () => {
    for (const prefix of guard.REFERENCE_PREFIXES) {
      assert.equal(guard.findNhsNumber(`${prefix} 9434765919 and 401 023 2137`), '401 023 2137');
      assert.equal(guard.findNhsNumber(`${prefix}: 9434765919 9434765870`), '9434765870');
      assert.equal(guard.findNhsNumber(`${prefix} 9434765919, ${prefix} 4010232137`), null);
    }
  });

  it('make the advice in the message true: "ref" in front is never refused', () => {
    assert.match(guard.PID_MESSAGE, /write "ref" in front of it/);
    for (const number of VALID) {
      for (const written of formats(number)) {
        assert.equal(guard.findNhsNumber(`Call back, ref ${written}`), null);
        assert.equal(guard.findNhsNumber(`booking ref ${written}`), null);
      }
    }
  });
});

describe('pidError', () => {
  it('uses the shared message template', () => {
    assert.equal(guard.PID_MESSAGE, VECTORS.message_template);
  });

  for (const label of VECTORS.message_labels) {
    it(`names the field verbatim: ${JSON.stringify(label)}`, () => {
      assert.equal(guard.pidError(label), VECTORS.message_template.split('{label}').join(label));
    });
  }

  it('says "This field" when the label is blank', () => {
    const expected = VECTORS.message_template.split('{label}').join(VECTORS.message_fallback_label);
    for (const label of ['', '   ', '\t']) {
      assert.equal(guard.pidError(label), expected);
    }
  });

  it('does not itself contain a valid NHS number, so following its example works', () => {
    assert.equal(guard.findNhsNumber(guard.PID_MESSAGE), null);
    assert.equal(guard.findNhsNumber(guard.pidError('Description')), null);
    assert.equal(guard.isValidNhsNumber('1234567890'), false);
  });
});

describe('loading', () => {
  it('attaches FrontlinePidGuard to the global object, as for <script src> and importScripts', () => {
    const source = fs.readFileSync(MODULE_PATH, 'utf8');
    // A browser page or classic service worker: no module, no require.
    const context = vm.createContext({});
    vm.runInContext(source, context, { filename: MODULE_PATH });
    const loaded = context.FrontlinePidGuard;
    assert.equal(typeof loaded, 'object');
    assert.deepEqual(Object.keys(loaded).sort(), [
      'DIGIT_ZEROS',
      'PID_MESSAGE',
      'REFERENCE_PREFIXES',
      'SEPARATORS',
      'findNhsNumber',
      'isValidNhsNumber',
      'normalise',
      'pidError',
    ]);
    assert.equal(loaded.findNhsNumber('943-476-5919'), '943-476-5919');
    assert.equal(loaded.findNhsNumber('ref 943-476-5919'), null);
  });

  it('fails closed without Unicode property escapes: non-ASCII is a word character', () => {
    // Older engines throw on new RegExp('\\p{L}', 'u'); simulate that.
    const source = fs.readFileSync(MODULE_PATH, 'utf8');
    const RealRegExp = RegExp;
    /** @param {string} pattern @param {string} [flags] */
    function OldRegExp(pattern, flags) {
      if (flags && flags.includes('u')) {
        throw new SyntaxError('Invalid regular expression: unsupported flag u');
      }
      return new RealRegExp(pattern, flags);
    }
    const context = vm.createContext({ RegExp: OldRegExp });
    vm.runInContext(source, context, { filename: MODULE_PATH });
    const loaded = context.FrontlinePidGuard;
    assert.equal(loaded.findNhsNumber('(ref 943 476 5919)'), null);
    assert.equal(loaded.findNhsNumber('xref 943 476 5919'), '943 476 5919');
    assert.equal(loaded.findNhsNumber('éref 943 476 5919'), '943 476 5919');
    assert.equal(loaded.findNhsNumber('\u201cref 943 476 5919'), '943 476 5919');
  });

  it('uses no regex lookbehind, which older Safari cannot parse at all', () => {
    const source = fs.readFileSync(MODULE_PATH, 'utf8');
    assert.equal(/\(\?<[=!]/.test(source), false);
  });

  it('exports the same functions to node through module.exports', () => {
    assert.equal(typeof guard.isValidNhsNumber, 'function');
    assert.equal(typeof guard.findNhsNumber, 'function');
    assert.equal(typeof guard.pidError, 'function');
  });
});
