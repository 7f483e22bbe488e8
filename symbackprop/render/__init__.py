"""Renderers: one jinja2 environment; LaTeX documents and generated code come from templates/."""
