"""A Jupyter server extension that keeps trainee content from running script in an instructor's formgrader.

nbgrader's formgrader (0.9.6) is a page of the instructor's own JupyterLab: a script that runs there can do anything
the instructor can, run code included. What a trainee handed in is cleaned before it is shown
(grading/safe_display.py); this extension is the second wall, and closes two more doors:

- every formgrader response carries a Content-Security-Policy without ``'unsafe-inline'``: nbgrader's own inline
  scripts get a fresh nonce per page, and on a submission's page only those before the trainee's notebook begins (the
  template writes all of its own there); its three inline ``onclick`` handlers are allowed by hash. A script, an
  ``onerror=`` or a ``javascript:`` link in a submission does not run, and neither does anything in a file a trainee
  handed in beside the notebook (served under /formgrader/submissions/, never given a nonce);
- a formgrader page address holding ``<``, ``>``, quotes or a backslash is refused: nbgrader writes parts of the
  address into its inline scripts unescaped, so a link a trainee sends the instructor could inject script;
- the page's MathJax, from a CDN, is switched off (see MATHJAX below);
- ``/formgrader?path=FOLDER`` is refused: nbgrader would load FOLDER/nbgrader_config.py (Python) as the instructor, so
  a link to a folder a trainee can write (the exchange's inbound folder) would run the trainee's code.

Switched on for the course's JupyterLab by local_lab.py (and for the hub's servers by machine.py).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import unquote

from tornado import web

HANDLERS = ("toggle_name(true);", "toggle_name(false);", "toggleAllNames()")  # nbgrader's inline onclick attributes
HANDLER_HASHES = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()}'"
                          for code in HANDLERS)
FORMGRADER = re.compile(r"/formgrader(/|$)")
# The formgrader's pages rendered from nbgrader's templates (the only responses whose scripts get the nonce).
PAGES = re.compile(r".*/formgrader(/(manage_assignments|manage_submissions/[^/]+|gradebook(/[^/]+){0,2}"
                   r"|manage_students(/[^/]+){0,2}|submissions/[^/]+))?/?")
TRAINEE_CONTENT = b'id="notebook-container"'  # where a submission's page starts showing the trainee's notebook
SCRIPT = re.compile(rb"<script(?=[\s>])", re.IGNORECASE)
UNSAFE_ADDRESS = re.compile(r"[<>\"'`\\]")
# A submission's page loads MathJax 2 from a CDN (nbconvert's mathjax macro), which the policy blocks, as hospital
# networks do; nbgrader's page script then stopped at "MathJax is not defined" before it set up the keyboard shortcuts
# and focused the first grade box. The course's quizzes hold no mathematics, and a trainee's text is best shown as
# written, so the CDN script and its configuration give way to a stand-in for the one MathJax call the page makes: it
# waits for MathJax's "End" signal, which the stand-in gives at once.
MATHJAX = re.compile(rb'<script[^>]*\ssrc="https?://[^"]*mathjax[^"]*"[^>]*>\s*</script>'
                     rb'(\s*<!-- MathJax configuration -->\s*<script type="text/x-mathjax-config">.*?</script>)?',
                     re.IGNORECASE | re.DOTALL)
MATHJAX_OFF = (b'<script>window.MathJax = {Hub: {Config: function () {}, Queue: function () {}, Startup: {signal: '
               b'{Interest: function (listener) { setTimeout(function () { listener("End"); }, 0); }}}}};</script>')


def policy(nonce: str) -> str:
    return (f"default-src 'self'; script-src 'self' 'nonce-{nonce}' 'unsafe-hashes' {HANDLER_HASHES}; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; object-src 'none'; "
            "base-uri 'self'; form-action 'self'; frame-ancestors 'self'")


def with_nonce(body: bytes, nonce: str) -> bytes:
    """nbgrader's own scripts with the nonce: all of a template page's, and on a submission's page those before the
    trainee's notebook (nothing of the trainee's comes before it)."""
    end = body.find(TRAINEE_CONTENT)
    own, rest = (body, b"") if end < 0 else (body[:end], body[end:])
    own = MATHJAX.sub(MATHJAX_OFF, own)
    return SCRIPT.sub(b'<script nonce="' + nonce.encode() + b'"', own) + rest


class FormgraderPolicy(web.OutputTransform):
    """Adds the policy to every formgrader response, and the nonce to nbgrader's own scripts in its pages."""

    def __init__(self, request):
        super().__init__(request)
        self.path = request.path
        self.guarded = bool(FORMGRADER.search(request.path))

    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        if not self.guarded:
            return status_code, headers, chunk
        nonce = secrets.token_urlsafe(18)
        headers["Content-Security-Policy"] = policy(nonce)
        headers["X-Content-Type-Options"] = "nosniff"
        if UNSAFE_ADDRESS.search(unquote(self.path)):
            headers["Content-Type"] = "text/plain; charset=UTF-8"
            headers["Content-Length"] = "0"
            headers.pop("Etag", None)
            return 400, headers, b""
        page = PAGES.fullmatch(self.path) and headers.get("Content-Type", "").startswith("text/html")
        if page and finishing and status_code == 200:
            chunk = with_nonce(chunk, nonce)
            headers["Content-Length"] = str(len(chunk))
            headers["Cache-Control"] = "no-store"  # a cached page would keep an old nonce
            headers.pop("Etag", None)
        return status_code, headers, chunk


def _formgrader_without_path():
    from nbgrader.server_extensions.formgrader.handlers import FormgraderHandler

    class FormgraderWithoutPath(FormgraderHandler):
        """nbgrader's /formgrader, without its ``?path=`` switch to another folder's Python configuration."""

        @web.authenticated
        def get(self):
            if "nbgrader_formgrader" not in self.settings:  # nbgrader's formgrader is off (a trainee's server)
                raise web.HTTPError(404)
            if self.get_argument("path", ""):
                raise web.HTTPError(400, "The course's formgrader does not switch courses by address")
            return super().get()

    return FormgraderWithoutPath


def _jupyter_server_extension_points():
    return [{"module": "massage_course.hub.lab_guard"}]


def _load_jupyter_server_extension(serverapp):
    webapp = serverapp.web_app
    webapp.transforms.insert(0, FormgraderPolicy)  # before any compression, so it reads the page as written
    base = webapp.settings.get("base_url", "/").rstrip("/")
    # Extensions load in name order, so these rules come before nbgrader's own and answer first.
    webapp.add_handlers(".*$", [(rf"{re.escape(base)}/formgrader/?", _formgrader_without_path())])
    serverapp.log.info("massage_course: formgrader pages served with a Content-Security-Policy")


load_jupyter_server_extension = _load_jupyter_server_extension
