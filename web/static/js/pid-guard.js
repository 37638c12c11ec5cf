/**
 * Patient-identifiable data guard (product spec §3.3), browser side.
 *
 * Free text must not carry patient identifiers. Any free-text field containing
 * an NHS number is refused before submit, offline too, with a message naming
 * the field. The server refuses the same text with a 422
 * (schemas/pid_guard.py). Both sides must give the same answers. They are
 * tested against tests/vectors/nhs_numbers.json.
 *
 * Text is first normalised the way a person reads it (SPEC §3.3), exactly as
 * normalise() in schemas/pid_guard.py does (its module docstring says why):
 * each code point through NFKC (full-width and other digit forms become 0-9, a
 * non-breaking space becomes a space), decimal digits of other scripts mapped
 * to 0-9 by DIGIT_ZEROS, and invisible format characters (Cf: zero-width
 * spaces and joiners, soft hyphen, BOM, word joiner) and combining marks
 * (Mn, Me) removed. Then digit groups (runs of 0-9) separated only by
 * SEPARATORS (any run of spaces, dashes, dots, slashes, underscores) form a
 * chain, and any run of whole groups in a chain holding ten digits is a
 * candidate: every grouping counts (4-3-3, spaced single digits ...). A group
 * is never split, so "129434765919" and 11-digit UK phone numbers in their
 * usual groupings hold no candidate. Clock times (14:05, 9.30), dates
 * (12/03/2026) and "+44 (0)" phone numbers are read as what they are and end
 * a chain. A candidate is refused when it passes modulus 11 and is not one
 * digit repeated ten times. All ten repeated-digit strings pass modulus 11,
 * but they are placeholders, not NHS numbers.
 *
 * About 9% of random 10-digit strings pass modulus 11, so a candidate written
 * directly after a recognised reference prefix (REFERENCE_PREFIXES, e.g.
 * "ref", "booking", "datix") is someone else's reference and is not refused,
 * and the message tells users to write "ref" in front of a reference number.
 * The rule, the same as the server's (its module docstring says why):
 *  - between prefix and digits: spaces, optionally "no" or "number", spaces,
 *    optionally one of : # . -, spaces ("ref: 9434765919", "job no. 943 ...").
 *    Anything else (newline, tab, two punctuation marks) breaks the link
 *    (a non-breaking space is a space after NFKC);
 *  - the prefix is a whole word: the code point before it is not a letter,
 *    mark or number in any script, an unassigned code point, or "_". So
 *    "preference 9434765919" is refused;
 *  - case-insensitive for ASCII letters only (the "i" flag without "u");
 *  - walking back from the prefix over non-word characters and further
 *    prefix words (and "no", "number"), reaching the word "nhs" cancels the
 *    exemption: "nhs ref 9434765919", "NHS booking ref ..." are refused;
 *  - only candidates starting at the first digit group after the prefix are
 *    exempt.
 *
 * Works unchanged from a page <script src>, from a classic service worker via
 * importScripts(), and from node (require). No dependencies. There is no
 * regex lookbehind: older Safari (before 16.4) throws a SyntaxError on it at
 * parse time, which would break the page and the service worker install. The
 * "no digit before" and "prefix is a whole word" tests are done by hand
 * instead. For the same reason the Unicode property regex is built with
 * new RegExp inside try, not written as a literal.
 */
