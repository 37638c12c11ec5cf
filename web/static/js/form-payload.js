/**
 * From a record form to the JSON the server takes, and the checks that can be made offline.
 *
 * The payload is built exactly as the server reads a form post (api/forms.py form_to_data):
 * csrf_token and id are not data; a list field (aims, wastes, benefits, categories, good_practice) is every
 * non-empty value of its name, present only if the name was posted; show_name is true for "true";
 * any other field is its last value, left out when blank. Two additions for the sync path:
 * occurred_at (a datetime-local value, wall-clock time on the phone) becomes ISO 8601 with the
 * phone's offset, and created_at is the time of submission.
 *
 * The checks mirror the server's (schemas/ideas.py, schemas/handovers.py, schemas/field_errors.py)
 * with the same messages, so an item that passes here is rarely refused later. Reference ids
 * (team, partner, aims) are left to the server.
 *
 * Pure functions; loads in pages and in node.
 */
(function (root) {
  'use strict';

  /**
   * @typedef {{field: string, message: string}} FieldError
   * @typedef {{name: string, type: 'text' | 'list' | 'bool' | 'choice' | 'datetime' | 'int',
   *   required?: boolean, min?: number, max?: number, pid?: boolean}} FieldRule
   */

  /** Field labels, as the server names fields in its messages (FIELD_LABELS). */
  var LABELS = Object.freeze({
    title: 'Title',
    problem: 'What gets in the way today',
    proposal: 'What you would change',
    wastes: 'Wastes',
    aims: 'Strategic aims',
    team_id: 'Team',
    benefits: 'Benefits',
    show_name: 'Show my name',
    equity_prompt: 'Who could be left out',
    spread_from: 'The idea you are trying',
    occurred_at: 'When it happened',
    partner_id: 'Partner organisation',
    location_detail: 'Where exactly',
    journey_type: 'Journey type',
    note_type: 'Type of note',
    categories: 'What went wrong',
    good_practice: 'What went well',
    delay_minutes: 'Delay in minutes',
    harm: 'Harm',
    narrative: 'What happened',
    immediate_action: 'What was done at the time',
    vehicle: 'Vehicle call sign',
  });

  /** What to say when a required field is empty (REQUIRED_MESSAGES on the server). */
  var REQUIRED = Object.freeze({
    title: 'Enter a title',
    problem: 'Enter what gets in the way today',
    proposal: 'Enter what you would change',
    aims: 'Select at least one strategic aim',
    team_id: 'Select your team',
    occurred_at: 'Enter when it happened',
    partner_id: 'Select the partner organisation',
    categories: 'Select at least one thing that went wrong',
    good_practice: 'Select at least one thing that went well',
    narrative: 'Describe what happened',
  });

  /** Each kind's fields in the order the form shows them. @type {Object<string, FieldRule[]>} */
  var FIELDS = Object.freeze({
    idea: [
      { name: 'title', type: 'text', required: true, min: 3, max: 120, pid: true },
      { name: 'problem', type: 'text', required: true, max: 4000, pid: true },
      { name: 'proposal', type: 'text', required: true, max: 4000, pid: true },
      { name: 'equity_prompt', type: 'text', max: 2000, pid: true },
      { name: 'aims', type: 'list', required: true },
      { name: 'wastes', type: 'list' },
      { name: 'benefits', type: 'list' },
      { name: 'team_id', type: 'choice', required: true },
      { name: 'show_name', type: 'bool' },
      { name: 'spread_from', type: 'choice' },
    ],
    handover: [
      { name: 'note_type', type: 'choice' },
      { name: 'partner_id', type: 'choice', required: true },
      { name: 'occurred_at', type: 'datetime', required: true },
      // Required for its own note type only (requiredFor): a concern names what went wrong, a
      // good-practice note what went well (SPEC §3.2).
      { name: 'categories', type: 'list', requiredFor: 'concern' },
      { name: 'delay_minutes', type: 'int', min: 0, max: 1440 },
      { name: 'harm', type: 'choice' },
      { name: 'good_practice', type: 'list', requiredFor: 'good_practice' },
      { name: 'narrative', type: 'text', required: true, max: 4000, pid: true },
      { name: 'vehicle', type: 'text', max: 20, pid: true },
      { name: 'location_detail', type: 'text', max: 200, pid: true },
      { name: 'journey_type', type: 'choice' },
      { name: 'immediate_action', type: 'text', max: 2000, pid: true },
    ],
  });

  var LIST_FIELDS = ['wastes', 'aims', 'benefits', 'categories', 'good_practice'];
  /**
   * What does not apply to a note type is not data: the form keeps both parts on the page (hidden
   * with JavaScript), and a radio once ticked cannot be unticked. Twin of api/forms.py.
   */
  var NOT_FOR_NOTE_TYPE = Object.freeze({
    concern: ['good_practice'],
    good_practice: ['categories', 'harm', 'delay_minutes'],
  });
  var BOOL_FIELDS = ['show_name'];
  var NOT_DATA = ['csrf_token', 'id'];
  /** SPEC §3.2: occurred_at may be at most 5 minutes ahead (clock drift). */
  var FUTURE_TOLERANCE_MS = 5 * 60 * 1000;
  var EARLIEST_OCCURRED_MS = Date.UTC(2000, 0, 1) - 14 * 60 * 60 * 1000;

  /** @param {string} text @returns {number} length in code points, as Python counts */
  function codePoints(text) {
    return Array.from(text).length;
  }

  /** @param {number} n @param {number} [width] */
  function pad(n, width) {
    var s = String(Math.abs(n));
    while (s.length < (width || 2)) s = '0' + s;
    return s;
  }

  /**
   * @param {number} instantMs
   * @param {number} offsetMinutes east of UTC
   * @param {boolean} [withSeconds] default true
   */
  function formatWithOffset(instantMs, offsetMinutes, withSeconds) {
    var wall = new Date(instantMs + offsetMinutes * 60000);
    var text =
      pad(wall.getUTCFullYear(), 4) + '-' + pad(wall.getUTCMonth() + 1) + '-' + pad(wall.getUTCDate()) +
      'T' + pad(wall.getUTCHours()) + ':' + pad(wall.getUTCMinutes());
    if (withSeconds === false) return text;
    var sign = offsetMinutes < 0 ? '-' : '+';
    var abs = Math.abs(offsetMinutes);
    return text + ':' + pad(wall.getUTCSeconds()) + sign + pad(Math.floor(abs / 60)) + ':' + pad(abs % 60);
  }

  /**
   * The phone's offset from UTC at an instant, in minutes east (+60 in British Summer Time).
   *
   * @param {Date} date
   */
  function phoneOffset(date) {
    return -date.getTimezoneOffset();
  }

  /**
   * An instant as ISO 8601 with the phone's offset, e.g. 2026-07-01T14:30:05+01:00.
   *
   * @param {number} instantMs
   * @param {(date: Date) => number} [offsetMinutes]
   */
  function isoWithOffset(instantMs, offsetMinutes) {
    return formatWithOffset(instantMs, (offsetMinutes || phoneOffset)(new Date(instantMs)));
  }

  var LOCAL_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/;

  /**
   * A datetime-local value (wall-clock time on the phone) as ISO 8601 with the phone's offset at
   * that time. Anything unreadable is returned as typed, for the server to refuse with its message.
   *
   * @param {string} value e.g. "2026-11-24T14:30"
   * @param {(date: Date) => number} [offsetMinutes] injected in tests; default the phone's zone
   */
  function localDateTimeToIso(value, offsetMinutes) {
    var m = LOCAL_DATETIME.exec(String(value).trim());
    if (!m) return value;
    var parts = m.slice(1, 7).map(function (p) {
      return p === undefined ? 0 : parseInt(p, 10);
    });
    if (!offsetMinutes) {
      var local = new Date(parts[0], parts[1] - 1, parts[2], parts[3], parts[4], parts[5]);
      if (isNaN(local.getTime()) || local.getMonth() !== parts[1] - 1) return value;
      return formatWithOffset(local.getTime(), phoneOffset(local));
    }
    var naive = Date.UTC(parts[0], parts[1] - 1, parts[2], parts[3], parts[4], parts[5]);
    if (isNaN(naive) || new Date(naive).getUTCMonth() !== parts[1] - 1) return value;
    var offset = offsetMinutes(new Date(naive));
    return formatWithOffset(naive - offset * 60000, offset);
  }

  /**
   * An ISO time as a datetime-local value on the phone (to put a queued item back into the form).
   *
   * @param {string} iso
   * @param {(date: Date) => number} [offsetMinutes]
   */
  function isoToLocalInput(iso, offsetMinutes) {
    var ms = Date.parse(iso);
    if (isNaN(ms)) return String(iso || '');
    return formatWithOffset(ms, (offsetMinutes || phoneOffset)(new Date(ms)), false);
  }

  /**
   * A form post as the server reads it (api/forms.py form_to_data).
   *
   * @param {Array<[string, *]>} entries e.g. Array.from(new FormData(form))
   * @returns {Object<string, *>}
   */
  function entriesToData(entries) {
    /** @type {Object<string, string[]>} */
    var values = {};
    var order = [];
    entries.forEach(function (entry) {
      var key = entry[0];
      if (typeof entry[1] !== 'string') return;
      if (!Object.prototype.hasOwnProperty.call(values, key)) {
        values[key] = [];
        order.push(key);
      }
      values[key].push(entry[1]);
    });
    /** @type {Object<string, *>} */
    var data = {};
    order.forEach(function (key) {
      if (NOT_DATA.indexOf(key) >= 0) return;
      var list = values[key];
      if (LIST_FIELDS.indexOf(key) >= 0) {
        data[key] = list.filter(function (v) {
          return v !== '';
        });
      } else if (list.length && list[list.length - 1].trim() !== '') {
        var last = list[list.length - 1];
        data[key] = BOOL_FIELDS.indexOf(key) >= 0 ? last === 'true' : last;
      }
    });
    (NOT_FOR_NOTE_TYPE[String(data.note_type)] || []).forEach(function (key) {
      delete data[key];
    });
    return data;
  }

  /**
   * The item's data: the form as the server reads it, occurred_at with the phone's offset, and
   * created_at.
   *
   * @param {'idea' | 'handover'} kind
   * @param {Array<[string, *]>} entries
   * @param {{nowMs: number, offsetMinutes?: (date: Date) => number}} options
   * @returns {Object<string, *>}
   */
  function buildPayload(kind, entries, options) {
    var data = entriesToData(entries);
    if (kind === 'handover' && typeof data.occurred_at === 'string') {
      data.occurred_at = localDateTimeToIso(data.occurred_at, options.offsetMinutes);
    }
    data.created_at = isoWithOffset(options.nowMs, options.offsetMinutes);
    return data;
  }

  /**
   * The form values that show `data` again (a draft restored, or a queued item opened to fix).
   *
   * @param {Object<string, *>} data
   * @param {{offsetMinutes?: (date: Date) => number}} [options]
   * @returns {Object<string, (string | string[])>}
   */
  function dataToValues(data, options) {
    /** @type {Object<string, (string | string[])>} */
    var values = {};
    Object.keys(data || {}).forEach(function (key) {
      if (key === 'created_at') return;
      var value = data[key];
      if (Array.isArray(value)) {
        values[key] = value.map(String);
      } else if (typeof value === 'boolean') {
        values[key] = value ? 'true' : 'false';
      } else if (key === 'occurred_at') {
        values[key] = isoToLocalInput(String(value), options && options.offsetMinutes);
      } else if (value !== null && value !== undefined) {
        values[key] = String(value);
      }
    });
    return values;
  }

  /**
   * What the server would refuse that can be seen offline: required fields, lengths, numbers,
   * times, and NHS numbers in free text (SPEC §3.3). One message per field, in form order.
   *
   * @param {'idea' | 'handover'} kind
   * @param {Object<string, *>} data a payload from buildPayload
   * @param {{nowMs: number, pidGuard: {findNhsNumber: (t: string) => (string | null),
   *   pidError: (label: string) => string}}} options
   * @returns {FieldError[]}
   */
  function validate(kind, data, options) {
    /** @type {FieldError[]} */
    var errors = [];
    var noteType = data.note_type === undefined ? 'concern' : String(data.note_type);
    (FIELDS[kind] || []).forEach(function (rule) {
      if (rule.requiredFor) rule = Object.assign({}, rule, { required: rule.requiredFor === noteType });
      var message = checkField(rule, data[rule.name], options);
      if (message) errors.push({ field: rule.name, message: message });
    });
    return errors;
  }

  /**
   * @param {FieldRule} rule
   * @param {*} value
   * @param {{nowMs: number, pidGuard: *}} options
   * @returns {string | null}
   */
  function checkField(rule, value, options) {
    var label = LABELS[rule.name] || rule.name;
    var missing =
      value === undefined ||
      value === null ||
      (typeof value === 'string' && value.trim() === '') ||
      (Array.isArray(value) && value.length === 0);
    if (missing) return rule.required ? REQUIRED[rule.name] || 'Enter ' + label.toLowerCase() : null;

    if (rule.type === 'text') {
      var text = String(value);
      if (rule.max && codePoints(text) > rule.max) return label + ' must be ' + rule.max + ' characters or fewer';
      if (rule.min && codePoints(text.trim()) < rule.min) return label + ' must be at least ' + rule.min + ' characters';
      if (rule.pid && options.pidGuard.findNhsNumber(text)) return options.pidGuard.pidError(label);
    }
    if (rule.type === 'int') {
      var raw = String(value).trim();
      if (!/^[+-]?\d+$/.test(raw)) return label + ' must be a whole number';
      var n = parseInt(raw, 10);
      if (n < rule.min || n > rule.max) return 'Delay in minutes must be between 0 and 1440 (24 hours)';
    }
    if (rule.type === 'datetime') {
      var at = Date.parse(String(value));
      if (isNaN(at) || !/[+-]\d{2}:\d{2}$|Z$/.test(String(value))) {
        return label + ' must be a date and time, for example 2026-11-24T14:30';
      }
      if (at > options.nowMs + FUTURE_TOLERANCE_MS) return label + ' must not be in the future';
      if (at < EARLIEST_OCCURRED_MS) return label + ' must be after 1 January 2000';
    }
    return null;
  }

  /** The free-text fields of a kind (checked for NHS numbers). */
  function freeTextFields(kind) {
    return (FIELDS[kind] || [])
      .filter(function (rule) {
        return rule.pid;
      })
      .map(function (rule) {
        return rule.name;
      });
  }

  var api = {
    LABELS: LABELS,
    FIELDS: FIELDS,
    NOT_FOR_NOTE_TYPE: NOT_FOR_NOTE_TYPE,
    FUTURE_TOLERANCE_MS: FUTURE_TOLERANCE_MS,
    entriesToData: entriesToData,
    buildPayload: buildPayload,
    dataToValues: dataToValues,
    validate: validate,
    freeTextFields: freeTextFields,
    isoWithOffset: isoWithOffset,
    localDateTimeToIso: localDateTimeToIso,
    isoToLocalInput: isoToLocalInput,
  };

  if (root) {
    root.FrontlineFormPayload = api;
  }
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = api;
  }
})(typeof globalThis !== 'undefined' ? globalThis : typeof self !== 'undefined' ? self : undefined);
