// Marks the boxes whose content is wider than the box (display equations, code, outputs,
// tables, figures on a phone), so that book.css shades the side where there is more to
// see. The marks follow the box's own scrolling, a resize, and MathJax's typesetting.
(function () {
  const BOXES = [
    ".bd-article div.math",
    ".bd-article mjx-container[display='true']",
    ".bd-article div.highlight pre",
    ".bd-article .table-wrapper",
    ".bd-article figure",
  ].join(", ");

  function mark(box) {
    const hidden = box.scrollWidth - box.clientWidth;
    box.classList.toggle("book-more-left", hidden > 1 && box.scrollLeft > 1);
    box.classList.toggle("book-more-right", hidden > 1 && box.scrollLeft < hidden - 1);
  }

  function markAll() {
    document.querySelectorAll(BOXES).forEach(mark);
  }

  document.addEventListener("scroll", (event) => {
    if (event.target instanceof Element && event.target.matches(BOXES)) mark(event.target);
  }, true);
  window.addEventListener("resize", markAll);
  window.addEventListener("load", () => {
    markAll();
    if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
      window.MathJax.startup.promise.then(markAll);
    }
  });
})();
