/* The request form of a type whose form branches (dsr/web/forms.py BRANCHES), made quicker.
 *
 * A "Change to" link fetches that branch's form from the server and swaps the branch block
 * (templates/public/_branch.html) in place, so that what was typed in the rest of the form
 * stays; an input that is required only when a radio is chosen (`data-required-when`) gets
 * its mark and its `required` attribute in step with that radio. Without this script the
 * links load the page and the server checks everything: nothing here is needed. */
(function () {
  "use strict";

  function syncRequiredWhen() {
    document.querySelectorAll("input[data-required-when]").forEach(function (input) {
      var rule = input.getAttribute("data-required-when").split("=");
      var chosen = input.form && Array.prototype.find.call(
        input.form.querySelectorAll('input[type="radio"]:checked'),
        function (radio) { return radio.name === rule[0]; }
      );
      var on = Boolean(chosen) && chosen.value === rule[1];
      var mark = input.form && input.form.querySelector('label[for="' + input.id + '"] .req');
      input.required = on;
      if (mark) {
        mark.hidden = !on;
      }
    });
  }

  function replace(selector, page) {
    var here = document.querySelector(selector);
    var there = page.querySelector(selector);
    if (here && there) {
      here.replaceWith(document.adoptNode(there));
    }
  }

  function switchBranch(link) {
    var block = document.getElementById("branch");
    var form = block.closest("form");
    return fetch(link.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.text();
      })
      .then(function (text) {
        var page = new DOMParser().parseFromString(text, "text/html");
        var fresh = page.getElementById("branch");
        if (!fresh || !fresh.closest("form")) {
          throw new Error("no branch in " + link.href);
        }
        form.setAttribute("action", fresh.closest("form").getAttribute("action"));
        block.replaceWith(document.adoptNode(fresh));
        replace(".lang-switch", page);
        var summary = document.querySelector(".error-summary");
        if (summary) {
          summary.remove();
        }
        document.title = page.title;
        history.replaceState(null, "", link.href);
        syncRequiredWhen();
        fresh.querySelector(".branch-chosen").focus();
      });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-branch-switch]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) {
      return;
    }
    event.preventDefault();
    switchBranch(link).catch(function () {
      window.location.assign(link.href);
    });
  });
  document.addEventListener("change", function (event) {
    if (event.target.type === "radio") {
      syncRequiredWhen();
    }
  });
  syncRequiredWhen();
})();
