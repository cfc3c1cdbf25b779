/* The HSH admin's own script (templates/admin/base_site.html).
 *
 * The admin's autocomplete fields (select2) name their combobox after the chosen value
 * only: with nothing chosen a screen reader hears no name (axe-core's
 * aria-input-field-name). Name each one after its field's label as well. */
(function () {
  "use strict";
  function nameAutocompletes() {
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var label = select.id && document.querySelector('label[for="' + select.id + '"]');
      var container = select.nextElementSibling;
      if (!label || !container || !container.classList.contains("select2")) return;
      if (!label.id) label.id = "label-" + select.id;
      var combobox = container.querySelector('[role="combobox"]');
      var rendered = container.querySelector(".select2-selection__rendered");
      if (combobox) {
        var names = [label.id];
        if (rendered && rendered.id) names.push(rendered.id);
        combobox.setAttribute("aria-labelledby", names.join(" "));
      }
      if (rendered) rendered.setAttribute("aria-labelledby", label.id);
    });
  }
  // select2 draws its boxes when jQuery is ready, which may come after the page's load
  // event: name them whenever one appears.
  function watch() {
    nameAutocompletes();
    new MutationObserver(function (changes) {
      var drawn = changes.some(function (change) {
        return Array.prototype.some.call(change.addedNodes, function (node) {
          return node.classList && node.classList.contains("select2");
        });
      });
      if (drawn) nameAutocompletes();
    }).observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", watch);
  } else {
    watch();
  }
})();
