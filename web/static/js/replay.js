/*
 * replay.js: the auditor's step-by-step replay (templates/audit/replay.html).
 *
 * Buttons [data-jf-step=first|prev|next|last], the ← / → / Home / End keys and clicks on an event
 * (li[data-seq]) select an event; its state comes from <state-base><seq>.json
 * ({process_id, completed, current, processes: [{id, name}], version_id, data, deadlines, ready,
 * replay_error, account: the login name of the user who acted, shown as 账号 of this event only})
 * and drives the bpmn-js diagram through case-diagram.js's 'jf:highlight' event.
 * When the case moved to another process version at that event, the diagram is re-created.
 * No inline scripts (CSP script-src 'self'); text is inserted with textContent only.
 */
(function () {
  'use strict';

  var root = document.querySelector('[data-jf-replay]');
  if (!root) {
    return;
  }
  var steps = Array.from(root.querySelectorAll('li[data-seq]'));
  var texts = document.querySelector('template[data-jf-text]').dataset;
  var processSelect = root.querySelector('[data-jf-process]');
  var index = Math.max(0, steps.findIndex(function (li) {
    return li.dataset.seq === root.dataset.start;
  }));
  var version = root.dataset.version;
  var shownProcess = root.dataset.process;
  var pending = 0;

  function diagram() {
    return root.querySelector('[data-jf-diagram-slot] [data-bpmn-url]');
  }

  function fmtTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) {
      return iso;
    }
    return d.toLocaleString('zh-CN', {timeZone: 'Asia/Shanghai', hour12: false,
      year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit'});
  }

  function item(text, muted) {
    var li = document.createElement('li');
    li.textContent = text;
    if (muted) {
      li.className = 'text-body-secondary';
    }
    return li;
  }

  function fillList(list, rows) {
    list.replaceChildren();
    if (!rows.length) {
      list.appendChild(item(texts.none, true));
    }
    rows.forEach(function (text) { list.appendChild(item(text)); });
  }

  // rows arrive in words: [{key, label, text}] (web/data_display.py)
  function fillData(body, rows) {
    body.replaceChildren();
    if (!(rows || []).length) {
      var none = document.createElement('td');
      none.className = 'text-body-secondary';
      none.textContent = texts.none;
      body.appendChild(document.createElement('tr')).appendChild(none);
    }
    (rows || []).forEach(function (row) {
      var tr = document.createElement('tr');
      var th = document.createElement('th');
      var td = document.createElement('td');
      th.scope = 'row';
      th.title = row.key;
      th.textContent = row.label;
      td.textContent = row.text;
      tr.append(th, td);
      body.appendChild(tr);
    });
  }

  // [{id, name}]: the value is the process id, the option shows its name
  function fillProcesses(state) {
    var wanted = state.processes || [];
    var have = Array.from(processSelect.options).map(function (o) { return o.value; });
    if (wanted.map(function (p) { return p.id; }).join('|') !== have.join('|')) {
      processSelect.replaceChildren();
      wanted.forEach(function (p) {
        var option = document.createElement('option');
        option.value = p.id;
        option.textContent = p.name;
        processSelect.appendChild(option);
      });
    }
    processSelect.value = state.process_id || '';
    root.querySelector('[data-jf-process-label]').hidden = !wanted.length;
  }

  // Another version (a migration) or another process (a call activity, in its own file):
  // load that diagram.
  function switchDiagram(state) {
    var old = diagram();
    var fresh = old.cloneNode(false);
    fresh.dataset.bpmnUrl = root.dataset.diagramBase + '?version=' + state.version_id +
      '&process=' + encodeURIComponent(state.process_id || '');
    delete fresh.dataset.stateUrl;
    delete fresh.dataset.jfState;
    old.replaceWith(fresh);
    version = String(state.version_id);
    shownProcess = state.process_id || '';
    return window.JiefenDiagram.init(fresh);
  }

  function highlight(state) {
    var moved = state.version_id && (String(state.version_id) !== version ||
      (state.process_id || '') !== shownProcess);
    var ready = moved ? switchDiagram(state) : Promise.resolve();
    return ready.then(function () {
      diagram().dispatchEvent(new CustomEvent('jf:highlight', {detail: {
        completed: state.completed, current: state.current, process_id: state.process_id}}));
    });
  }

  function show(state) {
    var li = steps[index];
    var error = root.querySelector('[data-jf-error]');
    root.querySelector('[data-jf-event]').textContent = texts.at + ' ' + li.dataset.seq + ' · ' +
      li.querySelector('strong').textContent + ' ' + li.querySelector('.jf-step-detail').textContent;
    fillList(root.querySelector('[data-jf-deadlines]'), (state.deadlines || []).map(function (d) {
      return d.name + '：' + fmtTime(d.due);
    }));
    fillList(root.querySelector('[data-jf-ready]'), (state.ready || []).map(function (r) {
      return r.name + (r.index === null || r.index === undefined ? '' : ' #' + (r.index + 1));
    }));
    var account = root.querySelector('[data-jf-account]');
    account.hidden = !state.account;
    account.querySelector('[data-jf-account-name]').textContent = state.account || '';
    fillData(root.querySelector('[data-jf-data]'), state.data);
    fillProcesses(state);
    error.hidden = !state.replay_error;
    error.textContent = state.replay_error ? texts.replayError + state.replay_error : '';
    root.dataset.jfSeq = li.dataset.seq;
    return highlight(state);
  }

  function load() {
    var li = steps[index];
    var url = root.dataset.stateBase + li.dataset.seq + '.json';
    var query = new URLSearchParams();
    if (li.dataset.transition) { // a transition inside one engine step (one audit event)
      query.set('t', li.dataset.transition);
    }
    if (processSelect.value) {
      query.set('process', processSelect.value);
    }
    if (query.toString()) {
      url += '?' + query.toString();
    }
    var ticket = ++pending;
    root.dataset.jfLoading = '1';
    return fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}})
      .then(function (r) {
        if (!r.ok) {
          throw new Error('HTTP ' + r.status);
        }
        return r.json();
      })
      .then(function (state) {
        if (ticket === pending) { // a later click wins over a slow answer
          return show(state);
        }
        return null;
      })
      .catch(function () {
        var error = root.querySelector('[data-jf-error]');
        error.hidden = false;
        error.textContent = texts.loadError;
      })
      .finally(function () {
        if (ticket === pending) {
          delete root.dataset.jfLoading;
        }
      });
  }

  // the selected row's own number (its sequence in the chain), then where it is in the list
  function showPosition() {
    root.querySelector('[data-jf-position]').textContent =
      texts.at + ' ' + steps[index].dataset.seq + ' · ' + (index + 1) + ' / ' + steps.length;
  }

  function select(next) {
    if (next < 0 || next >= steps.length) {
      return;
    }
    steps[index].classList.remove('active');
    steps[index].removeAttribute('aria-current');
    index = next;
    var li = steps[index];
    li.classList.add('active');
    li.setAttribute('aria-current', 'step');
    li.scrollIntoView({block: 'nearest'});
    showPosition();
    var params = new URLSearchParams(window.location.search);
    params.set('seq', li.dataset.seq);
    window.history.replaceState(null, '', '?' + params.toString());
    load();
  }

  var moves = {
    first: function () { return 0; },
    prev: function () { return index - 1; },
    next: function () { return index + 1; },
    last: function () { return steps.length - 1; },
  };

  document.querySelectorAll('[data-jf-step]').forEach(function (button) {
    button.addEventListener('click', function () {
      select(moves[button.dataset.jfStep]());
    });
  });
  steps.forEach(function (li, i) {
    li.addEventListener('click', function () { select(i); });
  });
  processSelect.addEventListener('change', load);
  document.addEventListener('keydown', function (event) {
    var tag = event.target && event.target.tagName;
    if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA' || event.altKey ||
        event.ctrlKey || event.metaKey) {
      return;
    }
    var keys = {ArrowLeft: 'prev', ArrowRight: 'next', Home: 'first', End: 'last'};
    if (keys[event.key]) {
      event.preventDefault();
      select(moves[keys[event.key]]());
    }
  });

  var list = root.querySelector('.jf-replay-steps');
  list.style.maxHeight = '70vh'; // CSSOM, allowed by the CSP (no style attributes)
  list.style.overflowY = 'auto';
  showPosition();
  load();
}());
