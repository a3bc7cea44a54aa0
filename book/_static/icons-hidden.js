// The theme's icons are Font Awesome web-font glyphs in <i> elements (the course drops the theme's 1.5 MB icon
// script, see book/_templates/static/webpack-macros.html). Screen readers would meet each glyph as a private-use
// character inside the buttons' names: the icons are decoration, the buttons have their own labels.
document.addEventListener("DOMContentLoaded", () => {
  for (const icon of document.querySelectorAll('i[class*="fa-"], span[class*="fa-"]:empty')) {
    icon.setAttribute("aria-hidden", "true");
  }
});
