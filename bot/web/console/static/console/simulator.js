// The console simulator: posts each message to /console/simulator/send with the CSRF
// token in a header; replies are shown as text (never as HTML).
(function () {
  "use strict";
  var root = document.getElementById("sim");
  if (!root) { return; }
  var log = document.getElementById("sim-log");
  function add(text, cls) {
    var p = document.createElement("p");
    p.className = "m " + cls;
    p.dir = "auto";
    p.textContent = text;
    log.appendChild(p);
    log.scrollTop = log.scrollHeight;
  }
  var words = JSON.parse(root.dataset.words || "{}");
  function send(body) {
    add(body, "in");
    fetch(root.dataset.send, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": root.dataset.csrf},
      body: JSON.stringify({
        body: body,
        from: document.getElementById("sim-from").value,
        channel: document.getElementById("sim-channel").value
      })
    }).then(function (r) { return r.json(); }).then(function (j) {
      if (j.error) { add("! " + j.error, "out"); return; }
      j.replies.forEach(function (t) { add(t, "out"); });
    }).catch(function () { add("! network error", "out"); });
  }
  document.getElementById("sim-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = document.getElementById("sim-body");
    var body = input.value;
    input.value = "";
    send(body);
  });
  document.getElementById("sim-start").addEventListener("click", function () {
    send(words[document.getElementById("sim-lang").value] || "hi");
  });
}());
