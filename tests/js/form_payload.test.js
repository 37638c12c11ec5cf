// From a record form to the item's JSON, as the server reads a form post (api/forms.py), and the
// checks the phone makes offline before queueing (SPEC §3, §3.3).
'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');

const P = require('../../web/static/js/form-payload.js');
const guard = require('../../web/static/js/pid-guard.js');

const NOW = Date.parse('2026-07-01T13:00:00Z'); // British Summer Time: 14:00 on the phone
const BST = () => 60;
const GMT = () => 0;

function ideaEntries(overrides = []) {
  return [
    ['csrf_token', 'token'],
    ['id', 'server-rendered-id'],
    ['title', 'Fewer handover delays'],
    ['problem', 'We wait an hour at ED.'],
    ['proposal', 'A handover nurse at peak times.'],
    ['aims', '2'],
    ['aims', '5'],
    ['wastes', 'waiting'],
    ['benefits', ''],
    ['team_id', '1'],
    ['show_name', 'false'],
    ...overrides,
  ];
}

function handoverEntries(overrides = []) {
  return [
    ['csrf_token', 'token'],
    ['id', 'server-rendered-id'],
    ['occurred_at', '2026-07-01T09:15'],
    ['partner_id', '3'],
    ['location_detail', ''],
    ['categories', 'patient_not_ready'],
    ['categories', 'missing_paperwork'],
    ['delay_minutes', ''],
    ['harm', 'none'],
    ['narrative', 'Patient was not ready; discharge letter missing.'],
    ['immediate_action', '  '],
    ['vehicle', 'PTS 12'],
    ...overrides,
  ];
}

