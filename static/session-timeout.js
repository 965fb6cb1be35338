/* The idle-timeout warning (WCAG 2.2.1 Timing Adjustable): two minutes before the server ends
   an idle session, offer to stay logged in; one press sends POST /session/keepalive (an
   ordinary request, which counts as activity; answered 204) and the clock starts again.
   Typing in a form does not reach the server, so without this a long statement would meet
   the login page. Pages work without it: nothing here is needed to use the portal. */
(function () {
  "use strict";
  var panel = document.getElementById("session-timeout");
  if (!panel) { return; }
  var idle = Number(panel.getAttribute("data-idle-seconds")) * 1000;
  var warn = Number(panel.getAttribute("data-warn-seconds")) * 1000;
  var form = panel.querySelector("form");
  var text = panel.querySelector("[data-text]");
  var expired = panel.querySelector("[data-expired]");
  var lastActive = Date.now();
  var timer = null;

  function schedule() {
    clearTimeout(timer);
    var left = lastActive + idle - Date.now();
    if (left <= 0) {
      form.hidden = true;
      text.hidden = true;
      expired.hidden = false;
      panel.hidden = false;
    } else if (left <= warn) {
      if (panel.hidden) {
        panel.hidden = false;
        form.querySelector("button").focus();
      }
      timer = setTimeout(schedule, left);
    } else {
      panel.hidden = true;
      timer = setTimeout(schedule, left - warn);
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin"})
      .then(function (answer) {
        if (answer.status === 204) {
          lastActive = Date.now();
          schedule();
        } else {
          lastActive = 0;
          schedule();
        }
      });
  });
  /* htmx requests made by the person (not the bell's poll, which does not count) renew it */
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var path = event.detail && event.detail.pathInfo && event.detail.pathInfo.requestPath;
    if (path && path.indexOf("/notices/bell") !== 0 && event.detail.successful) {
      lastActive = Date.now();
      schedule();
    }
  });
  schedule();
}());
