// The search box's suggestions as an ARIA combobox: htmx fills the listbox as the person
// types; this script opens and closes it, moves the active option with the arrow keys
// (aria-activedescendant: focus stays in the box), and puts the picked completion into the
// box on Enter or click. Without it the form still searches.
"use strict";
(function () {
  function setup() {
    var input = document.getElementById("search-q");
    var list = document.getElementById("search-suggestions");
    if (!input || !list) {
      return;
    }

    function options() {
      return Array.prototype.slice.call(list.querySelectorAll('[role="option"]'));
    }

    function active() {
      var id = input.getAttribute("aria-activedescendant");
      return id ? document.getElementById(id) : null;
    }

    function show(open) {
      list.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
      if (!open) {
        input.removeAttribute("aria-activedescendant");
        delete input.dataset.chosen;
      }
    }

    function highlight(option) {
      options().forEach(function (each) {
        each.setAttribute("aria-selected", each === option ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", option.id);
      input.dataset.chosen = option.getAttribute("data-query");
      option.scrollIntoView({block: "nearest"});
    }

    function move(step) {
      var all = options();
      var at = all.indexOf(active());
      var next = at < 0 ? (step > 0 ? 0 : all.length - 1) : (at + step + all.length) % all.length;
      show(true);
      highlight(all[next]);
    }

    function pick(option) {
      input.value = option.getAttribute("data-query");
      show(false);
      input.focus();
    }

    input.addEventListener("keydown", function (event) {
      if ((event.key === "ArrowDown" || event.key === "ArrowUp") && options().length) {
        event.preventDefault();
        move(event.key === "ArrowDown" ? 1 : -1);
      } else if (event.key === "Enter" && !list.hidden && active()) {
        event.preventDefault(); // pick the completion; the next Enter searches
        pick(active());
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        show(false);
      }
    });

    // htmx replaced the options. An answer that arrives after the person highlighted a
    // completion (typing paused, an earlier request came back late) keeps that completion
    // highlighted when it still offers it: Enter then picks what the person chose, not
    // the raw text. Otherwise the new list has no active option yet.
    document.addEventListener("htmx:afterSettle", function (event) {
      if (!event.detail || event.detail.target !== list) {
        return;
      }
      var chosen = input.dataset.chosen;
      var again = options().filter(function (each) {
        return each.getAttribute("data-query") === chosen;
      })[0];
      input.removeAttribute("aria-activedescendant");
      delete input.dataset.chosen;
      show(options().length > 0 && document.activeElement === input);
      if (again && !list.hidden) {
        highlight(again);
      }
    });

    // a press on an option must not blur the box first (the list would close under it)
    list.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
    list.addEventListener("click", function (event) {
      var option = event.target.closest('[role="option"]');
      if (option) {
        pick(option);
      }
    });
    input.addEventListener("blur", function () {
      show(false);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
