"""Headless Chromium options shared by the page test and ``benchmarks/serve.py``.

``tests/test_serve.py`` opens the page of ``skanime serve`` in Chromium and
``benchmarks/serve.py`` takes the documentation's screenshot of it; both start
the browser the same way. Nothing here is used by the package itself.
"""

#: Flags for a quiet headless Chromium: no GPU, no sandbox (containers), no
#: first-run, background or update traffic, no reliance on a small /dev/shm.
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def headless_chrome_options(webdriver, binary, profile, *, window_size, extra=()):
    """Selenium options for headless Chromium.

    Parameters
    ----------
    webdriver : module
        ``selenium.webdriver``.
    binary : str
        Path of the Chromium executable.
    profile : str or path-like
        Folder for the browser's user data (a fresh one per run).
    window_size : tuple of int
        Width and height of the window, in pixels.
    extra : iterable of str, default=()
        Further command-line flags.
    """
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    width, height = window_size
    for flag in (
        *HEADLESS_FLAGS,
        f"--window-size={width},{height}",
        *extra,
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    return options
