/*
 * process-examples.js: the editor's regression examples (inside the dry-run panel).
 * "Save as example" keeps the last dry run (start data + actions; the server re-runs it and
 * records the path); "re-run all" runs every example of the chosen process on the editor's
 * current files and shows, in words, whether the change altered each path.
 *
 *   JiefenExamples.init({section, urls: {list, save, check, remove}, csrf, getFiles,
 *                        processSelect, dryRun})
 */
(function () {
  'use strict';

  var el = window.JiefenDom.el;

  function init(o) {
    var section = o.section;
    var words = section.dataset;
    var list = section.querySelector('#jf-ex-list');
    var out = section.querySelector('#jf-ex-result');
    var title = section.querySelector('#jf-ex-title');

    function post(url, body) {
      return fetch(url, {method: 'POST', credentials: 'same-origin',
        headers: {'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': o.csrf},
        body: JSON.stringify(body)}).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (json) {
          return {status: r.status, json: json};
        });
      });
    }

    function refresh() {
      var process = o.processSelect.value || '';
      return fetch(o.urls.list + '?process=' + encodeURIComponent(process), {credentials: 'same-origin'})
        .then(function (r) { return r.json(); }).then(function (json) {
          list.textContent = '';
          (json.examples || []).forEach(function (ex) {
            var remove = el('button', {type: 'button', className: 'btn btn-sm btn-link text-danger p-0 ms-2',
              text: words.textDelete});
            remove.addEventListener('click', function () {
              post(o.urls.remove.replace('/0/', '/' + ex.id + '/'), {}).then(refresh);
            });
            list.appendChild(el('li', {className: 'small', 'data-testid': 'example-' + ex.id},
              [document.createTextNode('#' + ex.id + ' ' + ex.title + ' · ' + ex.actions + ' ' + words.textSteps), remove]));
          });
          if (!list.children.length) {
            list.appendChild(el('li', {className: 'small text-body-secondary', text: words.textNone}));
          }
        });
    }

    section.querySelector('#jf-ex-save').addEventListener('click', function () {
      var last = o.dryRun.last();
      if (!last) {
        out.textContent = words.textRunFirst;
        return;
      }
      o.getFiles().then(function (files) {
        return post(o.urls.save, {files: files, process_id: o.processSelect.value || null,
          title: title.value, data: last.data, actions: last.actions});
      }).then(function (answer) {
        if (answer.status === 201) {
          out.textContent = words.textSaved + ' #' + answer.json.example.id;
          title.value = '';
          return refresh();
        }
        var errors = answer.json.errors || {};
        out.textContent = Object.keys(errors).map(function (k) { return errors[k]; }).join('；') ||
          (answer.json.problems || []).map(function (p) { return p.message; }).join('；') ||
          words.textFailed;
      });
    });

    section.querySelector('#jf-ex-check').addEventListener('click', function () {
      out.textContent = '…';
      o.getFiles().then(function (files) {
        return post(o.urls.check, {files: files, process_id: o.processSelect.value || null});
      }).then(function (answer) {
        out.textContent = '';
        var checks = answer.json.checks || [];
        if (!checks.length) {
          out.textContent = words.textNone;
        }
        checks.forEach(function (c) {
          var item = el('div', {className: 'alert py-1 px-2 small mb-1 ' + (c.same ? 'alert-success' : 'alert-warning'),
            'data-testid': 'example-check-' + c.example.id, 'data-same': c.same ? 'true' : 'false'},
            [el('strong', {text: '#' + c.example.id + ' ' + c.example.title + '：' + c.verdict})]);
          if (c.details.length) {
            var ul = el('ul', {className: 'mb-0'});
            c.details.forEach(function (d) { ul.appendChild(el('li', {text: d})); });
            item.appendChild(ul);
          }
          out.appendChild(item);
        });
      });
    });

    o.processSelect.addEventListener('change', refresh);
    return {refresh: refresh};
  }

  window.JiefenExamples = {init: init};
})();
