/**
 * Patient-identifiable data guard (product spec §3.3), browser side.
 *
 * Free text must not carry patient identifiers. Any free-text field containing
 * an NHS number is refused before submit, offline too, with a message naming
 * the field. The server refuses the same text with a 422
 * (schemas/pid_guard.py). Both sides must give the same answers. They are
 * tested against tests/vectors/nhs_numbers.json.
 *
 * Candidates: ten ASCII digits, run together or grouped 3-3-4. Each gap holds
 * nothing, one space or one dash, chosen independently, so "943 476-5919"
 * counts (being stricter would let identifiers through). The digits must not
 * be part of a longer digit run, so the 11-digit phone number "07700 900123"
 * is not a candidate. Letters do not end a run, so "ref9434765919" counts. A
 * candidate is refused when it passes modulus 11 and is not one digit
 * repeated ten times. All ten repeated-digit strings pass modulus 11, but
 * they are placeholders, not NHS numbers.
 *
 * About 9% of random 10-digit strings pass modulus 11, so a candidate written
 * directly after a recognised reference prefix (REFERENCE_PREFIXES, e.g.
 * "ref", "booking", "datix") is someone else's reference and is not refused,
 * and the message tells users to write "ref" in front of a reference number.
 * The rule, the same as the server's (its module docstring says why):
 *  - between prefix and digits: spaces, optionally "no" or "number", spaces,
 *    optionally one of : # . -, spaces ("ref: 9434765919", "job no. 943 ...").
 *    Anything else (newline, non-breaking space, two punctuation marks)
 *    breaks the link;
 *  - the prefix is a whole word: the code point before it is not a letter,
 *    mark or number in any script, an unassigned code point, or "_". So
 *    "preference 9434765919" is refused;
 *  - case-insensitive for ASCII letters only (the "i" flag without "u");
 *  - walking back from the prefix over non-word characters and further
 *    prefix words (and "no", "number"), reaching the word "nhs" cancels the
 *    exemption: "nhs ref 9434765919", "NHS booking ref ..." are refused;
 *  - only the candidate directly after the prefix is exempt.
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
   * Group 2: 3-3-4 digits, each gap empty or one space or dash, no digit
   * after. Only one candidate is possible at any start position. Group 1:
   * an optional reference prefix and its separator; scanning for it in the
   * same pass finds the leftmost, so longest, prefix. What needs lookbehind
   * (no digit before a bare candidate, no word character before a prefix) is
   * checked in findNhsNumber, which restarts the scan one character later
   * when it fails.
   */
  var CANDIDATE = new RegExp(
    '(' +
      '(?:' + longestFirst(REFERENCE_PREFIXES).join('|') + ') *' +
      '(?:(?:' + longestFirst(CONNECTORS).join('|') + ') *)?' +
      '(?:[:#.\\-] *)?' +
      ')?' +
      '([0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4})(?![0-9])',
    'gi'
  );

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

  var SEPARATORS = /[ -]/g;

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
   * The first NHS number in `text`, exactly as written (separators
   * included), or null. A candidate directly after a recognised reference
   * prefix is skipped, unless the prefix is glued to another word or follows
   * "nhs". Runs the same loop as find_nhs_number in schemas/pid_guard.py.
   * The result is an identifier: do not log it.
   *
   * @param {string} text
   * @returns {string | null}
   */
  function findNhsNumber(text) {
    if (typeof text !== 'string' || text.length < 10) {
      return null;
    }
    CANDIDATE.lastIndex = 0;
    var match;
    while ((match = CANDIDATE.exec(text)) !== null) {
      var start = match.index;
      if (match[1] !== undefined) {
        if (start > 0 && isWordChar(codePointBefore(text, start))) {
          // The prefix is the tail of a longer word ("preference"): try again
          // from the next character, for a shorter prefix or the bare number.
          CANDIDATE.lastIndex = start + 1;
          continue;
        }
        if (!namesNhsNumber(text, start)) {
          continue; // A labelled reference number, not an NHS number.
        }
      } else {
        var before = start > 0 ? text.charCodeAt(start - 1) : 0;
        if (before >= 48 && before <= 57) {
          // Inside a longer digit run: try again from the next character.
          CANDIDATE.lastIndex = start + 1;
          continue;
        }
      }
      var candidate = match[2];
      if (isValidNhsNumber(candidate.replace(SEPARATORS, ''))) {
        CANDIDATE.lastIndex = 0;
        return candidate;
      }
    }
    CANDIDATE.lastIndex = 0;
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
