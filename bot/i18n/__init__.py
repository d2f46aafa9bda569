"""Languages: gettext catalogs for the flows, language suggestion, right-to-left text, digits.

- `extract`: the Babel extractor that turns flow YAML into catalog messages.
- `translator`: `CatalogTranslator`, what the engine calls to translate and format.
- `bidi`: isolates for left-to-right runs inside right-to-left replies.
- `detect`: a language suggestion from the script of a first message and the sender's country.
"""
