// Loaded just before the ipywidgets embed manager (first entry of nb_ipywidgets_js in
// _config.yml), from the site's own _assets/ folder.
(function () {
  "use strict";
  // embed-amd.js (in jupyter-widgets/ next to this file) loads its icon fonts relative to
  // the URL under which RequireJS knows its modules; RequireJS would otherwise put them
  // under the page's folder. A global `require` object is RequireJS's configuration.
  var dist = new URL("jupyter-widgets/", document.currentScript.src).href;
  window.__jupyter_widgets_assets_path__ = dist;
  window.require = { paths: { "@jupyter-widgets/html-manager/dist": dist.replace(/\/$/, "") } };

  // ipywidgets 8 typesets widget labels with MathJax 2's API, MathJax.Hub.Queue(...).
  // The site serves MathJax 3, which has no Hub: give every object that becomes
  // window.MathJax (the configuration first, then MathJax 3 itself) a Hub that typesets
  // through MathJax 3 once it has started.
  function typeset(element, triesLeft) {
    var mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise && mj.typesetPromise) {
      mj.startup.promise
        .then(function () { return mj.typesetPromise([element]); })
        .catch(function (err) { console.warn("MathJax could not typeset a widget label", err); });
    } else if (triesLeft > 0) {
      setTimeout(function () { typeset(element, triesLeft - 1); }, 50);
    }
  }
  var hub = {
    Queue: function () {
      for (var i = 0; i < arguments.length; i++) {
        var job = arguments[i];
        if (Array.isArray(job) && job[0] === "Typeset" && job[2]) typeset(job[2], 200);
      }
    },
  };
  var current = window.MathJax;
  function withHub(value) {
    if (value && typeof value === "object" && !value.Hub) {
      Object.defineProperty(value, "Hub", { value: hub, enumerable: false, configurable: true });
    }
    return value;
  }
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    enumerable: true,
    get: function () { return current; },
    set: function (value) { current = withHub(value); },
  });
  withHub(current);
})();
