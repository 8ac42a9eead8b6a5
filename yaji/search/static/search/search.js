/* Suggestions as you type in the header search box: a few lines of vanilla JS over
   GET /api/v1/search/suggest?q=, keyboard-operable (ARIA combobox + listbox). */
(function () {
  "use strict";
  var SOURCE = { title: "作品", attribute: "工艺 · 年代", category: "分类", tag: "标签", shop: "店铺" };
  var SOURCE_EN = { title: "Item", attribute: "Craft · era", category: "Category", tag: "Tag", shop: "Shop" };

  function setup(form) {
    var input = form.querySelector("input[name=q]");
    var list = form.querySelector("[role=listbox]");
    var url = form.getAttribute("data-suggest-url");
    var english = (document.documentElement.lang || "").indexOf("en") === 0;
    var timer = null, active = -1, items = [], last = "", controller = null;

    function close() {
      list.hidden = true; input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant"); active = -1;
    }
    function highlight(index) {
      var options = list.querySelectorAll("li");
      options.forEach(function (li, i) { li.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0) input.setAttribute("aria-activedescendant", options[index].id);
    }
    function go(item) { window.location.href = item.url; }
    function render(suggestions) {
      items = suggestions; list.textContent = "";
      if (!suggestions.length) { close(); return; }
      suggestions.forEach(function (s, i) {
        var li = document.createElement("li");
        li.id = "site-search-option-" + i; li.setAttribute("role", "option");
        var text = document.createElement("span");
        text.textContent = english && s.text_en ? s.text_en : s.text;
        if (!english && s.text_en) {
          var en = document.createElement("span"); en.className = "suggest-en"; en.lang = "en";
          en.textContent = " " + s.text_en; text.appendChild(en);
        }
        var source = document.createElement("span"); source.className = "suggest-source";
        source.textContent = (english ? SOURCE_EN : SOURCE)[s.source] || "";
        li.appendChild(text); li.appendChild(source);
        li.addEventListener("mousedown", function (event) { event.preventDefault(); go(s); });
        list.appendChild(li);
      });
      list.hidden = false; input.setAttribute("aria-expanded", "true"); active = -1;
    }
    function fetchSuggestions() {
      var q = input.value.trim();
      if (q === last) return;
      last = q;
      if (!q) { render([]); return; }
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      fetch(url + "?q=" + encodeURIComponent(q.slice(0, 100)), {
        headers: { Accept: "application/json" }, signal: controller ? controller.signal : undefined
      }).then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
        .then(function (data) { if (input.value.trim() === q) render(data.suggestions || []); })
        .catch(function () {});
    }
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(fetchSuggestions, 120); });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "ArrowDown") { event.preventDefault(); highlight((active + 1) % items.length); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(active <= 0 ? items.length - 1 : active - 1); }
      else if (event.key === "Escape") { close(); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); go(items[active]); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }

  function init() { document.querySelectorAll("form.site-search[data-suggest-url]").forEach(setup); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
