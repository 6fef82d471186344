/*
 * process-editor.js: the process owners' editor (templates/processes/editor.html).
 *
 * Files of a bundle ({name: xml}) live in the browser; .bpmn files open in the bpmn-js Modeler
 * (JiefenModeler bundle: properties panel with camunda:formData), .dmn files in dmn-js. Buttons
 * post the files as JSON to the URLs in #jf-editor's data-* attributes:
 *   save draft -> {draft}, validate -> {ok, errors, warnings}, dry run (process-dryrun.js),
 *   deploy -> 201 {versions} | 422 {problems}, import (multipart) -> {files, notes}.
 * Problems are drawn on the diagram at their element (marker + overlay badge; DMN cells by
 * data-element-id) and listed; clicking one opens its file and selects the element.
 * The page exposes window.JiefenEditor (modeler, dmn, files(), open(name)) for tests.
 */
(function () {
  'use strict';

  var root = document.getElementById('jf-editor');
  if (!root) {
    return;
  }
  var cfg = root.dataset;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';
  var texts = {
    saved: cfg.textSaved, valid: cfg.textValid, invalid: cfg.textInvalid, deployed: cfg.textDeployed,
    failed: cfg.textFailed, complete: cfg.textComplete, noReady: cfg.textNoReady,
    finished: cfg.textFinished, error: cfg.textError, warning: cfg.textWarning, info: cfg.textInfo
  };
  // no keyboard option: diagram-js binds keyboard shortcuts implicitly (an explicit bindTo logs
  // an error, bpmn-io/diagram-js#661)
  var modeler = JiefenModeler.createModeler({canvas: '#jf-canvas', properties: '#jf-props'});
  // dmn-js drops common.additionalModules (Manager#_createViewer): translate per view
  var dmnTranslate = {additionalModules: [JiefenModeler.translateModule()]};
  var dmn = new DmnJS({container: '#jf-dmn', drd: dmnTranslate, decisionTable: dmnTranslate,
    literalExpression: dmnTranslate, boxedExpression: dmnTranslate});
  var canvasEl = document.getElementById('jf-canvas');
  var dmnEl = document.getElementById('jf-dmn');
  var props = JiefenExecProps.create(modeler, document.getElementById('jf-exec-body'), {
    operations: (cfg.operations || '').split(',').filter(Boolean),
    decisions: decisionIds
  });
  var state = {files: {}, current: null, draftId: null, baseVersionId: null, problems: [],
    highlighted: []};
  var statusEl = document.getElementById('jf-status');

  function setStatus(text, kind) {
    statusEl.textContent = text || '';
    statusEl.className = 'small' + (kind ? ' text-' + kind : '');
  }

  var el = window.JiefenDom.el;  // shared builder (dom.js)

  function postJSON(url, body) {
    return fetch(url, {method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf},
      body: JSON.stringify(body)}).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (json) {
        return {status: r.status, json: json};
      });
    });
  }

  function isBpmn(name) { return /\.bpmn$/i.test(name); }

  // -- files and tabs ------------------------------------------------------------------------
  function saveCurrent() {
    var name = state.current;
    if (!name) {
      return Promise.resolve();
    }
    var saving = isBpmn(name) ? modeler.saveXML({format: true}).then(function (r) {
      return props.restoreRefs(r.xml);
    }) : dmn.saveXML({format: true}).then(function (r) { return r.xml; });
    return saving.then(function (xml) { state.files[name] = xml; });
  }

  function currentFiles() {
    return saveCurrent().then(function () { return Object.assign({}, state.files); });
  }

  function open(name) {
    return saveCurrent().then(function () {
      state.current = name;
      renderTabs();
      var bpmn = isBpmn(name);
      canvasEl.hidden = !bpmn;
      document.getElementById('jf-side').hidden = !bpmn;
      dmnEl.hidden = bpmn;
      if (bpmn) {
        return modeler.importXML(state.files[name]).then(function (result) {
          props.captureRefs(result.warnings);
          var canvas = modeler.get('canvas');
          canvas.zoom('fit-viewport', 'auto');
          canvas.zoom(canvas.zoom() * 0.9, 'auto');
          canvas.scroll({dx: 40, dy: 0});  // keep the palette off the first shapes
        });
      }
      return dmn.importXML(state.files[name]).then(function () {
        var table = dmn.getViews().filter(function (v) { return v.type === 'decisionTable'; })[0];
        return table ? dmn.open(table) : null;
      });
    }).then(function () {
      drawProblems();
      root.dataset.jfState = 'ready';
    }).catch(function (error) {
      setStatus(texts.failed + '：' + error.message, 'danger');
      root.dataset.jfState = 'error';
    });
  }

  function renderTabs() {
    var tabs = document.getElementById('jf-file-tabs');
    tabs.textContent = '';
    Object.keys(state.files).sort().forEach(function (name) {
      var button = el('button', {type: 'button', role: 'tab', 'data-file': name,
        className: 'nav-link' + (name === state.current ? ' active' : ''),
        'aria-selected': name === state.current ? 'true' : 'false', text: name});
      button.addEventListener('click', function () { if (name !== state.current) { open(name); } });
      tabs.appendChild(el('li', {className: 'nav-item', role: 'presentation'}, [button]));
    });
    var select = document.getElementById('jf-dr-process');
    var ids = processIds();
    select.textContent = '';
    ids.forEach(function (id) { select.appendChild(el('option', {value: id, text: id})); });
  }

  function parse(xml) {
    return new DOMParser().parseFromString(xml || '', 'application/xml');
  }

  function processIds() {
    var ids = [];
    var called = {};
    Object.keys(state.files).filter(isBpmn).forEach(function (name) {
      var doc = parse(state.files[name]);
      Array.prototype.forEach.call(doc.getElementsByTagNameNS('*', 'callActivity'), function (c) {
        called[c.getAttribute('calledElement')] = true;
      });
      Array.prototype.forEach.call(doc.getElementsByTagNameNS('*', 'process'), function (p) {
        if (p.getAttribute('isExecutable') !== 'false') {
          ids.push(p.getAttribute('id'));
        }
      });
    });
    return ids.filter(function (id) { return !called[id]; });
  }

  // the file that holds the bundle's entry process (the one nothing calls), not the first by name
  function entryFile(processId) {
    var wanted = processId ? [processId].concat(processIds()) : processIds();
    var found = null;
    wanted.some(function (id) {
      found = Object.keys(state.files).filter(isBpmn).sort().filter(function (name) {
        return Array.prototype.some.call(parse(state.files[name]).getElementsByTagNameNS('*', 'process'),
          function (p) { return p.getAttribute('id') === id; });
      })[0] || null;
      return found !== null;
    });
    return found;
  }

  function decisionIds() {
    var ids = [];
    Object.keys(state.files).filter(function (n) { return !isBpmn(n); }).forEach(function (name) {
      Array.prototype.forEach.call(parse(state.files[name]).getElementsByTagNameNS('*', 'decision'), function (d) {
        ids.push(d.getAttribute('id'));
      });
    });
    return ids;
  }

  // -- problems on the diagram ---------------------------------------------------------------
  function clearMarks() {
    var overlays = modeler.get('overlays');
    var canvas = modeler.get('canvas');
    overlays.remove({type: 'jf-problem'});
    modeler.get('elementRegistry').forEach(function (element) {
      ['jf-problem-error', 'jf-problem-warning', 'jf-problem-info'].forEach(function (cls) {
        canvas.removeMarker(element, cls);
      });
    });
    Array.prototype.forEach.call(dmnEl.querySelectorAll('.jf-problem-cell'), function (node) {
      node.classList.remove('jf-problem-cell');
    });
  }

  function drawProblems() {
    if (!state.current) {
      return;
    }
    clearMarks();
    var registry = modeler.get('elementRegistry');
    var grouped = {};
    state.problems.forEach(function (p) {
      if (p.file === state.current && p.element_id) {
        (grouped[p.element_id] = grouped[p.element_id] || []).push(p);
      }
    });
    Object.keys(grouped).forEach(function (id) {
      var list = grouped[id];
      var severity = list.some(function (p) { return p.severity === 'error'; }) ? 'error' :
        (list.some(function (p) { return p.severity === 'warning'; }) ? 'warning' : 'info');
      if (isBpmn(state.current)) {
        if (!registry.get(id)) {
          return;
        }
        modeler.get('canvas').addMarker(id, 'jf-problem-' + severity);
        var badge = el('div', {className: 'jf-problem-badge jf-problem-badge-' + severity,
          title: list.map(function (p) { return p.message; }).join('\n'),
          'data-testid': 'problem-badge-' + id, text: String(list.length)});
        modeler.get('overlays').add(id, 'jf-problem', {position: {top: -10, right: 10}, html: badge});
      } else {
        Array.prototype.forEach.call(dmnEl.querySelectorAll('[data-element-id="' + CSS.escape(id) + '"]'), function (node) {
          node.classList.add('jf-problem-cell');
          node.title = list.map(function (p) { return p.message; }).join('\n');
        });
      }
    });
  }

  function showProblems(problems, notes) {
    state.problems = (problems || []).concat(notes || []);
    var list = document.getElementById('jf-problems');
    list.textContent = '';
    state.problems.forEach(function (p) {
      var kind = p.severity === 'error' ? 'danger' : (p.severity === 'warning' ? 'warning' : 'info');
      var label = p.severity === 'error' ? texts.error : (p.severity === 'warning' ? texts.warning : texts.info);
      var where = p.file + (p.element_id ? '#' + p.element_id : '');
      var item = el('li', {className: 'list-group-item list-group-item-action small py-1',
        'data-element-id': p.element_id || '', 'data-severity': p.severity, tabindex: '0'}, [
        el('span', {className: 'badge text-bg-' + kind + ' me-1', text: label}),
        el('code', {className: 'me-1', text: where}), document.createTextNode(p.message)]);
      item.addEventListener('click', function () { reveal(p); });
      item.addEventListener('keydown', function (e) { if (e.key === 'Enter') { reveal(p); } });
      list.appendChild(item);
    });
    drawProblems();
  }

  function reveal(problem) {
    var step = problem.file !== state.current && state.files[problem.file] !== undefined ?
      open(problem.file) : Promise.resolve();
    step.then(function () {
      if (!problem.element_id || !isBpmn(state.current)) {
        return;
      }
      var element = modeler.get('elementRegistry').get(problem.element_id);
      if (element) {
        modeler.get('selection').select(element);
        modeler.get('canvas').scrollToElement(element);
      }
    });
  }

  // -- dry-run highlighting ------------------------------------------------------------------
  function highlight(states) {
    var canvas = modeler.get('canvas');
    var registry = modeler.get('elementRegistry');
    state.highlighted.forEach(function (pair) { canvas.removeMarker(pair[0], pair[1]); });
    state.highlighted = [];
    if (!isBpmn(state.current || '')) {
      return;
    }
    [['completed', 'jf-done'], ['current', 'jf-current']].forEach(function (kind) {
      (states[kind[0]] || []).forEach(function (id) {
        if (registry.get(id)) {
          canvas.addMarker(id, kind[1]);
          state.highlighted.push([id, kind[1]]);
        }
      });
    });
  }

  // -- actions -------------------------------------------------------------------------------
  function saveDraft() {
    return currentFiles().then(function (files) {
      return postJSON(cfg.draftUrl, {files: files, draft_id: state.draftId,
        title: document.getElementById('jf-title').value || null,
        base_version_id: state.baseVersionId});
    }).then(function (answer) {
      if (answer.status !== 200) {
        setStatus(texts.failed + '（HTTP ' + answer.status + '）', 'danger');
        return;
      }
      state.draftId = answer.json.draft.id;
      history.replaceState(null, '', cfg.editorUrl + '?draft=' + state.draftId);
      document.getElementById('jf-source').textContent = '#' + state.draftId + ' ' + answer.json.draft.title;
      setStatus(texts.saved + ' #' + state.draftId, 'success');
    });
  }

  function validate() {
    setStatus('…');
    return currentFiles().then(function (files) {
      return postJSON(cfg.validateUrl, {files: files});
    }).then(function (answer) {
      var report = answer.json;
      showProblems((report.errors || []).concat(report.warnings || []));
      setStatus(report.ok ? texts.valid + (report.warnings.length ? '（' + report.warnings.length + ' ' + texts.warning + '）' : '') :
        texts.invalid + '：' + report.errors.length, report.ok ? 'success' : 'danger');
    });
  }

  function deploy() {
    var result = document.getElementById('jf-deploy-result');
    result.textContent = '…';
    return currentFiles().then(function (files) {
      return postJSON(cfg.deployUrl, {files: files, note: document.getElementById('jf-note').value || null,
        draft_id: state.draftId});
    }).then(function (answer) {
      result.textContent = '';
      if (answer.status === 201) {
        state.draftId = null;
        answer.json.versions.forEach(function (v) {
          result.appendChild(el('div', {className: 'text-success', text: texts.deployed + '：' + v.process_id +
            ' v' + v.version + '（' + (v.status_label || v.status) + '，' + v.sha256.slice(0, 12) + '）'}));
        });
        result.appendChild(el('a', {href: cfg.catalogueUrl, text: '→ ' + cfg.textCatalogue}));
        showProblems([]);
        return;
      }
      if (answer.json.problems) {
        showProblems(answer.json.problems);
        setStatus(texts.invalid + '：' + answer.json.problems.length, 'danger');
      }
      result.textContent = texts.failed + '（HTTP ' + answer.status + '）';
    });
  }

  function download() {
    currentFiles().then(function (files) {
      var blob = new Blob([files[state.current]], {type: 'application/xml'});
      var link = el('a', {href: URL.createObjectURL(blob), download: state.current});
      document.body.appendChild(link);
      link.click();
      link.remove();
    });
  }

  function importFiles(input) {
    var form = new FormData();
    Array.prototype.forEach.call(input.files, function (f) { form.append('files', f, f.name); });
    input.value = '';
    return fetch(cfg.importUrl, {method: 'POST', credentials: 'same-origin',
      headers: {'X-CSRFToken': csrf}, body: form}).then(function (r) {
      return r.json().then(function (json) { return {status: r.status, json: json}; });
    }).then(function (answer) {
      if (answer.status !== 200) {
        setStatus(texts.failed + '（HTTP ' + answer.status + '）', 'danger');
        return;
      }
      return saveCurrent().then(function () {
        var names = Object.keys(answer.json.files);
        names.forEach(function (name) { state.files[name] = answer.json.files[name]; });
        state.current = null;
        showProblems([], answer.json.notes);
        return open(names.filter(isBpmn)[0] || names[0]);
      });
    });
  }

  function addDmn() {
    var n = 1;
    while (state.files['decision_' + n + '.dmn']) { n += 1; }
    var id = 'decision_' + n;
    state.files[id + '.dmn'] = '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs_' + id +
      '" name="' + id + '" namespace="http://jiefen.example/dmn">\n' +
      '  <decision id="' + id + '" name="新决策表">\n' +
      '    <decisionTable id="' + id + '_table" hitPolicy="FIRST">\n' +
      '      <input id="' + id + '_in" label="输入"><inputExpression id="' + id +
      '_in_expr" typeRef="string"><text>category</text></inputExpression></input>\n' +
      '      <output id="' + id + '_out" label="输出" name="result" typeRef="string"/>\n' +
      '    </decisionTable>\n  </decision>\n</definitions>\n';
    return open(id + '.dmn');
  }

  function load() {
    root.dataset.jfState = 'loading';
    return fetch(cfg.filesUrl, {credentials: 'same-origin', headers: {Accept: 'application/json'}})
      .then(function (r) { return r.json(); }).then(function (data) {
        state.files = data.files;
        state.draftId = data.draft_id;
        state.baseVersionId = data.base_version_id;
        document.getElementById('jf-source').textContent = data.source;
        document.getElementById('jf-title').value = data.title || '';
        var names = Object.keys(data.files).sort();
        return open(entryFile(data.process_id) || names.filter(isBpmn)[0] || names[0]);
      });
  }

  document.getElementById('jf-save').addEventListener('click', saveDraft);
  document.getElementById('jf-validate').addEventListener('click', validate);
  document.getElementById('jf-deploy').addEventListener('click', deploy);
  document.getElementById('jf-download').addEventListener('click', download);
  document.getElementById('jf-add-dmn').addEventListener('click', addDmn);
  document.getElementById('jf-open-files').addEventListener('change', function (e) { importFiles(e.target); });
  var sampled = false;
  document.getElementById('jf-dryrun-toggle').addEventListener('click', function () {
    var panel = document.getElementById('jf-dryrun');
    panel.hidden = !panel.hidden;
    if (!panel.hidden && !sampled && document.getElementById('jf-dr-data').value.trim() === '{}') {
      sampled = true;  // first opening: start data shaped like the process's real start
      dryRun.sample(true);
      examples.refresh();
    }
  });
  var dryRun = JiefenDryRun.init({
    panel: document.getElementById('jf-dryrun'), url: cfg.dryRunUrl, sampleUrl: cfg.sampleUrl, csrf: csrf,
    getFiles: currentFiles, processSelect: document.getElementById('jf-dr-process'),
    onStates: highlight, onProblems: function (problems) { showProblems(problems); },
    texts: texts
  });

  var examples = JiefenExamples.init({
    section: document.getElementById('jf-examples'), csrf: csrf, getFiles: currentFiles,
    processSelect: document.getElementById('jf-dr-process'), dryRun: dryRun,
    urls: {list: cfg.examplesUrl, save: cfg.exampleSaveUrl, check: cfg.exampleCheckUrl,
      remove: cfg.exampleDeleteUrl}
  });

  window.JiefenEditor = {
    modeler: modeler, dmn: dmn, open: open, files: currentFiles, validate: validate,
    state: state
  };
  load();
})();
