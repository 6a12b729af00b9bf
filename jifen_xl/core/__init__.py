"""Pure domain core: pandas in, pandas out. No file, Excel, CLI or template access."""
