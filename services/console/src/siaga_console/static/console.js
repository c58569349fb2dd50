// Siaga console: live updates over Server-Sent Events, and select boxes that submit themselves.
(function () {
  "use strict";
  function autosubmit(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
      sel.addEventListener("change", function () { sel.form.submit(); });
    });
  }
  autosubmit(document);
  var content = document.getElementById("content");
  var state = document.getElementById("live-state");
  if (!content || !window.EventSource) { return; }
  var url = content.getAttribute("data-live");
  if (!url) { return; }
  function show(on) {
    if (!state) { return; }
    state.className = "live " + (on ? "on" : "off");
    state.textContent = state.getAttribute(on ? "data-on" : "data-off");
  }
  function openDetails() {
    // keep what the person opened open across an update
    return Array.prototype.map.call(content.querySelectorAll("details[open]"), function (d) {
      return d.querySelector("summary") ? d.querySelector("summary").textContent : "";
    });
  }
  var source = new EventSource(url);
  source.addEventListener("open", function () { show(true); });
  source.addEventListener("error", function () { show(false); });
  source.addEventListener("update", function (ev) {
    var active = document.activeElement;
    if (active && content.contains(active) && (active.tagName === "INPUT" || active.tagName === "SELECT")) {
      return; // someone is typing: the next change brings the update
    }
    var opened = openDetails();
    content.innerHTML = ev.data;
    content.querySelectorAll("details").forEach(function (d) {
      var s = d.querySelector("summary");
      if (s && opened.indexOf(s.textContent) >= 0) { d.open = true; }
    });
    autosubmit(content);
    content.setAttribute("data-updated", String(Date.now()));
  });
})();
