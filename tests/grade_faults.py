"""A faulty grading task for tests/test_grade.py: students named hang, hog and crash misbehave.

Sent to the Dask workers by value (cloudpickle), since the workers cannot import the tests.
"""
from __future__ import annotations

import os
import time


def faulty_task(manifest, subs, scheme, digest, time_limit):
    """:func:`symbackprop.grade.cluster.run_chunk`, with three students' grading made to fail."""
    import symbackprop.grade.grader as grader
    from symbackprop.grade.cluster import run_chunk

    if not hasattr(grader, "_unpatched"):
        grader._unpatched = grader.grade_submission

        def patched(m, sub, scheme, digest=None):
            if sub.id == "hang":
                time.sleep(600)
            if sub.id == "hog":
                bytearray(16 * 2**30)  # more than the worker's address-space limit
            if sub.id == "crash":
                os._exit(3)
            if sub.id == "boom":
                raise ValueError("a bug that strikes every time")
            return grader._unpatched(m, sub, scheme, digest)

        grader.grade_submission = patched
    return run_chunk(manifest, subs, scheme, digest, time_limit)
