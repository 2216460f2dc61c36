"""Hypothesis profiles for the property tests, chosen with NAPKIN_HYPOTHESIS_PROFILE.

``ci`` (the default) keeps the suite short; ``thorough`` draws 10,000 examples per property for
a dedicated run (see DEVELOPERS.md). Neither sets a deadline, because one example of the layout
search or of a 6-layer model takes milliseconds and a shared CI runner can stall for seconds.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", max_examples=200, deadline=None)
settings.register_profile("thorough", max_examples=10_000, deadline=None)
PROFILE = os.environ.get("NAPKIN_HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


def pytest_report_header() -> str:
    return f"hypothesis profile: {PROFILE} ({settings.default.max_examples:,} examples per property)"
