/*
 * process-diff.js: colour a version diff on the diagrams (templates/processes/diff.html).
 * Each .jf-diff-diagram has data-url (the version's file), data-kind (bpmn|dmn) and
 * data-added / data-removed / data-changed (space-separated element ids). BPMN elements get the
 * markers jf-added / jf-removed / jf-changed; DMN cells and rows get jf-diff-cell-<kind>.
 * Each container sets data-jf-state="ready" when drawn (tests wait for it).
 */
(function () {
  'use strict';

  var KINDS = ['added', 'removed', 'changed'];

  function ids(el, kind) {
    return (el.dataset[kind] || '').split(' ').filter(Boolean);
  }

  function drawBpmn(el, xml) {
    var viewer = new BpmnJS({container: el});
    return viewer.importXML(xml).then(function () {
      var canvas = viewer.get('canvas');
      var registry = viewer.get('elementRegistry');
      KINDS.forEach(function (kind) {
        ids(el, kind).forEach(function (id) {
          if (registry.get(id)) {
            canvas.addMarker(id, 'jf-' + kind);
          }
        });
      });
      canvas.zoom('fit-viewport', 'auto');
    });
  }

  function drawDmn(el, xml) {
    // dmn-js drops common.additionalModules (Manager#_createViewer): translate per view
    var words = {additionalModules: [DmnJS.translateModule()]};
    var viewer = new DmnJS({container: el, drd: words, decisionTable: words,
      literalExpression: words, boxedExpression: words});
    return viewer.importXML(xml).then(function () {
      var table = viewer.getViews().filter(function (v) { return v.type === 'decisionTable'; })[0];
      return table ? viewer.open(table) : null;
    }).then(function () {
      Array.prototype.forEach.call(el.querySelectorAll('.input-variable, .output-variable'), function (node) {
        node.textContent = DmnJS.translate(node.textContent);
      });
      KINDS.forEach(function (kind) {
        ids(el, kind).forEach(function (id) {
          var selector = '[data-element-id="' + CSS.escape(id) + '"], [data-row-id="' + CSS.escape(id) + '"]';
          Array.prototype.forEach.call(el.querySelectorAll(selector), function (node) {
            node.classList.add('jf-diff-cell-' + kind);
          });
        });
      });
    });
  }

  function draw(el) {
    return fetch(el.dataset.url, {credentials: 'same-origin'}).then(function (r) {
      if (!r.ok) {
        throw new Error('HTTP ' + r.status);
      }
      return r.text();
    }).then(function (xml) {
      return el.dataset.kind === 'dmn' ? drawDmn(el, xml) : drawBpmn(el, xml);
    }).then(function () {
      el.dataset.jfState = 'ready';
    }).catch(function (error) {
      el.dataset.jfState = 'error';
      el.textContent = String(error.message || error);
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    Array.prototype.forEach.call(document.querySelectorAll('.jf-diff-diagram'), draw);
  });
})();
