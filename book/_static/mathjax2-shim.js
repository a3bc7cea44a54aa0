// The widget renderer (@jupyter-widgets/html-manager 1.0.6) typesets widget text with MathJax 2's API,
// MathJax.Hub.Queue; the site serves MathJax 3, which has no Hub, so a page with both math and widgets threw an
// error. Whatever object becomes window.MathJax (the page's configuration, then MathJax 3 itself) gets a Hub whose
// Queue asks MathJax 3 to typeset the element instead.
(function () {
  var current = window.MathJax;
  function withHub(mathjax) {
    if (mathjax && typeof mathjax === "object" && !mathjax.Hub) {
      mathjax.Hub = {
        Queue: function (job) {
          var element = job && job[2];
          if (window.MathJax && window.MathJax.typesetPromise) {
            window.MathJax.typesetPromise(element ? [element] : undefined).catch(function () {});
          }
        },
      };
    }
    return mathjax;
  }
  Object.defineProperty(window, "MathJax", {
    configurable: true,
    get: function () { return current; },
    set: function (value) { current = withHub(value); },
  });
  current = withHub(current);
})();
