// The findings browser: apply a filter as soon as a box is ticked (the form is a plain GET
// form, so without this script the "Apply filters" button does the same; the URL holds the
// whole state, so the back button and shared links work either way).
(function () {
  "use strict";
  var form = document.getElementById("findings-filters");
  if (!form) { return; }
  form.addEventListener("change", function (event) {
    if (event.target && event.target.type === "checkbox") {
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    }
  });
})();
