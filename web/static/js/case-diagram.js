/*
 * case-diagram.js: render BPMN diagrams with completed/current elements highlighted.
 *
 * Markup (see the bpmn_diagram macro in templates/_macros.html):
 *   <div class="jf-diagram" data-bpmn-url="/…/diagram.bpmn" data-state-url="/…/state.json"></div>
 * State JSON: {"completed": [element ids], "current": [element ids], "process_id": "…"}.
 * Optional attributes: data-infer-flows="0" (do not mark sequence flows between completed
 * elements), data-height="360" (pixels), data-error-text (translated error message).
 *
 * Re-highlight (the audit replay does this when an event is selected):
 *   el.dispatchEvent(new CustomEvent('jf:highlight', {detail: {completed: [...], current: [...]}}))
 *   or {detail: {url: '/…/state.json?seq=12'}} to fetch the state first.
 * After each render/highlight the container fires 'jf:rendered' / 'jf:highlighted'
 * (detail: {missing: [ids not in the diagram]}) and sets data-jf-state="ready"|"error".
 *
 * Needs window.BpmnJS (vendor/bpmn-js/bpmn-navigated-viewer.production.min.js) loaded first.
 * No inline scripts or styles: CSP is script-src 'self'.
 */
(function () {
  'use strict';

  var DONE = 'jf-done';
  var CURRENT = 'jf-current';
  var diagrams = new WeakMap(); // element -> {viewer, ready: Promise, marked: []}

  function fetchText(url, accept) {
    return fetch(url, {credentials: 'same-origin', headers: {Accept: accept}}).then(function (r) {
      if (!r.ok) {
        throw new Error(url + ' → HTTP ' + r.status);
      }
      return r.text();
    });
  }

  function fetchState(url) {
    return fetchText(url, 'application/json').then(JSON.parse);
  }

  function setStatus(el, text, isError) {
    var status = el.querySelector('.jf-diagram-status');
    if (!status && text) {
      status = document.createElement('div');
      status.className = 'jf-diagram-status small';
      el.appendChild(status);
    }
    if (status) {
      status.textContent = text || '';
      status.hidden = !text;
    }
    el.classList.toggle('jf-diagram-error', !!isError);
  }

  function fire(el, name, detail) {
    el.dispatchEvent(new CustomEvent(name, {bubbles: true, detail: detail}));
  }

  // The diagram whose plane shows process_id, directly or as a collaboration participant.
  function diagramFor(viewer, processId) {
    var definitions = viewer.getDefinitions();
    var found = null;
    (definitions && definitions.diagrams || []).forEach(function (diagram) {
      var shown = diagram.plane && diagram.plane.bpmnElement;
      if (!shown || found) {
        return;
      }
      var participants = shown.participants || [];
      var inCollaboration = participants.some(function (p) {
        return p.processRef && p.processRef.id === processId;
      });
      if (shown.id === processId || inCollaboration) {
        found = diagram;
      }
    });
    return found;
  }

  function openProcess(viewer, processId) {
    var diagram = processId ? diagramFor(viewer, processId) : null;
    var root = viewer.get('canvas').getRootElement();
    var showing = root && root.businessObject && root.businessObject.id;
    if (!diagram || showing === processId || diagram.plane.bpmnElement.id === showing) {
      return Promise.resolve();
    }
    return viewer.open(diagram.id);
  }

  // Sequence flows whose source completed and whose target completed or is active.
  function inferredFlows(registry, reached, current) {
    return registry.filter(function (e) {
      return e.type === 'bpmn:SequenceFlow' && e.source && e.target &&
        reached.has(e.source.id) && (reached.has(e.target.id) || current.has(e.target.id));
    }).map(function (e) {
      return e.id;
    });
  }

  function clearMarkers(entry) {
    var canvas = entry.viewer.get('canvas');
    entry.marked.forEach(function (mark) {
      canvas.removeMarker(mark[0], mark[1]);
    });
    entry.marked = [];
  }

  function mark(entry, ids, marker, missing) {
    var registry = entry.viewer.get('elementRegistry');
    var canvas = entry.viewer.get('canvas');
    ids.forEach(function (id) {
      var element = registry.get(id);
      if (!element) {
        missing.push(id);
        return;
      }
      canvas.addMarker(element, marker);
      entry.marked.push([element, marker]);
    });
  }

  function applyState(el, entry, state) {
    var current = new Set(state.current || []);
    var completed = new Set((state.completed || []).filter(function (id) {
      return !current.has(id); // an active element is shown as current, not done
    }));
    var missing = [];
    clearMarkers(entry);
    mark(entry, Array.from(completed), DONE, missing);
    mark(entry, Array.from(current), CURRENT, missing);
    if (el.dataset.inferFlows !== '0') {
      var registry = entry.viewer.get('elementRegistry');
      mark(entry, inferredFlows(registry.getAll(), completed, current), DONE, missing);
    }
    el.dataset.jfCompleted = String(completed.size);
    el.dataset.jfCurrent = String(current.size);
    return missing;
  }

  function highlight(el, detail) {
    var entry = diagrams.get(el);
    if (!entry) {
      return Promise.reject(new Error('no diagram on this element'));
    }
    var statePromise = detail && detail.url ? fetchState(detail.url) : Promise.resolve(detail || {});
    return Promise.all([entry.ready, statePromise]).then(function (results) {
      var state = results[1];
      return openProcess(entry.viewer, state.process_id).then(function () {
        var missing = applyState(el, entry, state);
        fire(el, 'jf:highlighted', {missing: missing, state: state});
        return missing;
      });
    });
  }

  // Fit the whole diagram with a small margin so edge shapes are not cut off.
  function fit(canvas) {
    canvas.zoom('fit-viewport', 'auto');
    canvas.zoom(canvas.zoom() * 0.92, 'auto');
  }

  // A large process fitted into a page is too small to read: open it at a readable scale
  // centred on the current step (the whole process stays one "fit" click away).
  // The user's text size (大字/特大字 scale the root font) scales that readable size too.
  var READABLE = 0.75;
  function readable() {
    var root = parseFloat(getComputedStyle(document.documentElement).fontSize);
    return READABLE * (root > 16 ? root / 16 : 1);
  }
  function focusCurrent(el, entry) {
    var canvas = entry.viewer.get('canvas');
    var current = entry.marked.filter(function (m) { return m[1] === CURRENT && m[0].width; });
    var scale = readable();
    if (!current.length || canvas.zoom() >= scale || !el.clientWidth) {
      return;
    }
    var box = current[0][0];
    var width = el.clientWidth / scale;
    var height = el.clientHeight / scale;
    canvas.viewbox({x: box.x + box.width / 2 - width / 2, y: box.y + box.height / 2 - height / 2,
                    width: width, height: height});
  }

  // Zoom buttons (+, −, fit), labelled from the container's data-zoom-* texts.
  function addControls(el, entry) {
    var bar = document.createElement('div');
    bar.className = 'jf-diagram-zoom btn-group-vertical';
    bar.setAttribute('role', 'group');
    [['in', '+', function (c) { c.zoom(c.zoom() * 1.25); }],
     ['out', '−', function (c) { c.zoom(c.zoom() / 1.25); }],
     ['fit', '⤢', fit]].forEach(function (spec) {
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'btn btn-light btn-sm border';
      button.textContent = spec[1];
      button.title = el.dataset['zoom' + spec[0][0].toUpperCase() + spec[0].slice(1)] || spec[0];
      button.setAttribute('aria-label', button.title);
      button.dataset.jfZoom = spec[0];
      button.addEventListener('click', function () { spec[2](entry.viewer.get('canvas')); });
      bar.appendChild(button);
    });
    el.appendChild(bar);
  }

  function render(el, entry) {
    var stateUrl = el.dataset.stateUrl;
    return Promise.all([
      fetchText(el.dataset.bpmnUrl, 'application/xml, text/xml'),
      stateUrl ? fetchState(stateUrl) : Promise.resolve({}),
    ]).then(function (results) {
      return entry.viewer.importXML(results[0]).then(function (imported) {
        return openProcess(entry.viewer, results[1].process_id).then(function () {
          fit(entry.viewer.get('canvas'));
          var missing = applyState(el, entry, results[1]);
          focusCurrent(el, entry);
          return {warnings: imported.warnings.length, missing: missing};
        });
      });
    });
  }

  function init(el) {
    if (diagrams.has(el)) {
      return diagrams.get(el).ready;
    }
    if (typeof window.BpmnJS !== 'function') {
      setStatus(el, 'bpmn-js not loaded', true);
      el.dataset.jfState = 'error';
      return Promise.reject(new Error('window.BpmnJS missing'));
    }
    if (el.dataset.height) {
      el.style.height = parseInt(el.dataset.height, 10) + 'px'; // CSSOM is allowed by the CSP
    }
    var entry = {viewer: new window.BpmnJS({container: el}), marked: []};
    diagrams.set(el, entry);
    addControls(el, entry);
    el.addEventListener('jf:highlight', function (event) {
      highlight(el, event.detail).catch(function (err) {
        setStatus(el, el.dataset.errorText || '流程状态加载失败', true);
        fire(el, 'jf:error', {error: String(err)});
      });
    });
    entry.ready = render(el, entry).then(function (result) {
      setStatus(el, '');
      el.dataset.jfState = 'ready';
      fire(el, 'jf:rendered', result);
      return result;
    }, function (err) {
      setStatus(el, el.dataset.errorText || '流程图加载失败', true);
      el.dataset.jfState = 'error';
      fire(el, 'jf:error', {error: String(err)});
      throw err;
    });
    entry.ready.catch(function () { /* reported on the element */ });
    return entry.ready;
  }

  function initAll(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var found = Array.from(scope.querySelectorAll('[data-bpmn-url]'));
    if (scope.matches && scope.matches('[data-bpmn-url]')) {
      found.unshift(scope);
    }
    found.forEach(function (el) {
      init(el).catch(function () { /* reported on the element */ });
    });
  }

  window.JiefenDiagram = {
    init: init,
    initAll: initAll,
    highlight: highlight,
    viewer: function (el) {
      var entry = diagrams.get(el);
      return entry ? entry.viewer : null;
    },
  };

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { initAll(document); });
  } else {
    initAll(document);
  }
  // Diagrams inside htmx-swapped fragments (htmx 2 fires htmx:load on new content).
  document.addEventListener('htmx:load', function (event) { initAll(event.target); });
}());
