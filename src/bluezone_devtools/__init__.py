"""The warehouse's test bench: what exercises the product without being part of it.

``simulate`` writes a campaign's landing zone and its ground truth; ``measure`` scores the
data-quality checks against that truth; ``demo`` runs the real DAGs on a simulated campaign;
``distributed`` starts the distributed topology on localhost; ``commands`` adds their
subcommands to the ``bluezone`` console script. This package imports the warehouse
(``bluezone_warehouse``); the warehouse never imports it.
"""
