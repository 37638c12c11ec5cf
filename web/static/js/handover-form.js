/**
 * The handover form's own behaviour with JavaScript (progressive enhancement; without it every
 * question shows and the server leaves out what does not apply — api/forms.py NOT_FOR_NOTE_TYPE):
 *
 * - "What kind of note is it?": a concern shows what went wrong, the delay and the harm
 *   question; good practice shows what went well. The other part is hidden, and its answers are
 *   not sent (form-payload.js leaves them out).
 * - The LFPSE reminder shows only once moderate harm or worse is chosen.
 *
 * record-forms.js fires "frontline:form-filled" after it puts values into the form (a draft, a
 * fix, a reset), since setting .checked fires no change event.
 */
(function () {
  'use strict';

  var form = document.querySelector('form[data-record-form="handover"]');
  if (!form) return;
  var FORMAL_REPORT_HARMS = ['moderate', 'severe', 'death'];

  function checked(name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : null;
  }

  function sync() {
    var noteType = checked('note_type') || 'concern';
    form.querySelectorAll('[data-note-type-section]').forEach(function (section) {
      section.hidden = section.getAttribute('data-note-type-section') !== noteType;
    });
    var reminder = form.querySelector('[data-harm-reminder]');
    if (reminder) {
      reminder.hidden = !(noteType === 'concern' && FORMAL_REPORT_HARMS.indexOf(checked('harm')) >= 0);
    }
  }

  form.addEventListener('change', sync);
  form.addEventListener('reset', function () {
    setTimeout(sync, 0); // the reset event fires before the values change
  });
  document.addEventListener('frontline:form-filled', sync);
  sync();
})();
