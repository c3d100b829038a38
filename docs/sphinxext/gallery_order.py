"""Reading order of the example gallery."""

from pathlib import Path

#: Examples in the order a reader meets the topics: the data, training,
#: evaluation, tuning, then explanations. Unlisted examples come last,
#: sorted by file name.
EXAMPLE_ORDER = (
    "plot_genre_cooccurrence.py",
    "plot_synopsis_map.py",
    "plot_loss_curves.py",
    "plot_per_genre_f1.py",
    "plot_threshold_curve.py",
    "plot_grid_search_gamma_threshold.py",
    "plot_gamma_rare_genres.py",
    "plot_explain.py",
)


class ExampleOrder:
    """Sort key for ``sphinx_gallery_conf["within_subsection_order"]``."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = Path(filename).name
        if name in EXAMPLE_ORDER:
            return (0, EXAMPLE_ORDER.index(name), name)
        return (1, 0, name)

    def __repr__(self):
        return f"<{type(self).__name__}>"
