"""I/O backends: the workbook file (fast reader, lossless writer) and, later, live Excel."""
