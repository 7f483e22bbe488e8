"""Grading a class: submissions in; gradebook, feedback and the class report out (``symbackprop grade``).

Each student's submission (:mod:`.submissions`, :mod:`.lms_csv`) is matched to the student's
variant in the exam manifest and graded by the checker (:class:`symbackprop.check.checker.SolutionGrader`,
the same verdicts as ``symbackprop check``); :mod:`.marks` turns the verdicts into marks.
:mod:`.grader` is what runs on a Dask worker, :mod:`.cluster` the Dask side, :mod:`.store`
the results folder (resume by content hash), and :mod:`.gradebook`, :mod:`.feedback` and
:mod:`.classreport` the outputs, all read from the graded *records* (plain JSON, below).

A record (one per student, ``results/<id>.json``)::

    {"id": "s001", "variant": "s001", "source": "s001.yaml", "digest": "…",
     "status": "graded" | "error", "reason": "",          # reason: one line when status is error
     "total": 21.5, "out_of": 29.0,
     "questions": [{"name": "forward", "title": "Forward pass", "marks": 7.0, "out_of": 7.0}, …],
     "figures": [{"name": "out_T", "question": "forward", "written": "0.555" | null,
                  "status": "correct" | "carried_forward" | "insufficient_precision" | "wrong" | "missing"
                            | "unreadable",
                  "credit": 1.0, "marks": 1.0, "out_of": 1.0, "correct": "0.555",
                  "slip": "sign" | null, "slip_title": "", "slip_detail": "", "note": "",
                  "working": "out_T = sigmoid(net_T)", "using": "net_T = 0.220"}, …],
                                                          # working, using: "" when the figure is right
     "ignored": ["foo: not a figure of this network"], "summary": "…", "likely_cause": "sign" | null}
"""
