(function () {
  "use strict";
  // Citation popovers. Data comes from the JSON block and is only ever set as textContent.
  var data = JSON.parse(document.getElementById("cite-data").textContent || "{}");
  var pop = document.getElementById("pop");
  var pinned = null;
  var shown = null;

  function set(sel, text) { pop.querySelector(sel).textContent = text; }

  function place(btn) {
    if (window.matchMedia("(max-width: 600px)").matches) return;
    var r = btn.getBoundingClientRect();
    var width = pop.offsetWidth;
    var page = document.documentElement.clientWidth;
    var left = Math.max(8, Math.min(r.left + r.width / 2 - width / 2, page - width - 8));
    var top = r.bottom + 6;
    if (top + pop.offsetHeight > window.innerHeight && r.top - pop.offsetHeight - 6 > 0) {
      top = r.top - pop.offsetHeight - 6;
    }
    pop.style.left = left + window.scrollX + "px";
    pop.style.top = top + window.scrollY + "px";
  }

  function show(btn) {
    var c = data[btn.getAttribute("data-cite")];
    if (!c) return;
    if (shown && shown !== btn) shown.setAttribute("aria-expanded", "false");
    set("#pop-outlet", c.outlet);
    set(".pop-title", c.title);
    set(".pop-before", c.before);
    set(".pop-quote", c.quote);
    set(".pop-after", c.after);
    set(".pop-where", c.article + ", chars " + c.start + "\u2013" + c.end);
    pop.hidden = false;
    btn.setAttribute("aria-expanded", "true");
    shown = btn;
    place(btn);
  }

  function hide() {
    if (shown) shown.setAttribute("aria-expanded", "false");
    pop.hidden = true;
    shown = null;
    pinned = null;
  }

  document.addEventListener("click", function (e) {
    var btn = e.target.closest(".cite");
    if (btn) {
      if (pinned === btn) { hide(); return; }
      show(btn);
      pinned = btn;
    } else if (e.target.closest(".pop-close") || !pop.contains(e.target)) {
      var back = pinned;
      hide();
      if (back && e.target.closest(".pop-close")) back.focus();
    }
  });
  document.addEventListener("mouseover", function (e) {
    var btn = e.target.closest && e.target.closest(".cite");
    if (btn && !pinned) show(btn);
  });
  document.addEventListener("mouseout", function (e) {
    var btn = e.target.closest && e.target.closest(".cite");
    if (btn && !pinned && shown === btn) hide();
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && shown) {
      var back = shown;
      hide();
      back.focus();
    }
  });
  window.addEventListener("resize", function () { if (shown) place(shown); });
})();
