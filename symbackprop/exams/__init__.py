"""Exams: randomised variants of a spec, each derived once (the exam command reads them)."""
