"""The labelled route: find and check inputs, run a method through ``xr.apply_ufunc``, label.

- :mod:`.inputs`: finding and checking inputs, with errors that name them;
- :mod:`.names`: names, units, formulas and references that label results;
- :mod:`.route`: :func:`~.route.evaluate`, the one route, and ``overlap``, ``integrate``;
- :mod:`.focusing`: Boyd and Kleinman's h with walk-off and absorption.
"""
