"""verify's reading of the web app's index.html: every same-origin script the page needs is fetched."""

from __future__ import annotations

from snowstack.verify import _script_paths

BUILT = """<!doctype html><html><head>
<script type="module" crossorigin src="/assets/index-CPYWoEaJ.js"></script>
<link rel="stylesheet" crossorigin href="/assets/index-C5BTsVnT.css">
<link rel="modulepreload" crossorigin href="/assets/vendor/react-DkV5j2J4.js">
<link rel="modulepreload" crossorigin href="/assets/vendor/react-dom-client-5OQY8gGX.js">
<link rel="icon" href="data:image/svg+xml,x" />
</head><body><div id="root"></div></body></html>"""


def test_the_entry_and_the_prebuilt_modules_it_preloads_not_styles_or_icons():
    assert _script_paths(BUILT) == [
        "/assets/index-CPYWoEaJ.js",
        "/assets/vendor/react-DkV5j2J4.js",
        "/assets/vendor/react-dom-client-5OQY8gGX.js",
    ]


def test_the_dev_servers_page():
    page = '<script type="module" src="/@vite/client"></script><script type="module" src="/src/main.tsx"></script>'
    assert _script_paths(page) == ["/@vite/client", "/src/main.tsx"]
