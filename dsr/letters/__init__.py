"""Letters to the subject, written as DOCX documents (python-docx).

A letter's text is a Jinja template under `templates/letters/`, translated
through the project's catalogue like the emails; it produces a small HTML
subset (headings, paragraphs, bullet lists, tables) that `blocks` reads and
`docx_render` lays out. A controller who wants other words edits the
template, not the Python.
"""