(function (root) {
  'use strict';

  /** Must match PID_MESSAGE in schemas/pid_guard.py exactly. */
  var PID_MESSAGE =
    '{label} looks like it contains an NHS number. Remove patient identifiers. ' +
    'If it is a reference number, write "ref" in front of it, ' +
    'for example "booking ref 123 456 7890".';

  /**
   * Words that mark the number written directly after them as another
   * system's reference, not an NHS number. Lower case ASCII, single words
   * ("booking ref" is "booking" then "ref"; "job no" is "job" then the
   * connector "no"). Must match REFERENCE_PREFIXES in schemas/pid_guard.py
   * exactly. "ref" must stay: the message tells users to write it.
   */
  var REFERENCE_PREFIXES = Object.freeze([
    'booking',
    'reference',
    'ref',
    'job',
    'incident',
    'cad',
    'datix',
    'log',
    'order',
    'invoice',
  ]);

  /** Words allowed between a prefix and the digits ("ref no. ..."). */
  var CONNECTORS = ['no', 'number'];

  /** Words the walk back from a prefix passes over when looking for "nhs". */
  var CHAIN_WORDS = {};
  REFERENCE_PREFIXES.concat(CONNECTORS).forEach(function (word) {
    CHAIN_WORDS[word] = true;
  });

  var FALLBACK_LABEL = 'This field';

  var WEIGHTS = [10, 9, 8, 7, 6, 5, 4, 3, 2];

  var TEN_DIGITS = /^[0-9]{10}$/;

  function longestFirst(words) {
    return words.slice().sort(function (a, b) {
      return b.length - a.length;
    });
  }

  /**
   * A reference prefix and its separator ending exactly where a digit group
   * starts (run over the text before the group; `$` is its end). The leftmost
   * match is the longest prefix. Whether it is a whole word and not NHS
   * wording is checked in isExempt, which has no lookbehind to lean on.
   */
  var PREFIX_TAIL = new RegExp(
    '(?:' + longestFirst(REFERENCE_PREFIXES).join('|') + ') *' +
      '(?:(?:' + longestFirst(CONNECTORS).join('|') + ') *)?' +
      '(?:[:#.\\-] *)?$',
    'gi'
  );

  /** "+44", optionally "(0)", before the national number of a UK phone. */
  var UK_INTERNATIONAL = /\+ ?44[ \-]*(?:\( ?0 ?\)[ \-]*)?(?=[0-9])/g;

  /** A UK national number has at most ten digits after its trunk 0 or +44. */
  var UK_NATIONAL_DIGITS = 10;

  /**
   * Characters that join two digit groups into one chain. Must equal
   * SEPARATORS in schemas/pid_guard.py and `separators` in the vectors.
   */
  var SEPARATORS =
    ' \u0009\u000a\u000b\u000c\u000d\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005' +
    '\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000' +
    '-\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u2e17\u2e1a' +
    '\u2e3a\u2e3b\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d' +
    '.\u00b7\u2022\u2024\u2027\u2219\u22c5\u30fb\u3002\uff0e\uff61\uff65' +
    '/\\\u2044\u2215\u29f5\u29f8\u29f9\uff0f\uff3c' +
    '_\u2017\u203f\u2040\u2054\ufe33\ufe34\ufe4d\ufe4e\ufe4f\uff3f';

  /**
   * The zero of every block of decimal digits NFKC leaves alone. Must equal
   * DIGIT_ZEROS in schemas/pid_guard.py and `digit_zeros` in the vectors.
   */
  var DIGIT_ZEROS = Object.freeze([
    0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6,
    0xd66, 0xde6, 0xe50, 0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0,
    0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0,
    0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136,
    0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950,
    0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50, 0x1e140, 0x1e2f0, 0x1e950,
  ]);

  /**
   * Invisible format characters and combining marks, removed before
   * matching. Built at run time (see UNICODE_WORD_CHAR); without Unicode
   * property escapes the common invisible characters are listed by hand.
   */
  var INVISIBLE = null;
  try {
    INVISIBLE = new RegExp('^[\\p{Cf}\\p{Mn}\\p{Me}]$', 'u');
  } catch (e) {
    INVISIBLE = /^[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufe00-\ufe0f\ufeff\u20dd-\u20e4]$/;
  }

  var ASCII_ONLY = /^[\x00-\x7f]*$/;

  /**
   * Letters, marks and numbers in any script, and unassigned code points
   * (so a browser knowing an older Unicode than the server is stricter, not
   * more lenient). Built at run time: a browser without Unicode property
   * escapes must still parse this file. It falls back to counting every
   * non-ASCII character as a word character, which only ever refuses more.
   */
  var UNICODE_WORD_CHAR = null;
  try {
    UNICODE_WORD_CHAR = new RegExp('^[\\p{L}\\p{M}\\p{N}\\p{Cn}]$', 'u');
  } catch (e) {
    UNICODE_WORD_CHAR = null;
  }

  /**
   * Whether `ch` (one code point, possibly a surrogate pair) can be part of a
   * word. Same answers as _is_word_char in schemas/pid_guard.py.
   *
   * @param {string} ch
   * @returns {boolean}
   */
  function isWordChar(ch) {
    if (ch === '_') {
      return true;
    }
    if (UNICODE_WORD_CHAR !== null) {
      return UNICODE_WORD_CHAR.test(ch);
    }
    return /^[A-Za-z0-9]$/.test(ch) || !ASCII_ONLY.test(ch);
  }

  /**
   * The code point ending just before `end` in `text`: a surrogate pair
   * counts as one character, as it does on the server.
   *
   * @param {string} text
   * @param {number} end
   * @returns {string}
   */
  function codePointBefore(text, end) {
    var low = text.charCodeAt(end - 1);
    if (low >= 0xdc00 && low <= 0xdfff && end >= 2) {
      var high = text.charCodeAt(end - 2);
      if (high >= 0xd800 && high <= 0xdbff) {
        return text.slice(end - 2, end);
      }
    }
    return text.charAt(end - 1);
  }

  /**
   * The last word ending at or before `end` (non-word characters directly
   * before `end` are skipped), and where it starts. Empty when none.
   *
   * @param {string} text
   * @param {number} end
   * @returns {{word: string, start: number}}
   */
  function wordBefore(text, end) {
    var stop = end;
    var ch;
    while (stop > 0 && !isWordChar((ch = codePointBefore(text, stop)))) {
      stop -= ch.length;
    }
    var start = stop;
    while (start > 0 && isWordChar((ch = codePointBefore(text, start)))) {
      start -= ch.length;
    }
    return { word: text.slice(start, stop), start: start };
  }

  /**
   * Whether the word "nhs" comes before the prefix starting at `prefixStart`,
   * passing over non-word characters and further prefix and connector words
   * ("NHS booking ref", "NHS no. ref", "nhs-ref"). Such wording names the
   * number as an NHS number, so it must not be exempted.
   *
   * @param {string} text
   * @param {number} prefixStart
   * @returns {boolean}
   */
  function namesNhsNumber(text, prefixStart) {
    var end = prefixStart;
    for (;;) {
      var found = wordBefore(text, end);
      end = found.start;
      var lowered = ASCII_ONLY.test(found.word) ? found.word.toLowerCase() : '';
      if (lowered === 'nhs') {
        return true;
      }
      if (!Object.prototype.hasOwnProperty.call(CHAIN_WORDS, lowered)) {
        return false;
      }
    }
  }

  /**
   * Whether `digits` (exactly ten ASCII digits, no separators) is a valid NHS
   * number: the modulus 11 check digit matches, and it is not one digit
   * repeated ten times.
   *
   * @param {string} digits
   * @returns {boolean}
   */
  function isValidNhsNumber(digits) {
    if (typeof digits !== 'string' || !TEN_DIGITS.test(digits)) {
      return false;
    }
    var first = digits.charAt(0);
    var repeated = true;
    var total = 0;
    for (var i = 0; i < 10; i++) {
      if (digits.charAt(i) !== first) {
        repeated = false;
      }
      if (i < 9) {
        total += (digits.charCodeAt(i) - 48) * WEIGHTS[i];
      }
    }
    if (repeated) {
      return false;
    }
    var check = 11 - (total % 11);
    if (check === 11) {
      check = 0;
    }
    if (check === 10) {
      return false;
    }
    return check === digits.charCodeAt(9) - 48;
  }

  /**
   * The decimal digit of any script in DIGIT_ZEROS as an ASCII digit, or the
   * character itself.
   *
   * @param {string} ch one code point
   * @returns {string}
   */
  function asciiDigit(ch) {
    var code = ch.codePointAt(0);
    for (var i = 0; i < DIGIT_ZEROS.length; i++) {
      if (code >= DIGIT_ZEROS[i] && code <= DIGIT_ZEROS[i] + 9) {
        return String.fromCharCode(48 + code - DIGIT_ZEROS[i]);
      }
    }
    return ch;
  }

  /**
   * `text` as a person reads it, with where each character came from (start
   * and end index in `text`). Same steps as normalise() on the server.
   *
   * @param {string} text
   * @returns {{text: string, starts: number[], ends: number[]}}
   */
  function normalise(text) {
    var out = [];
    var starts = [];
    var ends = [];
    var index = 0;
    for (var ch of text) {
      var end = index + ch.length;
      var pieces = ch;
      if (ch.charCodeAt(0) >= 0x80) {
        pieces = INVISIBLE.test(ch) ? '' : ch.normalize('NFKC');
      }
      for (var piece of pieces) {
        if (piece.charCodeAt(0) >= 0x80) {
          if (INVISIBLE.test(piece)) {
            continue;
          }
          piece = asciiDigit(piece);
        }
        // A piece is one code point: push one entry per UTF-16 unit, so
        // indexes into the normalised string stay in step.
        for (var k = 0; k < piece.length; k++) {
          out.push(piece.charAt(k));
          starts.push(index);
          ends.push(end);
        }
      }
      index = end;
    }
    return { text: out.join(''), starts: starts, ends: ends };
  }

  /**
   * Whether only separators stand between two digit groups.
   *
   * @param {string} text
   * @param {{start: number, end: number}} left
   * @param {{start: number, end: number}} right
   * @returns {boolean}
   */
  function joined(text, left, right) {
    for (var i = left.end; i < right.start; i++) {
      if (SEPARATORS.indexOf(text.charAt(i)) < 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Indexes of the digit groups a person reads as a date, a clock time or a
   * UK phone number written with +44 (see read_elsewhere on the server).
   *
   * @param {string} text
   * @param {{start: number, end: number}[]} groups
   * @returns {Object<number, boolean>}
   */
  function readElsewhere(text, groups) {
    var skip = {};
    var size = function (g) {
      return g.end - g.start;
    };
    var values = groups.map(function (g) {
      return parseInt(text.slice(g.start, g.end), 10);
    });
    var i;
    for (i = 0; i + 2 < groups.length; i++) {
      var a = groups[i];
      var b = groups[i + 1];
      var c = groups[i + 2];
      var gap = text.slice(a.end, b.start);
      if ((gap !== '/' && gap !== '-' && gap !== '.') || text.slice(b.end, c.start) !== gap) {
        continue;
      }
      var dayFirst =
        size(a) <= 2 && values[i] >= 1 && values[i] <= 31 &&
        size(b) <= 2 && values[i + 1] >= 1 && values[i + 1] <= 12 &&
        (size(c) === 2 || size(c) === 4);
      var yearFirst =
        size(a) === 4 && size(b) <= 2 && values[i + 1] >= 1 && values[i + 1] <= 12 &&
        size(c) <= 2 && values[i + 2] >= 1 && values[i + 2] <= 31;
      if (dayFirst || yearFirst) {
        skip[i] = skip[i + 1] = skip[i + 2] = true;
      }
    }
    for (i = 0; i + 1 < groups.length; i++) {
      var gapT = text.slice(groups[i].end, groups[i + 1].start);
      if (
        (gapT === ':' || gapT === '.') &&
        size(groups[i]) <= 2 && values[i] <= 23 &&
        size(groups[i + 1]) === 2 && values[i + 1] <= 59
      ) {
        skip[i] = skip[i + 1] = true;
      }
    }
    var byStart = {};
    groups.forEach(function (g, n) {
      byStart[g.start] = n;
    });
    UK_INTERNATIONAL.lastIndex = 0;
    var match;
    while ((match = UK_INTERNATIONAL.exec(text)) !== null) {
      var matchEnd = match.index + match[0].length;
      for (i = 0; i < groups.length; i++) {
        if (groups[i].start > match.index && groups[i].start < matchEnd) {
          skip[i] = true;
        }
      }
      var first = Object.prototype.hasOwnProperty.call(byStart, matchEnd)
        ? byStart[matchEnd]
        : groups.length;
      var total = 0;
      for (var j = first; j < groups.length; j++) {
        total += size(groups[j]);
        if (total > UK_NATIONAL_DIGITS) {
          break;
        }
        skip[j] = true;
        if (j + 1 < groups.length && !joined(text, groups[j], groups[j + 1])) {
          break;
        }
      }
    }
    return skip;
  }

  /**
   * Whether a recognised reference prefix stands directly before the digit
   * group starting at `groupStart` (a whole word, not after "nhs").
   *
   * @param {string} text normalised
   * @param {number} groupStart
   * @returns {boolean}
   */
  function isExempt(text, groupStart) {
    var head = text.slice(0, groupStart);
    PREFIX_TAIL.lastIndex = 0;
    var match;
    while ((match = PREFIX_TAIL.exec(head)) !== null) {
      var start = match.index;
      if (start > 0 && isWordChar(codePointBefore(head, start))) {
        // The tail of a longer word ("preference"): look again from the next
        // character, for a shorter prefix.
        PREFIX_TAIL.lastIndex = start + 1;
        continue;
      }
      PREFIX_TAIL.lastIndex = 0;
      return !namesNhsNumber(text, start);
    }
    PREFIX_TAIL.lastIndex = 0;
    return false;
  }

  var DIGIT_RUN = /[0-9]+/g;

  /**
   * The first NHS number in `text`, exactly as written (separators and
   * invisible characters included), or null. Same steps as find_nhs_number
   * in schemas/pid_guard.py: candidates leftmost first, the shortest at one
   * start; those starting right after a recognised reference prefix are
   * skipped. The result is an identifier: do not log it.
   *
   * @param {string} text
   * @returns {string | null}
   */
  function findNhsNumber(text) {
    if (typeof text !== 'string' || text.length < 10) {
      return null;
    }
    var norm = normalise(text);
    var t = norm.text;
    var groups = [];
    var m;
    DIGIT_RUN.lastIndex = 0;
    while ((m = DIGIT_RUN.exec(t)) !== null) {
      groups.push({ start: m.index, end: m.index + m[0].length });
    }
    var skip = readElsewhere(t, groups);
    for (var first = 0; first < groups.length; first++) {
      if (skip[first] || groups[first].end - groups[first].start > 10) {
        continue;
      }
      var exempt = null;
      var digits = '';
      for (var last = first; last < groups.length; last++) {
        if (skip[last] || (last > first && !joined(t, groups[last - 1], groups[last]))) {
          break;
        }
        digits += t.slice(groups[last].start, groups[last].end);
        if (digits.length < 10) {
          continue;
        }
        if (digits.length === 10 && isValidNhsNumber(digits)) {
          if (exempt === null) {
            exempt = isExempt(t, groups[first].start);
          }
          if (!exempt) {
            return text.slice(norm.starts[groups[first].start], norm.ends[groups[last].end - 1]);
          }
        }
        break;
      }
    }
    return null;
  }

  /**
   * The message refusing a field that contains an NHS number. `fieldLabel` is
   * the label as shown on the form and is used verbatim. A blank label falls
   * back to "This field". The message never repeats the number.
   *
   * @param {string} fieldLabel
   * @returns {string}
   */
  function pidError(fieldLabel) {
    var label = typeof fieldLabel === 'string' ? fieldLabel.trim() : '';
    if (label === '') {
      label = FALLBACK_LABEL;
    }
    // split/join, not String#replace: a label containing "$&" must stay as-is.
    return PID_MESSAGE.split('{label}').join(label);
  }

  var api = {
    isValidNhsNumber: isValidNhsNumber,
    findNhsNumber: findNhsNumber,
    pidError: pidError,
    PID_MESSAGE: PID_MESSAGE,
    REFERENCE_PREFIXES: REFERENCE_PREFIXES,
    SEPARATORS: SEPARATORS,
    DIGIT_ZEROS: DIGIT_ZEROS,
    normalise: normalise,
  };

  if (root) {
    root.FrontlinePidGuard = api;
  }
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = api;
  }
})(
  typeof globalThis !== 'undefined'
    ? globalThis
    : typeof self !== 'undefined'
      ? self
      : typeof window !== 'undefined'
        ? window
        : undefined
);
