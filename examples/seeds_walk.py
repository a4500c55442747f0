"""A walk through the seed tutorials' examples, run unchanged under ``import autojac as torch``.

Where a seed drew random numbers without a seed, the values it printed are used instead. The
examples live in ``autojac.cli.tour`` (``autojac tour`` shows them with their formulas and checks);
this script prints only what the seeds printed.
"""

from autojac.cli.tour import walk

if __name__ == '__main__':
    walk()
