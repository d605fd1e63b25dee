"""keyprov-lab harness: adapters, runner, results, reports and the ``kplab`` CLI."""

__version__ = "0.1.0"
