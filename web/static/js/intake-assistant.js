/*
 * intake-assistant.js: the intake assistant on the intake form.
 *
 * As the clerk types the description (debounced) or presses 建议, the description is posted to
 * assistant.suggest and the answer shown: three categories with their scores, the flags that
 * call for a person's review, and the amounts, dates and organisations found. Nothing changes
 * on the form until the clerk presses a 采用 button. Texts come from data-t-* attributes
 * (translated by the server); the answer is written with textContent only.
 */
(function () {
  'use strict';

  var box = document.getElementById('assistant');
  var form = document.getElementById('intake-form');
  if (!box || !form) { return; }
  var result = document.getElementById('assistant-result');
  var shown = document.getElementById('assistant-shown');
  var text = form.querySelector('[name="description"]');
  var token = document.querySelector('meta[name="csrf-token"]');
  var timer = null;
  var asked = '';

  function t(name) { return box.getAttribute('data-t-' + name) || ''; }

  function el(tag, cls, content) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (content !== undefined) { node.textContent = content; }
    return node;
  }

  function setField(name, value) {
    var field = form.querySelector('[name="' + name + '"]');
    if (!field) { return; }
    if (field.type === 'checkbox') { field.checked = !!value; } else { field.value = value; }
    field.dispatchEvent(new Event('change', { bubbles: true }));
  }

  function useButton(label, apply, testid) {
    var button = el('button', 'btn btn-sm btn-outline-success py-0 ms-1', label);
    button.type = 'button';
    if (testid) { button.setAttribute('data-testid', testid); }
    button.addEventListener('click', function () {
      apply();
      button.textContent = t('applied');
      button.disabled = true;
    });
    return button;
  }

  function render(answer) {
    result.textContent = '';
    var cats = el('div', 'd-flex flex-wrap align-items-center gap-2 mb-1');
    cats.setAttribute('data-testid', 'assistant-categories');
    answer.categories.slice(0, 3).forEach(function (c, i) {
      var item = el('span', 'border rounded px-2 py-1' + (i === 0 ? ' border-primary' : ''));
      item.setAttribute('data-code', c.code);
      if (i === 0) { item.appendChild(el('strong', '', t('best') + '：')); }
      item.appendChild(el('span', '', c.label + ' ' + Math.round(c.score * 100) + '%'));
      item.appendChild(useButton(t('use'), function () { setField('category', c.code); },
                                 i === 0 ? 'assistant-use-best' : null));
      cats.appendChild(item);
    });
    result.appendChild(cats);
    if (answer.flags.length) {
      var flags = el('div', 'text-danger mb-1');
      flags.setAttribute('data-testid', 'assistant-flags');
      flags.appendChild(el('strong', '', t('flags') + '：'));
      answer.flags.forEach(function (f) {
        flags.appendChild(el('span', 'badge text-bg-danger me-1', f.label + '（' + f.words.join('、') + '）'));
      });
      flags.appendChild(useButton(t('urgent'), function () {
        setField('urgency', 'urgent');
        setField('threat', true);
      }, 'assistant-use-urgent'));
      result.appendChild(flags);
    }
    var p = answer.points;
    var points = el('div', 'text-body-secondary');
    points.setAttribute('data-testid', 'assistant-points');
    var any = false;
    if (p.amount) {
      any = true;
      var amount = el('span', 'me-3', t('amount') + '：' + p.amount + ' 元');
      amount.appendChild(useButton(t('use'), function () { setField('amount', p.amount); }, 'assistant-use-amount'));
      points.appendChild(amount);
    }
    if (p.people) {
      any = true;
      var people = el('span', 'me-3', t('people') + '：' + p.people);
      people.appendChild(useButton(t('use'), function () { setField('people_count', String(p.people)); }));
      points.appendChild(people);
    }
    [['dates', p.dates.map(function (d) { return d.text; })], ['periods', p.periods],
     ['orgs', p.organisations]].forEach(function (pair) {
      if (pair[1].length) {
        any = true;
        points.appendChild(el('span', 'me-3', t(pair[0]) + '：' + pair[1].join('、')));
      }
    });
    if (!any) { points.textContent = t('none'); }
    result.appendChild(points);
  }

  function ask() {
    var value = text ? text.value : '';
    if (!value.trim() || value === asked) { return; }
    asked = value;
    var request = new XMLHttpRequest();
    request.open('POST', box.getAttribute('data-url'));
    request.setRequestHeader('Content-Type', 'application/json');
    request.setRequestHeader('Accept', 'application/json');
    if (token) { request.setRequestHeader('X-CSRFToken', token.getAttribute('content')); }
    request.onload = function () {
      var answer = null;
      try { answer = JSON.parse(request.responseText); } catch (e) { answer = null; }
      if (request.status === 200 && answer) {
        shown.value = 'true';
        render(answer);
      } else {
        var words = answer && answer.errors && answer.errors.description;
        result.textContent = words || t('failed');
      }
    };
    request.onerror = function () { result.textContent = t('failed'); };
    request.send(JSON.stringify({ description: value }));
  }

  document.getElementById('assistant-ask').addEventListener('click', function () {
    asked = '';
    ask();
  });
  if (text) {
    text.addEventListener('input', function () {
      window.clearTimeout(timer);
      if (text.value.trim().length >= 15) { timer = window.setTimeout(ask, 800); }
    });
  }
})();
