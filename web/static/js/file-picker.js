/*
 * file-picker.js: the file fields' button and status line are drawn by the page (in its language),
 * because the browser's own "Choose Files / No file chosen" follows the browser's language, not
 * the page's. The native input stays in the form (visually hidden, still focusable); this script
 * only writes the chosen names into the status line.
 */
(function () {
  'use strict';

  function describe(input) {
    var status = document.getElementById(input.id + '-status');
    if (!status) { return; }
    var files = input.files || [];
    if (files.length === 0) {
      status.textContent = status.getAttribute('data-none');
    } else if (files.length === 1) {
      status.textContent = files[0].name;
    } else {
      status.textContent = status.getAttribute('data-many').replace('{n}', String(files.length)) +
        '：' + Array.prototype.map.call(files, function (f) { return f.name; }).join('、');
    }
  }

  document.addEventListener('change', function (event) {
    var input = event.target;
    if (input && input.classList && input.classList.contains('jf-file-input')) { describe(input); }
  });
}());
