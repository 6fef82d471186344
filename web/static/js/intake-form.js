/*
 * intake-form.js: party rows added and removed in the browser, person / organisation fields.
 *
 * Without JavaScript the same buttons post the form (action add_party / remove_party-<n>) and
 * the server renders the rows; here they act at once. Rows are numbered 0..n-1 in page order:
 * field names follow (parties-<n>-name ...), so the server reads them as posted.
 */
(function () {
  'use strict';

  var form = document.getElementById('intake-form');
  if (!form) { return; }
  var box = document.getElementById('party-rows');
  var add = document.getElementById('add-party');
  var max = parseInt(form.getAttribute('data-max-parties') || '500', 10);
  var ROW = /parties-\d+-/g;

  function rows() { return Array.prototype.slice.call(box.querySelectorAll('fieldset.jf-party')); }

  function renumber() {
    rows().forEach(function (row, index) {
      row.setAttribute('data-row', String(index));
      row.querySelectorAll('[name],[id],[for],[aria-describedby]').forEach(function (el) {
        ['name', 'id', 'for', 'aria-describedby'].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value && value.indexOf('parties-') !== -1) {
            el.setAttribute(attr, value.replace(ROW, 'parties-' + index + '-'));
          }
        });
      });
      var remove = row.querySelector('.jf-remove-party');
      if (remove) { remove.value = 'remove_party-' + index; }
      var legend = row.querySelector('.jf-party-no');
      if (legend) { legend.textContent = legend.getAttribute('data-label').replace('#', String(index + 1)); }
    });
    add.disabled = rows().length >= max;
  }

  function clear(row) {
    row.querySelectorAll('input').forEach(function (input) {
      if (input.type === 'checkbox' || input.type === 'radio') {
        input.checked = false;
      } else {
        input.value = '';
      }
      input.classList.remove('is-invalid');
      input.removeAttribute('aria-invalid');
    });
    row.querySelectorAll('select').forEach(function (select) {
      select.classList.remove('is-invalid');
      select.removeAttribute('aria-invalid');
    });
    row.querySelectorAll('.invalid-feedback, .text-danger').forEach(function (el) { el.remove(); });
  }

  function addRow() {
    var all = rows();
    var last = all[all.length - 1];
    var copy = last.cloneNode(true);
    clear(copy);
    // a new row starts like the one above: the same role and kind (twelve workers in a row)
    var from = last.querySelectorAll('select');
    copy.querySelectorAll('select').forEach(function (select, i) { select.value = from[i].value; });
    copy.setAttribute('data-kind', last.getAttribute('data-kind'));
    box.appendChild(copy);
    renumber();
    var name = copy.querySelector('input[name$="-name"]');
    if (name) { name.focus(); }
  }

  add.addEventListener('click', function (event) {
    event.preventDefault();
    if (rows().length < max) { addRow(); }
  });

  box.addEventListener('click', function (event) {
    var button = event.target.closest('.jf-remove-party');
    if (!button) { return; }
    event.preventDefault();
    if (rows().length > 1) {
      button.closest('fieldset.jf-party').remove();
      renumber();
    }
  });

  box.addEventListener('change', function (event) {
    var select = event.target;
    if (select.tagName === 'SELECT' && /-kind$/.test(select.name)) {
      select.closest('fieldset.jf-party').setAttribute('data-kind', select.value);
    }
  });

  renumber();
}());
