/**
 * NHS.UK frontend markup built in the page, for what only the phone knows: the offline error
 * summary and field errors (the same markup and classes as the server's macros), tags and cards
 * for the outbox. Text always goes in with textContent, never as HTML.
 *
 * New markup that holds NHS.UK components is announced with a "frontline:content" event;
 * nhsuk-init.js initialises the components inside it (the error summary then focuses itself and
 * moves focus to a field when its link is used).
 */
(function (root) {
  'use strict';

  /**
   * @param {string} tag
   * @param {Object<string, (string | boolean | null | undefined)>} [attributes] class, id, data-*
   * @param {Array<Node | string | null | undefined> | Node | string} [children]
   * @returns {HTMLElement}
   */
  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value === null || value === undefined || value === false) return;
      node.setAttribute(name, value === true ? '' : String(value));
    });
    [].concat(children === undefined ? [] : children).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }

  /** @param {Element} node */
  function announce(node) {
    node.dispatchEvent(new CustomEvent('frontline:content', { bubbles: true }));
  }

  /**
   * The NHS error summary (nhsuk error-summary macro markup).
   *
   * @param {Array<{field: string, message: string}>} errors
   * @param {(field: string) => string} hrefFor
   * @returns {HTMLElement}
   */
  function errorSummary(errors, hrefFor) {
    var list = el(
      'ul',
      { class: 'nhsuk-list nhsuk-error-summary__list' },
      errors.map(function (error) {
        return el('li', {}, el('a', { href: hrefFor(error.field) }, error.message));
      })
    );
    return el(
      'div',
      { class: 'nhsuk-error-summary', 'data-module': 'nhsuk-error-summary', 'data-client-errors': true, tabindex: '-1' },
      el('div', { role: 'alert' }, [
        el('h2', { class: 'nhsuk-error-summary__heading' }, 'There is a problem'),
        el('div', { class: 'nhsuk-error-summary__body' }, list),
      ])
    );
  }

  /** @param {Element} node @param {string} token @param {boolean} add */
  function describedBy(node, token, add) {
    var tokens = (node.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    tokens = tokens.filter(function (t) {
      return t !== token;
    });
    if (add) tokens.push(token);
    if (tokens.length) node.setAttribute('aria-describedby', tokens.join(' '));
    else node.removeAttribute('aria-describedby');
  }

  var ERROR_CLASSES = ['nhsuk-input--error', 'nhsuk-textarea--error', 'nhsuk-select--error'];

  /**
   * Removes every error shown in the form and the summary above it, the server's or ours.
   *
   * @param {HTMLFormElement} form
   * @param {ParentNode} scope where the summary lives
   */
  function clearErrors(form, scope) {
    (scope || document).querySelectorAll('.nhsuk-error-summary').forEach(function (node) {
      node.remove();
    });
    form.querySelectorAll('.nhsuk-error-message').forEach(function (node) {
      var id = node.id;
      node.remove();
      if (id) {
        form.querySelectorAll('[aria-describedby]').forEach(function (described) {
          describedBy(described, id, false);
        });
      }
    });
    form.querySelectorAll('.nhsuk-form-group--error').forEach(function (node) {
      node.classList.remove('nhsuk-form-group--error');
    });
    ERROR_CLASSES.forEach(function (name) {
      form.querySelectorAll('.' + name).forEach(function (node) {
        node.classList.remove(name);
      });
    });
    document.title = document.title.replace(/^Error: /, '');
  }

  /**
   * Shows one field's error where the server's macros put it: in the field's form group, after
   * the label/legend and hint, before the control.
   *
   * @param {HTMLFormElement} form
   * @param {string} name the field's name (and its first control's id)
   * @param {string} message
   * @returns {boolean} whether the field was found
   */
  function showFieldError(form, name, message) {
    var control = form.querySelector('[name="' + name.replace(/"/g, '') + '"]');
    if (!control) return false;
    var group = control.closest('.nhsuk-form-group');
    if (!group) return false;
    group.classList.add('nhsuk-form-group--error');
    var errorId = name + '-error';
    var error = el('span', { class: 'nhsuk-error-message', id: errorId }, [
      el('span', { class: 'nhsuk-u-visually-hidden' }, 'Error: '),
      message,
    ]);
    var fieldset = group.querySelector('fieldset');
    if (fieldset && (control.type === 'checkbox' || control.type === 'radio')) {
      var options = fieldset.querySelector('.nhsuk-checkboxes, .nhsuk-radios');
      fieldset.insertBefore(error, options);
      describedBy(fieldset, errorId, true);
      return true;
    }
    var anchor = control.closest('.nhsuk-input-wrapper') || control;
    anchor.parentNode.insertBefore(error, anchor);
    describedBy(control, errorId, true);
    ERROR_CLASSES.forEach(function (name) {
      var base = name.replace('--error', '');
      if (control.classList.contains(base)) control.classList.add(name);
    });
    return true;
  }

  /**
   * Shows errors on a form as the server would: the summary before the page heading, each field's
   * message at the field, "Error: " in the title; then focuses the summary.
   *
   * @param {HTMLFormElement} form
   * @param {Array<{field: string, message: string}>} errors
   * @returns {HTMLElement} the summary
   */
  function showErrors(form, errors) {
    var column = form.closest('.nhsuk-grid-column-two-thirds') || form.parentNode;
    clearErrors(form, column);
    var shown = errors.map(function (error) {
      var found = showFieldError(form, error.field, error.message);
      return { field: found ? error.field : '', message: error.message };
    });
    var summary = errorSummary(shown, function (field) {
      return field ? '#' + field : '#' + (form.id || 'maincontent');
    });
    var heading = column.querySelector('h1');
    column.insertBefore(summary, heading && heading.parentNode === column ? heading : column.firstChild);
    if (!/^Error: /.test(document.title)) document.title = 'Error: ' + document.title;
    announce(summary);
    if (document.activeElement !== summary) summary.focus();
    return summary;
  }

  /**
   * An NHS tag.
   *
   * @param {string} text
   * @param {string} colour e.g. "blue", "orange", "red"
   */
  function tag(text, colour) {
    return el('strong', { class: 'nhsuk-tag nhsuk-tag--' + colour }, text);
  }

  /**
   * An NHS summary list.
   *
   * @param {Array<{key: string, value: (Node | string)}>} rows
   * @param {string} [classes]
   */
  function summaryList(rows, classes) {
    return el(
      'dl',
      { class: 'nhsuk-summary-list' + (classes ? ' ' + classes : '') },
      rows.map(function (row) {
        return el('div', { class: 'nhsuk-summary-list__row' }, [
          el('dt', { class: 'nhsuk-summary-list__key' }, row.key),
          el('dd', { class: 'nhsuk-summary-list__value' }, row.value),
        ]);
      })
    );
  }

  /**
   * A button with NHS styles.
   *
   * @param {string} text
   * @param {string} [variant] "secondary", "warning", "reverse" or "" for the primary button
   * @param {Object<string, string>} [attributes]
   */
  function button(text, variant, attributes) {
    var classes = 'nhsuk-button' + (variant ? ' nhsuk-button--' + variant : '') + ' nhsuk-button--small';
    return el('button', Object.assign({ type: 'button', class: classes }, attributes || {}), text);
  }

  /** @type {Intl.DateTimeFormat | null} */
  var formatter = null;

  /**
   * One formatter for every date shown: toLocaleString with options builds a new one per call
   * (about half a millisecond each), which made redrawing a 1,000-item outbox take most of a
   * second (issue 16).
   */
  function timeFormat() {
    if (!formatter) {
      formatter = new Intl.DateTimeFormat('en-GB', {
        day: 'numeric',
        month: 'short',
        year: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
      });
    }
    return formatter;
  }

  /**
   * A date and time for people in the trust: "24 Nov 2026 14:30", in a <time> element.
   *
   * @param {string | number} when ISO text or epoch milliseconds
   */
  function time(when) {
    var date = new Date(when);
    var text = isNaN(date.getTime()) ? String(when) : timeFormat().format(date).replace(',', '');
    return el('time', { datetime: isNaN(date.getTime()) ? null : date.toISOString() }, text);
  }

  root.FrontlineComponents = {
    el: el,
    announce: announce,
    errorSummary: errorSummary,
    clearErrors: clearErrors,
    showFieldError: showFieldError,
    showErrors: showErrors,
    tag: tag,
    summaryList: summaryList,
    button: button,
    time: time,
  };
})(window);
