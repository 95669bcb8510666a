// Added to the pages only by `cargo xtask book --serve`: asks the server for its build number once a second and
// reloads the page when the book was rebuilt.
(function () {
  "use strict";
  var seen = null;
  setInterval(function () {
    fetch("/__build", { cache: "no-store" }).then(function (r) { return r.text(); }).then(function (build) {
      if (seen !== null && build !== seen) { location.reload(); }
      seen = build;
    }).catch(function () { /* the server stopped: keep the page as it is */ });
  }, 1000);
})();
