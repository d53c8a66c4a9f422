// The condition picker: turns <select multiple data-condition-picker> (which works on its own without
// JavaScript) into a type-ahead with everyday names, following the WAI-ARIA combobox pattern: an input
// with role=combobox, a listbox of suggestions (arrow keys, Enter, Escape), the chosen conditions as a
// list with remove buttons, and a polite live region saying how many suggestions there are.
// A static file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var MAX = 8;

  function fold(text) {
    return (text || "").toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  function enhance(select) {
    var options = Array.prototype.slice.call(select.options).map(function (option) {
      return {
        option: option,
        label: option.textContent,
        terms: fold(option.getAttribute("data-terms") || option.textContent),
        labelFolded: fold(option.textContent),
      };
    });
    var baseId = select.id || "conditions";
    var label = document.querySelector('label[for="' + baseId + '"]');
    var wrapper = document.createElement("div");
    wrapper.className = "picker";

    var chosen = document.createElement("ul");
    chosen.className = "picker-chosen";
    chosen.setAttribute("aria-label", "Chosen conditions");

    var input = document.createElement("input");
    input.type = "text";
    input.id = baseId + "_search";
    input.autocomplete = "off";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", baseId + "_listbox");
    input.placeholder = "Start typing a condition";
    var help = select.getAttribute("aria-describedby");
    if (help) { input.setAttribute("aria-describedby", help); }

    var listbox = document.createElement("ul");
    listbox.id = baseId + "_listbox";
    listbox.className = "picker-options";
    listbox.setAttribute("role", "listbox");
    if (label) {
      label.htmlFor = input.id;
      if (!label.id) { label.id = baseId + "_label"; }
      listbox.setAttribute("aria-labelledby", label.id);
    } else {
      input.setAttribute("aria-label", "Conditions");
      listbox.setAttribute("aria-label", "Conditions");
    }

    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");

    var active = -1;
    var shown = [];

    function renderChosen() {
      chosen.innerHTML = "";
      options.forEach(function (entry) {
        if (!entry.option.selected) { return; }
        var item = document.createElement("li");
        var text = document.createElement("span");
        text.textContent = entry.label;
        var remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "×";
        remove.setAttribute("aria-label", "Remove " + entry.label);
        remove.addEventListener("click", function () {
          entry.option.selected = false;
          renderChosen();
          status.textContent = entry.label + " removed.";
          input.focus();
        });
        item.appendChild(text);
        item.appendChild(remove);
        chosen.appendChild(item);
      });
    }

    function close() {
      listbox.innerHTML = "";
      shown = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function choose(entry) {
      entry.option.selected = true;
      input.value = "";
      close();
      renderChosen();
      status.textContent = entry.label + " added.";
    }

    function highlight(index) {
      active = index;
      Array.prototype.forEach.call(listbox.children, function (item, position) {
        item.setAttribute("aria-selected", String(position === index));
      });
      if (index >= 0 && listbox.children[index]) {
        input.setAttribute("aria-activedescendant", listbox.children[index].id);
        listbox.children[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function search() {
      var words = fold(input.value).split(/\s+/).filter(Boolean);
      close();
      if (!words.length) { status.textContent = ""; return; }
      shown = options
        .filter(function (entry) {
          return !entry.option.selected && words.every(function (word) { return entry.terms.indexOf(word) !== -1; });
        })
        .sort(function (a, b) {
          var first = words[0];
          var rank = function (entry) {
            if (entry.labelFolded.indexOf(first) === 0) { return 0; }
            if (entry.labelFolded.indexOf(first) !== -1) { return 1; }
            return 2;
          };
          return rank(a) - rank(b) || a.labelFolded.localeCompare(b.labelFolded);
        })
        .slice(0, MAX);
      shown.forEach(function (entry, index) {
        var item = document.createElement("li");
        item.id = baseId + "_option_" + index;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.textContent = entry.label;
        item.addEventListener("mousedown", function (event) { event.preventDefault(); });
        item.addEventListener("click", function () { choose(entry); input.focus(); });
        listbox.appendChild(item);
      });
      input.setAttribute("aria-expanded", String(shown.length > 0));
      status.textContent = shown.length ? shown.length + " suggestions, use the arrow keys to choose." : "No condition matches.";
    }

    input.addEventListener("input", search);
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && shown.length) {
        event.preventDefault();
        highlight((active + 1) % shown.length);
      } else if (event.key === "ArrowUp" && shown.length) {
        event.preventDefault();
        highlight(active <= 0 ? shown.length - 1 : active - 1);
      } else if (event.key === "Enter") {
        if (shown.length) {
          event.preventDefault();
          choose(shown[active >= 0 ? active : 0]);
        }
      } else if (event.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 150); });

    select.hidden = true;
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
    wrapper.appendChild(chosen);
    wrapper.appendChild(input);
    wrapper.appendChild(listbox);
    wrapper.appendChild(status);
    select.parentNode.insertBefore(wrapper, select);
    renderChosen();
  }

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  ready(function () {
    Array.prototype.forEach.call(document.querySelectorAll("select[multiple][data-condition-picker]"), enhance);
  });
})();
