"""Identity beyond the verified email: claimed identifiers, their proofs, and withheld answers.

- `claims`: which identifiers a request claims, which are proven, the one
  writer of a claim's status, and the subject connectors may match on;
- `codes`: proof by a one-time code sent to the phone;
- `withheld`: an answer whose records carry another email waits for a handler;
- `rerun`: tasks that a new proof lets find more, run again;
- `masking`: identifiers as the subject's pages show them.
"""
