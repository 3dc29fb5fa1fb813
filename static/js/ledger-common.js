/* Commons Ledger, book pages: small behaviours shared by every page (no inline script: CSP).
 * SPDX-License-Identifier: AGPL-3.0-or-later */
(function () {
  "use strict";
  // Lets the stylesheet show controls that only work with JavaScript (.js-only).
  document.documentElement.classList.add("js");

  // <form data-confirm="…">: ask before a step that cannot be undone (discard, reverse, close).
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var text = form && form.getAttribute && form.getAttribute("data-confirm");
    if (text && !window.confirm(text)) {
      ev.preventDefault();
    }
  });
})();
