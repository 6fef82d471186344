/*
 * dom.js: the one element builder the workbench scripts share (no innerHTML: text stays text).
 *
 *   JiefenDom.el(tag, {text, className, ...attributes}, [children])
 */
(function () {
  'use strict';

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === 'text') {
        node.textContent = attrs[key];
      } else if (key === 'className') {
        node.className = attrs[key];
      } else {
        node.setAttribute(key, attrs[key]);
      }
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  window.JiefenDom = {el: el};
}());
