"""The change documents: the amendment draft (EXE10, PDF and DOCX), the buyer's letter and the
holder's acceptance (PDF). `render` and `docx` turn the plain data of `context` into files."""
