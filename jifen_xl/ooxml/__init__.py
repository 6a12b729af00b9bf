"""The one package layer: what an OOXML workbook is made of, read and written without a DOM.

* ``markup``: start tags and attributes in every legal spelling (either quote style, namespace
  prefixes, whitespace around ``=``, character references), escaping, the XML prolog check;
* ``opc``: part names, relationships, content types and the workbook's sheet list.

This package knows nothing of the village workbook (no schema) and nothing of reading or
writing policy: ``io`` builds the file backend on it. It imports nothing from ``io``, ``app``
or ``cli`` (``tests/test_layers.py``).
"""