describe('building the payload', () => {
  it('reads an idea form as the server does: lists repeat, show_name is a boolean', () => {
    assert.deepEqual(P.buildPayload('idea', ideaEntries(), { nowMs: NOW, offsetMinutes: BST }), {
      title: 'Fewer handover delays',
      problem: 'We wait an hour at ED.',
      proposal: 'A handover nurse at peak times.',
      aims: ['2', '5'],
      wastes: ['waiting'],
      benefits: [],
      team_id: '1',
      show_name: false,
      created_at: '2026-07-01T14:00:00+01:00',
    });
  });

  it('carries the equity prompt and the idea it spreads from, and leaves them out when blank', () => {
    const original = '3b241101-e2bb-4255-8caf-4136c566a962';
    const data = P.buildPayload(
      'idea',
      ideaEntries([['equity_prompt', 'Patients who need an interpreter'], ['spread_from', original]]),
      { nowMs: NOW, offsetMinutes: BST }
    );
    assert.equal(data.equity_prompt, 'Patients who need an interpreter');
    assert.equal(data.spread_from, original);
    const blank = P.buildPayload('idea', ideaEntries([['equity_prompt', '  '], ['spread_from', '']]), { nowMs: NOW, offsetMinutes: BST });
    assert.equal('equity_prompt' in blank, false);
    assert.equal('spread_from' in blank, false);
    // Put back into the form as typed (a draft, or a queued item opened to fix).
    assert.deepEqual(P.dataToValues(data).spread_from, original);
    assert.deepEqual(P.dataToValues(data).equity_prompt, 'Patients who need an interpreter');
  });

  it('checks the equity prompt like the server: at most 2000 characters', () => {
    const check2 = (entries) => P.validate('idea', P.buildPayload('idea', entries, { nowMs: NOW, offsetMinutes: BST }), { nowMs: NOW, pidGuard: guard });
    assert.deepEqual(check2(ideaEntries([['equity_prompt', 'x'.repeat(2000)]])), []);
    assert.deepEqual(check2(ideaEntries([['equity_prompt', 'x'.repeat(2001)]])), [
      { field: 'equity_prompt', message: 'Who could be left out must be 2000 characters or fewer' },
    ]);
  });

  it('leaves out csrf_token, the server-rendered id, and blank optional fields', () => {
    const data = P.buildPayload('handover', handoverEntries(), { nowMs: NOW, offsetMinutes: BST });
    assert.deepEqual(data, {
      occurred_at: '2026-07-01T09:15:00+01:00',
      partner_id: '3',
      categories: ['patient_not_ready', 'missing_paperwork'],
      harm: 'none',
      narrative: 'Patient was not ready; discharge letter missing.',
      vehicle: 'PTS 12',
      created_at: '2026-07-01T14:00:00+01:00',
    });
  });

  it('keeps text as typed, spaces included, and takes the last of repeated single fields', () => {
    const data = P.entriesToData([['title', '  spaced  '], ['team_id', '1'], ['team_id', '2'], ['show_name', 'true']]);
    assert.deepEqual(data, { title: '  spaced  ', team_id: '2', show_name: true });
  });

  it('has no key for a list that was not posted (no box ticked) and an empty list for blank values', () => {
    assert.deepEqual(P.entriesToData([['title', 'x']]), { title: 'x' });
    assert.deepEqual(P.entriesToData([['categories', '']]), { categories: [] });
  });

  it('gives occurred_at the phone\'s offset at that time (GMT in winter, BST in summer)', () => {
    assert.equal(P.localDateTimeToIso('2026-01-15T08:05', GMT), '2026-01-15T08:05:00+00:00');
    assert.equal(P.localDateTimeToIso('2026-07-01T23:30', BST), '2026-07-01T23:30:00+01:00');
    assert.equal(P.localDateTimeToIso('2026-07-01T23:30:15', () => -300), '2026-07-01T23:30:15-05:00');
    assert.equal(P.localDateTimeToIso('2026-07-01T23:30', () => 330), '2026-07-01T23:30:00+05:30');
  });

  it('uses the phone\'s own time zone when none is injected', () => {
    const before = process.env.TZ;
    process.env.TZ = 'Europe/London';
    try {
      assert.equal(P.localDateTimeToIso('2026-01-15T08:05'), '2026-01-15T08:05:00+00:00');
      assert.equal(P.localDateTimeToIso('2026-07-01T08:05'), '2026-07-01T08:05:00+01:00');
      assert.equal(P.isoWithOffset(Date.parse('2026-07-01T07:05:00Z')), '2026-07-01T08:05:00+01:00');
      assert.equal(P.isoToLocalInput('2026-07-01T08:05:00+01:00'), '2026-07-01T08:05');
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
  });

  it('leaves an unreadable time as typed, for the check to refuse', () => {
    assert.equal(P.localDateTimeToIso('yesterday', BST), 'yesterday');
    assert.equal(P.localDateTimeToIso('2026-02-30T10:00', GMT), '2026-02-30T10:00');
  });

  it('puts a payload back into form values (to fix a queued item) without losing anything', () => {
    const data = P.buildPayload('handover', handoverEntries(), { nowMs: NOW, offsetMinutes: BST });
    const values = P.dataToValues(data, { offsetMinutes: BST });
    assert.equal(values.occurred_at, '2026-07-01T09:15');
    assert.deepEqual(values.categories, ['patient_not_ready', 'missing_paperwork']);
    assert.equal(values.created_at, undefined);
    const entries = Object.entries(values).flatMap(([k, v]) => [].concat(v).map((x) => [k, x]));
    assert.deepEqual(P.buildPayload('handover', entries, { nowMs: NOW, offsetMinutes: BST }), data);

    const idea = P.buildPayload('idea', ideaEntries(), { nowMs: NOW, offsetMinutes: BST });
    assert.equal(P.dataToValues(idea).show_name, 'false');
  });
});

describe('the offline checks', () => {
  const check = (kind, entries) =>
    P.validate(kind, P.buildPayload(kind, entries, { nowMs: NOW, offsetMinutes: BST }), { nowMs: NOW, pidGuard: guard });

  it('passes complete forms', () => {
    assert.deepEqual(check('idea', ideaEntries()), []);
    assert.deepEqual(check('handover', handoverEntries()), []);
  });

  it('asks for every required field, in form order, with the server\'s messages', () => {
    assert.deepEqual(check('idea', [['title', ' '], ['show_name', 'true']]), [
      { field: 'title', message: 'Enter a title' },
      { field: 'problem', message: 'Enter what gets in the way today' },
      { field: 'proposal', message: 'Enter what you would change' },
      { field: 'aims', message: 'Select at least one strategic aim' },
      { field: 'team_id', message: 'Select your team' },
    ]);
    assert.deepEqual(check('handover', [['categories', '']]), [
      { field: 'partner_id', message: 'Select the partner organisation' },
      { field: 'occurred_at', message: 'Enter when it happened' },
      { field: 'categories', message: 'Select at least one thing that went wrong' },
      { field: 'narrative', message: 'Describe what happened' },
    ]);
  });

  it('checks lengths in characters as the server counts them', () => {
    const errors = check('idea', ideaEntries([['title', ' ab ']]));
    assert.deepEqual(errors, [{ field: 'title', message: 'Title must be at least 3 characters' }]);
    assert.deepEqual(check('idea', ideaEntries([['title', '😀'.repeat(120)]])), []);
    assert.deepEqual(check('idea', ideaEntries([['title', 'x'.repeat(121)]])), [
      { field: 'title', message: 'Title must be 120 characters or fewer' },
    ]);
    assert.deepEqual(check('handover', handoverEntries([['vehicle', 'V'.repeat(21)]])), [
      { field: 'vehicle', message: 'Vehicle call sign must be 20 characters or fewer' },
    ]);
  });

  it('refuses an NHS number in any free-text field, naming the field', () => {
    const nhs = '943 476 5919';
    assert.deepEqual(check('handover', handoverEntries([['narrative', 'Patient ' + nhs + ' not ready']])), [
      { field: 'narrative', message: guard.pidError('What happened') },
    ]);
    for (const [field, label] of [['location_detail', 'Where exactly'], ['immediate_action', 'What was done at the time'], ['vehicle', 'Vehicle call sign']]) {
      const errors = check('handover', handoverEntries([[field, nhs]]));
      assert.deepEqual(errors, [{ field, message: guard.pidError(label) }], field);
    }
    for (const [field, label] of [['title', 'Title'], ['problem', 'What gets in the way today'], ['proposal', 'What you would change'], ['equity_prompt', 'Who could be left out']]) {
      assert.deepEqual(check('idea', ideaEntries([[field, 'About ' + nhs]])), [{ field, message: guard.pidError(label) }], field);
    }
    assert.deepEqual(check('handover', handoverEntries([['narrative', 'booking ref 943 476 5919']])), []);
    assert.deepEqual(check('handover', handoverEntries([['narrative', 'Call 943 476 5918 (bad check digit)']])), []);
  });

  it('checks the delay is a whole number of minutes within a day', () => {
    assert.deepEqual(check('handover', handoverEntries([['delay_minutes', '45']])), []);
    assert.deepEqual(check('handover', handoverEntries([['delay_minutes', 'an hour']])), [
      { field: 'delay_minutes', message: 'Delay in minutes must be a whole number' },
    ]);
    assert.deepEqual(check('handover', handoverEntries([['delay_minutes', '1441']])), [
      { field: 'delay_minutes', message: 'Delay in minutes must be between 0 and 1440 (24 hours)' },
    ]);
  });

  it('allows up to five minutes in the future (clock drift), not more', () => {
    assert.deepEqual(check('handover', handoverEntries([['occurred_at', '2026-07-01T14:05']])), []);
    assert.deepEqual(check('handover', handoverEntries([['occurred_at', '2026-07-01T14:06']])), [
      { field: 'occurred_at', message: 'When it happened must not be in the future' },
    ]);
    assert.deepEqual(check('handover', handoverEntries([['occurred_at', '1999-12-30T10:00']])), [
      { field: 'occurred_at', message: 'When it happened must be after 1 January 2000' },
    ]);
    assert.deepEqual(check('handover', handoverEntries([['occurred_at', 'last night']])), [
      { field: 'occurred_at', message: 'When it happened must be a date and time, for example 2026-11-24T14:30' },
    ]);
  });

  it('lists the free-text fields the guard covers', () => {
    assert.deepEqual(P.freeTextFields('idea'), ['title', 'problem', 'proposal', 'equity_prompt']);
    assert.deepEqual(P.freeTextFields('handover'), ['narrative', 'vehicle', 'location_detail', 'immediate_action']);
  });
});

describe('a good-practice note from the same form (SPEC §3.2)', () => {
  const build = (entries) => P.buildPayload('handover', entries, { nowMs: NOW, offsetMinutes: BST });
  const check = (entries) => P.validate('handover', build(entries), { nowMs: NOW, pidGuard: guard });
  const goodPractice = (extra = []) => [
    ['csrf_token', 'token'],
    ['id', 'x'],
    ['note_type', 'good_practice'],
    ['partner_id', '3'],
    ['occurred_at', '2026-07-01T09:15'],
    ['categories', 'handover_delay'],
    ['delay_minutes', '20'],
    ['harm', 'moderate'],
    ['good_practice', 'patient_ready'],
    ['good_practice', 'clear_communication'],
    ['narrative', 'Ward had everything ready; thank you.'],
    ['vehicle', 'PTS 12'],
    ...extra,
  ];

  it('sends what went well and leaves out what applies only to a concern (hidden on the page)', () => {
    const data = build(goodPractice());
    assert.deepEqual(data.good_practice, ['patient_ready', 'clear_communication']);
    assert.equal(data.note_type, 'good_practice');
    assert.ok(!('categories' in data) && !('harm' in data) && !('delay_minutes' in data), JSON.stringify(data));
    assert.deepEqual(check(goodPractice()), []);
  });

  it('needs at least one thing that went well, and no category', () => {
    const entries = goodPractice().filter(([name]) => name !== 'good_practice');
    assert.deepEqual(check(entries), [{ field: 'good_practice', message: 'Select at least one thing that went well' }]);
  });

  it('a concern leaves out what went well and still needs what went wrong', () => {
    const concern = goodPractice().map(([n, v]) => (n === 'note_type' ? [n, 'concern'] : [n, v]));
    const data = build(concern);
    assert.ok(!('good_practice' in data));
    assert.deepEqual(data.categories, ['handover_delay']);
    assert.equal(data.harm, 'moderate');
    const none = concern.filter(([name]) => name !== 'categories');
    assert.deepEqual(check(none), [{ field: 'categories', message: 'Select at least one thing that went wrong' }]);
  });

  it('a form without note_type (an older queued item) is a concern', () => {
    assert.deepEqual(check(handoverEntries()), []);
    assert.deepEqual(check(handoverEntries().filter(([n]) => n !== 'categories')), [
      { field: 'categories', message: 'Select at least one thing that went wrong' },
    ]);
  });
});
