/*
 * process-dryrun.js: the editor's dry-run panel. The server is stateless: every step posts the
 * files, the example data and the whole action list ({complete, data} | {advance}) to
 * data-dry-run-url and shows the path, fired and armed timers, ready tasks (with their forms,
 * to choose the next input) and the final data. Nothing is stored.
 *
 *   JiefenDryRun.init({panel, url, csrf, getFiles, processSelect, onStates, texts})
 */
(function () {
  'use strict';

  var el = window.JiefenDom.el;  // shared builder (dom.js)

  function local(iso) {
    if (!iso) {
      return '—';
    }
    return new Date(iso).toLocaleString('zh-CN', {timeZone: 'Asia/Shanghai', hour12: false});
  }

  function control(f) {
    var input;
    if (f.type === 'enum') {
      input = el('select', {className: 'form-select form-select-sm'});
      input.appendChild(el('option', {value: '', text: '请选择…'}));
      f.options.forEach(function (o) { input.appendChild(el('option', {value: o[0], text: o[1]})); });
    } else if (f.type === 'boolean') {
      input = el('input', {type: 'checkbox', className: 'form-check-input'});
    } else if (f.type === 'textarea') {
      input = el('textarea', {className: 'form-control form-control-sm', rows: '2'});
    } else {
      input = el('input', {className: 'form-control form-control-sm',
        type: f.type === 'long' ? 'number' : (f.type === 'date' ? 'date' : 'text')});
    }
    input.name = f.id;
    if (f.default !== null && f.default !== undefined && f.type !== 'boolean') {
      input.value = f.default;
    }
    return input;
  }

  function readForm(form, fields) {
    var data = {};
    fields.forEach(function (f) {
      var input = form.elements[f.id];
      if (f.type === 'boolean') {
        data[f.id] = input.checked;
      } else if (input.value !== '') {
        data[f.id] = input.value;
      }
    });
    return data;
  }

  function init(options) {
    var panel = options.panel;
    var out = panel.querySelector('#jf-dr-result');
    var dataBox = panel.querySelector('#jf-dr-data');
    var actions = [];

    function post(body) {
      return fetch(options.url, {method: 'POST', credentials: 'same-origin',
        headers: {'Content-Type': 'application/json', 'X-CSRFToken': options.csrf},
        body: JSON.stringify(body)}).then(function (r) {
        return r.json().then(function (json) { return {status: r.status, json: json}; });
      });
    }

    function run() {
      var data;
      try {
        data = JSON.parse(dataBox.value || '{}');
      } catch (e) {
        out.textContent = '示例数据不是有效的 JSON：' + e.message;
        return Promise.resolve();
      }
      out.setAttribute('aria-busy', 'true');
      return options.getFiles().then(function (files) {
        return post({files: files, process_id: options.processSelect.value || null, data: data,
          actions: actions});
      }).then(function (answer) {
        out.removeAttribute('aria-busy');
        if (answer.status === 422 && answer.json.problems) {
          actions.pop();
          options.onProblems(answer.json.problems);
          out.textContent = options.texts.invalid;
          return;
        }
        if (answer.status !== 200) {
          actions.pop();
          out.textContent = options.texts.failed + '（HTTP ' + answer.status + '）';
          return;
        }
        var result = answer.json.result;
        var failed = result.error ? actions[result.error.action - 1] : null;
        if (result.error) {
          actions.splice(Math.max(result.error.action - 1, 0));  // drop the refused action on
        }
        render(result, failed);
        options.onStates(answer.json.states);
      });
    }

    function render(result, failed) {
      out.textContent = '';
      out.appendChild(el('p', {className: 'mb-2', 'data-testid': 'dr-now', text: '模拟时间：' + local(result.now) +
        (result.completed ? ' · ' + options.texts.finished : '')}));
      if (result.error) {
        var alert = el('div', {className: 'alert alert-danger py-1 small', role: 'alert', 'data-testid': 'dr-error',
          text: result.error.message});
        out.appendChild(alert);
      }
      var path = el('ol', {className: 'small jf-dr-path', 'data-testid': 'dr-path'});
      result.path.forEach(function (s) {
        var text = local(s.at) + ' ' + (s.name || s.element_id) + ' (' + s.element_id + ') ' +
          (s.outcome === 'cancelled' ? '已取消' : '完成');
        if (s.data && Object.keys(s.data).length) {
          text += ' ' + JSON.stringify(s.data);
        }
        path.appendChild(el('li', {'data-element-id': s.element_id, text: text}));
      });
      out.appendChild(el('h3', {className: 'h6', text: '路径'}));
      out.appendChild(path);
      if (result.fired_timers.length) {
        out.appendChild(el('h3', {className: 'h6', text: '已触发的计时器'}));
        var fired = el('ul', {className: 'small', 'data-testid': 'dr-fired'});
        result.fired_timers.forEach(function (t) {
          fired.appendChild(el('li', {text: (t.name || t.element_id) + ' (' + t.element_id + ')：' + local(t.at)}));
        });
        out.appendChild(fired);
      }
      if (result.armed_timers.length) {
        out.appendChild(el('h3', {className: 'h6', text: '等待中的计时器'}));
        var armed = el('ul', {className: 'small', 'data-testid': 'dr-armed'});
        result.armed_timers.forEach(function (t) {
          armed.appendChild(el('li', {text: (t.name || t.element_id) + ' (' + t.element_id + ')：到期 ' + local(t.due)}));
        });
        out.appendChild(armed);
      }
      out.appendChild(el('h3', {className: 'h6', text: '待办任务'}));
      if (!result.ready_tasks.length) {
        out.appendChild(el('p', {className: 'small text-body-secondary', text: options.texts.noReady}));
      }
      result.ready_tasks.forEach(function (task) {
        var mine = failed && failed.complete === task.element_id ? result.error : null;
        out.appendChild(taskForm(task, mine));
      });
      out.appendChild(el('h3', {className: 'h6', text: '数据'}));
      out.appendChild(el('pre', {className: 'small jf-dr-data', 'data-testid': 'dr-data',
        text: JSON.stringify(result.data, null, 2)}));
    }

    function taskForm(task, error) {
      var form = el('form', {className: 'card card-body p-2 mb-2', 'data-testid': 'dr-task-' + task.element_id});
      form.appendChild(el('div', {className: 'fw-semibold small', text: task.name + ' (' + task.element_id + ')' +
        (task.lane ? ' · ' + task.lane : '') + (task.due_at ? ' · 期限 ' + local(task.due_at) : '')}));
      var errors = error && error.field_errors ? error.field_errors : {};
      task.form.forEach(function (f) {
        var input = control(f);
        input.id = 'dr-' + task.element_id + '-' + f.id;
        var label = el('label', {className: 'form-label small mb-0', 'for': input.id,
          text: f.label + (f.required ? ' *' : '')});
        var row = el('div', {className: f.type === 'boolean' ? 'form-check' : 'mb-1'}, [label, input]);
        if (errors[f.id]) {
          input.classList.add('is-invalid');
          row.appendChild(el('div', {className: 'invalid-feedback', text: errors[f.id]}));
        }
        form.appendChild(row);
      });
      form.appendChild(el('button', {type: 'submit', className: 'btn btn-sm btn-success mt-1',
        'data-testid': 'dr-complete-' + task.element_id, text: options.texts.complete}));
      form.addEventListener('submit', function (event) {
        event.preventDefault();
        var action = {complete: task.element_id, data: readForm(form, task.form)};
        if (task.instance_index !== null && task.instance_index !== undefined) {
          action.index = task.instance_index;
        }
        actions.push(action);
        run();
      });
      return form;
    }

    panel.querySelector('#jf-dr-start').addEventListener('click', function () {
      actions = [];
      run();
    });
    panel.querySelector('#jf-dr-advance-btn').addEventListener('click', function () {
      actions.push({advance: panel.querySelector('#jf-dr-advance').value.trim()});
      run();
    });
    panel.querySelector('#jf-dr-next-timer').addEventListener('click', function () {
      actions.push({advance: 'next_timer'});
      run();
    });
    return {run: run, reset: function () { actions = []; out.textContent = ''; }};
  }

  window.JiefenDryRun = {init: init};
})();
