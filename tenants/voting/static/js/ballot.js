/* The ballot, enhanced: as choices change, the selection is sent (fetch, JSON, the form's
   CSRF token in a header) to the draft endpoint, which keeps it when signed in and answers
   where it stands; the counter, the disabled projects and their reasons follow. Without
   this script the same form works with its Update button. */
(function () {
  "use strict";
  var form = document.querySelector("form.ballot-form[data-draft-url]");
  if (!form || !window.fetch) { return; }
  var kind = form.getAttribute("data-ballot");
  var summary = form.querySelector("[data-standing-summary]");
  var state = form.querySelector("[data-standing-state]");
  var token = form.querySelector("input[name=csrf_token]");
  var pending = null;
  var sent = 0;

  function selection() {
    var chosen = {};
    form.querySelectorAll("[data-project]").forEach(function (item) {
      var id = item.getAttribute("data-project");
      var input = item.querySelector("input, select");
      if (!input || input.disabled) { return; }
      if (input.type === "checkbox") {
        if (input.checked) { chosen[id] = 1; }
      } else if (input.value !== "" && /^[0-9]+$/.test(input.value) && input.value !== "0") {
        chosen[id] = parseInt(input.value, 10);
      }
    });
    return chosen;
  }

  function show(answer) {
    if (summary && answer.summary) { summary.textContent = answer.summary; }
    if (state) { state.textContent = answer.state || ""; }
    Object.keys(answer.projects || {}).forEach(function (id) {
      var item = form.querySelector('[data-project="' + id + '"]');
      if (!item) { return; }
      var room = answer.projects[id];
      var input = item.querySelector("input, select");
      if (input) {
        input.disabled = room.disabled;
        if (input.type === "number") { input.max = String(room.max); }
      }
      item.classList.toggle("is-blocked", Boolean(room.why));
      item.classList.toggle("is-chosen", room.value > 0);
      var why = item.querySelector("[data-why]");
      if (why) { why.textContent = room.why || ""; }
    });
  }

  function send() {
    var mine = ++sent;
    fetch(form.getAttribute("data-draft-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token ? token.value : "" },
      body: JSON.stringify({ selection: selection() })
    }).then(function (response) {
      return response.json().then(function (answer) { return { ok: response.ok, answer: answer }; });
    }).then(function (result) {
      if (mine !== sent) { return; } /* a later change is on its way */
      if (result.ok) {
        show(result.answer);
      } else if (summary && result.answer.message) {
        state.textContent = result.answer.message;
      }
    }).catch(function () { /* offline: the Update button still works */ });
  }

  form.addEventListener("change", function () {
    if (pending) { clearTimeout(pending); }
    pending = setTimeout(send, kind === "cumulative" ? 250 : 0);
  });
  form.addEventListener("input", function (event) {
    if (event.target && event.target.type === "number") {
      if (pending) { clearTimeout(pending); }
      pending = setTimeout(send, 400);
    }
  });
}());
